//! The risk register of the dual prevention mechanism (风险分级管控): what
//! an enterprise analyses (风险分析对象), the units within it (风险分析单元),
//! the events that could happen in a unit (安全风险事件) and the control
//! measures against each event (管控措施), with the national vocabularies
//! they are filed under. An event's level comes from a recorded method and
//! its inputs ([`level`]); a unit's level is the highest of its events'.
//! Pure rules; `app::risk` records them.

pub mod edit;
pub mod level;
pub mod sheet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

pub use level::{Assessment, Bands, LevelBands, RiskLevel};

vocabulary! {
    /// What a risk analysis object (风险分析对象) is.
    pub enum ObjectKind {
        /// 重大危险源
        MajorHazardSource => "major_hazard_source",
        /// 生产装置 (a unit of production)
        ProductionUnit => "production_unit",
        /// 设施 (a facility: a tank farm, a pipe rack, a warehouse)
        Facility => "facility",
        /// 场所 (a place: a loading bay, a control room)
        Place => "place",
    }
}

impl ObjectKind {
    /// The object's kind in Chinese (the glossary's, `object_kinds`).
    pub fn label_zh(self) -> &'static str {
        crate::domain::terms::name("object_kinds", self.as_str())
    }
}

vocabulary! {
    /// How a control measure is watched: by automated monitoring (a DCS or
    /// SIS alarm, a gas detector) or by people's checks.
    pub enum ControlMode {
        /// 自动化监控
        Monitoring => "monitoring",
        /// 隐患排查
        Check => "check",
    }
}

/// A control measure's class in the national classification (管控措施分类):
/// the first level and its second level, as provincial platforms use the
/// data dictionary of the Ministry's 2022 digital construction guide for
/// the dual prevention mechanism (docs/FEATURES.md says what was checked).
pub struct MeasureClass {
    pub code: &'static str,
    /// 管控措施分类1
    pub first: &'static str,
    /// 管控措施分类2
    pub second: &'static str,
}

/// Every class a measure may be filed under, by code.
pub const MEASURE_CLASSES: &[MeasureClass] = &[
    MeasureClass {
        code: "engineering.process_control",
        first: "工程技术",
        second: "工艺控制",
    },
    MeasureClass {
        code: "engineering.key_equipment",
        first: "工程技术",
        second: "关键设备/部件",
    },
    MeasureClass {
        code: "engineering.safety_accessory",
        first: "工程技术",
        second: "安全附件",
    },
    MeasureClass {
        code: "engineering.safety_instrument",
        first: "工程技术",
        second: "安全仪表",
    },
    MeasureClass {
        code: "engineering.other",
        first: "工程技术",
        second: "其他",
    },
    MeasureClass {
        code: "maintenance.rotating_equipment",
        first: "维护保养",
        second: "动设备",
    },
    MeasureClass {
        code: "maintenance.static_equipment",
        first: "维护保养",
        second: "静设备",
    },
    MeasureClass {
        code: "maintenance.other",
        first: "维护保养",
        second: "其他",
    },
    MeasureClass {
        code: "operation.qualification",
        first: "操作行为",
        second: "人员资质",
    },
    MeasureClass {
        code: "operation.operating_record",
        first: "操作行为",
        second: "操作记录",
    },
    MeasureClass {
        code: "operation.shift_handover",
        first: "操作行为",
        second: "交接班",
    },
    MeasureClass {
        code: "operation.other",
        first: "操作行为",
        second: "其他",
    },
    MeasureClass {
        code: "emergency.facility",
        first: "应急措施",
        second: "应急设施",
    },
    MeasureClass {
        code: "emergency.personal_protection",
        first: "应急措施",
        second: "个体防护",
    },
    MeasureClass {
        code: "emergency.fire_fighting",
        first: "应急措施",
        second: "消防设施",
    },
    MeasureClass {
        code: "emergency.plan",
        first: "应急措施",
        second: "应急预案",
    },
    MeasureClass {
        code: "emergency.other",
        first: "应急措施",
        second: "其他",
    },
];

/// The class with `code`, or with the label `一级/二级` ("工程技术/安全仪表").
pub fn measure_class(input: &str) -> Option<&'static MeasureClass> {
    MEASURE_CLASSES.iter().find(|class| {
        class.code == input
            || input
                .split_once('/')
                .is_some_and(|(first, second)| class.first == first && class.second == second)
    })
}

/// A new risk analysis object, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    pub enterprise_id: Uuid,
    pub kind: ObjectKind,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The code a 重大危险源 is registered under with the authority.
    #[schema(max_length = 64)]
    pub major_source_code: Option<String>,
}

/// A new risk analysis unit, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub object_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 责任部门
    #[schema(max_length = 200)]
    pub department: Option<String>,
    /// 责任人
    #[schema(max_length = 200)]
    pub responsible_person: Option<String>,
}

/// A new safety risk event, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub unit_id: Uuid,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 可能后果
    #[schema(max_length = 10000)]
    pub consequence: Option<String>,
    /// The method and its inputs the level is computed from.
    pub assessment: Assessment,
}

/// A new control measure, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasure {
    pub event_id: Uuid,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    /// The national class's code (`engineering.safety_instrument`) or its
    /// label (`工程技术/安全仪表`); see `/reference/vocabularies`.
    #[schema(max_length = 64)]
    pub classification: String,
    pub control_mode: ControlMode,
    /// 隐患排查内容: what a check of this measure looks at. Required for a
    /// measure watched by checks.
    #[schema(max_length = 10000)]
    pub check_content: Option<String>,
}

/// A checked risk analysis object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFields {
    pub name: String,
    pub major_source_code: Option<String>,
}

impl NewObject {
    pub fn check(&self) -> Result<ObjectFields, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(
            &mut errors,
            "name",
            required_text("name", &self.name, MAX_LINE),
        );
        let code = AppError::gather(
            &mut errors,
            "major_source_code",
            optional_text("major_source_code", self.major_source_code.as_deref(), 64),
        );
        if self.kind != ObjectKind::MajorHazardSource && code.as_ref().is_some_and(Option::is_some)
        {
            errors.insert(
                "major_source_code".into(),
                Rule::CodeOnlyForMajorSource.into(),
            );
        }
        match (name, code) {
            (Some(name), Some(major_source_code)) if errors.is_empty() => Ok(ObjectFields {
                name,
                major_source_code,
            }),
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A checked unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFields {
    pub name: String,
    pub department: Option<String>,
    pub responsible_person: Option<String>,
}

impl NewUnit {
    pub fn check(&self) -> Result<UnitFields, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(
            &mut errors,
            "name",
            required_text("name", &self.name, MAX_LINE),
        );
        let department = AppError::gather(
            &mut errors,
            "department",
            optional_text("department", self.department.as_deref(), MAX_LINE),
        );
        let person = AppError::gather(
            &mut errors,
            "responsible_person",
            optional_text(
                "responsible_person",
                self.responsible_person.as_deref(),
                MAX_LINE,
            ),
        );
        match (name, department, person) {
            (Some(name), Some(department), Some(responsible_person)) if errors.is_empty() => {
                Ok(UnitFields {
                    name,
                    department,
                    responsible_person,
                })
            }
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A checked event with its level worked out.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFields {
    pub name: String,
    pub consequence: Option<String>,
    pub assessment: Assessment,
    /// The score in hundredths (LS: R × 100; LEC: D × 100), exact.
    pub score_centi: i64,
    pub level: RiskLevel,
}

impl NewEvent {
    pub fn check(&self, bands: &Bands) -> Result<EventFields, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(
            &mut errors,
            "name",
            required_text("name", &self.name, MAX_LINE),
        );
        let consequence = AppError::gather(
            &mut errors,
            "consequence",
            optional_text("consequence", self.consequence.as_deref(), MAX_TEXT),
        );
        let scored = if matches!(self.assessment, Assessment::MajorSource { .. }) {
            errors.insert(
                "assessment.method".into(),
                FieldError::new(Rule::RegistryOnly),
            );
            None
        } else {
            AppError::gather(&mut errors, "assessment", self.assessment.score(bands))
        };
        match (name, consequence, scored) {
            (Some(name), Some(consequence), Some((score_centi, level))) if errors.is_empty() => {
                Ok(EventFields {
                    name,
                    consequence,
                    assessment: self.assessment,
                    score_centi,
                    level,
                })
            }
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A checked measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureFields {
    pub description: String,
    pub classification: &'static str,
    pub control_mode: ControlMode,
    pub check_content: Option<String>,
}

impl NewMeasure {
    pub fn check(&self) -> Result<MeasureFields, AppError> {
        let mut errors = FieldErrors::new();
        let description = AppError::gather(
            &mut errors,
            "description",
            required_text("description", &self.description, MAX_TEXT),
        );
        let class = measure_class(self.classification.trim());
        if class.is_none() {
            errors.insert("classification".into(), Rule::MeasureClass.into());
        }
        let content = AppError::gather(
            &mut errors,
            "check_content",
            optional_text("check_content", self.check_content.as_deref(), MAX_TEXT),
        );
        if self.control_mode == ControlMode::Check && content.as_ref().is_some_and(Option::is_none)
        {
            errors.insert("check_content".into(), Rule::CheckContentRequired.into());
        }
        match (description, class, content) {
            (Some(description), Some(class), Some(check_content)) if errors.is_empty() => {
                Ok(MeasureFields {
                    description,
                    classification: class.code,
                    control_mode: self.control_mode,
                    check_content,
                })
            }
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_is_found_by_code_or_by_its_two_labels() {
        assert_eq!(
            measure_class("emergency.plan").map(|c| c.second),
            Some("应急预案")
        );
        assert_eq!(
            measure_class("工程技术/安全仪表").map(|c| c.code),
            Some("engineering.safety_instrument")
        );
        assert!(measure_class("工程技术").is_none());
        assert!(measure_class("安全仪表/工程技术").is_none());
        let mut codes: Vec<&str> = MEASURE_CLASSES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), MEASURE_CLASSES.len(), "codes are unique");
    }

    #[test]
    fn a_measure_watched_by_checks_says_what_is_checked() {
        let measure = NewMeasure {
            event_id: Uuid::nil(),
            description: " 可燃气体报警器 ".into(),
            classification: "nonsense".into(),
            control_mode: ControlMode::Check,
            check_content: Some("  ".into()),
        };
        let Err(AppError::Validation { errors, .. }) = measure.check() else {
            panic!("refused");
        };
        assert!(errors.contains_key("classification"));
        assert!(errors.contains_key("check_content"));
        let fine = NewMeasure {
            classification: "工程技术/安全仪表".into(),
            check_content: Some("报警器投用、校验在有效期内".into()),
            ..measure
        };
        let checked = fine.check().unwrap();
        assert_eq!(checked.description, "可燃气体报警器");
        assert_eq!(checked.classification, "engineering.safety_instrument");
    }

    #[test]
    fn only_a_major_hazard_source_has_a_registered_code() {
        let object = NewObject {
            enterprise_id: Uuid::nil(),
            kind: ObjectKind::Facility,
            name: "罐区".into(),
            major_source_code: Some("3706001".into()),
        };
        assert!(object.check().is_err());
        let source = NewObject {
            kind: ObjectKind::MajorHazardSource,
            ..object
        };
        assert_eq!(
            source.check().unwrap().major_source_code.as_deref(),
            Some("3706001")
        );
    }
}
