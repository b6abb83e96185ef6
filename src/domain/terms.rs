//! The park's glossary (`web/terms.json`): each term's Chinese name once,
//! by its code — states, levels, kinds of check, grades and the rest. The
//! pages read the same file, so a mail, an export and a screen never give
//! one thing two names.

use std::collections::HashMap;
use std::sync::OnceLock;

const FILE: &str = include_str!("../../web/terms.json");

type Sections = HashMap<String, HashMap<String, String>>;

fn sections() -> &'static Sections {
    static SECTIONS: OnceLock<Sections> = OnceLock::new();
    SECTIONS.get_or_init(|| {
        // The file is the repository's own and its shape is tested below;
        // a section that is not a table of names is left out.
        let value: serde_json::Value = serde_json::from_str(FILE).unwrap_or_default();
        value
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(section, names)| {
                let names = names.as_object()?;
                let names = names
                    .iter()
                    .filter_map(|(code, name)| Some((code.clone(), name.as_str()?.to_owned())))
                    .collect();
                Some((section.clone(), names))
            })
            .collect()
    })
}

/// The name of `code` in `section` (`states`, `levels`, `sources`,
/// `grades`, …); the code itself should the glossary lack it, which the
/// tests rule out for every code the service has.
pub fn name(section: &str, code: &'static str) -> &'static str {
    sections()
        .get(section)
        .and_then(|names| names.get(code))
        .map_or(code, String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Capability, Role};
    use crate::domain::grading::Grade;
    use crate::domain::hazard::listing::{AssessorKind, AuthorityLevel, StopScope};
    use crate::domain::hazard::{
        CheckSource, ExtensionState, HazardAction, HazardLevel, HazardState,
    };
    use crate::domain::major_source::{DrillKind, PersonKind, SourceUnitKind};
    use crate::domain::risk::{ObjectKind, RiskLevel};

    /// Whether the glossary names `code` in `section`.
    fn has(section: &str, code: &str) -> bool {
        sections()
            .get(section)
            .is_some_and(|names| names.contains_key(code))
    }

    /// Asserts that `section` names every one of `codes`.
    fn names_all(section: &str, codes: impl IntoIterator<Item = &'static str>) {
        for code in codes {
            assert!(has(section, code), "{section} lacks {code}");
        }
    }

    #[test]
    fn every_code_the_service_has_is_named_once() {
        names_all("states", HazardState::ALL.map(HazardState::as_str));
        names_all("levels", HazardLevel::ALL.map(HazardLevel::as_str));
        names_all("sources", CheckSource::ALL.map(CheckSource::as_str));
        names_all("grades", Grade::ALL.map(Grade::as_str));
        names_all("actions", HazardAction::ALL.map(HazardAction::event_name));
        names_all("roles", Role::ALL.map(Role::as_str));
        names_all("capabilities", Capability::ALL.map(Capability::as_str));
        names_all(
            "extension_states",
            ExtensionState::ALL.map(ExtensionState::as_str),
        );
        names_all(
            "authority_levels",
            AuthorityLevel::ALL.map(AuthorityLevel::as_str),
        );
        names_all("assessors", AssessorKind::ALL.map(AssessorKind::as_str));
        names_all("stop_scopes", StopScope::ALL.map(StopScope::as_str));
        names_all(
            "unit_kinds",
            SourceUnitKind::ALL.map(SourceUnitKind::as_str),
        );
        names_all("persons", PersonKind::ALL.map(PersonKind::as_str));
        names_all("drills", DrillKind::ALL.map(DrillKind::as_str));
        names_all("object_kinds", ObjectKind::ALL.map(ObjectKind::as_str));
        names_all("grade_risks", RiskLevel::ALL.map(RiskLevel::colour));
        assert_eq!(HazardState::Reported.label_zh(), "待制定整改方案");
        assert_eq!(CheckSource::ResidentExpert.label_zh(), "常驻专家检查");
        assert_eq!(HazardAction::Delist.label_zh(), "摘牌");
        assert_eq!(Role::Display.label_zh(), "大屏展示");
        assert_eq!(RiskLevel::Low.label_zh(), "低风险");
        // Each name within a section names one thing.
        for (section, names) in sections() {
            let mut seen: Vec<&String> = names.values().collect();
            seen.sort();
            let count = seen.len();
            seen.dedup();
            assert_eq!(seen.len(), count, "{section} gives two things one name");
        }
    }
}
