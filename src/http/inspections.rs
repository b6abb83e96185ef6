//! Inspections: one visit of one kind of check to one enterprise.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::db::inspections::{self, Inspection, InspectionFilter};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::CheckSource;
use crate::domain::inspection::CreateInspection;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

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
            id: i.id.uuid(),
            source: i.source,
            enterprise_id: i.enterprise_id.uuid(),
            checking_enterprise_id: i.checking_enterprise_id.map(Id::uuid),
            inspected_on: i.inspected_on,
            inspectors: serde_json::from_str(&i.inspectors).map_err(|_| corrupt("inspectors"))?,
            notes: i.notes,
            created_by: i.created_by.uuid(),
            created_at: i.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListInspectionsQuery {
    pub source: Option<CheckSource>,
    pub enterprise_id: Option<Uuid>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
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
    body: Body<CreateInspection>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReportHazards)?;
    let body = body.into_inner();
    let now = state.park.now();
    let new = body.parse(&caller, &now)?;
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let inspection = app::inspections::record(conn, new)?;
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
        enterprise_id: enterprise_id.map(Id::from),
        source: query.source,
    };
    let rows = state
        .db
        .run(move |conn| inspections::list(conn, &filter, before, page.fetch()))
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
    let id = Id::from(path.into_inner());
    let row = state
        .db
        .run(move |conn| inspections::find(conn, id))
        .await?
        .filter(|i| caller.can_see_enterprise(i.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("inspection"))?;
    Ok(HttpResponse::Ok().json(InspectionView::try_from(row)?))
}
