//! The exchange documents for the province's dual prevention platform:
//! the register, tasks, records, stops and hazards in the interface's
//! table and field names and codes (`domain::exchange`), one table per
//! document, read page by page along the change feed so that a system
//! keeping the last cursor it was given sends each change once — and a
//! retirement marks everything below the node `deleted`.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, NaiveTime, TimeZone};
use serde::Serialize;
use uuid::Uuid;

use crate::db::exchange as store;
use crate::db::hazards::Hazard;
use crate::db::risk::{RecordRow, TaskRow};
use crate::db::{users, DbConnection, Id};
use crate::domain::exchange::{self as code, ExchangeTable};
use crate::domain::risk::RiskLevel;
use crate::domain::schedule::ScheduleSpec;
use crate::error::AppError;
use crate::settings::ExchangeSettings;

/// What every row of the interface carries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Common {
    pub id: Uuid,
    /// The enterprise's code: the organisation code inside its unified
    /// social credit code.
    pub company_code: Option<String>,
    /// The enterprise's unified social credit code (统一社会信用代码).
    #[serde(rename = "tyshxydm")]
    pub credit_code: String,
    /// 0 in force, 1 deleted (retired, voided).
    pub deleted: u8,
    pub create_date: String,
    /// The name of who made it.
    pub create_by: String,
    pub update_date: String,
    pub update_by: String,
}

/// 安全风险分析单元.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskUnitRow {
    #[serde(flatten)]
    pub common: Common,
    /// 风险分析对象编码: the code the object (a 重大危险源) is registered under.
    pub hazard_code: Option<String>,
    /// 风险分析对象所属部门.
    pub hazard_dep: Option<String>,
    /// 所属部门负责人.
    pub hazard_liable_person: Option<String>,
    pub risk_unit_name: String,
    /// 1 重大, 2 较大, 3 一般, 4 低: the unit's highest live event's; none
    /// without one.
    pub risk_class: Option<u8>,
}

/// 安全风险事件.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskEventRow {
    #[serde(flatten)]
    pub common: Common,
    pub risk_unit_id: Uuid,
    pub risk_event_name: String,
    /// 1 重大, 2 较大, 3 一般, 4 低.
    pub risk_class: u8,
}

/// 安全风险管控措施.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlMeasureRow {
    #[serde(flatten)]
    pub common: Common,
    pub risk_event_id: Uuid,
    /// 1 自动化监控, 2 隐患排查.
    pub data_src: u8,
    pub risk_measure_desc: String,
    /// 1 工程技术, 2 维护保养, 3 操作行为, 4 应急措施.
    pub classify1: Option<u8>,
    /// `1-1` … `4-5`.
    pub classify2: Option<String>,
    /// The enterprise's own third level: none kept.
    pub classify3: Option<String>,
    /// 隐患排查内容.
    pub troubleshoot_content: Option<String>,
}

/// 隐患排查任务.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckTaskRow {
    #[serde(flatten)]
    pub common: Common,
    pub risk_measure_id: Uuid,
    /// The measure's check content, else the task's name.
    pub troubleshoot_content: String,
    pub check_cycle: u32,
    /// 小时, 天, 月 or 年.
    pub check_cycle_unit: &'static str,
    pub task_start_time: String,
    /// The day's window of an hourly cycle (`8:00:00`).
    pub work_start_time: Option<String>,
    pub work_end_time: Option<String>,
    /// 0 every day, 1 statutory working days, 2 non-working days.
    pub work_day_type: u8,
    /// 0 日常任务, 1 主要负责人, 2 技术负责人, 3 操作负责人 (包保).
    pub work_type: u8,
    /// The item of the 包保 task list: the duties are checked together,
    /// so none.
    pub task_num: Option<u32>,
}

/// 隐患排查记录.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckRecordRow {
    #[serde(flatten)]
    pub common: Common,
    pub check_task_id: Uuid,
    pub check_time: String,
    /// 0 正常, 1 存在隐患.
    pub check_status: u8,
}

/// 停用/检修记录.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopRecordRow {
    #[serde(flatten)]
    pub common: Common,
    pub hazard_code: Option<String>,
    pub risk_unit_id: Uuid,
    pub stop_start_time: String,
    /// None while the unit is still down.
    pub stop_end_time: Option<String>,
    pub stop_reason: String,
}

/// 隐患信息.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HazardRow {
    #[serde(flatten)]
    pub common: Common,
    /// The hazard's number (`YH-2026-000123`).
    pub danger_no: String,
    /// Found by a check task: the object's registered code.
    pub hazard_code: Option<String>,
    /// Found by a check task: the measure that failed.
    pub risk_measure_id: Option<Uuid>,
    /// Found by a check task: the record.
    pub check_record_id: Option<Uuid>,
    pub danger_name: String,
    /// 0 一般隐患, 1 重大隐患.
    pub danger_level: u8,
    pub regist_time: String,
    /// The name of who found it.
    pub registrant: String,
    /// 1–10, `[exchange.danger_sources]`.
    pub danger_src: u8,
    /// 0 即查即改 (deadline the day found), 1 限期整改.
    pub danger_manage_type: u8,
    /// 1 安全, 2 工艺, 3 电气, 4 仪表, 5 消防, 6 总图, 7 设备, 8 其他.
    pub hazard_danger_type: u8,
    /// 0 其他, 1 主要负责人, 2 技术负责人, 3 操作负责人 registered it.
    pub hazard_category: u8,
    /// 1 人的不安全行为, 2 物的不安全状态, 3 管理上的缺陷.
    pub management_classification: Option<u8>,
    pub danger_desc: String,
    pub danger_location: String,
    /// The plan's measures.
    pub control_measures: Option<String>,
    /// The plan's funds, yuan.
    pub cost: Option<f64>,
    /// The plan's responsible person.
    pub liable_person: Option<String>,
    /// The end of the deadline day.
    pub danger_manage_deadline: String,
    pub check_accept_person: Option<String>,
    pub check_accept_time: Option<String>,
    /// 0 整改中, 1 待验收, 9 已验收.
    pub danger_state: u8,
}

/// A row of one of the interface's tables.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ExchangeRow {
    RiskUnit(RiskUnitRow),
    RiskEvent(RiskEventRow),
    ControlMeasure(ControlMeasureRow),
    CheckTask(CheckTaskRow),
    CheckRecord(CheckRecordRow),
    StopRecord(StopRecordRow),
    Hazard(Box<HazardRow>),
}

/// One table's document: the rows the next changes after the cursor
/// touched, as they stand now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExchangeDocument {
    pub table: ExchangeTable,
    /// The interface's name of the table (`sec_security_risk_unit`, …).
    pub table_name: &'static str,
    pub title: &'static str,
    /// Pass as `after` for the next page; the one sent when nothing
    /// changed since.
    pub cursor: String,
    /// More changes wait: ask again with `cursor` now.
    pub more: bool,
    /// The rows, in the interface's field names.
    pub datas: Vec<ExchangeRow>,
}

/// How rows are written: the park's zone and the interface's time form.
pub struct Writer<'a> {
    pub zone: chrono_tz::Tz,
    pub settings: &'a ExchangeSettings,
}

impl Writer<'_> {
    /// A stored UTC instant as park-local time.
    fn utc(&self, at: NaiveDateTime) -> String {
        self.local(self.zone.from_utc_datetime(&at).naive_local())
    }

    fn local(&self, at: NaiveDateTime) -> String {
        at.format(&self.settings.time_format).to_string()
    }
}

/// The names and codes the rows of a page refer to.
#[derive(Default)]
struct Lookups {
    names: HashMap<Id, String>,
    credit: HashMap<Id, String>,
    revised: HashMap<Id, (Id, NaiveDateTime)>,
}

impl Lookups {
    fn load(
        conn: &mut DbConnection,
        people: impl IntoIterator<Item = Id>,
        enterprises: impl IntoIterator<Item = Id>,
        nodes: &[Id],
    ) -> Result<Lookups, AppError> {
        let revised: HashMap<Id, (Id, NaiveDateTime)> = if nodes.is_empty() {
            HashMap::new()
        } else {
            store::last_revisions(conn, nodes)?
                .into_iter()
                .map(|(node, by, at)| (node, (by, at)))
                .collect()
        };
        let mut people: Vec<Id> = people.into_iter().collect();
        people.extend(revised.values().map(|(by, _)| *by));
        people.sort_unstable();
        people.dedup();
        let mut enterprises: Vec<Id> = enterprises.into_iter().collect();
        enterprises.sort_unstable();
        enterprises.dedup();
        Ok(Lookups {
            names: users::names_of(conn, &people)?.into_iter().collect(),
            credit: store::credit_codes(conn, &enterprises)?
                .into_iter()
                .collect(),
            revised,
        })
    }

    fn name(&self, id: Id) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }

    /// The fields every row has; a node's last revision dates its update,
    /// a retirement without one its day.
    fn common(&self, writer: &Writer, node: Node) -> Common {
        let credit = self
            .credit
            .get(&node.enterprise)
            .cloned()
            .unwrap_or_default();
        let (by, at) = match self.revised.get(&node.id) {
            Some(&(by, at)) => (by, at),
            None => (node.created_by, node.gone_at.unwrap_or(node.created_at)),
        };
        Common {
            id: node.id.uuid(),
            company_code: code::organization_code(&credit).map(str::to_owned),
            credit_code: credit,
            deleted: code::deleted(node.gone),
            create_date: writer.utc(node.created_at),
            create_by: self.name(node.created_by),
            update_date: writer.utc(at.max(node.created_at)),
            update_by: self.name(by),
        }
    }
}

/// What [`Lookups::common`] reads of a row.
#[derive(Clone, Copy)]
struct Node {
    id: Id,
    enterprise: Id,
    created_by: Id,
    created_at: NaiveDateTime,
    gone: bool,
    gone_at: Option<NaiveDateTime>,
}

/// The document of `table` for the changes after `after` (of one
/// enterprise when given): up to `limit` of them, each node once.
pub fn document(
    conn: &mut DbConnection,
    table: ExchangeTable,
    (after, limit): (i64, i64),
    enterprise: Option<Id>,
    writer: &Writer,
) -> Result<ExchangeDocument, AppError> {
    let touched = store::touched(conn, table, (after, limit), enterprise)?;
    let more = i64::try_from(touched.len()).unwrap_or(i64::MAX) >= limit;
    let cursor = touched.last().map_or(after, |(seq, _)| *seq).to_string();
    let mut seen = HashSet::new();
    let ids: Vec<Id> = touched
        .into_iter()
        .filter_map(|(_, id)| seen.insert(id).then_some(id))
        .collect();
    let datas = if ids.is_empty() {
        Vec::new()
    } else {
        rows(conn, table, &ids, writer)?
    };
    Ok(ExchangeDocument {
        table,
        table_name: table.national_name(),
        title: table.chinese_name(),
        cursor,
        more,
        datas,
    })
}

fn rows(
    conn: &mut DbConnection,
    table: ExchangeTable,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    match table {
        ExchangeTable::RiskUnit => unit_rows(conn, ids, writer),
        ExchangeTable::RiskEvent => event_rows(conn, ids, writer),
        ExchangeTable::ControlMeasure => measure_rows(conn, ids, writer),
        ExchangeTable::CheckTask => task_rows(conn, ids, writer),
        ExchangeTable::CheckRecord => record_rows(conn, ids, writer),
        ExchangeTable::StopRecord => stop_rows(conn, ids, writer),
        ExchangeTable::Hazard => hazard_rows(conn, ids, writer),
    }
}

/// The registered codes of the objects these units belong to.
fn object_codes(
    conn: &mut DbConnection,
    units: &[Id],
) -> Result<HashMap<Id, Option<String>>, AppError> {
    let units = store::units_by_id(conn, units)?;
    let objects: Vec<Id> = units.iter().map(|u| u.object_id).collect();
    let codes: HashMap<Id, Option<String>> = store::objects_by_id(conn, &objects)?
        .into_iter()
        .map(|o| (o.id, o.major_source_code))
        .collect();
    Ok(units
        .into_iter()
        .map(|u| (u.id, codes.get(&u.object_id).cloned().flatten()))
        .collect())
}

fn unit_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let units = store::below(conn, ids, 1)?.units;
    let unit_ids: Vec<Id> = units.iter().map(|u| u.id).collect();
    let codes = object_codes(conn, &unit_ids)?;
    let mut levels: HashMap<Id, RiskLevel> = HashMap::new();
    for event in store::live_events_of_units(conn, &unit_ids)? {
        let level = levels.entry(event.unit_id).or_insert(event.level);
        if code::risk_class(event.level) < code::risk_class(*level) {
            *level = event.level;
        }
    }
    let look = Lookups::load(
        conn,
        units.iter().map(|u| u.created_by),
        units.iter().map(|u| u.enterprise_id),
        &unit_ids,
    )?;
    Ok(units
        .into_iter()
        .map(|u| {
            let common = look.common(
                writer,
                Node {
                    id: u.id,
                    enterprise: u.enterprise_id,
                    created_by: u.created_by,
                    created_at: u.created_at,
                    gone: u.retired_at.is_some(),
                    gone_at: u.retired_at,
                },
            );
            ExchangeRow::RiskUnit(RiskUnitRow {
                common,
                hazard_code: codes.get(&u.id).cloned().flatten(),
                hazard_dep: u.department,
                hazard_liable_person: u.responsible_person,
                risk_unit_name: u.name,
                risk_class: levels.get(&u.id).map(|l| code::risk_class(*l)),
            })
        })
        .collect())
}

fn event_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let events = store::below(conn, ids, 2)?.events;
    let event_ids: Vec<Id> = events.iter().map(|e| e.id).collect();
    let look = Lookups::load(
        conn,
        events.iter().map(|e| e.created_by),
        events.iter().map(|e| e.enterprise_id),
        &event_ids,
    )?;
    Ok(events
        .into_iter()
        .map(|e| {
            let common = look.common(
                writer,
                Node {
                    id: e.id,
                    enterprise: e.enterprise_id,
                    created_by: e.created_by,
                    created_at: e.created_at,
                    gone: e.retired_at.is_some(),
                    gone_at: e.retired_at,
                },
            );
            ExchangeRow::RiskEvent(RiskEventRow {
                common,
                risk_unit_id: e.unit_id.uuid(),
                risk_event_name: e.name,
                risk_class: code::risk_class(e.level),
            })
        })
        .collect())
}

fn measure_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let measures = store::below(conn, ids, 3)?.measures;
    let measure_ids: Vec<Id> = measures.iter().map(|m| m.id).collect();
    let look = Lookups::load(
        conn,
        measures.iter().map(|m| m.created_by),
        measures.iter().map(|m| m.enterprise_id),
        &measure_ids,
    )?;
    Ok(measures
        .into_iter()
        .map(|m| {
            let common = look.common(
                writer,
                Node {
                    id: m.id,
                    enterprise: m.enterprise_id,
                    created_by: m.created_by,
                    created_at: m.created_at,
                    gone: m.retired_at.is_some(),
                    gone_at: m.retired_at,
                },
            );
            let class = code::classify(&m.classification);
            ExchangeRow::ControlMeasure(ControlMeasureRow {
                common,
                risk_event_id: m.event_id.uuid(),
                data_src: code::data_source(m.control_mode),
                risk_measure_desc: m.description,
                classify1: class.as_ref().map(|(first, _)| *first),
                classify2: class.map(|(_, second)| second),
                classify3: None,
                troubleshoot_content: m.check_content,
            })
        })
        .collect())
}

fn task_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let below = store::below(conn, ids, 3)?;
    let under: Vec<Id> = below.measures.iter().map(|m| m.id).collect();
    let tasks = store::tasks(conn, ids, &under)?;
    let measure_ids: Vec<Id> = tasks.iter().map(|t| t.measure_id).collect();
    let contents: HashMap<Id, Option<String>> = store::measures_by_id(conn, &measure_ids)?
        .into_iter()
        .map(|m| (m.id, m.check_content))
        .collect();
    let task_ids: Vec<Id> = tasks.iter().map(|t| t.id).collect();
    let look = Lookups::load(
        conn,
        tasks.iter().map(|t| t.created_by),
        tasks.iter().map(|t| t.enterprise_id),
        &task_ids,
    )?;
    tasks
        .into_iter()
        .map(|t| {
            let spec: ScheduleSpec = serde_json::from_str(&t.schedule).map_err(|e| {
                AppError::Internal(anyhow::Error::from(e).context(format!("task {}", t.id)))
            })?;
            let clock = |time: NaiveTime| time.format("%-H:%M:%S").to_string();
            let common = look.common(
                writer,
                Node {
                    id: t.id,
                    enterprise: t.enterprise_id,
                    created_by: t.created_by,
                    created_at: t.created_at,
                    gone: t.retired_at.is_some() || !t.active,
                    gone_at: t.retired_at,
                },
            );
            Ok(ExchangeRow::CheckTask(CheckTaskRow {
                common,
                risk_measure_id: t.measure_id.uuid(),
                troubleshoot_content: contents
                    .get(&t.measure_id)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| t.name.clone()),
                check_cycle: spec.every,
                check_cycle_unit: code::cycle_unit(spec.unit),
                task_start_time: writer.local(spec.starts),
                work_start_time: spec.window.map(|w| clock(w.from())),
                work_end_time: spec.window.map(|w| clock(w.until())),
                work_day_type: code::work_day_type(spec.days),
                work_type: code::work_type(t.kind),
                task_num: None,
            }))
        })
        .collect()
}

fn record_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let records = store::records_by_id(conn, ids)?;
    let look = Lookups::load(
        conn,
        records.iter().map(|r| r.recorded_by),
        records.iter().map(|r| r.enterprise_id),
        &[],
    )?;
    Ok(records
        .into_iter()
        .map(|r| {
            let common = look.common(
                writer,
                Node {
                    id: r.id,
                    enterprise: r.enterprise_id,
                    created_by: r.recorded_by,
                    created_at: r.recorded_at,
                    gone: false,
                    gone_at: None,
                },
            );
            ExchangeRow::CheckRecord(CheckRecordRow {
                common,
                check_task_id: r.task_id.uuid(),
                check_time: writer.utc(r.checked_at),
                check_status: code::check_status(r.outcome),
            })
        })
        .collect())
}

fn stop_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let pauses = store::pauses_by_id(conn, ids)?;
    let units: Vec<Id> = pauses.iter().map(|p| p.unit_id).collect();
    let codes = object_codes(conn, &units)?;
    let look = Lookups::load(
        conn,
        pauses.iter().map(|p| p.created_by),
        pauses.iter().map(|p| p.enterprise_id),
        &[],
    )?;
    Ok(pauses
        .into_iter()
        .map(|p| {
            let common = look.common(
                writer,
                Node {
                    id: p.id,
                    enterprise: p.enterprise_id,
                    created_by: p.created_by,
                    created_at: p.created_at,
                    gone: false,
                    gone_at: None,
                },
            );
            ExchangeRow::StopRecord(StopRecordRow {
                common,
                hazard_code: codes.get(&p.unit_id).cloned().flatten(),
                risk_unit_id: p.unit_id.uuid(),
                stop_start_time: writer.local(p.starts_at),
                stop_end_time: p.ends_at.map(|at| writer.local(at)),
                stop_reason: p.reason,
            })
        })
        .collect())
}

fn hazard_rows(
    conn: &mut DbConnection,
    ids: &[Id],
    writer: &Writer,
) -> Result<Vec<ExchangeRow>, AppError> {
    let hazards = store::hazards_by_id(conn, ids)?;
    let hazard_ids: Vec<Id> = hazards.iter().map(|h| h.id).collect();
    // Found by a check task: the record, its task and the unit's object.
    let records: HashMap<Id, RecordRow> = store::records_of_hazards(conn, &hazard_ids)?
        .into_iter()
        .filter_map(|r| r.hazard_id.map(|h| (h, r)))
        .collect();
    let task_ids: Vec<Id> = records.values().map(|r| r.task_id).collect();
    let tasks: HashMap<Id, TaskRow> = store::tasks_by_id(conn, &task_ids)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let units: Vec<Id> = tasks.values().map(|t| t.unit_id).collect();
    let codes = object_codes(conn, &units)?;
    // The last step (who updated it last) and the last acceptance.
    let mut last: HashMap<Id, (Id, NaiveDateTime)> = HashMap::new();
    let mut accepted: HashMap<Id, (Id, NaiveDateTime)> = HashMap::new();
    for (hazard, action, by, at) in store::steps(conn, &hazard_ids)? {
        if action == "accept" {
            accepted.insert(hazard, (by, at));
        }
        last.insert(hazard, (by, at));
    }
    let look = Lookups::load(
        conn,
        hazards
            .iter()
            .map(|h| h.found_by)
            .chain(last.values().map(|(by, _)| *by))
            .chain(accepted.values().map(|(by, _)| *by)),
        hazards.iter().map(|h| h.enterprise_id),
        &[],
    )?;
    Ok(hazards
        .into_iter()
        .map(|h| {
            let task = records.get(&h.id).and_then(|r| tasks.get(&r.task_id));
            let mut row = hazard_row(&h, &look, writer, (records.get(&h.id), task));
            if let Some((by, _)) = last.get(&h.id) {
                row.common.update_by = look.name(*by);
            }
            let accept = accepted.get(&h.id).filter(|_| h.closed_at.is_some());
            ExchangeRow::Hazard(Box::new(HazardRow {
                hazard_code: task.and_then(|t| codes.get(&t.unit_id).cloned().flatten()),
                check_accept_person: accept.map(|(by, _)| look.name(*by)),
                check_accept_time: accept.map(|(_, at)| writer.utc(*at)),
                ..row
            }))
        })
        .collect())
}

/// A hazard's row but for what needs its task's unit and its acceptance.
fn hazard_row(
    h: &Hazard,
    look: &Lookups,
    writer: &Writer,
    (record, task): (Option<&RecordRow>, Option<&TaskRow>),
) -> HazardRow {
    let mut common = look.common(
        writer,
        Node {
            id: h.id,
            enterprise: h.enterprise_id,
            created_by: h.found_by,
            created_at: h.created_at,
            gone: h.voided_at.is_some(),
            gone_at: None,
        },
    );
    common.update_date = writer.utc(h.updated_at);
    let found_day = writer.zone.from_utc_datetime(&h.found_at).date_naive();
    HazardRow {
        common,
        danger_no: h.number.clone(),
        hazard_code: None,
        risk_measure_id: task.map(|t| t.measure_id.uuid()),
        check_record_id: record.map(|r| r.id.uuid()),
        danger_name: h.title.clone(),
        danger_level: code::danger_level(h.level),
        regist_time: writer.utc(h.found_at),
        registrant: look.name(h.found_by),
        danger_src: writer
            .settings
            .danger_sources
            .of(h.source, record.is_some()),
        danger_manage_type: code::manage_type(found_day, h.deadline),
        hazard_danger_type: code::danger_type(h.specialty.as_deref()),
        hazard_category: task.map_or(0, |t| code::work_type(t.kind)),
        management_classification: code::management_classification(&h.category),
        danger_desc: h.description.clone(),
        danger_location: h.location.clone(),
        control_measures: h.plan_measures.clone(),
        cost: h.plan_funds_fen.map(|fen| fen as f64 / 100.0),
        liable_person: h.plan_responsible_person.clone(),
        danger_manage_deadline: writer.local(
            h.deadline
                .and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)),
        ),
        check_accept_person: None,
        check_accept_time: None,
        danger_state: code::danger_state(h.state),
    }
}
