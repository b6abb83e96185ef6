//! The risk register (风险分级管控) of each enterprise: recording its
//! objects, units, events and control measures, each within what the
//! caller may see, and reading an enterprise's register back as a tree
//! with every unit's level (the highest of its events') and the counts by
//! level.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::app::analytics::{Cell, Table};
use crate::db::risk::{
    self as store, EventRow, MeasureRow, ObjectRow, RecordRow, Register, TaskRow, UnitRow,
};
use crate::db::{enterprises, write_transaction, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::risk::{
    Assessment, Bands, ControlMode, EventFields, MeasureFields, NewEvent, NewMeasure, NewObject,
    NewUnit, ObjectFields, ObjectKind, RiskLevel, UnitFields,
};
use crate::error::AppError;
use crate::messages::Rule;

/// A reference in a request body to a record the caller cannot see, or
/// that does not exist: the field is named.
fn unknown(field: &str, rule: Rule) -> AppError {
    AppError::invalid(field, rule)
}

pub fn add_object(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewObject,
    now: NaiveDateTime,
) -> Result<ObjectRow, AppError> {
    let fields = new.check()?;
    write_transaction(conn, |conn| {
        if !caller.can_see_enterprise(new.enterprise_id)
            || enterprises::find(conn, new.enterprise_id.into())?.is_none()
        {
            return Err(unknown("enterprise_id", Rule::UnknownEnterprise));
        }
        let row = object_row(new.enterprise_id.into(), new.kind, fields, caller, now);
        store::insert_object(conn, &row)?;
        Ok(row)
    })
}

pub fn add_unit(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewUnit,
    now: NaiveDateTime,
) -> Result<UnitRow, AppError> {
    let fields = new.check()?;
    write_transaction(conn, |conn| {
        let object = store::find_object(conn, new.object_id.into())?
            .filter(|o| caller.can_see_enterprise(o.enterprise_id.uuid()) && o.retired_at.is_none())
            .ok_or_else(|| unknown("object_id", Rule::UnknownRiskObject))?;
        let row = unit_row(&object, fields, caller, now);
        store::insert_unit(conn, &row)?;
        Ok(row)
    })
}

pub fn add_event(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewEvent,
    bands: &Bands,
    now: NaiveDateTime,
) -> Result<EventRow, AppError> {
    let fields = new.check(bands)?;
    write_transaction(conn, |conn| {
        let unit = visible_unit(conn, caller, new.unit_id)
            .map_err(|_| unknown("unit_id", Rule::UnknownRiskUnit))?;
        let row = event_row(&unit, fields, caller, now)?;
        store::insert_event(conn, &row)?;
        Ok(row)
    })
}

pub fn add_measure(
    conn: &mut DbConnection,
    caller: &Caller,
    new: &NewMeasure,
    now: NaiveDateTime,
) -> Result<MeasureRow, AppError> {
    let fields = new.check()?;
    write_transaction(conn, |conn| {
        let event = store::find_event(conn, new.event_id.into())?
            .filter(|e| caller.can_see_enterprise(e.enterprise_id.uuid()) && e.retired_at.is_none())
            .ok_or_else(|| unknown("event_id", Rule::UnknownRiskEvent))?;
        let row = measure_row(&event, fields, caller, now);
        store::insert_measure(conn, &row)?;
        Ok(row)
    })
}

/// A new object of `enterprise`'s register.
pub fn object_row(
    enterprise: Id,
    kind: ObjectKind,
    fields: ObjectFields,
    caller: &Caller,
    now: NaiveDateTime,
) -> ObjectRow {
    ObjectRow {
        id: Uuid::now_v7().into(),
        enterprise_id: enterprise,
        kind,
        name: fields.name,
        major_source_code: fields.major_source_code,
        created_by: caller.user_id.into(),
        created_at: now,
        retired_at: None,
    }
}

/// A new unit within `object`.
pub fn unit_row(
    object: &ObjectRow,
    fields: UnitFields,
    caller: &Caller,
    now: NaiveDateTime,
) -> UnitRow {
    UnitRow {
        id: Uuid::now_v7().into(),
        object_id: object.id,
        enterprise_id: object.enterprise_id,
        name: fields.name,
        department: fields.department,
        responsible_person: fields.responsible_person,
        created_by: caller.user_id.into(),
        created_at: now,
        retired_at: None,
    }
}

/// A new event of `unit`, its level worked out.
pub fn event_row(
    unit: &UnitRow,
    fields: EventFields,
    caller: &Caller,
    now: NaiveDateTime,
) -> Result<EventRow, AppError> {
    Ok(EventRow {
        id: Uuid::now_v7().into(),
        unit_id: unit.id,
        enterprise_id: unit.enterprise_id,
        name: fields.name,
        consequence: fields.consequence,
        assessment: serde_json::to_string(&fields.assessment)
            .map_err(|e| AppError::Internal(e.into()))?,
        score_centi: fields.score_centi,
        level: fields.level,
        created_by: caller.user_id.into(),
        created_at: now,
        retired_at: None,
    })
}

/// A new measure against `event`.
pub fn measure_row(
    event: &EventRow,
    fields: MeasureFields,
    caller: &Caller,
    now: NaiveDateTime,
) -> MeasureRow {
    MeasureRow {
        id: Uuid::now_v7().into(),
        event_id: event.id,
        enterprise_id: event.enterprise_id,
        description: fields.description,
        classification: fields.classification.to_owned(),
        control_mode: fields.control_mode,
        check_content: fields.check_content,
        created_by: caller.user_id.into(),
        created_at: now,
        retired_at: None,
    }
}

/// A unit of the register the caller may see; any other (or a retired
/// one) is not found.
pub fn visible_unit(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<UnitRow, AppError> {
    store::find_unit(conn, id.into())?
        .filter(|u| caller.can_see_enterprise(u.enterprise_id.uuid()) && u.retired_at.is_none())
        .ok_or(AppError::NotFound("risk analysis unit"))
}

/// An enterprise's register as a tree, with levels and counts.
pub struct RegisterTree {
    pub enterprise_id: Uuid,
    pub objects: Vec<ObjectNode>,
    /// Units by level, highest first (units without events are not counted).
    pub units_by_level: [(RiskLevel, u64); 4],
    pub events_by_level: [(RiskLevel, u64); 4],
    pub measures: u64,
    pub tasks: u64,
}

pub struct ObjectNode {
    pub row: ObjectRow,
    pub units: Vec<UnitNode>,
}

pub struct UnitNode {
    pub row: UnitRow,
    /// The highest level of its events; none without events.
    pub level: Option<RiskLevel>,
    pub events: Vec<EventNode>,
}

pub struct EventNode {
    pub row: EventRow,
    pub measures: Vec<MeasureNode>,
}

pub struct MeasureNode {
    pub row: MeasureRow,
    pub tasks: Vec<TaskRow>,
}

fn counted(levels: impl Iterator<Item = RiskLevel>) -> [(RiskLevel, u64); 4] {
    let mut counts = RiskLevel::ALL.map(|level| (level, 0u64));
    for level in levels {
        counts[level.rank()].1 += 1;
    }
    counts
}

/// The register of `enterprise`, which the caller must be able to see.
pub fn register(
    conn: &mut DbConnection,
    caller: &Caller,
    enterprise: Uuid,
) -> Result<RegisterTree, AppError> {
    if !caller.can_see_enterprise(enterprise)
        || enterprises::find(conn, enterprise.into())?.is_none()
    {
        return Err(AppError::NotFound("enterprise"));
    }
    let Register {
        objects,
        units,
        events,
        measures,
        tasks,
    } = store::register_of(conn, enterprise.into())?;
    let task_count = tasks.len() as u64;
    let measure_count = measures.len() as u64;
    let events_by_level = counted(events.iter().map(|e| e.level));
    let mut tasks_of: HashMap<Id, Vec<TaskRow>> = HashMap::new();
    for task in tasks {
        tasks_of.entry(task.measure_id).or_default().push(task);
    }
    let mut measures_of: HashMap<Id, Vec<MeasureNode>> = HashMap::new();
    for measure in measures {
        let tasks = tasks_of.remove(&measure.id).unwrap_or_default();
        measures_of
            .entry(measure.event_id)
            .or_default()
            .push(MeasureNode {
                row: measure,
                tasks,
            });
    }
    let mut events_of: HashMap<Id, Vec<EventNode>> = HashMap::new();
    for event in events {
        let measures = measures_of.remove(&event.id).unwrap_or_default();
        events_of.entry(event.unit_id).or_default().push(EventNode {
            row: event,
            measures,
        });
    }
    let mut units_of: HashMap<Id, Vec<UnitNode>> = HashMap::new();
    for unit in units {
        let events = events_of.remove(&unit.id).unwrap_or_default();
        let level = events.iter().map(|e| e.row.level).reduce(RiskLevel::max);
        units_of.entry(unit.object_id).or_default().push(UnitNode {
            row: unit,
            level,
            events,
        });
    }
    let units_by_level = counted(units_of.values().flatten().filter_map(|unit| unit.level));
    let objects = objects
        .into_iter()
        .map(|object| {
            let units = units_of.remove(&object.id).unwrap_or_default();
            ObjectNode { row: object, units }
        })
        .collect();
    Ok(RegisterTree {
        enterprise_id: enterprise,
        objects,
        units_by_level,
        events_by_level,
        measures: measure_count,
        tasks: task_count,
    })
}

/// The register's columns as a sheet writes them (安全风险分级管控清单),
/// one row per control measure; the register's import reads them back.
pub const REGISTER_COLUMNS: [&str; 18] = [
    "风险分析对象",
    "对象类型",
    "重大危险源编号",
    "风险分析单元",
    "责任部门",
    "责任人",
    "单元风险等级",
    "安全风险事件",
    "可能后果",
    "评价方法",
    "评价取值",
    "风险值",
    "事件风险等级",
    "管控措施",
    "管控措施分类",
    "管控方式",
    "排查内容",
    "排查任务数",
];

impl RegisterTree {
    /// The register as a sheet, one row per control measure (an object,
    /// unit or event without any below it has a row of its own), in the
    /// order and words enterprises keep their registers in.
    pub fn table(&self) -> Table {
        let columns = REGISTER_COLUMNS;
        let text = |t: &str| Cell::Text(t.to_owned());
        let optional = |t: &Option<String>| t.as_deref().map_or(Cell::Empty, text);
        let mut rows = Vec::new();
        for object in &self.objects {
            let object_cells = vec![
                text(&object.row.name),
                text(object.row.kind.label_zh()),
                optional(&object.row.major_source_code),
            ];
            if object.units.is_empty() {
                rows.push(padded(object_cells.clone(), columns.len()));
            }
            for unit in &object.units {
                let mut unit_cells = object_cells.clone();
                unit_cells.extend([
                    text(&unit.row.name),
                    optional(&unit.row.department),
                    optional(&unit.row.responsible_person),
                    unit.level.map_or(Cell::Empty, |l| text(l.label_zh())),
                ]);
                if unit.events.is_empty() {
                    rows.push(padded(unit_cells.clone(), columns.len()));
                }
                for event in &unit.events {
                    let (method, inputs) = assessment_cells(&event.row.assessment);
                    let mut event_cells = unit_cells.clone();
                    event_cells.extend([
                        text(&event.row.name),
                        optional(&event.row.consequence),
                        text(method),
                        Cell::Text(inputs),
                        Cell::Number(event.row.score_centi as f64 / 100.0),
                        text(event.row.level.label_zh()),
                    ]);
                    if event.measures.is_empty() {
                        rows.push(padded(event_cells.clone(), columns.len()));
                    }
                    for measure in &event.measures {
                        let class = crate::domain::risk::measure_class(&measure.row.classification)
                            .map(|c| format!("{}／{}", c.first, c.second))
                            .unwrap_or_default();
                        let mut cells = event_cells.clone();
                        cells.extend([
                            text(&measure.row.description),
                            Cell::Text(class),
                            text(match measure.row.control_mode {
                                ControlMode::Monitoring => "自动化监控",
                                ControlMode::Check => "隐患排查",
                            }),
                            optional(&measure.row.check_content),
                            Cell::Number(measure.tasks.len() as f64),
                        ]);
                        rows.push(cells);
                    }
                }
            }
        }
        Table {
            title: "安全风险分级管控清单",
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }
}

/// A row filled with empty cells up to `width`.
fn padded(mut cells: Vec<Cell>, width: usize) -> Vec<Cell> {
    cells.resize(width, Cell::Empty);
    cells
}

/// An event's method and inputs as a register shows them.
fn assessment_cells(stored: &str) -> (&'static str, String) {
    match serde_json::from_str::<Assessment>(stored) {
        Ok(Assessment::Ls { l, s }) => ("风险矩阵法（LS）", format!("L={l}，S={s}")),
        Ok(Assessment::Lec { l, e, c }) => (
            "作业条件危险性分析法（LEC）",
            format!("L={l}，E={e}，C={c}"),
        ),
        Ok(Assessment::MajorSource { grade, r_centi }) => (
            "重大危险源直接判定",
            format!(
                "{}，R={}.{:02}",
                crate::domain::major_source::grade_label(grade),
                r_centi / 100,
                r_centi % 100
            ),
        ),
        Err(_) => ("", String::new()),
    }
}

/// Where in the register a hazard raised by a check comes from: the
/// record, its task, measure, event, unit and object, and the major
/// hazard source when the check was a 包保 duty.
pub struct CheckOrigin {
    pub record: RecordRow,
    pub task: TaskRow,
    pub measure: MeasureRow,
    pub event: EventRow,
    pub unit: UnitRow,
    pub object: ObjectRow,
    pub source: Option<crate::db::major_sources::SourceRow>,
}

/// The origin of a hazard the caller may see; `None` when it was not
/// raised by a check.
pub fn check_origin(
    conn: &mut DbConnection,
    caller: &Caller,
    hazard: Uuid,
) -> Result<Option<CheckOrigin>, AppError> {
    let hazard = crate::app::hazards::visible_hazard(conn, caller, hazard)?;
    let Some(record) = store::record_of_hazard(conn, hazard.id)? else {
        return Ok(None);
    };
    let missing =
        |what: &str| AppError::Internal(anyhow::anyhow!("record {} has no {what}", record.id));
    let task = store::find_task(conn, record.task_id)?.ok_or_else(|| missing("task"))?;
    let measure = store::find_measure(conn, task.measure_id)?.ok_or_else(|| missing("measure"))?;
    let event = store::find_event(conn, measure.event_id)?.ok_or_else(|| missing("event"))?;
    let unit = store::find_unit(conn, event.unit_id)?.ok_or_else(|| missing("unit"))?;
    let object = store::find_object(conn, unit.object_id)?.ok_or_else(|| missing("object"))?;
    let source = crate::db::major_sources::source_of_unit(conn, unit.id)?;
    Ok(Some(CheckOrigin {
        record,
        task,
        measure,
        event,
        unit,
        object,
        source,
    }))
}
