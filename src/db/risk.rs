//! The risk register's rows (objects, units, events, control measures),
//! the check tasks of measures, the pauses of units and the records of
//! checks. Schedules and pauses are park-local wall-clock times; records'
//! times are UTC.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{
    check_records, check_tasks, control_measures, register_revisions, risk_events, risk_objects,
    risk_units, unit_pauses,
};
use super::DbConnection;
use crate::domain::access::Role;
use crate::domain::check_task::{CheckOutcome, TaskKind};
use crate::domain::risk::{ControlMode, ObjectKind, RiskLevel};
use crate::error::AppError;
use crate::messages::Detail;

/// The most rows of one kind a register read returns: an enterprise's
/// register is hundreds of measures, not hundreds of thousands.
pub const MAX_REGISTER_ROWS: i64 = 20_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_objects)]
pub struct ObjectRow {
    pub id: Id,
    pub enterprise_id: Id,
    pub kind: ObjectKind,
    pub name: String,
    pub major_source_code: Option<String>,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    /// When it left the register (with everything below it).
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_units)]
pub struct UnitRow {
    pub id: Id,
    pub object_id: Id,
    pub enterprise_id: Id,
    pub name: String,
    pub department: Option<String>,
    pub responsible_person: Option<String>,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    /// When it left the register (with everything below it).
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_events)]
pub struct EventRow {
    pub id: Id,
    pub unit_id: Id,
    pub enterprise_id: Id,
    pub name: String,
    pub consequence: Option<String>,
    /// JSON of `domain::risk::Assessment`.
    pub assessment: String,
    pub score_centi: i64,
    pub level: RiskLevel,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    /// When it left the register (with everything below it).
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = control_measures)]
pub struct MeasureRow {
    pub id: Id,
    pub event_id: Id,
    pub enterprise_id: Id,
    pub description: String,
    pub classification: String,
    pub control_mode: ControlMode,
    pub check_content: Option<String>,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    /// When it left the register (with everything below it).
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_tasks)]
pub struct TaskRow {
    pub id: Id,
    pub measure_id: Id,
    pub unit_id: Id,
    pub enterprise_id: Id,
    pub name: String,
    pub kind: TaskKind,
    pub assignee_role: Option<Role>,
    pub assignee_user_id: Option<Id>,
    /// JSON of `domain::schedule::ScheduleSpec`.
    pub schedule: String,
    pub active: bool,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    /// When the task was given up: no occurrence starts from then on.
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_pauses)]
pub struct PauseRow {
    pub id: Id,
    pub unit_id: Id,
    pub enterprise_id: Id,
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub reason: String,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_records)]
pub struct RecordRow {
    pub id: Id,
    pub task_id: Id,
    pub enterprise_id: Id,
    pub occurrence: i64,
    pub outcome: CheckOutcome,
    pub note: Option<String>,
    pub checked_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub entered_late: bool,
    pub hazard_id: Option<Id>,
    pub recorded_by: Id,
    /// A duty check's failed duties by number, JSON.
    pub failed_items: Option<String>,
}

pub fn insert_object(conn: &mut DbConnection, row: &ObjectRow) -> Result<(), AppError> {
    diesel::insert_into(risk_objects::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_unit(conn: &mut DbConnection, row: &UnitRow) -> Result<(), AppError> {
    diesel::insert_into(risk_units::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_event(conn: &mut DbConnection, row: &EventRow) -> Result<(), AppError> {
    diesel::insert_into(risk_events::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_measure(conn: &mut DbConnection, row: &MeasureRow) -> Result<(), AppError> {
    diesel::insert_into(control_measures::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_task(conn: &mut DbConnection, row: &TaskRow) -> Result<(), AppError> {
    diesel::insert_into(check_tasks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_pause(conn: &mut DbConnection, row: &PauseRow) -> Result<(), AppError> {
    diesel::insert_into(unit_pauses::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Records an occurrence; one recorded meanwhile by a concurrent request
/// is a conflict, as one recorded before is.
pub fn insert_record(conn: &mut DbConnection, row: &RecordRow) -> Result<(), AppError> {
    use diesel::result::{DatabaseErrorKind, Error};
    match diesel::insert_into(check_records::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
            AppError::conflict(Detail::OccurrenceRecorded.with("occurrence", row.occurrence)),
        ),
        Err(other) => Err(other.into()),
    }
}

pub fn find_object(conn: &mut DbConnection, id: Id) -> Result<Option<ObjectRow>, AppError> {
    Ok(risk_objects::table
        .find(id)
        .select(ObjectRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_unit(conn: &mut DbConnection, id: Id) -> Result<Option<UnitRow>, AppError> {
    Ok(risk_units::table
        .find(id)
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_event(conn: &mut DbConnection, id: Id) -> Result<Option<EventRow>, AppError> {
    Ok(risk_events::table
        .find(id)
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_measure(conn: &mut DbConnection, id: Id) -> Result<Option<MeasureRow>, AppError> {
    Ok(control_measures::table
        .find(id)
        .select(MeasureRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_task(conn: &mut DbConnection, id: Id) -> Result<Option<TaskRow>, AppError> {
    Ok(check_tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(conn)
        .optional()?)
}

/// One enterprise's register, each kind in creation order.
pub struct Register {
    pub objects: Vec<ObjectRow>,
    pub units: Vec<UnitRow>,
    pub events: Vec<EventRow>,
    pub measures: Vec<MeasureRow>,
    pub tasks: Vec<TaskRow>,
}

pub fn register_of(conn: &mut DbConnection, enterprise: Id) -> Result<Register, AppError> {
    Ok(Register {
        objects: risk_objects::table
            .filter(risk_objects::enterprise_id.eq(enterprise))
            .filter(risk_objects::retired_at.is_null())
            .order(risk_objects::id)
            .limit(MAX_REGISTER_ROWS)
            .select(ObjectRow::as_select())
            .load(conn)?,
        units: risk_units::table
            .filter(risk_units::enterprise_id.eq(enterprise))
            .filter(risk_units::retired_at.is_null())
            .order(risk_units::id)
            .limit(MAX_REGISTER_ROWS)
            .select(UnitRow::as_select())
            .load(conn)?,
        events: risk_events::table
            .filter(risk_events::enterprise_id.eq(enterprise))
            .filter(risk_events::retired_at.is_null())
            .order(risk_events::id)
            .limit(MAX_REGISTER_ROWS)
            .select(EventRow::as_select())
            .load(conn)?,
        measures: control_measures::table
            .filter(control_measures::enterprise_id.eq(enterprise))
            .filter(control_measures::retired_at.is_null())
            .order(control_measures::id)
            .limit(MAX_REGISTER_ROWS)
            .select(MeasureRow::as_select())
            .load(conn)?,
        tasks: check_tasks::table
            .filter(check_tasks::enterprise_id.eq(enterprise))
            .order(check_tasks::id)
            .limit(MAX_REGISTER_ROWS)
            .select(TaskRow::as_select())
            .load(conn)?,
    })
}

/// The active tasks a caller is on duty for: given to `role` (within
/// `enterprise` when set) or to `user`.
pub fn tasks_on_duty(
    conn: &mut DbConnection,
    role: Role,
    user: Id,
    enterprise: Option<Id>,
    limit: i64,
) -> Result<Vec<TaskRow>, AppError> {
    let mut query = check_tasks::table
        .filter(check_tasks::active.eq(true))
        .filter(
            check_tasks::assignee_role
                .eq(role)
                .or(check_tasks::assignee_user_id.eq(user)),
        )
        .order(check_tasks::id)
        .limit(limit)
        .select(TaskRow::as_select())
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(check_tasks::enterprise_id.eq(enterprise));
    }
    Ok(query.load(conn)?)
}

/// The pauses of these units.
pub fn pauses_of(conn: &mut DbConnection, units: &[Id]) -> Result<Vec<PauseRow>, AppError> {
    let mut rows = Vec::new();
    for chunk in units.chunks(500) {
        rows.extend(
            unit_pauses::table
                .filter(unit_pauses::unit_id.eq_any(chunk))
                .order(unit_pauses::starts_at)
                .select(PauseRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// The records of these tasks checked at or after `since` (UTC): every
/// record of an occurrence starting then or later, since a check counts
/// only from its occurrence's start.
pub fn records_since(
    conn: &mut DbConnection,
    tasks: &[Id],
    since: NaiveDateTime,
) -> Result<Vec<RecordRow>, AppError> {
    let mut rows = Vec::new();
    for chunk in tasks.chunks(500) {
        rows.extend(
            check_records::table
                .filter(check_records::task_id.eq_any(chunk))
                .filter(check_records::checked_at.ge(since))
                .order(check_records::id)
                .select(RecordRow::as_select())
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// When each occurrence of `tasks` since `since` was checked: (task,
/// occurrence, checked at), unordered. The figures' walk reads only these
/// three columns of what may be a year of records.
pub fn checked_since(
    conn: &mut DbConnection,
    tasks: &[Id],
    since: NaiveDateTime,
) -> Result<Vec<(Id, i64, NaiveDateTime)>, AppError> {
    let mut rows = Vec::new();
    for chunk in tasks.chunks(500) {
        rows.extend(
            check_records::table
                .filter(check_records::task_id.eq_any(chunk))
                .filter(check_records::checked_at.ge(since))
                .select((
                    check_records::task_id,
                    check_records::occurrence,
                    check_records::checked_at,
                ))
                .load::<(Id, i64, NaiveDateTime)>(conn)?,
        );
    }
    Ok(rows)
}

/// When each occurrence in these ranges was checked: (task, occurrence,
/// checked at) for occurrences `first..=last` of each task, unordered.
/// Tasks whose ranges are the same (one schedule's, as a register's are)
/// are read in one query, `task_id IN (…) AND occurrence BETWEEN`, each
/// an index range on `(task_id, occurrence)`.
pub fn checked_in(
    conn: &mut DbConnection,
    ranges: &[(Id, i64, i64)],
) -> Result<Vec<(Id, i64, NaiveDateTime)>, AppError> {
    let mut by_range: std::collections::BTreeMap<(i64, i64), Vec<Id>> = Default::default();
    for &(task, first, last) in ranges {
        by_range.entry((first, last)).or_default().push(task);
    }
    let mut rows = Vec::new();
    for ((first, last), tasks) in by_range {
        for chunk in tasks.chunks(500) {
            rows.extend(
                check_records::table
                    .filter(check_records::task_id.eq_any(chunk))
                    .filter(check_records::occurrence.between(first, last))
                    .select((
                        check_records::task_id,
                        check_records::occurrence,
                        check_records::checked_at,
                    ))
                    .load::<(Id, i64, NaiveDateTime)>(conn)?,
            );
        }
    }
    Ok(rows)
}

/// A record that raised a hazard.
pub struct FoundRecord {
    pub task_id: Id,
    pub enterprise_id: Id,
    pub hazard_id: Id,
    pub checked_at: NaiveDateTime,
}

/// The records of `tasks` since `since` that raised a hazard.
pub fn found_since(
    conn: &mut DbConnection,
    tasks: &[Id],
    since: NaiveDateTime,
) -> Result<Vec<FoundRecord>, AppError> {
    let mut rows = Vec::new();
    for chunk in tasks.chunks(500) {
        rows.extend(
            check_records::table
                .filter(check_records::task_id.eq_any(chunk))
                .filter(check_records::checked_at.ge(since))
                .filter(check_records::hazard_id.is_not_null())
                .select((
                    check_records::task_id,
                    check_records::enterprise_id,
                    check_records::hazard_id,
                    check_records::checked_at,
                ))
                .load::<(Id, Id, Option<Id>, NaiveDateTime)>(conn)?
                .into_iter()
                .filter_map(|(task_id, enterprise_id, hazard, checked_at)| {
                    Some(FoundRecord {
                        task_id,
                        enterprise_id,
                        hazard_id: hazard?,
                        checked_at,
                    })
                }),
        );
    }
    Ok(rows)
}

/// The record of one occurrence, if any.
pub fn record_of(
    conn: &mut DbConnection,
    task: Id,
    occurrence: i64,
) -> Result<Option<RecordRow>, AppError> {
    Ok(check_records::table
        .filter(check_records::task_id.eq(task))
        .filter(check_records::occurrence.eq(occurrence))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// The records of one task whose occurrences lie in `[from, until)`.
pub fn records_of_task(
    conn: &mut DbConnection,
    task: Id,
    occurrences: std::ops::Range<i64>,
) -> Result<Vec<RecordRow>, AppError> {
    Ok(check_records::table
        .filter(check_records::task_id.eq(task))
        .filter(check_records::occurrence.ge(occurrences.start))
        .filter(check_records::occurrence.lt(occurrences.end))
        .order(check_records::occurrence)
        .select(RecordRow::as_select())
        .load(conn)?)
}

/// An event's enterprise, unit and level, and whether it is still in the
/// register (not retired).
pub struct EventLevel {
    pub enterprise: Id,
    pub unit: Id,
    pub level: RiskLevel,
    pub live: bool,
}

/// Every event's level, of one enterprise or all; retired ones too, as a
/// past occurrence of their unit is still judged by it.
pub fn event_levels(
    conn: &mut DbConnection,
    enterprise: Option<Id>,
) -> Result<Vec<EventLevel>, AppError> {
    let mut query = risk_events::table
        .select((
            risk_events::enterprise_id,
            risk_events::unit_id,
            risk_events::level,
            risk_events::retired_at,
        ))
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(risk_events::enterprise_id.eq(enterprise));
    }
    Ok(query
        .load::<(Id, Id, RiskLevel, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(enterprise, unit, level, retired)| EventLevel {
            enterprise,
            unit,
            level,
            live: retired.is_none(),
        })
        .collect())
}

/// Every task, of one enterprise or all, by id.
pub fn tasks_of(conn: &mut DbConnection, enterprise: Option<Id>) -> Result<Vec<TaskRow>, AppError> {
    let mut query = check_tasks::table
        .select(TaskRow::as_select())
        .order(check_tasks::id)
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(check_tasks::enterprise_id.eq(enterprise));
    }
    Ok(query.load(conn)?)
}

/// Hazards found in `[start, end)` (UTC), voided ones left out, per
/// enterprise.
pub fn hazards_found(
    conn: &mut DbConnection,
    enterprise: Option<Id>,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<(Id, u64)>, AppError> {
    use super::schema::hazards;
    use crate::domain::hazard::HazardState;
    let mut query = hazards::table
        .filter(hazards::found_at.ge(start))
        .filter(hazards::found_at.lt(end))
        .filter(hazards::state.ne(HazardState::Voided))
        .group_by(hazards::enterprise_id)
        .select((hazards::enterprise_id, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(hazards::enterprise_id.eq(enterprise));
    }
    let rows: Vec<(Id, i64)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Changes whenever a check figure could: the latest task, pause, event,
/// record and register revision (ids are time-ordered UUIDv7s), and the
/// sources' latest change. Six index lookups.
pub fn check_marker(conn: &mut DbConnection) -> Result<String, AppError> {
    use diesel::dsl::max;
    let task: Option<Id> = check_tasks::table
        .select(max(check_tasks::id))
        .first(conn)?;
    let pause: Option<Id> = unit_pauses::table
        .select(max(unit_pauses::id))
        .first(conn)?;
    let event: Option<Id> = risk_events::table
        .select(max(risk_events::id))
        .first(conn)?;
    let record: Option<Id> = check_records::table
        .select(max(check_records::id))
        .first(conn)?;
    // Edits and retirements change the register in place: each leaves a
    // revision.
    let revision: Option<Id> = register_revisions::table
        .select(max(register_revisions::id))
        .first(conn)?;
    // Sources' inputs change in place: their latest change moves.
    let source: Option<NaiveDateTime> = super::schema::major_sources::table
        .select(max(super::schema::major_sources::updated_at))
        .first(conn)?;
    // A calendar loaded re-judges the days it lists.
    let calendar = super::calendar::marker(conn)?;
    let show = |id: Option<Id>| id.map(|id| id.to_string()).unwrap_or_default();
    Ok(format!(
        "{}|{}|{}|{}|{}|{}|{}",
        show(task),
        show(pause),
        show(event),
        show(record),
        show(revision),
        source.map(|at| at.to_string()).unwrap_or_default(),
        show(calendar)
    ))
}

/// What a month's evaluation reads of a hazard.
#[derive(Debug, Clone, Queryable)]
pub struct HazardFacts {
    pub enterprise_id: Id,
    pub found_at: NaiveDateTime,
    pub deadline: chrono::NaiveDate,
    pub closed_at: Option<NaiveDateTime>,
    pub level: crate::domain::hazard::HazardLevel,
}

/// The hazards (voided ones left out) found before `end` and not closed
/// before `start` (UTC), of one enterprise or all.
pub fn hazards_open_in(
    conn: &mut DbConnection,
    enterprise: Option<Id>,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<HazardFacts>, AppError> {
    use super::schema::hazards;
    use crate::domain::hazard::HazardState;
    let mut query = hazards::table
        .filter(hazards::found_at.lt(end))
        .filter(hazards::state.ne(HazardState::Voided))
        .filter(
            hazards::closed_at
                .is_null()
                .or(hazards::closed_at.ge(start)),
        )
        .select((
            hazards::enterprise_id,
            hazards::found_at,
            hazards::deadline,
            hazards::closed_at,
            hazards::level,
        ))
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(hazards::enterprise_id.eq(enterprise));
    }
    Ok(query.load(conn)?)
}

/// The names of these units.
pub fn unit_names(conn: &mut DbConnection, units: &[Id]) -> Result<Vec<(Id, String)>, AppError> {
    let mut rows = Vec::new();
    for chunk in units.chunks(500) {
        rows.extend(
            risk_units::table
                .filter(risk_units::id.eq_any(chunk))
                .select((risk_units::id, risk_units::name))
                .load::<(Id, String)>(conn)?,
        );
    }
    Ok(rows)
}

/// Gives a task up from `at` (UTC): it plans nothing from then on.
pub fn retire_task(conn: &mut DbConnection, task: Id, at: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(check_tasks::table.find(task))
        .set((
            check_tasks::active.eq(false),
            check_tasks::retired_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Re-levels an event the registry keeps (a major hazard source's).
pub fn relevel_event(
    conn: &mut DbConnection,
    event: Id,
    assessment: &str,
    score_centi: i64,
    level: RiskLevel,
) -> Result<(), AppError> {
    diesel::update(risk_events::table.find(event))
        .set((
            risk_events::assessment.eq(assessment),
            risk_events::score_centi.eq(score_centi),
            risk_events::level.eq(level),
        ))
        .execute(conn)?;
    Ok(())
}

/// The check record a hazard was raised from, if any.
pub fn record_of_hazard(
    conn: &mut DbConnection,
    hazard: Id,
) -> Result<Option<RecordRow>, AppError> {
    Ok(check_records::table
        .filter(check_records::hazard_id.eq(hazard))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?)
}

/// An edit or retirement of a register node, with the node as it was.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = register_revisions)]
pub struct RevisionRow {
    pub id: Id,
    pub enterprise_id: Id,
    /// `object`, `unit`, `event`, `measure` or `task`.
    pub node_kind: String,
    pub node_id: Id,
    /// `edited` or `retired`.
    pub action: String,
    /// The node before, JSON.
    pub before: String,
    /// The node after an edit, JSON.
    pub after: Option<String>,
    pub reason: Option<String>,
    pub revised_by: Id,
    pub revised_at: NaiveDateTime,
}

pub fn insert_revision(conn: &mut DbConnection, row: &RevisionRow) -> Result<(), AppError> {
    diesel::insert_into(register_revisions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// An enterprise's revisions, newest first, before `before` (an id) when
/// given, at most `limit`.
pub fn revisions_of(
    conn: &mut DbConnection,
    enterprise: Id,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<RevisionRow>, AppError> {
    let mut query = register_revisions::table
        .filter(register_revisions::enterprise_id.eq(enterprise))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(register_revisions::id.lt(before));
    }
    Ok(query
        .order(register_revisions::id.desc())
        .limit(limit)
        .select(RevisionRow::as_select())
        .load(conn)?)
}

pub fn update_object(conn: &mut DbConnection, row: &ObjectRow) -> Result<(), AppError> {
    diesel::update(risk_objects::table.find(row.id))
        .set((
            risk_objects::kind.eq(row.kind),
            risk_objects::name.eq(&row.name),
            risk_objects::major_source_code.eq(&row.major_source_code),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_unit(conn: &mut DbConnection, row: &UnitRow) -> Result<(), AppError> {
    diesel::update(risk_units::table.find(row.id))
        .set((
            risk_units::name.eq(&row.name),
            risk_units::department.eq(&row.department),
            risk_units::responsible_person.eq(&row.responsible_person),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_event(conn: &mut DbConnection, row: &EventRow) -> Result<(), AppError> {
    diesel::update(risk_events::table.find(row.id))
        .set((
            risk_events::name.eq(&row.name),
            risk_events::consequence.eq(&row.consequence),
            risk_events::assessment.eq(&row.assessment),
            risk_events::score_centi.eq(row.score_centi),
            risk_events::level.eq(row.level),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_measure(conn: &mut DbConnection, row: &MeasureRow) -> Result<(), AppError> {
    diesel::update(control_measures::table.find(row.id))
        .set((
            control_measures::description.eq(&row.description),
            control_measures::classification.eq(&row.classification),
            control_measures::control_mode.eq(row.control_mode),
            control_measures::check_content.eq(&row.check_content),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many active tasks a measure has.
pub fn active_tasks_of_measure(conn: &mut DbConnection, measure: Id) -> Result<i64, AppError> {
    Ok(check_tasks::table
        .filter(check_tasks::measure_id.eq(measure))
        .filter(check_tasks::retired_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Where a retirement starts: the node and what lies below it.
#[derive(Debug, Clone, Copy)]
pub enum Subtree {
    Object(Id),
    Unit(Id),
    Event(Id),
    Measure(Id),
}

/// Takes a node and everything below it (units, events, measures and
/// their tasks) out of the register from `at`; what was retired before
/// keeps its day. Counts the tasks retired.
pub fn retire_subtree(
    conn: &mut DbConnection,
    top: Subtree,
    at: NaiveDateTime,
) -> Result<usize, AppError> {
    let (mut units, mut events, mut measures) = (Vec::new(), Vec::new(), Vec::new());
    match top {
        Subtree::Object(id) => {
            diesel::update(
                risk_objects::table
                    .find(id)
                    .filter(risk_objects::retired_at.is_null()),
            )
            .set(risk_objects::retired_at.eq(Some(at)))
            .execute(conn)?;
            units = risk_units::table
                .filter(risk_units::object_id.eq(id))
                .select(risk_units::id)
                .load(conn)?;
        }
        Subtree::Unit(id) => units.push(id),
        Subtree::Event(id) => events.push(id),
        Subtree::Measure(id) => measures.push(id),
    }
    if !units.is_empty() {
        diesel::update(
            risk_units::table
                .filter(risk_units::id.eq_any(&units))
                .filter(risk_units::retired_at.is_null()),
        )
        .set(risk_units::retired_at.eq(Some(at)))
        .execute(conn)?;
        events.extend(
            risk_events::table
                .filter(risk_events::unit_id.eq_any(&units))
                .select(risk_events::id)
                .load::<Id>(conn)?,
        );
    }
    if !events.is_empty() {
        diesel::update(
            risk_events::table
                .filter(risk_events::id.eq_any(&events))
                .filter(risk_events::retired_at.is_null()),
        )
        .set(risk_events::retired_at.eq(Some(at)))
        .execute(conn)?;
        measures.extend(
            control_measures::table
                .filter(control_measures::event_id.eq_any(&events))
                .select(control_measures::id)
                .load::<Id>(conn)?,
        );
    }
    if measures.is_empty() {
        return Ok(0);
    }
    diesel::update(
        control_measures::table
            .filter(control_measures::id.eq_any(&measures))
            .filter(control_measures::retired_at.is_null()),
    )
    .set(control_measures::retired_at.eq(Some(at)))
    .execute(conn)?;
    Ok(diesel::update(
        check_tasks::table
            .filter(check_tasks::measure_id.eq_any(&measures))
            .filter(check_tasks::retired_at.is_null()),
    )
    .set((
        check_tasks::active.eq(false),
        check_tasks::retired_at.eq(Some(at)),
    ))
    .execute(conn)?)
}

/// A hazard a check record raised, with the register's node whose measure
/// failed (object, unit, event, measure) and how the hazard stands.
#[derive(Debug, Clone, Queryable)]
pub struct RaisedHazard {
    pub enterprise_id: Id,
    pub object_name: String,
    pub unit_id: Id,
    pub unit_name: String,
    pub unit_retired: Option<NaiveDateTime>,
    pub event_id: Id,
    pub event_name: String,
    pub event_level: RiskLevel,
    pub event_retired: Option<NaiveDateTime>,
    pub measure_id: Id,
    pub measure: String,
    pub measure_retired: Option<NaiveDateTime>,
    pub state: crate::domain::hazard::HazardState,
    pub level: crate::domain::hazard::HazardLevel,
    pub deadline: chrono::NaiveDate,
}

/// The hazards (voided ones left out) raised by check records made in
/// `[start, end)` (UTC), of one enterprise or all, each with its node.
pub fn raised_hazards(
    conn: &mut DbConnection,
    enterprise: Option<Id>,
    (start, end): (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<RaisedHazard>, AppError> {
    use super::schema::hazards;
    use crate::domain::hazard::HazardState;
    let mut query = check_records::table
        .inner_join(hazards::table.on(hazards::id.nullable().eq(check_records::hazard_id)))
        .inner_join(check_tasks::table.on(check_tasks::id.eq(check_records::task_id)))
        .inner_join(control_measures::table.on(control_measures::id.eq(check_tasks::measure_id)))
        .inner_join(risk_events::table.on(risk_events::id.eq(control_measures::event_id)))
        .inner_join(risk_units::table.on(risk_units::id.eq(risk_events::unit_id)))
        .inner_join(risk_objects::table.on(risk_objects::id.eq(risk_units::object_id)))
        .filter(check_records::checked_at.ge(start))
        .filter(check_records::checked_at.lt(end))
        .filter(hazards::state.ne(HazardState::Voided))
        .select((
            check_records::enterprise_id,
            risk_objects::name,
            risk_units::id,
            risk_units::name,
            risk_units::retired_at,
            risk_events::id,
            risk_events::name,
            risk_events::level,
            risk_events::retired_at,
            control_measures::id,
            control_measures::description,
            control_measures::retired_at,
            hazards::state,
            hazards::level,
            hazards::deadline,
        ))
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(check_records::enterprise_id.eq(enterprise));
    }
    Ok(query.load(conn)?)
}
