//! The risk register and its check tasks over HTTP: recording objects,
//! units, events, control measures, tasks and units' pauses; reading an
//! enterprise's register; a task's occurrences; recording an occurrence;
//! the caller's duty list (今日排查); and the figures of a period.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::check_figures::{self, CheckFigures};
use crate::app::check_hazards::{self, CountBy, HazardsByNode};
use crate::app::checks::{self, OccurrenceState, RecordContext};
use crate::app::evaluation::{month_of, MonthEvaluation};
use crate::app::risk::{self, EventNode, MeasureNode, ObjectNode, RegisterTree, UnitNode};
use crate::db::risk::{EventRow, MeasureRow, ObjectRow, PauseRow, RecordRow, TaskRow, UnitRow};
use crate::db::{DbConnection, Id};
use crate::domain::access::{Caller, Capability, Role};
use crate::domain::check_task::{CheckOutcome, NewPause, NewRecord, NewTask, TaskKind};
use crate::domain::risk::{
    measure_class, Assessment, ControlMode, NewEvent, NewMeasure, NewObject, NewUnit, ObjectKind,
    RiskLevel,
};
use crate::domain::schedule::{ScheduleSpec, Status};
use crate::error::AppError;
use crate::http::analytics::TableFormat;
use crate::http::body::Body;
use crate::http::conditional::none_match;
use crate::http::state::AppState;
use crate::http::stats::{answer, unchanged};
use crate::http::{create_idempotently, Created};
use crate::messages::Rule;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RiskObjectView {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub kind: ObjectKind,
    /// 重大危险源 / 生产装置 / 设施 / 场所
    pub kind_label: String,
    pub name: String,
    pub major_source_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&ObjectRow> for RiskObjectView {
    fn from(row: &ObjectRow) -> Self {
        RiskObjectView {
            id: row.id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            kind: row.kind,
            kind_label: row.kind.label_zh().to_owned(),
            name: row.name.clone(),
            major_source_code: row.major_source_code.clone(),
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RiskUnitView {
    pub id: Uuid,
    pub object_id: Uuid,
    pub enterprise_id: Uuid,
    pub name: String,
    pub department: Option<String>,
    pub responsible_person: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&UnitRow> for RiskUnitView {
    fn from(row: &UnitRow) -> Self {
        RiskUnitView {
            id: row.id.uuid(),
            object_id: row.object_id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            name: row.name.clone(),
            department: row.department.clone(),
            responsible_person: row.responsible_person.clone(),
            created_at: row.created_at.and_utc(),
        }
    }
}

/// A level with its name and colour.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelView {
    pub level: RiskLevel,
    /// 重大风险 / 较大风险 / 一般风险 / 低风险
    pub label: String,
    /// red / orange / yellow / blue
    pub colour: String,
}

impl From<RiskLevel> for LevelView {
    fn from(level: RiskLevel) -> Self {
        LevelView {
            level,
            label: level.label_zh().to_owned(),
            colour: level.colour().to_owned(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RiskEventView {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub enterprise_id: Uuid,
    pub name: String,
    pub consequence: Option<String>,
    pub assessment: Assessment,
    /// R (LS) or D (LEC).
    pub score: f64,
    pub level: LevelView,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&EventRow> for RiskEventView {
    type Error = AppError;

    fn try_from(row: &EventRow) -> Result<Self, AppError> {
        let assessment = serde_json::from_str(&row.assessment).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "event {} has a bad assessment: {e}",
                row.id
            ))
        })?;
        Ok(RiskEventView {
            id: row.id.uuid(),
            unit_id: row.unit_id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            name: row.name.clone(),
            consequence: row.consequence.clone(),
            assessment,
            score: row.score_centi as f64 / 100.0,
            level: row.level.into(),
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ControlMeasureView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub enterprise_id: Uuid,
    pub description: String,
    /// The national class's code.
    pub classification: String,
    /// 管控措施分类1/分类2, e.g. 工程技术/安全仪表.
    pub classification_label: String,
    pub control_mode: ControlMode,
    pub check_content: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&MeasureRow> for ControlMeasureView {
    fn from(row: &MeasureRow) -> Self {
        ControlMeasureView {
            id: row.id.uuid(),
            event_id: row.event_id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            description: row.description.clone(),
            classification: row.classification.clone(),
            classification_label: measure_class(&row.classification)
                .map(|c| format!("{}/{}", c.first, c.second))
                .unwrap_or_default(),
            control_mode: row.control_mode,
            check_content: row.check_content.clone(),
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckTaskView {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub unit_id: Uuid,
    pub enterprise_id: Uuid,
    pub name: String,
    pub kind: TaskKind,
    pub assignee_role: Option<Role>,
    pub assignee_user_id: Option<Uuid>,
    #[schema(value_type = crate::domain::check_task::ScheduleSchema)]
    pub schedule: ScheduleSpec,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&TaskRow> for CheckTaskView {
    type Error = AppError;

    fn try_from(row: &TaskRow) -> Result<Self, AppError> {
        Ok(CheckTaskView {
            id: row.id.uuid(),
            measure_id: row.measure_id.uuid(),
            unit_id: row.unit_id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            name: row.name.clone(),
            kind: row.kind,
            assignee_role: row.assignee_role,
            assignee_user_id: row.assignee_user_id.map(Id::uuid),
            schedule: checks::schedule_of(row)?.into(),
            active: row.active,
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitPauseView {
    pub id: Uuid,
    pub unit_id: Uuid,
    /// Park-local wall time.
    #[schema(value_type = String, example = "2026-12-01T08:00:00")]
    pub from: NaiveDateTime,
    #[schema(value_type = Option<String>, example = "2026-12-02T08:00:00")]
    pub until: Option<NaiveDateTime>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<&PauseRow> for UnitPauseView {
    fn from(row: &PauseRow) -> Self {
        UnitPauseView {
            id: row.id.uuid(),
            unit_id: row.unit_id.uuid(),
            from: row.starts_at,
            until: row.ends_at,
            reason: row.reason.clone(),
            created_at: row.created_at.and_utc(),
        }
    }
}

/// Where an occurrence stands.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceStatus {
    /// Not started yet.
    Upcoming,
    /// Started; may still be recorded on time.
    Due,
    Done,
    DoneLate,
    Missed,
    /// The unit was down (停用/检修) the whole time.
    Paused,
}

impl From<Status> for OccurrenceStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Upcoming => Self::Upcoming,
            Status::Due => Self::Due,
            Status::Done { .. } => Self::Done,
            Status::DoneLate { .. } => Self::DoneLate,
            Status::Missed => Self::Missed,
            Status::Paused => Self::Paused,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckRecordView {
    pub id: Uuid,
    pub task_id: Uuid,
    pub enterprise_id: Uuid,
    pub occurrence: u32,
    pub outcome: CheckOutcome,
    pub note: Option<String>,
    pub checked_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Dated more than the park's tolerance before it was recorded (补录).
    pub entered_late: bool,
    /// The hazard an abnormal record became.
    pub hazard_id: Option<Uuid>,
    pub recorded_by: Uuid,
    /// A 包保 duty check's duties found not carried out, by number.
    pub failed_items: Vec<u32>,
}

impl From<&RecordRow> for CheckRecordView {
    fn from(row: &RecordRow) -> Self {
        CheckRecordView {
            id: row.id.uuid(),
            task_id: row.task_id.uuid(),
            enterprise_id: row.enterprise_id.uuid(),
            occurrence: u32::try_from(row.occurrence).unwrap_or(u32::MAX),
            outcome: row.outcome,
            note: row.note.clone(),
            checked_at: row.checked_at.and_utc(),
            recorded_at: row.recorded_at.and_utc(),
            entered_late: row.entered_late,
            hazard_id: row.hazard_id.map(Id::uuid),
            recorded_by: row.recorded_by.uuid(),
            failed_items: row
                .failed_items
                .as_deref()
                .and_then(|items| serde_json::from_str(items).ok())
                .unwrap_or_default(),
        }
    }
}

/// One occurrence of a task. Times are park-local wall times.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OccurrenceView {
    pub task_id: Uuid,
    pub task_name: String,
    /// `post_check`, or a 包保责任人's duty check (`duty_principal`,
    /// `duty_technical`, `duty_operational`), whose abnormal record names
    /// the failed duties (`failed_items`).
    pub task_kind: TaskKind,
    pub enterprise_id: Uuid,
    pub unit_id: Uuid,
    pub measure_id: Uuid,
    /// Its number in the task's schedule: what a record names.
    pub occurrence: u32,
    #[schema(value_type = String, example = "2026-12-01T08:00:00")]
    pub start: NaiveDateTime,
    #[schema(value_type = String, example = "2026-12-01T08:00:00")]
    pub end: NaiveDateTime,
    /// Recorded by then, it is on time (the end plus the park's tolerance).
    #[schema(value_type = String, example = "2026-12-01T08:00:00")]
    pub deadline: NaiveDateTime,
    pub paused: bool,
    pub status: OccurrenceStatus,
    pub record: Option<CheckRecordView>,
}

impl From<&OccurrenceState> for OccurrenceView {
    fn from(state: &OccurrenceState) -> Self {
        OccurrenceView {
            task_id: state.task.id.uuid(),
            task_name: state.task.name.clone(),
            task_kind: state.task.kind,
            enterprise_id: state.task.enterprise_id.uuid(),
            unit_id: state.task.unit_id.uuid(),
            measure_id: state.task.measure_id.uuid(),
            occurrence: state.occurrence.id.index(),
            start: state.occurrence.start,
            end: state.occurrence.end,
            deadline: state.deadline,
            paused: state.occurrence.paused,
            status: state.status.into(),
            record: state.record.as_ref().map(CheckRecordView::from),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OccurrenceList {
    pub items: Vec<OccurrenceView>,
    /// More occurrences than the list holds (1,000).
    pub truncated: bool,
}

fn occurrence_list((states, truncated): (Vec<OccurrenceState>, bool)) -> OccurrenceList {
    OccurrenceList {
        items: states.iter().map(OccurrenceView::from).collect(),
        truncated,
    }
}

/// The four levels with a count each.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelCounts {
    pub major: u64,
    pub serious: u64,
    pub general: u64,
    pub low: u64,
}

impl From<[(RiskLevel, u64); 4]> for LevelCounts {
    fn from(counts: [(RiskLevel, u64); 4]) -> Self {
        let of = |level: RiskLevel| {
            counts
                .iter()
                .find(|(l, _)| *l == level)
                .map_or(0, |(_, n)| *n)
        };
        LevelCounts {
            major: of(RiskLevel::Major),
            serious: of(RiskLevel::Serious),
            general: of(RiskLevel::General),
            low: of(RiskLevel::Low),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterMeasure {
    #[serde(flatten)]
    pub measure: ControlMeasureView,
    pub tasks: Vec<CheckTaskView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterEvent {
    #[serde(flatten)]
    pub event: RiskEventView,
    pub measures: Vec<RegisterMeasure>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterUnit {
    #[serde(flatten)]
    pub unit: RiskUnitView,
    /// The highest level of its events; null without events.
    pub level: Option<LevelView>,
    pub events: Vec<RegisterEvent>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterObject {
    #[serde(flatten)]
    pub object: RiskObjectView,
    pub units: Vec<RegisterUnit>,
}

/// An enterprise's risk register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RiskRegisterView {
    pub enterprise_id: Uuid,
    pub objects: Vec<RegisterObject>,
    /// Units by their level (units without events are not counted).
    pub units_by_level: LevelCounts,
    pub events_by_level: LevelCounts,
    pub measures: u64,
    pub tasks: u64,
}

impl TryFrom<RegisterTree> for RiskRegisterView {
    type Error = AppError;

    fn try_from(tree: RegisterTree) -> Result<Self, AppError> {
        let measure = |node: &MeasureNode| -> Result<RegisterMeasure, AppError> {
            Ok(RegisterMeasure {
                measure: (&node.row).into(),
                tasks: node
                    .tasks
                    .iter()
                    .map(CheckTaskView::try_from)
                    .collect::<Result<_, _>>()?,
            })
        };
        let event = |node: &EventNode| -> Result<RegisterEvent, AppError> {
            Ok(RegisterEvent {
                event: (&node.row).try_into()?,
                measures: node
                    .measures
                    .iter()
                    .map(measure)
                    .collect::<Result<_, _>>()?,
            })
        };
        let unit = |node: &UnitNode| -> Result<RegisterUnit, AppError> {
            Ok(RegisterUnit {
                unit: (&node.row).into(),
                level: node.level.map(LevelView::from),
                events: node.events.iter().map(event).collect::<Result<_, _>>()?,
            })
        };
        let object = |node: &ObjectNode| -> Result<RegisterObject, AppError> {
            Ok(RegisterObject {
                object: (&node.row).into(),
                units: node.units.iter().map(unit).collect::<Result<_, _>>()?,
            })
        };
        Ok(RiskRegisterView {
            enterprise_id: tree.enterprise_id,
            objects: tree.objects.iter().map(object).collect::<Result<_, _>>()?,
            units_by_level: tree.units_by_level.into(),
            events_by_level: tree.events_by_level.into(),
            measures: tree.measures,
            tasks: tree.tasks,
        })
    }
}

/// Records one row of the register (or a task, or a pause) under the
/// caller's `Idempotency-Key`: `add` records it and gives its view and
/// where it is shown.
async fn create_in_register<B, V, F>(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: B,
    add: F,
) -> Result<HttpResponse, AppError>
where
    B: Serialize + Send + 'static,
    V: Serialize,
    F: FnOnce(&mut DbConnection, &Caller, &B, NaiveDateTime) -> Result<(V, String), AppError>
        + Send
        + 'static,
{
    caller.require(Capability::ManageRiskRegister)?;
    let now = state.park.now().utc;
    let sent = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    create_idempotently(&state, &req, &caller, &sent, move |conn| {
        let (view, location) = add(conn, &caller, &body, now)?;
        Created::new(&view, location, None)
    })
    .await
}

fn register_of(enterprise: Id) -> String {
    format!("/api/v1/enterprises/{enterprise}/risk-register")
}

/// Records a risk analysis object (风险分析对象) of an enterprise.
#[utoipa::path(
    post,
    path = "/api/v1/risk-objects",
    operation_id = "create_risk_object",
    tag = "risk",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewObject,
    responses(
        (status = 201, body = RiskObjectView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_object(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewObject>,
) -> Result<HttpResponse, AppError> {
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        |conn, caller, new, now| {
            let row = risk::add_object(conn, caller, new, now)?;
            Ok((RiskObjectView::from(&row), register_of(row.enterprise_id)))
        },
    )
    .await
}

/// Records a risk analysis unit (风险分析单元) within an object.
#[utoipa::path(
    post,
    path = "/api/v1/risk-units",
    operation_id = "create_risk_unit",
    tag = "risk",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewUnit,
    responses(
        (status = 201, body = RiskUnitView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewUnit>,
) -> Result<HttpResponse, AppError> {
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        |conn, caller, new, now| {
            let row = risk::add_unit(conn, caller, new, now)?;
            Ok((RiskUnitView::from(&row), register_of(row.enterprise_id)))
        },
    )
    .await
}

/// Records a safety risk event (安全风险事件) of a unit, with the method
/// and inputs its level is worked out from.
#[utoipa::path(
    post,
    path = "/api/v1/risk-events",
    operation_id = "create_risk_event",
    tag = "risk",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewEvent,
    responses(
        (status = 201, body = RiskEventView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_event(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewEvent>,
) -> Result<HttpResponse, AppError> {
    let bands = state.settings.risk.bands;
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        move |conn, caller, new, now| {
            let row = risk::add_event(conn, caller, new, &bands, now)?;
            Ok((
                RiskEventView::try_from(&row)?,
                register_of(row.enterprise_id),
            ))
        },
    )
    .await
}

/// Records a control measure (管控措施) against an event.
#[utoipa::path(
    post,
    path = "/api/v1/control-measures",
    operation_id = "create_control_measure",
    tag = "risk",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewMeasure,
    responses(
        (status = 201, body = ControlMeasureView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_measure(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewMeasure>,
) -> Result<HttpResponse, AppError> {
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        |conn, caller, new, now| {
            let row = risk::add_measure(conn, caller, new, now)?;
            Ok((
                ControlMeasureView::from(&row),
                register_of(row.enterprise_id),
            ))
        },
    )
    .await
}

/// An enterprise's risk register: objects, units (with their level, the
/// highest of their events'), events, measures and tasks, and the counts
/// by level. An enterprise contact reads its own.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}/risk-register",
    operation_id = "get_risk_register",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), RegisterQuery),
    responses(
        (status = 200,
         description = "The tree as JSON by default; `?format=csv|xlsx` for the register as a sheet",
         content(
             (RiskRegisterView = "application/json"),
             (String = "text/csv"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_register(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<RegisterQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let enterprise = path.into_inner();
    let tree = state
        .db
        .run(move |conn| risk::register(conn, &caller, enterprise))
        .await?;
    let (content_type, body) = match query.format.unwrap_or_default() {
        TableFormat::Json => return Ok(HttpResponse::Ok().json(RiskRegisterView::try_from(tree)?)),
        TableFormat::Csv => ("text/csv; charset=utf-8", tree.table().csv()?),
        TableFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            tree.table().xlsx()?,
        ),
    };
    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegisterQuery {
    /// `json` (default: the tree), or `csv` or `xlsx`: the register as a
    /// sheet (安全风险分级管控清单), one row per control measure.
    pub format: Option<TableFormat>,
}

/// Gives a control measure watched by checks a check task (隐患排查任务).
#[utoipa::path(
    post,
    path = "/api/v1/check-tasks",
    operation_id = "create_check_task",
    tag = "risk",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewTask,
    responses(
        (status = 201, body = CheckTaskView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_task(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<NewTask>,
) -> Result<HttpResponse, AppError> {
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        |conn, caller, new, now| {
            let (row, _) = checks::add_task(conn, caller, new, now)?;
            let location = format!("/api/v1/check-tasks/{}/occurrences", row.id);
            Ok((CheckTaskView::try_from(&row)?, location))
        },
    )
    .await
}

/// Pauses a unit's check tasks (停用/检修): an occurrence wholly inside a
/// pause is `paused`, not missed.
#[utoipa::path(
    post,
    path = "/api/v1/risk-units/{id}/pauses",
    operation_id = "create_unit_pause",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewPause,
    responses(
        (status = 201, body = UnitPauseView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_pause(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<NewPause>,
) -> Result<HttpResponse, AppError> {
    let unit = path.into_inner();
    create_in_register(
        state,
        req,
        caller,
        body.into_inner(),
        move |conn, caller, new, now| {
            let row = checks::add_pause(conn, caller, unit, new, now)?;
            Ok((UnitPauseView::from(&row), register_of(row.enterprise_id)))
        },
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OccurrencesQuery {
    /// The first park-local day (default: today).
    pub from: Option<NaiveDate>,
    /// The day after the last (default: the day after `from`); at most 400
    /// days after `from`.
    pub until: Option<NaiveDate>,
}

pub use crate::http::state::record_context;

/// A task's occurrences starting within `[from, until)`, each with its
/// status (upcoming, due, done, done late, missed, paused) and record.
#[utoipa::path(
    get,
    path = "/api/v1/check-tasks/{id}/occurrences",
    operation_id = "list_check_occurrences",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), OccurrencesQuery),
    responses(
        (status = 200, body = OccurrenceList),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_occurrences(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<OccurrencesQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let task = path.into_inner();
    let lifecycle = state.lifecycle_context();
    let from = query.from.unwrap_or(lifecycle.now.park_today);
    let until = match query.until {
        Some(until) => until,
        None => from
            .succ_opt()
            .ok_or_else(|| AppError::invalid("from", Rule::TooLate))?,
    };
    let state = state.into_inner();
    let inner = state.clone();
    let list = state
        .db
        .run(move |conn| {
            let context = record_context(&inner, &lifecycle, conn)?;
            checks::task_occurrences(conn, &caller, task, (from, until), &context)
                .map(occurrence_list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Records one occurrence of a task: 正常 (kept as the evidence that it
/// was checked) or 异常, which becomes a hazard of the task's enterprise in
/// the same transaction. Each occurrence is recorded once (`409` after);
/// send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/check-tasks/{id}/records",
    operation_id = "record_check",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = NewRecord,
    responses(
        (status = 201, body = CheckRecordView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<NewRecord>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::RecordChecks)?;
    let task = path.into_inner();
    let body = body.into_inner();
    let sent = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.into()))?;
    let shared = state.clone().into_inner();
    create_idempotently(&state, &req, &caller, &sent, move |conn| {
        let lifecycle = shared.lifecycle_context();
        let context = record_context(&shared, &lifecycle, conn)?;
        let recorded = checks::record(conn, &caller, task, &body, &context)?;
        Created::new(
            &CheckRecordView::from(&recorded.record),
            format!("/api/v1/check-tasks/{task}/occurrences"),
            None,
        )
    })
    .await
}

/// The caller's duty list (今日排查): every occurrence running today
/// (started today, or earlier and still running, as a monthly check does
/// all month) of the tasks given to the caller's role (an enterprise
/// contact: its enterprise's; an expert: the park's) or to the caller, and
/// the unrecorded ones of the last `risk.duty_overdue_days` days.
#[utoipa::path(
    get,
    path = "/api/v1/check-duties",
    operation_id = "list_check_duties",
    tag = "risk",
    security(("bearer" = [])),
    responses((status = 200, body = OccurrenceList))
)]
pub async fn list_duties(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::RecordChecks)?;
    let lifecycle = state.lifecycle_context();
    let overdue_days = state.settings.risk.duty_overdue_days;
    let state = state.into_inner();
    let inner = state.clone();
    let list = state
        .db
        .run(move |conn| {
            let context = record_context(&inner, &lifecycle, conn)?;
            checks::duty(conn, &caller, overdue_days, &context).map(occurrence_list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckFiguresQuery {
    /// The first park-local day (default: the first of this month).
    pub from: Option<NaiveDate>,
    /// The last park-local day (default: today); at most 400 days after
    /// `from`.
    pub to: Option<NaiveDate>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<TableFormat>,
}

impl CheckFiguresQuery {
    /// The period asked for: to today and from the first of `to`'s month
    /// by default.
    pub fn period(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        month_to_date(self.from, self.to, today)
    }
}

/// A figures' period: to today and from the first of `to`'s month by
/// default.
fn month_to_date(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let to = to.unwrap_or(today);
    (from.unwrap_or_else(|| to.with_day(1).unwrap_or(to)), to)
}

/// The dual prevention mechanism's figures over a period (双重预防运行情况):
/// per enterprise and for the park, occurrences of check tasks planned so
/// far, done on time, done late, missed, paused and due, with the
/// completion and on-time rates; hazards found by check tasks against
/// those found otherwise; units and events by risk level. The `ETag`
/// changes with any record, task, pause, event or hazard, and at least
/// every minute (occurrences fall due as time passes).
#[utoipa::path(
    get,
    path = "/api/v1/analytics/checks",
    operation_id = "get_check_figures",
    tag = "analytics",
    security(("bearer" = [])),
    params(CheckFiguresQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx` for a table",
         content(
             (CheckFigures = "application/json"),
             (String = "text/csv"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn check_figures(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<CheckFiguresQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAnalytics)?;
    let scope = caller.figures_scope(query.enterprise_id)?;
    let (from, to) = query.period(state.park.now().park_today);
    let format = query.format.unwrap_or_default();
    let key = format!("checks|{scope:?}|{from}|{to}");
    figures_answer(state, req, key, format, move |conn, context| {
        let figures = check_figures::figures(conn, scope, (from, to), context)?;
        Ok((serde_json::to_vec(&figures), figures.table()))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HazardsByNodeQuery {
    /// The first park-local day (default: the first of this month).
    pub from: Option<NaiveDate>,
    /// The last park-local day (default: today); at most 400 days after
    /// `from`.
    pub to: Option<NaiveDate>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
    /// `unit` (default), `event` or `measure`.
    pub by: Option<CountBy>,
    /// At most this many rows, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<TableFormat>,
}

/// Hazards found by check tasks in a period, counted by the register's
/// node whose measure failed — its unit (default), event or measure —
/// with how many are closed, open, overdue and major, the nodes with most
/// hazards first. Scoped and revalidated as `/analytics/checks`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/checks/hazards",
    operation_id = "get_check_hazards_by_node",
    tag = "analytics",
    security(("bearer" = [])),
    params(HazardsByNodeQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx` for a table",
         content(
             (HazardsByNode = "application/json"),
             (String = "text/csv"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
         )),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn check_hazards_by_node(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<HazardsByNodeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAnalytics)?;
    let scope = caller.figures_scope(query.enterprise_id)?;
    let (from, to) = month_to_date(query.from, query.to, state.park.now().park_today);
    let by = query.by.unwrap_or_default();
    let limit = query.limit.unwrap_or(100);
    let format = query.format.unwrap_or_default();
    let key = format!("check-hazards|{scope:?}|{from}|{to}|{by:?}|{limit}");
    figures_answer(state, req, key, format, move |conn, context| {
        let figures =
            check_hazards::hazards_by_node(conn, scope, (from, to), (by, limit), context)?;
        Ok((serde_json::to_vec(&figures), figures.table()))
    })
    .await
}

/// Answers a figure of the dual prevention mechanism as JSON, CSV or
/// XLSX, with an `ETag` made of `key`, the data's change markers and the
/// minute (occurrences fall due as time passes); worked out by `compute`
/// only when no answer with that tag is kept.
pub(crate) async fn figures_answer<F>(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: String,
    format: TableFormat,
    compute: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut DbConnection,
            &RecordContext,
        )
            -> Result<(serde_json::Result<Vec<u8>>, crate::app::analytics::Table), AppError>
        + Send
        + 'static,
{
    let lifecycle = state.lifecycle_context();
    let markers = state.db.run(super::stats::figures_marker).await?;
    let minute = lifecycle.now.utc.format("%Y-%m-%dT%H:%M");
    let tag = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("{key}|{markers}|{minute}|{format:?}"));
        format!("\"{}\"", crate::domain::hex::hex(&hasher.finalize()[..12]))
    };
    if none_match(&req, &tag) {
        return Ok(unchanged(tag));
    }
    let content_type = match format {
        TableFormat::Json => "application/json",
        TableFormat::Csv => "text/csv; charset=utf-8",
        TableFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    if let Some(body) = state.figures.get(&tag) {
        return Ok(answer(&tag, content_type, &body));
    }
    let _turn = state.figures.turn().await?;
    let state = state.into_inner();
    let inner = state.clone();
    let body = state
        .db
        .run(move |conn| {
            let context = record_context(&inner, &lifecycle, conn)?;
            let (json, table) = compute(conn, &context)?;
            match format {
                TableFormat::Json => json.map_err(|e| AppError::Internal(e.into())),
                TableFormat::Csv => table.csv(),
                TableFormat::Xlsx => table.xlsx(),
            }
        })
        .await?;
    let body = state.figures.put(tag.clone(), body);
    Ok(answer(&tag, content_type, &body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    /// The park-local month, `2026-12` (default: this month).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])(?![\s\S])")]
    pub month: Option<String>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<TableFormat>,
}

/// The month's evaluation of each active enterprise's dual prevention
/// mechanism, lowest first: E = (A + B) × α, with A from the check tasks
/// done against those settled, B from the hazards accepted against those
/// to rectify, α = 0 on a veto item, and each deduction and veto with its
/// reason. Weights and rules are `[risk.evaluation]`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/evaluation",
    operation_id = "get_evaluation",
    tag = "analytics",
    security(("bearer" = [])),
    params(EvaluationQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx` for a table",
         content(
             (MonthEvaluation = "application/json"),
             (String = "text/csv"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn evaluation(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<EvaluationQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAnalytics)?;
    let scope = caller.figures_scope(query.enterprise_id)?;
    let today = state.park.now().park_today;
    let bounds = month_of(query.month.as_deref(), today)?;
    let rules = state.settings.risk.evaluation;
    let format = query.format.unwrap_or_default();
    let key = format!("evaluation|{scope:?}|{}", bounds.0);
    figures_answer(state, req, key, format, move |conn, context| {
        let found = crate::app::evaluation::month(conn, scope, bounds, &rules, context)?;
        Ok((serde_json::to_vec(&found), found.table()))
    })
    .await
}

/// A thing of the register, by id and name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterRef {
    pub id: Uuid,
    pub name: String,
}

/// The check task a record belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskRef {
    pub id: Uuid,
    pub name: String,
    pub kind: crate::domain::check_task::TaskKind,
}

/// The event of the register a failed measure is against, with its level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventRef {
    pub id: Uuid,
    pub name: String,
    pub level: LevelView,
}

/// The major hazard source a 包保 duty check was on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceRef {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// 一级 to 四级.
    pub grade_label: String,
}

/// Where a hazard raised by a check comes from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OriginView {
    /// The abnormal record it was raised from.
    pub record: CheckRecordView,
    pub task: TaskRef,
    /// The control measure that failed (its description as the name).
    pub measure: RegisterRef,
    pub event: EventRef,
    pub unit: RegisterRef,
    pub object: RegisterRef,
    /// For a 包保责任人's duty check: the source.
    pub major_source: Option<SourceRef>,
}

/// A hazard's origin in the register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckOriginAnswer {
    /// Null when the hazard was not raised by a check of the register.
    pub origin: Option<OriginView>,
}

/// Where in the risk register a hazard comes from when a check raised it
/// (隐患排查任务 → 排查记录 → 隐患): the abnormal record, its task, the
/// control measure that failed with its event, unit and analysis object,
/// and, for a 包保 duty check, the major hazard source. `origin` is null
/// for a hazard found any other way.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/{id}/check-origin",
    operation_id = "get_hazard_check_origin",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CheckOriginAnswer),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_check_origin(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let id = path.into_inner();
    let origin = state
        .db
        .run(move |conn| crate::app::risk::check_origin(conn, &caller, id))
        .await?;
    let origin = origin.map(|o| OriginView {
        record: CheckRecordView::from(&o.record),
        task: TaskRef {
            id: o.task.id.uuid(),
            name: o.task.name,
            kind: o.task.kind,
        },
        measure: RegisterRef {
            id: o.measure.id.uuid(),
            name: o.measure.description,
        },
        event: EventRef {
            id: o.event.id.uuid(),
            name: o.event.name,
            level: o.event.level.into(),
        },
        unit: RegisterRef {
            id: o.unit.id.uuid(),
            name: o.unit.name,
        },
        object: RegisterRef {
            id: o.object.id.uuid(),
            name: o.object.name,
        },
        major_source: o.source.map(|s| SourceRef {
            id: s.id.uuid(),
            grade_label: crate::domain::major_source::grade_label(
                u8::try_from(s.grade).unwrap_or(4),
            )
            .to_owned(),
            code: s.code,
            name: s.name,
        }),
    });
    Ok(HttpResponse::Ok().json(CheckOriginAnswer { origin }))
}
