//! The province's exchange interface for the dual prevention mechanism
//! (危险化学品企业双重预防机制数字化建设数据交换): its tables, and how the
//! register, tasks, records and hazards translate into its codes. Pure
//! vocabulary: what is read and written lives in `app::exchange`.
//!
//! The interface's own text was not among what could be read; the table
//! and field names and the codes are those its uploaders and receivers
//! use (docs/FEATURES.md, "Exchange with the province's platform", names
//! them). Where they differ, or where a mapping is a judgement (our five
//! kinds of check onto its ten hazard sources), the value is
//! configuration (`[exchange]`) with the default chosen here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::check_task::{CheckOutcome, TaskKind};
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::domain::risk::{level::RiskLevel, ControlMode, MEASURE_CLASSES};
use crate::domain::schedule::{DayRule, Unit};

/// A table of the interface: one document each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeTable {
    /// 安全风险分析单元 (`sec_security_risk_unit`).
    RiskUnit,
    /// 安全风险事件 (`sec_security_risk_events`).
    RiskEvent,
    /// 安全风险管控措施 (`sec_security_risk_control_measures`).
    ControlMeasure,
    /// 隐患排查任务 (`sec_hidden_check_mission`).
    CheckTask,
    /// 隐患排查记录 (`sec_hidden_check_record`).
    CheckRecord,
    /// 隐患信息 (`sec_hidden_danger_info`).
    Hazard,
    /// 停用/检修记录 (`sec_deactivated_maintenance_record`).
    StopRecord,
}

impl ExchangeTable {
    pub const ALL: [ExchangeTable; 7] = [
        Self::RiskUnit,
        Self::RiskEvent,
        Self::ControlMeasure,
        Self::CheckTask,
        Self::CheckRecord,
        Self::Hazard,
        Self::StopRecord,
    ];

    /// The interface's name of the table.
    pub const fn national_name(self) -> &'static str {
        match self {
            Self::RiskUnit => "sec_security_risk_unit",
            Self::RiskEvent => "sec_security_risk_events",
            Self::ControlMeasure => "sec_security_risk_control_measures",
            Self::CheckTask => "sec_hidden_check_mission",
            Self::CheckRecord => "sec_hidden_check_record",
            Self::Hazard => "sec_hidden_danger_info",
            Self::StopRecord => "sec_deactivated_maintenance_record",
        }
    }

    pub const fn chinese_name(self) -> &'static str {
        match self {
            Self::RiskUnit => "安全风险分析单元",
            Self::RiskEvent => "安全风险事件",
            Self::ControlMeasure => "安全风险管控措施",
            Self::CheckTask => "隐患排查任务",
            Self::CheckRecord => "隐患排查记录",
            Self::Hazard => "隐患信息",
            Self::StopRecord => "停用/检修记录",
        }
    }
}

/// `deleted`: 0 in force, 1 deleted (retired, voided).
pub const fn deleted(gone: bool) -> u8 {
    if gone {
        1
    } else {
        0
    }
}

/// `riskClass`: 1 重大, 2 较大, 3 一般, 4 低.
pub const fn risk_class(level: RiskLevel) -> u8 {
    match level {
        RiskLevel::Major => 1,
        RiskLevel::Serious => 2,
        RiskLevel::General => 3,
        RiskLevel::Low => 4,
    }
}

/// `dataSrc`, how a measure is watched: 1 自动化监控, 2 隐患排查.
pub const fn data_source(mode: ControlMode) -> u8 {
    match mode {
        ControlMode::Monitoring => 1,
        ControlMode::Check => 2,
    }
}

/// The first-level classes in the interface's order: 1 工程技术, 2 维护保养,
/// 3 操作行为, 4 应急措施.
const FIRST_CLASSES: [&str; 4] = ["工程技术", "维护保养", "操作行为", "应急措施"];

/// `classify1` and `classify2` ("1-4") of a measure class code; the
/// second-level number is the class's place within its first level, in
/// the interface's order, which `MEASURE_CLASSES` keeps.
pub fn classify(code: &str) -> Option<(u8, String)> {
    let class = MEASURE_CLASSES.iter().find(|c| c.code == code)?;
    let first = FIRST_CLASSES.iter().position(|f| *f == class.first)? + 1;
    let second = MEASURE_CLASSES
        .iter()
        .filter(|c| c.first == class.first)
        .position(|c| c.code == code)?
        + 1;
    let first = u8::try_from(first).ok()?;
    Some((first, format!("{first}-{second}")))
}

/// `checkCycleUnit`: the interface names the unit in words.
pub const fn cycle_unit(unit: Unit) -> &'static str {
    match unit {
        Unit::Hour => "小时",
        Unit::Day => "天",
        Unit::Month => "月",
        Unit::Year => "年",
    }
}

/// `workDayType`: 0 every day, 1 statutory working days, 2 the others.
pub const fn work_day_type(days: DayRule) -> u8 {
    match days {
        DayRule::EveryDay => 0,
        DayRule::WorkingDays => 1,
        DayRule::NonWorkingDays => 2,
    }
}

/// `workType`: 0 日常任务, 1 主要负责人, 2 技术负责人, 3 操作负责人 (包保).
/// The same numbers are a hazard's `hazardCategory` (who registered it).
pub const fn work_type(kind: TaskKind) -> u8 {
    match kind {
        TaskKind::PostCheck => 0,
        TaskKind::DutyPrincipal => 1,
        TaskKind::DutyTechnical => 2,
        TaskKind::DutyOperational => 3,
    }
}

/// `checkStatus`: 0 正常, 1 存在隐患 (2 未排查 and 3 其他 are not records).
pub const fn check_status(outcome: CheckOutcome) -> u8 {
    match outcome {
        CheckOutcome::Normal => 0,
        CheckOutcome::Abnormal => 1,
    }
}

/// `dangerLevel`: 0 一般隐患, 1 重大隐患.
pub const fn danger_level(level: HazardLevel) -> u8 {
    match level {
        HazardLevel::General => 0,
        HazardLevel::Major => 1,
    }
}

/// `dangerState`: 0 整改中, 1 待验收, 9 已验收. A voided hazard is sent as
/// deleted, with the state it had reached (整改中).
pub const fn danger_state(state: HazardState) -> u8 {
    match state {
        HazardState::Reported | HazardState::Rectifying | HazardState::Voided => 0,
        HazardState::PendingAcceptance => 1,
        HazardState::Closed => 9,
    }
}

/// `managementClassification` of the park's shipped categories: 1 人的不安全
/// 行为, 2 物的不安全状态, 3 管理上的缺陷; a category of the park's own has
/// none.
pub fn management_classification(category: &str) -> Option<u8> {
    match category {
        "unsafe_behavior" => Some(1),
        "unsafe_condition" => Some(2),
        "management_defect" => Some(3),
        _ => None,
    }
}

/// `dangerManageType`: 0 即查即改 when the deadline is the day the hazard
/// was found (park-local), 1 限期整改 when it is later.
pub fn manage_type(found_on: NaiveDate, deadline: NaiveDate) -> u8 {
    u8::from(deadline > found_on)
}

/// `hazardDangerType` of the park's shipped specialties: 1 安全, 2 工艺,
/// 3 电气, 4 仪表, 5 消防, 6 总图, 7 设备, 8 其他.
pub fn danger_type(specialty: Option<&str>) -> u8 {
    match specialty {
        Some("process") => 2,
        Some("electrical") => 3,
        Some("instrumentation") => 4,
        Some("fire") => 5,
        Some("equipment") => 7,
        Some("special_operations" | "hazmat_storage" | "general_management") => 1,
        _ => 8,
    }
}

/// The interface's hazard sources (`dangerSrc`), 1–10: 1 日常排查, 2
/// 综合性排查, 3 专业性排查, 4 季节性排查, 5 重点时段及节假日前排查, 6 事故类比排查,
/// 7 复产复工前排查, 8 外聘专家诊断式排查, 9 管控措施失效, 10 其他.
pub const DANGER_SOURCES: std::ops::RangeInclusive<u8> = 1..=10;

/// Our five kinds of check (and a check task's finding) onto the
/// interface's hazard sources: `[exchange.danger_sources]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DangerSources {
    pub self_check: u8,
    pub mutual_check: u8,
    pub resident_expert: u8,
    pub national_expert: u8,
    pub park_supervision: u8,
    /// A hazard a check task's record raised, whatever its source.
    pub check_task: u8,
}

impl Default for DangerSources {
    /// 企业自查 and a task's check are 日常排查 (1); the experts, resident or
    /// national, 外聘专家诊断式排查 (8); 企业互查 and 园区督查, checks from
    /// outside the enterprise with no code of their own, 其他 (10).
    fn default() -> Self {
        DangerSources {
            self_check: 1,
            mutual_check: 10,
            resident_expert: 8,
            national_expert: 8,
            park_supervision: 10,
            check_task: 1,
        }
    }
}

impl DangerSources {
    pub fn of(&self, source: CheckSource, from_task: bool) -> u8 {
        if from_task {
            return self.check_task;
        }
        match source {
            CheckSource::SelfCheck => self.self_check,
            CheckSource::MutualCheck => self.mutual_check,
            CheckSource::ResidentExpert => self.resident_expert,
            CheckSource::NationalExpert => self.national_expert,
            CheckSource::ParkSupervision => self.park_supervision,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let all = [
            self.self_check,
            self.mutual_check,
            self.resident_expert,
            self.national_expert,
            self.park_supervision,
            self.check_task,
        ];
        if all.iter().all(|code| DANGER_SOURCES.contains(code)) {
            Ok(())
        } else {
            Err("every code must be one of the interface's sources, 1 to 10".into())
        }
    }
}

/// `companyCode`: the nine characters of the organisation code inside a
/// unified social credit code (its 9th to 17th), which the interface's
/// enterprise code is in the uploaders read; `None` for anything else.
pub fn organization_code(credit_code: &str) -> Option<&str> {
    (credit_code.len() == 18 && credit_code.is_ascii()).then(|| &credit_code[8..17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hazard_put_right_the_day_it_was_found_is_rectified_on_the_spot() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap_or_default();
        assert_eq!(manage_type(day, day), 0);
        assert_eq!(manage_type(day, day + chrono::Days::new(1)), 1);
    }

    #[test]
    fn measure_classes_take_the_interfaces_numbers() {
        assert_eq!(
            classify("engineering.process_control"),
            Some((1, "1-1".into()))
        );
        assert_eq!(
            classify("engineering.safety_instrument"),
            Some((1, "1-4".into()))
        );
        assert_eq!(classify("engineering.other"), Some((1, "1-5".into())));
        assert_eq!(classify("maintenance.other"), Some((2, "2-3".into())));
        assert_eq!(
            classify("operation.shift_handover"),
            Some((3, "3-3".into()))
        );
        assert_eq!(classify("emergency.plan"), Some((4, "4-4".into())));
        assert_eq!(classify("emergency.other"), Some((4, "4-5".into())));
        assert_eq!(classify("nothing.such"), None);
        // Every class has a code, and no two share one.
        let codes: std::collections::HashSet<_> = MEASURE_CLASSES
            .iter()
            .map(|c| classify(c.code).unwrap())
            .collect();
        assert_eq!(codes.len(), MEASURE_CLASSES.len());
    }

    #[test]
    fn the_default_sources_are_the_interfaces_and_a_task_overrides_the_kind() {
        let sources = DangerSources::default();
        assert_eq!(sources.validate(), Ok(()));
        assert_eq!(sources.of(CheckSource::SelfCheck, false), 1);
        assert_eq!(sources.of(CheckSource::ResidentExpert, false), 8);
        assert_eq!(sources.of(CheckSource::ParkSupervision, false), 10);
        assert_eq!(sources.of(CheckSource::ResidentExpert, true), 1);
        let wrong = DangerSources {
            mutual_check: 11,
            ..sources
        };
        assert!(wrong.validate().is_err());
    }

    #[test]
    fn the_organization_code_is_inside_the_credit_code() {
        assert_eq!(organization_code("91320500MA1N2B3C4D"), Some("MA1N2B3C4"));
        assert_eq!(organization_code("short"), None);
        assert_eq!(organization_code("９１３２０５００ＭＡ１"), None);
    }

    #[test]
    fn states_levels_and_days_take_the_interfaces_codes() {
        assert_eq!(danger_state(HazardState::Rectifying), 0);
        assert_eq!(danger_state(HazardState::PendingAcceptance), 1);
        assert_eq!(danger_state(HazardState::Closed), 9);
        assert_eq!(danger_level(HazardLevel::Major), 1);
        assert_eq!(risk_class(RiskLevel::Low), 4);
        assert_eq!(work_day_type(DayRule::NonWorkingDays), 2);
        assert_eq!(work_type(TaskKind::DutyOperational), 3);
        assert_eq!(cycle_unit(Unit::Hour), "小时");
        assert_eq!(danger_type(Some("fire")), 5);
        assert_eq!(danger_type(None), 8);
        assert_eq!(management_classification("unsafe_condition"), Some(2));
    }
}
