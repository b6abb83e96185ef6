//! The rules of each lifecycle step beyond who may take it from which state
//! (that is [`transition`](super::transition)): when a step may be dated,
//! what a plan must hold and how far it may move the deadline, what a
//! submission needs, what counts as closed on time, and how extensions are
//! asked for and decided.

use chrono::{NaiveDate, NaiveDateTime};

use super::{missing_plan_fields, ExtensionState, HazardLevel, RectificationPlan};
use crate::domain::access::{Capability, Role};
use crate::domain::evidence::after_evidence_required;
use crate::error::{AppError, FieldError};
use crate::messages::{Detail, Rule};

/// When a step really happened. A time given (a paper record entered
/// later) must not be in the future nor before the hazard's previous
/// lifecycle step; without one it is now, but never before that step, in
/// case this instance's clock is behind the one that recorded it.
pub fn occurred_at(
    given: Option<NaiveDateTime>,
    now: NaiveDateTime,
    previous_step: NaiveDateTime,
) -> Result<NaiveDateTime, AppError> {
    match given {
        Some(at) if at > now => Err(AppError::invalid("occurred_at", Rule::DateInFuture)),
        Some(at) if at < previous_step => Err(AppError::invalid(
            "occurred_at",
            FieldError::new(Rule::BeforePreviousEvent).with("previous", previous_step.to_string()),
        )),
        Some(at) => Ok(at),
        None => Ok(now.max(previous_step)),
    }
}

/// How far in the past a find or a step may be dated before it is an
/// entered record (补录).
#[derive(Debug, Clone, Copy)]
pub struct RecordPolicy {
    pub backdate_tolerance: chrono::Duration,
}

/// Whether a find or a step dated `at` is an entered record, and whether
/// the role may enter it: the park's experts, supervisors and admins keep
/// the paper ledgers; an enterprise contact records its own steps as they
/// happen, so it cannot improve its own punctuality after the fact.
pub fn entered_late(
    role: Role,
    at: NaiveDateTime,
    now: NaiveDateTime,
    policy: RecordPolicy,
    field: &str,
) -> Result<bool, AppError> {
    let late = now - at > policy.backdate_tolerance;
    if late && !role.may(Capability::EnterPastRecords) {
        return Err(AppError::invalid(
            field,
            FieldError::new(Rule::BackdatedTooFar)
                .with("minutes", policy.backdate_tolerance.num_minutes())
                .with("role", role.to_string()),
        ));
    }
    Ok(late)
}

/// The 五到位 plan as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub measures: Option<String>,
    pub responsible_person: Option<String>,
    pub funds_fen: Option<i64>,
    pub deadline: Option<NaiveDate>,
    pub contingency_plan: Option<String>,
}

/// The hazard a plan is for, as far as the plan's rules care.
#[derive(Debug, Clone, Copy)]
pub struct PlanTarget {
    pub level: HazardLevel,
    pub deadline: NaiveDate,
    /// The park-local day it was found.
    pub found_on: NaiveDate,
}

/// Checks a plan and gives the deadline it leaves the hazard with. A major
/// hazard's plan needs all five of 五到位 and states its own time limit; a
/// general one needs its measures and keeps the deadline unless it names
/// another. The deadline may not fall before the day the hazard was found,
/// and only a role that decides extensions may move it later: for anyone
/// else a later day is an extension request.
pub fn plan_deadline(
    role: Role,
    target: PlanTarget,
    plan: &PlanInput,
) -> Result<NaiveDate, AppError> {
    let level = target.level;
    let effective = plan.deadline.unwrap_or(target.deadline);
    let missing = missing_plan_fields(
        level,
        &RectificationPlan {
            measures: plan.measures.as_deref(),
            responsible_person: plan.responsible_person.as_deref(),
            funds: plan.funds_fen,
            deadline: match level {
                HazardLevel::Major => plan.deadline,
                HazardLevel::General => Some(effective),
            },
            contingency_plan: plan.contingency_plan.as_deref(),
        },
    );
    if !missing.is_empty() {
        let rule = match level {
            HazardLevel::Major => Rule::MajorPlanIncomplete,
            HazardLevel::General => Rule::Required,
        };
        return Err(AppError::invalid_fields(
            missing
                .iter()
                .map(|field| ((*field).to_owned(), rule.into()))
                .collect(),
        ));
    }
    if effective < target.found_on {
        return Err(AppError::invalid("deadline", Rule::BeforeFoundDay));
    }
    if effective > target.deadline && !role.may(Capability::DecideExtensions) {
        return Err(AppError::invalid(
            "deadline",
            FieldError::new(Rule::DeadlineLaterThanCurrent)
                .with("current_deadline", target.deadline.to_string()),
        ));
    }
    Ok(effective)
}

/// A hazard goes to acceptance only with the evidence the park asks for:
/// an `after` file always for a major hazard, for a general one when the
/// park's policy says so.
pub fn check_submission(
    level: HazardLevel,
    after_evidence_for_general: bool,
    after_files: i32,
) -> Result<(), AppError> {
    if after_evidence_required(level, after_evidence_for_general) && after_files == 0 {
        return Err(AppError::invalid(
            "evidence",
            FieldError::new(Rule::AfterEvidenceRequired).with("level", level.to_string()),
        ));
    }
    Ok(())
}

/// 按期整改: submitted for acceptance by the end of the deadline day (as
/// extended), in park time.
pub fn closed_on_time(submitted_on: Option<NaiveDate>, deadline: NaiveDate) -> bool {
    submitted_on.is_some_and(|day| day <= deadline)
}

/// A submission recorded after the deadline day counts as on time only if
/// it was entered by a role that keeps the paper records: whatever date an
/// enterprise contact gives, its own late submission is late.
pub fn submission_recorded_in_time(recorded_on: NaiveDate, deadline: NaiveDate, by: Role) -> bool {
    recorded_on <= deadline || by.may(Capability::EnterPastRecords)
}

/// An extension asks for a day later than the current deadline.
pub fn check_extension_request(
    current_deadline: NaiveDate,
    requested: NaiveDate,
) -> Result<(), AppError> {
    if requested <= current_deadline {
        return Err(AppError::invalid(
            "requested_deadline",
            FieldError::new(Rule::DeadlineNotLater)
                .with("current_deadline", current_deadline.to_string()),
        ));
    }
    Ok(())
}

/// Only a pending request can be decided.
pub fn ensure_undecided(state: ExtensionState) -> Result<(), AppError> {
    if state == ExtensionState::Pending {
        Ok(())
    } else {
        Err(AppError::conflict(
            Detail::ExtensionDecided
                .with("state", state.as_str())
                .with("state_zh", state.label_zh()),
        ))
    }
}

/// A refusal says why, so the enterprise knows what to do instead; an
/// approval needs no reason. Absent or blank is `required`.
pub fn refusal_reason(reason: Option<&str>) -> Result<String, AppError> {
    match reason {
        Some(reason) if !reason.trim().is_empty() => {
            crate::domain::text::required_text("reason", reason, crate::domain::text::MAX_TEXT)
        }
        _ => Err(AppError::invalid("reason", Rule::Required)),
    }
}

/// The deadline an approval grants: the day asked for unless the decider
/// names another, and always later than the current one.
pub fn granted_deadline(
    current_deadline: NaiveDate,
    requested: NaiveDate,
    granted: Option<NaiveDate>,
) -> Result<NaiveDate, AppError> {
    let granted = granted.unwrap_or(requested);
    if granted <= current_deadline {
        return Err(AppError::invalid(
            "granted_deadline",
            FieldError::new(Rule::DeadlineNotLater)
                .with("current_deadline", current_deadline.to_string()),
        ));
    }
    Ok(granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    fn at(d: u32) -> NaiveDateTime {
        day(d).and_hms_opt(8, 0, 0).unwrap()
    }

    #[test]
    fn steps_are_dated_between_the_previous_step_and_now() {
        assert_eq!(occurred_at(None, at(5), at(3)).unwrap(), at(5));
        assert_eq!(occurred_at(None, at(3), at(5)).unwrap(), at(5));
        assert_eq!(occurred_at(Some(at(4)), at(5), at(3)).unwrap(), at(4));
        assert!(occurred_at(Some(at(6)), at(5), at(3)).is_err());
        assert!(occurred_at(Some(at(2)), at(5), at(3)).is_err());
    }

    fn general(deadline: u32) -> PlanTarget {
        PlanTarget {
            level: HazardLevel::General,
            deadline: day(deadline),
            found_on: day(1),
        }
    }

    fn measures(deadline: Option<u32>) -> PlanInput {
        PlanInput {
            measures: Some("更换阀门".into()),
            deadline: deadline.map(day),
            ..PlanInput::default()
        }
    }

    #[test]
    fn only_extension_deciders_move_a_deadline_later_by_plan() {
        for role in Role::ALL {
            let later = plan_deadline(role, general(10), &measures(Some(20)));
            assert_eq!(
                later.is_ok(),
                role.may(Capability::DecideExtensions),
                "{role}"
            );
            assert_eq!(
                plan_deadline(role, general(10), &measures(Some(8))).unwrap(),
                day(8)
            );
            assert_eq!(
                plan_deadline(role, general(10), &measures(None)).unwrap(),
                day(10)
            );
        }
    }

    #[test]
    fn a_plan_needs_its_fields_and_a_deadline_not_before_the_find() {
        let blank = PlanInput::default();
        assert!(plan_deadline(Role::Expert, general(10), &blank).is_err());
        let major = PlanTarget {
            level: HazardLevel::Major,
            ..general(10)
        };
        assert!(plan_deadline(Role::Supervisor, major, &measures(Some(9))).is_err());
        let early = PlanTarget {
            found_on: day(5),
            ..general(10)
        };
        assert!(plan_deadline(Role::Expert, early, &measures(Some(4))).is_err());
    }

    #[test]
    fn on_time_means_submitted_by_the_end_of_the_deadline_day() {
        assert!(closed_on_time(Some(day(10)), day(10)));
        assert!(!closed_on_time(Some(day(11)), day(10)));
        assert!(!closed_on_time(None, day(10)));
    }

    #[test]
    fn extensions_ask_and_grant_later_days_once() {
        assert!(check_extension_request(day(10), day(10)).is_err());
        assert!(check_extension_request(day(10), day(11)).is_ok());
        assert_eq!(granted_deadline(day(10), day(20), None).unwrap(), day(20));
        assert_eq!(
            granted_deadline(day(10), day(20), Some(day(15))).unwrap(),
            day(15)
        );
        assert!(granted_deadline(day(10), day(20), Some(day(9))).is_err());
        assert!(ensure_undecided(ExtensionState::Pending).is_ok());
        assert!(ensure_undecided(ExtensionState::Approved).is_err());
    }
}
