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

/// Whether the glossary names `code` in `section`.
pub fn has(section: &str, code: &str) -> bool {
    sections()
        .get(section)
        .is_some_and(|names| names.contains_key(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grading::Grade;
    use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};

    #[test]
    fn every_code_the_service_has_is_named_once() {
        for state in HazardState::ALL {
            assert!(has("states", state.as_str()), "{state:?}");
        }
        for level in HazardLevel::ALL {
            assert!(has("levels", level.as_str()), "{level:?}");
        }
        for source in CheckSource::ALL {
            assert!(has("sources", source.as_str()), "{source:?}");
        }
        for grade in Grade::ALL {
            assert!(has("grades", grade.as_str()), "{grade:?}");
        }
        assert_eq!(HazardState::Reported.label_zh(), "待制定整改方案");
        assert_eq!(CheckSource::ResidentExpert.label_zh(), "常驻专家检查");
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
