//! Check tasks (隐患排查任务) of a control measure and the records their
//! occurrences leave (排查记录): who checks, on which schedule, and what a
//! record must carry. The occurrences themselves are `domain::schedule`'s.
//! Pure rules; `app::checks` records them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::access::Role;
use crate::domain::checklist::FailedItemHazard;
use crate::domain::major_source::PersonKind;
use crate::domain::schedule::{Schedule, ScheduleError, ScheduleSpec};
use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

vocabulary! {
    /// What kind of duty a task is.
    pub enum TaskKind {
        /// 岗位排查: a post's routine check of a measure.
        PostCheck => "post_check",
        /// 包保履职: a major hazard source's 主要负责人's duty check. Given by
        /// the source registry, not sent.
        DutyPrincipal => "duty_principal",
        /// A 技术负责人's duty check.
        DutyTechnical => "duty_technical",
        /// An 操作负责人's duty check.
        DutyOperational => "duty_operational",
    }
}

vocabulary! {
    /// What a check found.
    pub enum CheckOutcome {
        /// 正常: checked, nothing wrong. Kept: it is the evidence.
        Normal => "normal",
        /// 异常: the measure failed; the record becomes a hazard.
        Abnormal => "abnormal",
    }
}

impl TaskKind {
    /// The kind of 包保责任人 whose duty check this is, if any.
    pub fn duty_of(self) -> Option<PersonKind> {
        match self {
            TaskKind::PostCheck => None,
            TaskKind::DutyPrincipal => Some(PersonKind::Principal),
            TaskKind::DutyTechnical => Some(PersonKind::Technical),
            TaskKind::DutyOperational => Some(PersonKind::Operational),
        }
    }

    /// The duty check of a kind of 包保责任人.
    pub fn duty(kind: PersonKind) -> TaskKind {
        match kind {
            PersonKind::Principal => TaskKind::DutyPrincipal,
            PersonKind::Technical => TaskKind::DutyTechnical,
            PersonKind::Operational => TaskKind::DutyOperational,
        }
    }
}

/// Who checks: everyone of a role (an enterprise's contacts, the park's
/// resident experts) or one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Role(Role),
    User(Uuid),
}

/// The roles a task may be given to as a whole.
pub const ASSIGNABLE_ROLES: [Role; 2] = [Role::Enterprise, Role::Expert];

/// A new check task, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub measure_id: Uuid,
    /// Defaults to the measure's check content, cut to a line.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    pub kind: TaskKind,
    /// Everyone of this role checks: `enterprise` (the enterprise's
    /// contacts) or `expert` (the park's resident experts). Give this or
    /// `assignee_user_id`.
    pub assignee_role: Option<Role>,
    /// One person checks: an enterprise contact of the measure's
    /// enterprise or a resident expert.
    pub assignee_user_id: Option<Uuid>,
    /// When the occurrences fall: every N hours / days / months / years
    /// from `starts` (park-local wall time), with an optional time-of-day
    /// window (hourly cycles) and day rule (hourly and daily cycles).
    #[schema(value_type = ScheduleSchema)]
    pub schedule: ScheduleSpec,
}

/// The schedule of a task, as the OpenAPI document shows it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ScheduleSchema {
    /// 1 to a hundred years' worth of the unit.
    #[schema(minimum = 1)]
    every: u32,
    /// `hour`, `day`, `month` or `year`.
    #[schema(pattern = r"^(hour|day|month|year)(?![\s\S])")]
    unit: String,
    /// The first occurrence's start, park-local (`2026-12-01T08:00:00`).
    #[schema(value_type = String, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?![\s\S])", example = "2026-12-01T08:00:00")]
    starts: String,
    /// Hourly cycles only: occurrences start within `[from, until)`
    /// (`"08:00:00"`), wrapping midnight when `until` is not after `from`.
    window: Option<WindowSchema>,
    /// `every_day` (default), `working_days` or `non_working_days` by the
    /// park's calendar of statutory holidays; hourly and daily cycles only.
    #[schema(pattern = r"^(every_day|working_days|non_working_days)(?![\s\S])")]
    days: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WindowSchema {
    /// `08:00:00`
    #[schema(pattern = r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(?![\s\S])")]
    from: String,
    #[schema(pattern = r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(?![\s\S])")]
    until: String,
}

/// A checked task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub name: Option<String>,
    pub assignee: Assignee,
    pub schedule: Schedule,
}

impl NewTask {
    pub fn check(&self) -> Result<TaskFields, AppError> {
        let mut errors = FieldErrors::new();
        let name = AppError::gather(
            &mut errors,
            "name",
            optional_text("name", self.name.as_deref(), MAX_LINE),
        );
        let assignee = match (self.assignee_role, self.assignee_user_id) {
            (Some(role), None) if ASSIGNABLE_ROLES.contains(&role) => Some(Assignee::Role(role)),
            (Some(_), None) => {
                errors.insert("assignee_role".into(), Rule::AssigneeRole.into());
                None
            }
            (None, Some(user)) => Some(Assignee::User(user)),
            _ => {
                errors.insert("assignee_role".into(), Rule::OneAssignee.into());
                None
            }
        };
        if self.kind.duty_of().is_some() {
            errors.insert("kind".into(), FieldError::new(Rule::RegistryOnly));
        }
        let schedule = match Schedule::try_from(self.schedule.clone()) {
            Ok(schedule) => Some(schedule),
            Err(e) => {
                errors.insert("schedule".into(), schedule_error(&e));
                None
            }
        };
        match (name, assignee, schedule) {
            (Some(name), Some(assignee), Some(schedule)) if errors.is_empty() => Ok(TaskFields {
                name,
                assignee,
                schedule,
            }),
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A schedule's refusal as a rule of the catalogue.
fn schedule_error(error: &ScheduleError) -> FieldError {
    match error {
        ScheduleError::EveryOutOfRange { unit, .. } => {
            FieldError::new(Rule::ScheduleEvery).with("max", unit.max_every())
        }
        ScheduleError::EmptyWindow => FieldError::new(Rule::ScheduleEmptyWindow),
        ScheduleError::WindowNeedsHours(_) => FieldError::new(Rule::ScheduleWindowNeedsHours),
        ScheduleError::WindowNeverReached => FieldError::new(Rule::ScheduleWindowNeverReached),
        ScheduleError::DayRuleNeedsHoursOrDays { .. } => FieldError::new(Rule::ScheduleDayRule),
        ScheduleError::PauseEndsBeforeItBegins { .. } => FieldError::new(Rule::UntilAfterFrom),
    }
}

/// A new pause (停用/检修) of a unit's tasks, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPause {
    /// Park-local wall time.
    #[schema(value_type = String, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?![\s\S])", example = "2026-12-01T08:00:00")]
    #[serde(deserialize_with = "crate::domain::schedule::wall_time::date_time")]
    pub from: NaiveDateTime,
    /// Park-local wall time; absent while the unit is still down.
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?![\s\S])", example = "2026-12-01T08:00:00")]
    #[serde(
        default,
        deserialize_with = "crate::domain::schedule::wall_time::optional_date_time"
    )]
    pub until: Option<NaiveDateTime>,
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

impl NewPause {
    pub fn check(&self) -> Result<String, AppError> {
        let mut errors = FieldErrors::new();
        let reason = AppError::gather(
            &mut errors,
            "reason",
            required_text("reason", &self.reason, MAX_LINE),
        );
        if self.until.is_some_and(|until| until <= self.from) {
            errors.insert("until".into(), Rule::UntilAfterFrom.into());
        }
        match reason {
            Some(reason) if errors.is_empty() => Ok(reason),
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

/// A record of one occurrence, as sent.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    /// The occurrence's number, as the duty list and the occurrence list
    /// give it.
    pub occurrence: u32,
    pub outcome: CheckOutcome,
    /// When the check was done; now when absent. More than
    /// `records.backdate_tolerance_minutes` ago it is an entered record
    /// (补录), which only experts, supervisors and admins may make.
    pub checked_at: Option<DateTime<Utc>>,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// Required for an abnormal record: the hazard it becomes.
    pub hazard: Option<FailedItemHazard>,
    /// For a 包保 duty check found abnormal: the numbers of the duties not
    /// carried out (1 for （一）, 2 for （二）, …), each at most once.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub failed_items: Option<Vec<u32>>,
}

impl NewRecord {
    /// The note; an abnormal record carries its hazard's details, a
    /// normal one none.
    pub fn check(&self) -> Result<Option<String>, AppError> {
        let mut errors = FieldErrors::new();
        let note = AppError::gather(
            &mut errors,
            "note",
            optional_text("note", self.note.as_deref(), MAX_TEXT),
        );
        match (self.outcome, &self.hazard) {
            (CheckOutcome::Abnormal, None) => {
                errors.insert("hazard".into(), Rule::AbnormalNeedsHazard.into());
            }
            (CheckOutcome::Normal, Some(_)) => {
                errors.insert("hazard".into(), Rule::NormalHasNoHazard.into());
            }
            _ => {}
        }
        match note {
            Some(note) if errors.is_empty() => Ok(note),
            _ => Err(AppError::invalid_fields(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schedule::{DayRule, Unit};

    fn task() -> NewTask {
        NewTask {
            measure_id: Uuid::nil(),
            name: None,
            kind: TaskKind::PostCheck,
            assignee_role: Some(Role::Enterprise),
            assignee_user_id: None,
            schedule: ScheduleSpec {
                every: 1,
                unit: Unit::Day,
                starts: "2026-12-01T08:00:00".parse().unwrap(),
                window: None,
                days: DayRule::WorkingDays,
            },
        }
    }

    #[test]
    fn a_task_has_one_assignee_and_a_valid_schedule() {
        assert_eq!(
            task().check().unwrap().assignee,
            Assignee::Role(Role::Enterprise)
        );
        let both = NewTask {
            assignee_user_id: Some(Uuid::nil()),
            ..task()
        };
        assert!(both.check().is_err());
        let mut broken = NewTask {
            assignee_role: Some(Role::Viewer),
            ..task()
        };
        broken.schedule.unit = Unit::Month;
        let Err(AppError::Validation { errors, .. }) = broken.check() else {
            panic!("refused");
        };
        assert!(errors.contains_key("assignee_role"), "{errors:?}");
        assert!(errors.contains_key("schedule"), "{errors:?}");
    }

    #[test]
    fn an_abnormal_record_carries_its_hazard_and_a_normal_one_none() {
        let normal = NewRecord {
            occurrence: 0,
            outcome: CheckOutcome::Normal,
            checked_at: None,
            note: Some("  ".into()),
            hazard: None,
            failed_items: None,
        };
        assert_eq!(normal.check().unwrap(), None);
        let abnormal = NewRecord {
            outcome: CheckOutcome::Abnormal,
            ..normal
        };
        assert!(abnormal.check().is_err());
    }

    #[test]
    fn a_pause_ends_after_it_begins() {
        let pause = NewPause {
            from: "2026-12-01T08:00:00".parse().unwrap(),
            until: Some("2026-12-01T08:00:00".parse().unwrap()),
            reason: "检修".into(),
        };
        assert!(pause.check().is_err());
        let open = NewPause {
            until: None,
            ..pause
        };
        assert_eq!(open.check().unwrap(), "检修");
    }
}
