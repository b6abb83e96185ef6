//! Risk grading over HTTP: assessments, the due list of differentiated
//! supervision, counts per grade, and an enterprise's history.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::grading::{DueEnterprise, GradeCounts};
use crate::db::grading::{self as store, Assessment, EnterpriseEvent};
use crate::db::Id;
use crate::domain::access::Role;
use crate::domain::access::{Caller, Capability};
use std::collections::HashMap;

use crate::domain::grading::{CreateAssessment, DueItem, DueReason, Grade};
use crate::error::{AppError, FieldError};
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_cursor, Created, Page, Paginated};
use crate::messages::Rule;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    /// Points out of 100.
    pub score: f64,
    pub direct_red_triggers: Vec<String>,
    /// Derived from the score and triggers; never typed in.
    pub grade: Grade,
    /// The threshold set the grade was derived with.
    pub thresholds_version: String,
    #[schema(value_type = Object)]
    pub thresholds: serde_json::Value,
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub notes: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl TryFrom<Assessment> for AssessmentView {
    type Error = AppError;

    fn try_from(a: Assessment) -> Result<AssessmentView, AppError> {
        let bad = |what: &str| {
            AppError::Internal(anyhow::anyhow!("assessment {} has a bad {what}", a.id))
        };
        Ok(AssessmentView {
            id: a.id.uuid(),
            enterprise_id: a.enterprise_id.uuid(),
            score: f64::from(a.score_centi) / 100.0,
            direct_red_triggers: serde_json::from_str(&a.direct_red_triggers)
                .map_err(|_| bad("triggers"))?,
            grade: a.grade,
            thresholds: serde_json::from_str(&a.thresholds).map_err(|_| bad("thresholds"))?,
            thresholds_version: a.thresholds_version,
            assessed_on: a.assessed_on,
            assessor: a.assessor,
            notes: a.notes,
            recorded_by: a.recorded_by.uuid(),
            recorded_at: a.recorded_at.and_utc(),
        })
    }
}

/// Records a safety-risk assessment; the grade is derived (supervisor, admin).
#[utoipa::path(
    post,
    path = "/api/v1/enterprises/{id}/assessments",
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateAssessment,
    responses(
        (status = 201, body = AssessmentView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<CreateAssessment>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::AssessEnterprises)?;
    let body = body.into_inner();
    let grading = &state.settings.grading;
    let thresholds = grading.thresholds().map_err(AppError::Internal)?;
    let today = state.park.now().park_today;
    let new = body.parse(&caller, &grading.direct_red_triggers, today)?;
    let enterprise_id = path.into_inner();
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let assessment =
            app::grading::record_assessment(conn, &caller, enterprise_id, new, &thresholds)?;
        let view = AssessmentView::try_from(assessment)?;
        Created::new(
            &view,
            format!("/api/v1/enterprises/{enterprise_id}/assessments"),
            None,
        )
    })
    .await
}

/// An enterprise's assessments, latest first (supervisor, admin; an
/// enterprise contact its own).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}/assessments",
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Paginated<AssessmentView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_assessments(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAssessments)?;
    let id = path.into_inner();
    if !caller.can_see_enterprise(id) {
        return Err(AppError::NotFound("enterprise"));
    }
    let rows = state
        .db
        .run(move |conn| {
            let id = Id::from(id);
            if !crate::db::enterprises::exists(conn, id)? {
                return Err(AppError::NotFound("enterprise"));
            }
            store::assessments(conn, id)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(AssessmentView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Read "today" as this day (default today, park time).
    pub as_of: Option<NaiveDate>,
    /// Also list what falls due within this many days (default 0, max 366).
    #[param(minimum = 0, maximum = 366)]
    pub within_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DueItemView {
    pub reason: DueReason,
    pub due_on: NaiveDate,
    /// Days past `due_on` as of the day asked for; negative when still ahead.
    pub days_overdue: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DueEnterpriseView {
    pub enterprise_id: Uuid,
    pub name: String,
    pub grade: Option<Grade>,
    pub last_assessed_on: Option<NaiveDate>,
    pub review_suggested: bool,
    pub review_reasons: Vec<String>,
    /// What is due, earliest first.
    pub due: Vec<DueItemView>,
}

impl DueEnterpriseView {
    fn build(d: DueEnterprise, today: NaiveDate) -> Result<DueEnterpriseView, AppError> {
        Ok(DueEnterpriseView {
            enterprise_id: d.enterprise.id.uuid(),
            name: d.enterprise.name,
            grade: d.standing.grade(),
            last_assessed_on: d.standing.assessment.as_ref().map(|a| a.assessed_on),
            review_suggested: !d.standing.review_reasons.is_empty(),
            review_reasons: d.standing.review_reasons,
            due: d
                .items
                .into_iter()
                .map(|i| DueItemView {
                    reason: i.reason,
                    due_on: i.due_on,
                    days_overdue: (today - i.due_on).num_days(),
                })
                .collect(),
        })
    }
}

/// Enterprises whose reassessment or next supervision inspection is due or
/// overdue, most urgent first (supervisor, admin, expert).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/due",
    tag = "grading",
    security(("bearer" = [])),
    params(DueQuery),
    responses(
        (status = 200, body = Paginated<DueEnterpriseView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn due(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DueQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadSupervisionDue)?;
    let within = query.within_days.unwrap_or(0);
    if within > 366 {
        return Err(AppError::invalid(
            "within_days",
            FieldError::new(Rule::AtMost).with("max", 366),
        ));
    }
    let today = query.as_of.unwrap_or(state.park.now().park_today);
    let horizon = today + chrono::Days::new(u64::from(within));
    let grading = state.settings.grading.clone();
    let lifecycle = state.lifecycle_context();
    // Check completion is about now: looked at only for today's list.
    let completion = (today == lifecycle.now.park_today).then(|| {
        let risk = &state.settings.risk;
        (risk.completion_alert_rate, risk.completion_window_days)
    });
    let sources = state.settings.major_sources.clone();
    let shared = state.clone().into_inner();
    let due = state
        .db
        .run(move |conn| {
            let mut flagged: HashMap<Id, Vec<(DueItem, String)>> = HashMap::new();
            if let Some((rate, days)) = completion {
                let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
                for (id, why) in app::check_figures::behind(conn, &context, rate, days)? {
                    let item = DueItem {
                        reason: DueReason::CheckCompletion,
                        due_on: today,
                    };
                    flagged.entry(id).or_default().push((item, why));
                }
            }
            for due in app::major_sources::due(conn, today, &sources)? {
                let why = due.reason();
                flagged
                    .entry(due.enterprise_id)
                    .or_default()
                    .push((due.item, why));
            }
            app::grading::due_list(conn, &grading, today, horizon, &flagged)
        })
        .await?;
    let items = due
        .into_iter()
        .map(|d| DueEnterpriseView::build(d, today))
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GradeCountsView {
    pub as_of: NaiveDate,
    #[serde(flatten)]
    pub counts: GradeCounts,
}

/// Enterprises per grade on a day (default today).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/grade-counts",
    tag = "grading",
    security(("bearer" = [])),
    params(crate::http::enterprises::AsOfQuery),
    responses(
        (status = 200, body = GradeCountsView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn grade_counts(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<crate::http::enterprises::AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadParkFigures)?;
    let as_of = query.as_of.unwrap_or(state.park.now().park_today);
    let counts = state
        .db
        .run(move |conn| app::grading::grade_counts(conn, as_of))
        .await?;
    Ok(HttpResponse::Ok().json(GradeCountsView { as_of, counts }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnterpriseEventView {
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub seq: i32,
    /// `registered`, `updated`, `assessed`.
    pub action: String,
    pub actor_id: Uuid,
    pub actor_role: Role,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl TryFrom<EnterpriseEvent> for EnterpriseEventView {
    type Error = AppError;

    fn try_from(e: EnterpriseEvent) -> Result<EnterpriseEventView, AppError> {
        let bad = |what: &str| {
            AppError::Internal(anyhow::anyhow!(
                "enterprise event {} has a bad {what}",
                e.id
            ))
        };
        Ok(EnterpriseEventView {
            id: e.id.uuid(),
            enterprise_id: e.enterprise_id.uuid(),
            seq: e.seq,
            actor_id: e.actor_id.uuid(),
            actor_role: e.actor_role,
            occurred_at: e.occurred_at.and_utc(),
            recorded_at: e.recorded_at.and_utc(),
            details: serde_json::from_str(&e.details).map_err(|_| bad("details"))?,
            action: e.action,
            note: e.note,
        })
    }
}

/// The enterprise's append-only history: registration, changes, assessments.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}/events",
    tag = "grading",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), crate::http::hazards::PageQuery),
    responses(
        (status = 200, body = Paginated<EnterpriseEventView>),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<crate::http::hazards::PageQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAssessments)?;
    let id = path.into_inner();
    if !caller.can_see_enterprise(id) {
        return Err(AppError::NotFound("enterprise"));
    }
    let page = Page::new(query.limit)?;
    let after = decode_cursor::<i32>(query.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| {
            let id = Id::from(id);
            if !crate::db::enterprises::exists(conn, id)? {
                return Err(AppError::NotFound("enterprise"));
            }
            store::events(conn, id, after, page.fetch())
        })
        .await?;
    let views = rows
        .into_iter()
        .map(EnterpriseEventView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |e| e.seq.to_string(), |e| e)))
}

/// The direct-red trigger catalogue, for assessment forms.
#[utoipa::path(
    get,
    path = "/api/v1/reference/direct-red-triggers",
    tag = "reference",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<crate::settings::CodeLabel>))
)]
pub async fn direct_red_triggers(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.settings.grading.direct_red_triggers)
}
