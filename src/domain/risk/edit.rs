//! Changes to the risk register as sent: an edit of an object, unit,
//! event or measure (each field absent keeps its value; an optional text
//! sent as `""` is cleared), and the reason a node is retired. An edit is
//! applied to the node as it stands and checked by the same rules as a
//! new node (`NewObject::check`, …), so an edited event's level is worked
//! out again from its method. Pure; `app::register_edit` records them.

use serde::{Deserialize, Serialize};

use crate::domain::risk::{Assessment, ControlMode, ObjectKind};
use crate::domain::text::{required_text, MAX_TEXT};
use crate::error::AppError;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectEdit {
    pub kind: Option<ObjectKind>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `""` clears it.
    #[schema(max_length = 64)]
    pub major_source_code: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitEdit {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// 责任部门; `""` clears it.
    #[schema(max_length = 200)]
    pub department: Option<String>,
    /// 责任人; `""` clears it.
    #[schema(max_length = 200)]
    pub responsible_person: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventEdit {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// 可能后果; `""` clears it.
    #[schema(max_length = 10000)]
    pub consequence: Option<String>,
    /// A new method and inputs: the level is worked out again.
    pub assessment: Option<Assessment>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureEdit {
    #[schema(min_length = 1, max_length = 10000)]
    pub description: Option<String>,
    /// The class's code or `一级/二级` label.
    #[schema(max_length = 64)]
    pub classification: Option<String>,
    /// Monitoring only for a measure without active check tasks.
    pub control_mode: Option<ControlMode>,
    /// `""` clears it (not for a measure watched by checks).
    #[schema(max_length = 10000)]
    pub check_content: Option<String>,
}

/// Why a node leaves the register (装置拆除, 并入其他单元, …).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retirement {
    #[schema(min_length = 1, max_length = 10000)]
    pub reason: String,
}

impl Retirement {
    pub fn check(&self) -> Result<String, AppError> {
        required_text("reason", &self.reason, MAX_TEXT)
    }
}

/// `sent` if sent, else what stands.
pub fn or_current(sent: &Option<String>, current: &str) -> String {
    sent.clone().unwrap_or_else(|| current.to_owned())
}

/// `sent` if sent (`""` clearing it), else what stands.
pub fn or_current_optional(sent: &Option<String>, current: &Option<String>) -> Option<String> {
    match sent {
        Some(text) => Some(text.clone()),
        None => current.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_field_keeps_and_an_empty_one_clears() {
        let current = Some("储运部".to_owned());
        assert_eq!(or_current_optional(&None, &current), current);
        assert_eq!(
            or_current_optional(&Some(String::new()), &current),
            Some(String::new())
        );
        assert_eq!(or_current(&None, "罐区"), "罐区");
        assert_eq!(or_current(&Some("二号罐区".into()), "罐区"), "二号罐区");
        assert!(Retirement {
            reason: "  ".into()
        }
        .check()
        .is_err());
    }
}
