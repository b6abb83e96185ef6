//! Check tasks (隐患排查任务) and their records (排查记录): giving a measure
//! a task, pausing a unit (停用/检修), recording an occurrence (an abnormal
//! one becomes a hazard bound to the task's measure, in the same
//! transaction, by the same rules as any report), and working out from the
//! schedules which occurrences a person on duty has today, has missed, or
//! has done. Future occurrences are never stored.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use uuid::Uuid;

use crate::app::hazards::{self, Context};
pub use crate::app::occurrences::schedule_of;
use crate::app::occurrences::{local, month_key, pause_set, utc_of};
use crate::db::major_sources as major_store;
use crate::db::risk::{self as store, MeasureRow, PauseRow, RecordRow, TaskRow};
use crate::db::tallies;
use crate::db::{users, write_transaction, DbConnection, Id};
use crate::domain::access::{Caller, Capability, Role};
use crate::domain::calendar::WorkCalendar;
use crate::domain::check_task::{Assignee, CheckOutcome, NewPause, NewRecord, NewTask};
use crate::domain::hazard::new::CreateHazard;
use crate::domain::hazard::{CheckSource, HazardLevel};
use crate::domain::major_source::duties;
use crate::domain::park::Park;
use crate::domain::risk::ControlMode;
use crate::domain::schedule::{Occurrence, OccurrenceId, Schedule, ScheduleSpec, Status};
use crate::error::{AppError, FieldError};
use crate::messages::{Detail, Rule};

/// The most occurrences one listing returns.
pub const MAX_LISTED: usize = 1_000;
/// The longest range of days one listing covers.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The most tasks one duty list looks at.
pub const MAX_DUTY_TASKS: i64 = 2_000;

/// Who a task is given to, as stored.
pub fn assignee_of(task: &TaskRow) -> Option<Assignee> {
    match (task.assignee_role, task.assignee_user_id) {
        (Some(role), None) => Some(Assignee::Role(role)),
        (None, Some(user)) => Some(Assignee::User(user.uuid())),
        _ => None,
    }
}

/// A task the caller may see; any other is not found.
pub fn visible_task(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<TaskRow, AppError> {
    store::find_task(conn, id.into())?
        .filter(|t| caller.can_see_enterprise(t.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("check task"))
}

/// Gives a measure watched by checks a task.
pub fn add_task(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewTask,
    now: NaiveDateTime,
) -> Result<(TaskRow, MeasureRow), AppError> {
    let fields = new.check()?;
    let schedule = serde_json::to_string(&ScheduleSpec::from(fields.schedule.clone()))
        .map_err(|e| AppError::Internal(e.into()))?;
    write_transaction(conn, |conn| {
        let measure = store::find_measure(conn, new.measure_id.into())?
            .filter(|m| caller.can_see_enterprise(m.enterprise_id.uuid()) && m.retired_at.is_none())
            .ok_or_else(|| AppError::invalid("measure_id", Rule::UnknownMeasure))?;
        if measure.control_mode != ControlMode::Check {
            return Err(AppError::invalid("measure_id", Rule::MeasureMonitored));
        }
        let event = store::find_event(conn, measure.event_id)?
            .ok_or(AppError::NotFound("safety risk event"))?;
        if let Assignee::User(user) = fields.assignee {
            let person = users::find(conn, user.into())?.filter(|u| u.active);
            let fits = person.is_some_and(|u| match u.role {
                Role::Enterprise => u.enterprise_id == Some(measure.enterprise_id),
                Role::Expert => true,
                _ => false,
            });
            if !fits {
                return Err(AppError::invalid(
                    "assignee_user_id",
                    Rule::AssigneeNotEligible,
                ));
            }
        }
        let name = fields.name.unwrap_or_else(|| {
            measure
                .check_content
                .as_deref()
                .unwrap_or(&measure.description)
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect()
        });
        let (assignee_role, assignee_user_id) = match fields.assignee {
            Assignee::Role(role) => (Some(role), None),
            Assignee::User(user) => (None, Some(Id::from(user))),
        };
        let row = TaskRow {
            id: Uuid::now_v7().into(),
            measure_id: measure.id,
            unit_id: event.unit_id,
            enterprise_id: measure.enterprise_id,
            name,
            kind: new.kind,
            assignee_role,
            assignee_user_id,
            schedule,
            active: true,
            created_by: caller.user_id.into(),
            created_at: now,
            retired_at: None,
        };
        store::insert_task(conn, &row)?;
        Ok((row, measure))
    })
}

/// Pauses a unit's tasks (停用/检修) from `from` until `until`.
pub fn add_pause(
    conn: &mut DbConnection,
    caller: &Caller,
    unit_id: Uuid,
    new: &NewPause,
    now: NaiveDateTime,
) -> Result<PauseRow, AppError> {
    let reason = new.check()?;
    write_transaction(conn, |conn| {
        let unit = crate::app::risk::visible_unit(conn, caller, unit_id)?;
        let row = PauseRow {
            id: Uuid::now_v7().into(),
            unit_id: unit.id,
            enterprise_id: unit.enterprise_id,
            starts_at: new.from,
            ends_at: new.until,
            reason,
            created_by: caller.user_id.into(),
            created_at: now,
        };
        store::insert_pause(conn, &row)?;
        Ok(row)
    })
}

/// Whether the caller is on duty for the task: of the role it is given to
/// (within its enterprise, for a contact) or the person. Supervisors and
/// admins may record on anyone's behalf.
fn on_duty(caller: &Caller, task: &TaskRow) -> bool {
    if matches!(caller.role, Role::Admin | Role::Supervisor) {
        return true;
    }
    match assignee_of(task) {
        Some(Assignee::Role(role)) => {
            role == caller.role && caller.can_see_enterprise(task.enterprise_id.uuid())
        }
        Some(Assignee::User(user)) => user == caller.user_id,
        None => false,
    }
}

/// What a record needs besides the request.
pub struct RecordContext<'a> {
    pub park: &'a Park,
    pub calendar: &'a WorkCalendar,
    pub lifecycle: &'a Context,
}

/// A record with its task, and the hazard it became.
pub struct Recorded {
    pub record: RecordRow,
    pub occurrence: Occurrence,
}

/// Records one occurrence of a task, once.
pub fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    task_id: Uuid,
    request: &NewRecord,
    context: &RecordContext,
) -> Result<Recorded, AppError> {
    let note = request.check()?;
    let now = context.lifecycle.now;
    let checked_at = request
        .checked_at
        .map_or(now.utc, |at| crate::clock::stored_precision(at.naive_utc()));
    write_transaction(conn, |conn| {
        let task = visible_task(conn, caller, task_id)?;
        if !on_duty(caller, &task) {
            return Err(AppError::forbidden(Detail::TaskOfOthers));
        }
        if !task.active {
            return Err(AppError::conflict(Detail::TaskInactive));
        }
        let schedule = schedule_of(&task)?;
        let pauses = store::pauses_of(conn, &[task.unit_id])?;
        let pauses = pause_set(&pauses.iter().collect::<Vec<_>>())?;
        let id = OccurrenceId(request.occurrence);
        let occurrence = schedule
            .occurrence(id, context.calendar, &pauses)
            .ok_or_else(|| AppError::invalid("occurrence", Rule::NotAnOccurrence))?;
        if checked_at > now.utc {
            return Err(AppError::invalid("checked_at", Rule::DateInFuture));
        }
        let checked_local = local(context.park.time_zone, checked_at);
        if checked_local < occurrence.start {
            return Err(AppError::invalid(
                "checked_at",
                FieldError::new(Rule::BeforeOccurrence).with(
                    "start",
                    occurrence.start.format("%Y-%m-%d %H:%M").to_string(),
                ),
            ));
        }
        let entered_late = now.utc - checked_at > context.lifecycle.policy.backdate_tolerance;
        if entered_late && !caller.may(Capability::EnterPastRecords) {
            return Err(AppError::forbidden(
                Detail::NoBackdating
                    .with("role", caller.role.as_str())
                    .with("role_zh", caller.role.label_zh()),
            ));
        }
        if store::record_of(conn, task.id, i64::from(id))?.is_some() {
            return Err(AppError::conflict(
                Detail::OccurrenceRecorded.with("occurrence", id.index()),
            ));
        }
        let failed_items = failed_duties(&task, request)?;
        let hazard_id = match (&request.outcome, &request.hazard) {
            (CheckOutcome::Abnormal, Some(details)) => {
                let measure = store::find_measure(conn, task.measure_id)?
                    .ok_or(AppError::NotFound("control measure"))?;
                let duty_note = match (task.kind.duty_of(), &failed_items) {
                    (Some(kind), Some(items)) => {
                        let list = duties(kind);
                        let source = major_store::source_of_unit(conn, task.unit_id)?;
                        let lines: Vec<String> = items
                            .iter()
                            .filter_map(|n| list.items.get(*n as usize - 1))
                            .map(|item| format!("{}{}", item.number, item.text))
                            .collect();
                        format!(
                            "\n重大危险源：{}\n未落实的包保职责：\n{}",
                            source
                                .map(|s| format!("{}（{}）", s.name, s.code))
                                .unwrap_or_default(),
                            lines.join("\n")
                        )
                    }
                    _ => String::new(),
                };
                let source = match assignee_of(&task) {
                    Some(Assignee::Role(Role::Expert)) => CheckSource::ResidentExpert,
                    Some(Assignee::User(user)) => match users::find(conn, user.into())? {
                        Some(u) if u.role == Role::Expert => CheckSource::ResidentExpert,
                        _ => CheckSource::SelfCheck,
                    },
                    _ => CheckSource::SelfCheck,
                };
                let checked = measure
                    .check_content
                    .as_deref()
                    .unwrap_or(&measure.description);
                let note = note
                    .as_deref()
                    .map(|n| format!("\n{n}"))
                    .unwrap_or_default();
                let create = CreateHazard {
                    enterprise_id: task.enterprise_id.uuid(),
                    source,
                    checking_enterprise_id: None,
                    inspection_id: None,
                    title: details
                        .title
                        .clone()
                        .unwrap_or_else(|| task.name.chars().take(200).collect()),
                    description: format!(
                        "排查任务“{}”第 {} 次排查异常。管控措施：{}{duty_note}\n排查内容：{checked}{note}",
                        task.name,
                        id.index(),
                        measure.description
                    ),
                    location: details.location.clone(),
                    category: details.category.clone(),
                    specialty: None,
                    level: HazardLevel::General,
                    major_basis_code: None,
                    supervised_listing: None,
                    found_at: Some(checked_at.and_utc()),
                    deadline: details.deadline,
                };
                let in_request = |e: AppError| match e {
                    AppError::Validation { errors, .. } => AppError::invalid_fields(
                        errors
                            .into_iter()
                            .map(|(field, message)| (format!("hazard.{field}"), message))
                            .collect(),
                    ),
                    other => other,
                };
                let new = create.parse(context.park, &now).map_err(in_request)?;
                let lifecycle = context.lifecycle;
                let hazard = hazards::report_hazard(
                    conn,
                    caller,
                    new,
                    now,
                    lifecycle.policy,
                    &lifecycle.escalation,
                )
                .map_err(in_request)?;
                Some(hazard.id)
            }
            _ => None,
        };
        let record = RecordRow {
            id: Uuid::now_v7().into(),
            task_id: task.id,
            enterprise_id: task.enterprise_id,
            occurrence: i64::from(id),
            outcome: request.outcome,
            note,
            checked_at,
            recorded_at: now.utc,
            entered_late,
            hazard_id,
            recorded_by: caller.user_id.into(),
            failed_items: failed_items
                .map(|items| serde_json::to_string(&items))
                .transpose()
                .map_err(|e| AppError::Internal(e.into()))?,
        };
        store::insert_record(conn, &record)?;
        // Counts kept of the occurrence's month no longer stand.
        tallies::touch(conn, task.id, &month_key(occurrence.start))?;
        Ok(Recorded { record, occurrence })
    })
}

/// The duties a 包保 duty check found not carried out: required (by
/// number, each once) for an abnormal one, refused otherwise.
fn failed_duties(task: &TaskRow, request: &NewRecord) -> Result<Option<Vec<u32>>, AppError> {
    let items = request.failed_items.as_deref().filter(|i| !i.is_empty());
    let Some(kind) = task.kind.duty_of() else {
        return match items {
            Some(_) => Err(AppError::invalid("failed_items", Rule::OnlyForDutyTask)),
            None => Ok(None),
        };
    };
    let count = duties(kind).items.len();
    match (request.outcome, items) {
        (CheckOutcome::Normal, None) => Ok(None),
        (CheckOutcome::Normal, Some(_)) => {
            Err(AppError::invalid("failed_items", Rule::OnlyForFailedItem))
        }
        (CheckOutcome::Abnormal, items) => {
            let items = items.unwrap_or_default();
            let mut seen = std::collections::BTreeSet::new();
            let fine = !items.is_empty()
                && items
                    .iter()
                    .all(|n| (1..=count).contains(&(*n as usize)) && seen.insert(*n));
            if fine {
                Ok(Some(items.to_vec()))
            } else {
                Err(AppError::invalid(
                    "failed_items",
                    FieldError::new(Rule::NotDutyItem).with("allowed", format!("1–{count}")),
                ))
            }
        }
    }
}

/// One occurrence of a task and where it stands.
pub struct OccurrenceState {
    pub task: std::sync::Arc<TaskRow>,
    pub occurrence: Occurrence,
    /// When it must be recorded by to count as on time (park-local).
    pub deadline: NaiveDateTime,
    pub status: Status,
    pub record: Option<RecordRow>,
}

/// The occurrences of `tasks` starting in `[from_of(schedule), until)`
/// (park-local), with their status now, at most `cap` of them.
fn occurrences_of(
    conn: &mut DbConnection,
    tasks: Vec<TaskRow>,
    from_of: &dyn Fn(&Schedule) -> NaiveDateTime,
    until: NaiveDateTime,
    context: &RecordContext,
    cap: usize,
) -> Result<(Vec<OccurrenceState>, bool), AppError> {
    let mut planned = Vec::with_capacity(tasks.len());
    for task in tasks {
        let schedule = schedule_of(&task)?;
        let from = from_of(&schedule);
        planned.push((task, schedule, from));
    }
    let Some(earliest) = planned.iter().map(|(_, _, from)| *from).min() else {
        return Ok((Vec::new(), false));
    };
    let units: Vec<Id> = planned.iter().map(|(t, _, _)| t.unit_id).collect();
    let ids: Vec<Id> = planned.iter().map(|(t, _, _)| t.id).collect();
    let pauses = store::pauses_of(conn, &units)?;
    let records = store::records_since(conn, &ids, utc_of(context.park.time_zone, earliest))?;
    let mut records_of: HashMap<(Id, i64), RecordRow> = HashMap::new();
    for record in records {
        records_of.insert((record.task_id, record.occurrence), record);
    }
    let tolerance = context.lifecycle.policy.backdate_tolerance;
    let now = local(context.park.time_zone, context.lifecycle.now.utc);
    let mut out = Vec::new();
    let mut truncated = false;
    for (task, schedule, from) in planned {
        let of_unit: Vec<&PauseRow> = pauses
            .iter()
            .filter(|p| p.unit_id == task.unit_id)
            .collect();
        let pauses = pause_set(&of_unit)?;
        let task = std::sync::Arc::new(task);
        for occurrence in schedule.occurrences(from, until, context.calendar, &pauses) {
            if out.len() == cap {
                truncated = true;
                break;
            }
            let record = records_of.remove(&(task.id, i64::from(occurrence.id)));
            let at: Vec<NaiveDateTime> = record
                .iter()
                .map(|r| local(context.park.time_zone, r.checked_at))
                .collect();
            out.push(OccurrenceState {
                task: task.clone(),
                occurrence,
                deadline: occurrence.deadline(tolerance),
                status: occurrence.status(&at, now, tolerance),
                record,
            });
        }
    }
    Ok((out, truncated))
}

/// The occurrences of one task starting in `[from, until)` park-local days.
pub fn task_occurrences(
    conn: &mut DbConnection,
    caller: &Caller,
    task_id: Uuid,
    (from, until): (NaiveDate, NaiveDate),
    context: &RecordContext,
) -> Result<(Vec<OccurrenceState>, bool), AppError> {
    if until <= from || (until - from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::invalid(
            "until",
            FieldError::new(Rule::RangeTooLong).with("max_days", MAX_RANGE_DAYS),
        ));
    }
    let task = visible_task(conn, caller, task_id)?;
    let from = from.and_time(chrono::NaiveTime::MIN);
    let until = until.and_time(chrono::NaiveTime::MIN);
    occurrences_of(conn, vec![task], &|_| from, until, context, MAX_LISTED)
}

/// The caller's duty list: every occurrence of the tasks they are on duty
/// for that runs today (started today, or earlier and still running, as a
/// monthly check does all month), and the earlier ones of the last
/// `overdue_days` days still unrecorded.
pub fn duty(
    conn: &mut DbConnection,
    caller: &Caller,
    overdue_days: u32,
    context: &RecordContext,
) -> Result<(Vec<OccurrenceState>, bool), AppError> {
    let today = context.lifecycle.now.park_today;
    let tasks = store::tasks_on_duty(
        conn,
        caller.role,
        caller.user_id.into(),
        caller.scope().map(Id::from),
        MAX_DUTY_TASKS,
    )?;
    let today_start = today.and_time(chrono::NaiveTime::MIN);
    let lookback = today_start
        .checked_sub_signed(TimeDelta::days(i64::from(overdue_days)))
        .unwrap_or(today_start);
    // A long cycle's occurrence running today may have started before the
    // look-back.
    let from_of = |schedule: &Schedule| {
        schedule
            .slot_containing(today_start)
            .and_then(|k| schedule.slot_start(k))
            .map_or(lookback, |running| running.min(lookback))
    };
    let until = today_start + TimeDelta::days(1);
    let (all, truncated) = occurrences_of(conn, tasks, &from_of, until, context, usize::MAX)?;
    let mut list: Vec<OccurrenceState> = all
        .into_iter()
        .filter(|o| {
            o.occurrence.end > today_start || matches!(o.status, Status::Missed | Status::Due)
        })
        .collect();
    list.sort_by_key(|o| (o.occurrence.start, o.task.id));
    let cut = list.len() > MAX_LISTED;
    list.truncate(MAX_LISTED);
    Ok((list, truncated || cut))
}
