//! Editing and retiring the risk register over HTTP: `PATCH` an object,
//! unit, event or measure; `POST …/retire` with a reason to take a node
//! (with everything below it) or a check task out of the register; and an
//! enterprise's revisions. The rules and transactions are
//! `app::register_edit`'s.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::register_edit::{self, NodeKind, NodeRef};
use crate::db::risk::RevisionRow;
use crate::domain::access::{Caller, Capability};
use crate::domain::risk::edit::{EventEdit, MeasureEdit, ObjectEdit, Retirement, UnitEdit};
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::risk::{ControlMeasureView, RiskEventView, RiskObjectView, RiskUnitView};
use crate::http::state::AppState;

/// What a retirement did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetiredView {
    /// `object`, `unit`, `event`, `measure` or `task`.
    pub node_kind: String,
    pub node_id: Uuid,
    pub enterprise_id: Uuid,
    pub retired_at: DateTime<Utc>,
    /// Check tasks retired with it: no occurrence of theirs is planned
    /// from now on; their records stay.
    pub tasks_retired: usize,
}

/// One edit or retirement of the register.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    pub id: Uuid,
    /// `object`, `unit`, `event`, `measure` or `task`.
    pub node_kind: String,
    pub node_id: Uuid,
    /// `edited` or `retired`.
    pub action: String,
    /// The node as it was.
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// The node as it became (an edit).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub revised_by: Uuid,
    pub revised_at: DateTime<Utc>,
}

impl From<RevisionRow> for RevisionView {
    fn from(row: RevisionRow) -> RevisionView {
        let json = |text: &str| serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        RevisionView {
            id: row.id.uuid(),
            node_kind: row.node_kind,
            node_id: row.node_id.uuid(),
            action: row.action,
            before: json(&row.before),
            after: row.after.as_deref().map(json),
            reason: row.reason,
            revised_by: row.revised_by.uuid(),
            revised_at: row.revised_at.and_utc(),
        }
    }
}

/// A page of revisions, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevisionPage {
    pub items: Vec<RevisionView>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub next_before: Option<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevisionQuery {
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The revisions older than this one.
    pub before: Option<Uuid>,
}

/// Edits a risk analysis object: each field sent replaces the one kept.
/// A source's object is the registry's (`409`).
#[utoipa::path(
    patch,
    path = "/api/v1/risk-objects/{id}",
    operation_id = "edit_risk_object",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ObjectEdit,
    responses(
        (status = 200, body = RiskObjectView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn edit_object(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<ObjectEdit>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let (id, edit, now) = (path.into_inner(), body.into_inner(), state.park.now().utc);
    let row = state
        .db
        .write(move |conn| register_edit::edit_object(conn, &caller, id, &edit, now))
        .await?;
    Ok(HttpResponse::Ok().json(RiskObjectView::from(&row)))
}

/// Edits a risk analysis unit.
#[utoipa::path(
    patch,
    path = "/api/v1/risk-units/{id}",
    operation_id = "edit_risk_unit",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = UnitEdit,
    responses(
        (status = 200, body = RiskUnitView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn edit_unit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<UnitEdit>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let (id, edit, now) = (path.into_inner(), body.into_inner(), state.park.now().utc);
    let row = state
        .db
        .write(move |conn| register_edit::edit_unit(conn, &caller, id, &edit, now))
        .await?;
    Ok(HttpResponse::Ok().json(RiskUnitView::from(&row)))
}

/// Edits a safety risk event; new inputs re-level it.
#[utoipa::path(
    patch,
    path = "/api/v1/risk-events/{id}",
    operation_id = "edit_risk_event",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = EventEdit,
    responses(
        (status = 200, body = RiskEventView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn edit_event(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<EventEdit>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let (id, edit, now) = (path.into_inner(), body.into_inner(), state.park.now().utc);
    let bands = state.settings.risk.bands;
    let row = state
        .db
        .write(move |conn| register_edit::edit_event(conn, &caller, id, &edit, &bands, now))
        .await?;
    Ok(HttpResponse::Ok().json(RiskEventView::try_from(&row)?))
}

/// Edits a control measure. Leaving checks for monitoring only needs its
/// check tasks retired first (`409`).
#[utoipa::path(
    patch,
    path = "/api/v1/control-measures/{id}",
    operation_id = "edit_control_measure",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = MeasureEdit,
    responses(
        (status = 200, body = ControlMeasureView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn edit_measure(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<MeasureEdit>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let (id, edit, now) = (path.into_inner(), body.into_inner(), state.park.now().utc);
    let row = state
        .db
        .write(move |conn| register_edit::edit_measure(conn, &caller, id, &edit, now))
        .await?;
    Ok(HttpResponse::Ok().json(ControlMeasureView::from(&row)))
}

async fn retire(
    state: web::Data<AppState>,
    caller: Caller,
    node: NodeRef,
    body: Retirement,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageRiskRegister)?;
    let now = state.park.now().utc;
    let retired = state
        .db
        .write(move |conn| register_edit::retire(conn, &caller, node, &body, now))
        .await?;
    Ok(HttpResponse::Ok().json(RetiredView {
        node_kind: retired.node.kind.as_str().into(),
        node_id: retired.node.id,
        enterprise_id: retired.enterprise_id.uuid(),
        retired_at: retired.retired_at.and_utc(),
        tasks_retired: retired.tasks_retired,
    }))
}

macro_rules! retire_route {
    ($name:ident, $path:literal, $operation:literal, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $operation,
            tag = "risk",
            security(("bearer" = [])),
            params(("id" = Uuid, Path)),
            request_body = Retirement,
            responses(
                (status = 200, body = RetiredView),
                (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "Not there, not the caller's, or retired already"),
                (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Kept by the major hazard source registry"),
                (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
            )
        )]
        pub async fn $name(
            state: web::Data<AppState>,
            caller: Caller,
            path: web::Path<Uuid>,
            body: Body<Retirement>,
        ) -> Result<HttpResponse, AppError> {
            let node = NodeRef {
                kind: $kind,
                id: path.into_inner(),
            };
            retire(state, caller, node, body.into_inner()).await
        }
    };
}

retire_route!(
    retire_object,
    "/api/v1/risk-objects/{id}/retire",
    "retire_risk_object",
    NodeKind::Object,
    "Retires an object with its units, events, measures and their check tasks, keeping why."
);
retire_route!(
    retire_unit,
    "/api/v1/risk-units/{id}/retire",
    "retire_risk_unit",
    NodeKind::Unit,
    "Retires a unit with its events, measures and their check tasks, keeping why."
);
retire_route!(
    retire_event,
    "/api/v1/risk-events/{id}/retire",
    "retire_risk_event",
    NodeKind::Event,
    "Retires an event with its measures and their check tasks, keeping why."
);
retire_route!(
    retire_measure,
    "/api/v1/control-measures/{id}/retire",
    "retire_control_measure",
    NodeKind::Measure,
    "Retires a measure and its check tasks, keeping why."
);
retire_route!(
    retire_task,
    "/api/v1/check-tasks/{id}/retire",
    "retire_check_task",
    NodeKind::Task,
    "Retires a check task: nothing is planned from now on; its records stay. A 包保 duty task is the registry's (`409`)."
);

/// An enterprise's register revisions (edits and retirements), newest
/// first, each with the node as it was.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}/risk-register/revisions",
    operation_id = "list_risk_register_revisions",
    tag = "risk",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), RevisionQuery),
    responses(
        (status = 200, body = RevisionPage),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<RevisionQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadRiskRegister)?;
    let enterprise = path.into_inner();
    let limit = query.limit.unwrap_or(50);
    let before = query.before;
    let rows = state
        .db
        .run(move |conn| register_edit::revisions(conn, &caller, enterprise, before, limit))
        .await?;
    let next_before = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.uuid()))
        .flatten();
    Ok(HttpResponse::Ok().json(RevisionPage {
        items: rows.into_iter().map(RevisionView::from).collect(),
        next_before,
    }))
}
