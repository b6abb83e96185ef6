//! What the province's exchange documents read: the changes after a
//! cursor that touch a table, and the rows they touch — the node itself or,
//! for a retirement, everything below it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::hazards::Hazard;
use super::risk::{EventRow, MeasureRow, ObjectRow, PauseRow, RecordRow, TaskRow, UnitRow};
use super::schema::{
    changes, check_records, check_tasks, control_measures, enterprises, hazard_events, hazards,
    register_revisions, risk_events, risk_objects, risk_units, unit_pauses,
};
use super::DbConnection;
use crate::domain::exchange::ExchangeTable;
use crate::error::AppError;

/// Which changes touch a table: their kind, and for the register the
/// actions (`{node}_{added|edited|retired}`, `unit_paused`). A
/// retirement takes everything below its node out with it.
fn touching(table: ExchangeTable) -> (&'static str, &'static [&'static str]) {
    match table {
        ExchangeTable::RiskUnit => (
            "register",
            &[
                "unit_added",
                "unit_edited",
                "unit_retired",
                "object_edited",
                "object_retired",
            ],
        ),
        ExchangeTable::RiskEvent => (
            "register",
            &[
                "event_added",
                "event_edited",
                "event_retired",
                "unit_retired",
                "object_retired",
            ],
        ),
        ExchangeTable::ControlMeasure => (
            "register",
            &[
                "measure_added",
                "measure_edited",
                "measure_retired",
                "event_retired",
                "unit_retired",
                "object_retired",
            ],
        ),
        ExchangeTable::CheckTask => (
            "register",
            &[
                "task_added",
                "task_edited",
                "task_retired",
                "measure_edited",
                "measure_retired",
                "event_retired",
                "unit_retired",
                "object_retired",
            ],
        ),
        ExchangeTable::StopRecord => ("register", &["unit_paused"]),
        ExchangeTable::CheckRecord => ("check_record", &[]),
        ExchangeTable::Hazard => ("hazard_event", &[]),
    }
}

/// Up to `limit` changes after `after` that touch `table` (of one
/// enterprise when given): each change's number and the node (or record,
/// or hazard) it names, oldest first.
pub fn touched(
    conn: &mut DbConnection,
    table: ExchangeTable,
    (after, limit): (i64, i64),
    enterprise: Option<Id>,
) -> Result<Vec<(i64, Id)>, AppError> {
    let (kind, actions) = touching(table);
    let mut query = changes::table
        .left_join(register_revisions::table.on(register_revisions::id.eq(changes::ref_id)))
        .filter(changes::seq.gt(after))
        .filter(changes::kind.eq(kind))
        .select((
            changes::seq,
            changes::ref_id,
            changes::hazard_id,
            register_revisions::node_id.nullable(),
        ))
        .order(changes::seq.asc())
        .limit(limit)
        .into_boxed();
    if !actions.is_empty() {
        query = query.filter(changes::action.eq_any(actions));
    }
    if let Some(enterprise) = enterprise {
        query = query.filter(changes::enterprise_id.eq(enterprise));
    }
    let rows: Vec<(i64, Id, Option<Id>, Option<Id>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(seq, reference, hazard, node)| {
            let named = match table {
                ExchangeTable::Hazard => hazard,
                _ => node,
            };
            (seq, named.unwrap_or(reference))
        })
        .collect())
}

/// The register's nodes named, with everything below them: units,
/// events and measures.
pub struct Below {
    pub units: Vec<UnitRow>,
    pub events: Vec<EventRow>,
    pub measures: Vec<MeasureRow>,
}

/// The units, events and measures that are `nodes` or lie below one of
/// them, as far down as `depth` (1 units, 2 events, 3 measures).
pub fn below(conn: &mut DbConnection, nodes: &[Id], depth: u8) -> Result<Below, AppError> {
    let units: Vec<UnitRow> = risk_units::table
        .filter(
            risk_units::id
                .eq_any(nodes)
                .or(risk_units::object_id.eq_any(nodes)),
        )
        .select(UnitRow::as_select())
        .load(conn)?;
    let mut events = Vec::new();
    let mut measures = Vec::new();
    if depth >= 2 {
        let unit_ids: Vec<Id> = units.iter().map(|u| u.id).collect();
        events = risk_events::table
            .filter(
                risk_events::id
                    .eq_any(nodes)
                    .or(risk_events::unit_id.eq_any(&unit_ids)),
            )
            .select(EventRow::as_select())
            .load(conn)?;
    }
    if depth >= 3 {
        let event_ids: Vec<Id> = events.iter().map(|e| e.id).collect();
        measures = control_measures::table
            .filter(
                control_measures::id
                    .eq_any(nodes)
                    .or(control_measures::event_id.eq_any(&event_ids)),
            )
            .select(MeasureRow::as_select())
            .load(conn)?;
    }
    Ok(Below {
        units,
        events,
        measures,
    })
}

/// The tasks that are `nodes` or check one of `measures`.
pub fn tasks(
    conn: &mut DbConnection,
    nodes: &[Id],
    measures: &[Id],
) -> Result<Vec<TaskRow>, AppError> {
    Ok(check_tasks::table
        .filter(
            check_tasks::id
                .eq_any(nodes)
                .or(check_tasks::measure_id.eq_any(measures)),
        )
        .select(TaskRow::as_select())
        .load(conn)?)
}

pub fn tasks_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<TaskRow>, AppError> {
    tasks(conn, ids, &[])
}

pub fn units_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<UnitRow>, AppError> {
    Ok(risk_units::table
        .filter(risk_units::id.eq_any(ids))
        .select(UnitRow::as_select())
        .load(conn)?)
}

pub fn measures_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<MeasureRow>, AppError> {
    Ok(control_measures::table
        .filter(control_measures::id.eq_any(ids))
        .select(MeasureRow::as_select())
        .load(conn)?)
}

pub fn objects_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<ObjectRow>, AppError> {
    Ok(risk_objects::table
        .filter(risk_objects::id.eq_any(ids))
        .select(ObjectRow::as_select())
        .load(conn)?)
}

/// The live events of these units, for their levels.
pub fn live_events_of_units(
    conn: &mut DbConnection,
    units: &[Id],
) -> Result<Vec<EventRow>, AppError> {
    Ok(risk_events::table
        .filter(risk_events::unit_id.eq_any(units))
        .filter(risk_events::retired_at.is_null())
        .select(EventRow::as_select())
        .load(conn)?)
}

pub fn pauses_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<PauseRow>, AppError> {
    Ok(unit_pauses::table
        .filter(unit_pauses::id.eq_any(ids))
        .select(PauseRow::as_select())
        .load(conn)?)
}

pub fn records_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<RecordRow>, AppError> {
    Ok(check_records::table
        .filter(check_records::id.eq_any(ids))
        .select(RecordRow::as_select())
        .load(conn)?)
}

/// The records that raised these hazards.
pub fn records_of_hazards(
    conn: &mut DbConnection,
    hazard_ids: &[Id],
) -> Result<Vec<RecordRow>, AppError> {
    Ok(check_records::table
        .filter(check_records::hazard_id.eq_any(hazard_ids))
        .select(RecordRow::as_select())
        .load(conn)?)
}

pub fn hazards_by_id(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<Hazard>, AppError> {
    Ok(hazards::table
        .filter(hazards::id.eq_any(ids))
        .select(Hazard::as_select())
        .load(conn)?)
}

/// Every step of these hazards, in order: the hazard, the action, who
/// and when.
pub fn steps(
    conn: &mut DbConnection,
    hazard_ids: &[Id],
) -> Result<Vec<(Id, String, Id, NaiveDateTime)>, AppError> {
    Ok(hazard_events::table
        .filter(hazard_events::hazard_id.eq_any(hazard_ids))
        .order((hazard_events::hazard_id.asc(), hazard_events::seq.asc()))
        .select((
            hazard_events::hazard_id,
            hazard_events::action,
            hazard_events::actor_id,
            hazard_events::occurred_at,
        ))
        .load(conn)?)
}

/// The last revision of each of these nodes: who and when.
pub fn last_revisions(
    conn: &mut DbConnection,
    nodes: &[Id],
) -> Result<Vec<(Id, Id, NaiveDateTime)>, AppError> {
    Ok(register_revisions::table
        .filter(register_revisions::node_id.eq_any(nodes))
        .order(register_revisions::revised_at.asc())
        .select((
            register_revisions::node_id,
            register_revisions::revised_by,
            register_revisions::revised_at,
        ))
        .load(conn)?)
}

/// These enterprises' unified social credit codes.
pub fn credit_codes(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<(Id, String)>, AppError> {
    Ok(enterprises::table
        .filter(enterprises::id.eq_any(ids))
        .select((enterprises::id, enterprises::credit_code))
        .load(conn)?)
}
