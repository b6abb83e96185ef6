//! Inspections: one visit of one kind of check to one enterprise.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::hazards::parse_id;
use crate::db::enterprises;
use crate::db::inspections::{self, Inspection, InspectionFilter};
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::may_record_source;
use crate::domain::hazard::CheckSource;
use crate::domain::text::required_text;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

const MAX_INSPECTORS: usize = 50;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InspectionView {
    pub id: Uuid,
    pub source: CheckSource,
    pub enterprise_id: Uuid,
    /// The enterprise that did the checking, for mutual checks.
    pub checking_enterprise_id: Option<Uuid>,
    pub inspected_on: NaiveDate,
    pub inspectors: Vec<String>,
    pub notes: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<Inspection> for InspectionView {
    type Error = AppError;

    fn try_from(i: Inspection) -> Result<InspectionView, AppError> {
        let corrupt = |what: &str| {
            AppError::Internal(anyhow::anyhow!("inspection {} has a bad {what}", i.id))
        };
        Ok(InspectionView {
            id: Uuid::parse_str(&i.id).map_err(|_| corrupt("id"))?,
            source: i.source,
            enterprise_id: Uuid::parse_str(&i.enterprise_id)
                .map_err(|_| corrupt("enterprise_id"))?,
            checking_enterprise_id: i.checking_enterprise_id.as_deref().map(parse_id),
            inspected_on: i.inspected_on,
            inspectors: serde_json::from_str(&i.inspectors).map_err(|_| corrupt("inspectors"))?,
            notes: i.notes,
            created_by: parse_id(&i.created_by),
            created_at: i.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInspection {
    pub source: CheckSource,
    pub enterprise_id: Uuid,
    /// Required for `mutual_check`, refused otherwise.
    pub checking_enterprise_id: Option<Uuid>,
    /// Not in the future (park time).
    pub inspected_on: NaiveDate,
    #[serde(default)]
    pub inspectors: Vec<String>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListInspectionsQuery {
    pub source: Option<CheckSource>,
    pub enterprise_id: Option<Uuid>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Checks who may record a check of this source in this enterprise, and
/// that the checking enterprise fits the source. Shared with hazards.
pub fn check_source_rules(
    caller: &Caller,
    source: CheckSource,
    enterprise_id: Uuid,
    checking_enterprise_id: Option<Uuid>,
) -> Result<(), AppError> {
    if !may_record_source(caller.role, source) {
        return Err(AppError::forbidden(format!(
            "the {} role may only record its own self-checks (self_check), not {source}",
            caller.role
        )));
    }
    if !caller.can_see_enterprise(enterprise_id) {
        return Err(AppError::forbidden(
            "an enterprise contact may only record data of its own enterprise",
        ));
    }
    match (source, checking_enterprise_id) {
        (CheckSource::MutualCheck, None) => Err(AppError::invalid(
            "checking_enterprise_id",
            "is required for a mutual check: name the enterprise that did the checking",
        )),
        (CheckSource::MutualCheck, Some(checker)) if checker == enterprise_id => {
            Err(AppError::invalid(
                "checking_enterprise_id",
                "must differ from enterprise_id: a mutual check is done by another enterprise",
            ))
        }
        (CheckSource::MutualCheck, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(AppError::invalid(
            "checking_enterprise_id",
            "is only for mutual checks",
        )),
    }
}

/// Records an inspection.
#[utoipa::path(
    post,
    path = "/api/v1/inspections",
    tag = "inspections",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateInspection,
    responses(
        (status = 201, body = InspectionView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_inspection(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: web::Json<CreateInspection>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReportHazards)?;
    let body = body.into_inner();
    check_source_rules(
        &caller,
        body.source,
        body.enterprise_id,
        body.checking_enterprise_id,
    )?;
    let now = state.park.now();
    if body.inspected_on > now.park_today {
        return Err(AppError::invalid(
            "inspected_on",
            "must not be in the future",
        ));
    }
    if body.inspectors.len() > MAX_INSPECTORS {
        return Err(AppError::invalid(
            "inspectors",
            format!("at most {MAX_INSPECTORS} names"),
        ));
    }
    let inspectors = body
        .inspectors
        .iter()
        .map(|name| required_text("inspectors", name, 100))
        .collect::<Result<Vec<_>, _>>()?;
    if body.notes.chars().count() > 10_000 {
        return Err(AppError::invalid(
            "notes",
            "must be at most 10000 characters",
        ));
    }
    let inspection = Inspection {
        id: Uuid::now_v7().to_string(),
        source: body.source,
        enterprise_id: body.enterprise_id.to_string(),
        checking_enterprise_id: body.checking_enterprise_id.map(|id| id.to_string()),
        inspected_on: body.inspected_on,
        inspectors: serde_json::to_string(&inspectors).map_err(|e| AppError::Internal(e.into()))?,
        notes: body.notes.trim().to_owned(),
        created_by: caller.user_id.to_string(),
        created_at: now.utc,
    };
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        if !enterprises::exists(conn, &inspection.enterprise_id)? {
            return Err(AppError::invalid("enterprise_id", "no such enterprise"));
        }
        if let Some(checker) = &inspection.checking_enterprise_id {
            if !enterprises::exists(conn, checker)? {
                return Err(AppError::invalid(
                    "checking_enterprise_id",
                    "no such enterprise",
                ));
            }
        }
        inspections::insert(conn, &inspection)?;
        let location = format!("/api/v1/inspections/{}", inspection.id);
        Created::new(&InspectionView::try_from(inspection)?, location, None)
    })
    .await
}

/// Lists inspections, newest first; an enterprise contact sees its own.
#[utoipa::path(
    get,
    path = "/api/v1/inspections",
    tag = "inspections",
    security(("bearer" = [])),
    params(ListInspectionsQuery),
    responses((status = 200, body = Paginated<InspectionView>))
)]
pub async fn list_inspections(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListInspectionsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let enterprise_id = match (caller.scope(), query.enterprise_id) {
        // Asking for another enterprise's inspections finds none.
        (Some(own), Some(asked)) if own != asked => {
            return Ok(HttpResponse::Ok().json(Paginated::<InspectionView> {
                items: vec![],
                next_cursor: None,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let filter = InspectionFilter {
        enterprise_id: enterprise_id.map(|id| id.to_string()),
        source: query.source.map(|s| s.as_str().to_owned()),
    };
    let rows = state
        .db
        .run(move |conn| inspections::list(conn, &filter, before.as_deref(), page.fetch()))
        .await?;
    let views = rows
        .into_iter()
        .map(InspectionView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |i| i.id.to_string(), |i| i)))
}

/// One inspection.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}",
    tag = "inspections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = InspectionView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_inspection(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadInspections)?;
    let id = path.into_inner().to_string();
    let row = state
        .db
        .run(move |conn| inspections::find(conn, &id))
        .await?
        .filter(|i| caller.can_see_enterprise(parse_id(&i.enterprise_id)))
        .ok_or(AppError::NotFound("inspection"))?;
    Ok(HttpResponse::Ok().json(InspectionView::try_from(row)?))
}
