//! Editing and retiring the risk register: an edit of an object, unit,
//! event or measure checked by the rules a new one meets (an event's level
//! worked out again), a node retired with everything below it and their
//! check tasks, and a task retired alone. Each change is one transaction
//! that keeps the node as it was in `register_revisions`, so nothing the
//! register said is lost; records and hazards made against a retired node
//! stay as they are. What the major hazard source registry keeps (a
//! source's object and all below it, its 包保 duty tasks) is changed only
//! through the registry (`409`).

use chrono::NaiveDateTime;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::risk::{
    self as store, EventRow, MeasureRow, ObjectRow, RevisionRow, Subtree, TaskRow, UnitRow,
};
use crate::db::{write_transaction, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::check_task::TaskKind;
use crate::domain::risk::edit::{
    or_current, or_current_optional, EventEdit, MeasureEdit, ObjectEdit, Retirement, UnitEdit,
};
use crate::domain::risk::{
    Assessment, Bands, ControlMode, NewEvent, NewMeasure, NewObject, NewUnit,
};
use crate::error::{AppError, FieldError};
use crate::messages::{Detail, Rule};

/// What kind of node a revision is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Object,
    Unit,
    Event,
    Measure,
    Task,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Object => "object",
            NodeKind::Unit => "unit",
            NodeKind::Event => "event",
            NodeKind::Measure => "measure",
            NodeKind::Task => "task",
        }
    }
}

/// A node that leaves the register, by kind and id.
#[derive(Debug, Clone, Copy)]
pub struct NodeRef {
    pub kind: NodeKind,
    pub id: Uuid,
}

/// What a retirement did.
pub struct Retired {
    pub node: NodeRef,
    pub enterprise_id: Id,
    pub retired_at: NaiveDateTime,
    /// Check tasks retired with it.
    pub tasks_retired: usize,
}

fn object_json(row: &ObjectRow) -> Value {
    json!({"kind": row.kind, "name": row.name, "major_source_code": row.major_source_code})
}

fn unit_json(row: &UnitRow) -> Value {
    json!({"name": row.name, "department": row.department,
           "responsible_person": row.responsible_person})
}

fn event_json(row: &EventRow) -> Value {
    json!({"name": row.name, "consequence": row.consequence,
           "assessment": serde_json::from_str::<Value>(&row.assessment).unwrap_or(Value::Null),
           "score_centi": row.score_centi, "level": row.level})
}

fn measure_json(row: &MeasureRow) -> Value {
    json!({"description": row.description, "classification": row.classification,
           "control_mode": row.control_mode, "check_content": row.check_content})
}

fn task_json(row: &TaskRow) -> Value {
    json!({"name": row.name, "kind": row.kind, "measure_id": row.measure_id,
           "schedule": serde_json::from_str::<Value>(&row.schedule).unwrap_or(Value::Null)})
}

/// Keeps a revision of a node of `enterprise`.
#[allow(clippy::too_many_arguments)]
fn revise(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise: Id,
    kind: NodeKind,
    node: Id,
    before: Value,
    after: Option<Value>,
    reason: Option<String>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    store::insert_revision(
        conn,
        &RevisionRow {
            id: Uuid::now_v7().into(),
            enterprise_id: enterprise,
            node_kind: kind.as_str().into(),
            node_id: node,
            action: if after.is_some() { "edited" } else { "retired" }.into(),
            before: before.to_string(),
            after: after.map(|a| a.to_string()),
            reason,
            revised_by: caller.user_id.into(),
            revised_at: now,
        },
    )
}

/// The live node the caller may see; a retired or unseen one is not found.
fn live<T>(
    row: Option<T>,
    caller: &Caller,
    enterprise: impl Fn(&T) -> Id,
    retired: impl Fn(&T) -> bool,
    what: &'static str,
) -> Result<T, AppError> {
    row.filter(|r| caller.can_see_enterprise(enterprise(r).uuid()) && !retired(r))
        .ok_or(AppError::NotFound(what))
}

fn live_object(conn: &mut DbConnection, caller: &Caller, id: Id) -> Result<ObjectRow, AppError> {
    live(
        store::find_object(conn, id)?,
        caller,
        |r| r.enterprise_id,
        |r| r.retired_at.is_some(),
        "risk analysis object",
    )
}

fn live_unit(conn: &mut DbConnection, caller: &Caller, id: Id) -> Result<UnitRow, AppError> {
    live(
        store::find_unit(conn, id)?,
        caller,
        |r| r.enterprise_id,
        |r| r.retired_at.is_some(),
        "risk analysis unit",
    )
}

fn live_event(conn: &mut DbConnection, caller: &Caller, id: Id) -> Result<EventRow, AppError> {
    live(
        store::find_event(conn, id)?,
        caller,
        |r| r.enterprise_id,
        |r| r.retired_at.is_some(),
        "safety risk event",
    )
}

fn live_measure(conn: &mut DbConnection, caller: &Caller, id: Id) -> Result<MeasureRow, AppError> {
    live(
        store::find_measure(conn, id)?,
        caller,
        |r| r.enterprise_id,
        |r| r.retired_at.is_some(),
        "control measure",
    )
}

/// Refuses a change to what a major hazard source's registry keeps: the
/// source's object and everything below it.
fn not_the_registrys(conn: &mut DbConnection, object: Id) -> Result<(), AppError> {
    match crate::db::major_sources::source_of_object(conn, object)? {
        Some(_) => Err(AppError::conflict(Detail::RegistryKeeps)),
        None => Ok(()),
    }
}

fn object_of_unit(conn: &mut DbConnection, unit: Id) -> Result<Id, AppError> {
    store::find_unit(conn, unit)?
        .map(|u| u.object_id)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unit {unit} is gone")))
}

fn object_of_event(conn: &mut DbConnection, event: &EventRow) -> Result<Id, AppError> {
    object_of_unit(conn, event.unit_id)
}

fn object_of_measure(conn: &mut DbConnection, measure: &MeasureRow) -> Result<Id, AppError> {
    let event = store::find_event(conn, measure.event_id)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("event of {} is gone", measure.id)))?;
    object_of_event(conn, &event)
}

pub fn edit_object(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    edit: &ObjectEdit,
    now: NaiveDateTime,
) -> Result<ObjectRow, AppError> {
    write_transaction(conn, |conn| {
        let row = live_object(conn, caller, id.into())?;
        not_the_registrys(conn, row.id)?;
        let fields = NewObject {
            enterprise_id: row.enterprise_id.uuid(),
            kind: edit.kind.unwrap_or(row.kind),
            name: or_current(&edit.name, &row.name),
            major_source_code: or_current_optional(&edit.major_source_code, &row.major_source_code),
        };
        let checked = fields.check()?;
        let after = ObjectRow {
            kind: fields.kind,
            name: checked.name,
            major_source_code: checked.major_source_code,
            ..row.clone()
        };
        if object_json(&after) != object_json(&row) {
            store::update_object(conn, &after)?;
            let (before, changed) = (object_json(&row), object_json(&after));
            revise(
                conn,
                caller,
                row.enterprise_id,
                NodeKind::Object,
                row.id,
                before,
                Some(changed),
                None,
                now,
            )?;
        }
        Ok(after)
    })
}

pub fn edit_unit(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    edit: &UnitEdit,
    now: NaiveDateTime,
) -> Result<UnitRow, AppError> {
    write_transaction(conn, |conn| {
        let row = live_unit(conn, caller, id.into())?;
        not_the_registrys(conn, row.object_id)?;
        let checked = NewUnit {
            object_id: row.object_id.uuid(),
            name: or_current(&edit.name, &row.name),
            department: or_current_optional(&edit.department, &row.department),
            responsible_person: or_current_optional(
                &edit.responsible_person,
                &row.responsible_person,
            ),
        }
        .check()?;
        let after = UnitRow {
            name: checked.name,
            department: checked.department,
            responsible_person: checked.responsible_person,
            ..row.clone()
        };
        if unit_json(&after) != unit_json(&row) {
            store::update_unit(conn, &after)?;
            let (before, changed) = (unit_json(&row), unit_json(&after));
            revise(
                conn,
                caller,
                row.enterprise_id,
                NodeKind::Unit,
                row.id,
                before,
                Some(changed),
                None,
                now,
            )?;
        }
        Ok(after)
    })
}

pub fn edit_event(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    edit: &EventEdit,
    bands: &Bands,
    now: NaiveDateTime,
) -> Result<EventRow, AppError> {
    write_transaction(conn, |conn| {
        let row = live_event(conn, caller, id.into())?;
        let object = object_of_event(conn, &row)?;
        not_the_registrys(conn, object)?;
        let current: Assessment =
            serde_json::from_str(&row.assessment).map_err(|e| AppError::Internal(e.into()))?;
        let checked = NewEvent {
            unit_id: row.unit_id.uuid(),
            name: or_current(&edit.name, &row.name),
            consequence: or_current_optional(&edit.consequence, &row.consequence),
            assessment: edit.assessment.unwrap_or(current),
        }
        .check(bands)?;
        let after = EventRow {
            name: checked.name,
            consequence: checked.consequence,
            assessment: serde_json::to_string(&checked.assessment)
                .map_err(|e| AppError::Internal(e.into()))?,
            score_centi: checked.score_centi,
            level: checked.level,
            ..row.clone()
        };
        if event_json(&after) != event_json(&row) {
            store::update_event(conn, &after)?;
            let (before, changed) = (event_json(&row), event_json(&after));
            revise(
                conn,
                caller,
                row.enterprise_id,
                NodeKind::Event,
                row.id,
                before,
                Some(changed),
                None,
                now,
            )?;
        }
        Ok(after)
    })
}

pub fn edit_measure(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    edit: &MeasureEdit,
    now: NaiveDateTime,
) -> Result<MeasureRow, AppError> {
    write_transaction(conn, |conn| {
        let row = live_measure(conn, caller, id.into())?;
        let object = object_of_measure(conn, &row)?;
        not_the_registrys(conn, object)?;
        let mode = edit.control_mode.unwrap_or(row.control_mode);
        if mode == ControlMode::Monitoring
            && row.control_mode == ControlMode::Check
            && store::active_tasks_of_measure(conn, row.id)? > 0
        {
            return Err(AppError::conflict(Detail::MeasureChecked));
        }
        let checked = NewMeasure {
            event_id: row.event_id.uuid(),
            description: or_current(&edit.description, &row.description),
            classification: or_current(&edit.classification, &row.classification),
            control_mode: mode,
            check_content: or_current_optional(&edit.check_content, &row.check_content),
        }
        .check()?;
        let after = MeasureRow {
            description: checked.description,
            classification: checked.classification.to_owned(),
            control_mode: checked.control_mode,
            check_content: checked.check_content,
            ..row.clone()
        };
        if measure_json(&after) != measure_json(&row) {
            store::update_measure(conn, &after)?;
            let (before, changed) = (measure_json(&row), measure_json(&after));
            revise(
                conn,
                caller,
                row.enterprise_id,
                NodeKind::Measure,
                row.id,
                before,
                Some(changed),
                None,
                now,
            )?;
        }
        Ok(after)
    })
}

/// Retires a node with everything below it (or a task alone), keeping why.
pub fn retire(
    conn: &mut DbConnection,
    caller: &Caller,
    node: NodeRef,
    retirement: &Retirement,
    now: NaiveDateTime,
) -> Result<Retired, AppError> {
    let reason = retirement.check()?;
    write_transaction(conn, |conn| {
        let id: Id = node.id.into();
        let (enterprise, before, tasks_retired) = match node.kind {
            NodeKind::Object => {
                let row = live_object(conn, caller, id)?;
                not_the_registrys(conn, row.id)?;
                let tasks = store::retire_subtree(conn, Subtree::Object(row.id), now)?;
                (row.enterprise_id, object_json(&row), tasks)
            }
            NodeKind::Unit => {
                let row = live_unit(conn, caller, id)?;
                not_the_registrys(conn, row.object_id)?;
                let tasks = store::retire_subtree(conn, Subtree::Unit(row.id), now)?;
                (row.enterprise_id, unit_json(&row), tasks)
            }
            NodeKind::Event => {
                let row = live_event(conn, caller, id)?;
                let object = object_of_event(conn, &row)?;
                not_the_registrys(conn, object)?;
                let tasks = store::retire_subtree(conn, Subtree::Event(row.id), now)?;
                (row.enterprise_id, event_json(&row), tasks)
            }
            NodeKind::Measure => {
                let row = live_measure(conn, caller, id)?;
                let object = object_of_measure(conn, &row)?;
                not_the_registrys(conn, object)?;
                let tasks = store::retire_subtree(conn, Subtree::Measure(row.id), now)?;
                (row.enterprise_id, measure_json(&row), tasks)
            }
            NodeKind::Task => {
                let row = live(
                    store::find_task(conn, id)?,
                    caller,
                    |r| r.enterprise_id,
                    |r| r.retired_at.is_some(),
                    "check task",
                )?;
                if row.kind != TaskKind::PostCheck {
                    return Err(AppError::conflict(Detail::RegistryTask));
                }
                store::retire_task(conn, row.id, now)?;
                (row.enterprise_id, task_json(&row), 1)
            }
        };
        revise(
            conn,
            caller,
            enterprise,
            node.kind,
            id,
            before,
            None,
            Some(reason),
            now,
        )?;
        Ok(Retired {
            node,
            enterprise_id: enterprise,
            retired_at: now,
            tasks_retired,
        })
    })
}

/// The most revisions one page lists.
pub const MAX_REVISIONS_PAGE: i64 = 200;

/// An enterprise's revisions, newest first: a page of at most `limit`
/// before the revision `before`.
pub fn revisions(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<RevisionRow>, AppError> {
    if !(1..=MAX_REVISIONS_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            FieldError::new(Rule::OutOfRange)
                .with("min", 1)
                .with("max", MAX_REVISIONS_PAGE),
        ));
    }
    if !caller.can_see_enterprise(enterprise)
        || crate::db::enterprises::find(conn, enterprise.into())?.is_none()
    {
        return Err(AppError::NotFound("enterprise"));
    }
    store::revisions_of(conn, enterprise.into(), before.map(Id::from), limit)
}
