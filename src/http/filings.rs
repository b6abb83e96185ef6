//! Art. 14 statistical filings over HTTP: who has filed and who is late,
//! one filing with its versions, and filing. The rules live in
//! `domain::filing`, the figures and versions in `app::filings`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::filings::{Filing, FilingFigures, FilingQuery};
use crate::domain::access::{Caller, Capability};
use crate::domain::filing::{FileRequest, FilingStatus};
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::disclosure::Disclose;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

/// Quarterly or yearly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilingKind {
    Quarterly,
    Yearly,
}

/// An enterprise's filing for one period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingView {
    /// Stable for the (enterprise, period), before anything is filed too.
    pub id: Uuid,
    pub enterprise_id: Uuid,
    pub enterprise_name: String,
    pub kind: FilingKind,
    pub year: i32,
    /// 1–4 for a quarterly filing.
    pub quarter: Option<u32>,
    /// `2026年第1季度`, `2026年度`.
    pub period_label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The last day to file (Art. 14), park time.
    pub due_on: NaiveDate,
    pub status: FilingStatus,
    /// As filed in the latest version; before any, as prepared now.
    pub figures: FilingFigures,
    /// Every version filed, oldest first; a correction is a new one.
    pub versions: Vec<FilingVersionView>,
}

/// One version filed. The principal, the notes (which may hold phone
/// numbers) and who filed are `null` for roles that see aggregates only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingVersionView {
    pub version: i32,
    pub principal_name: Option<String>,
    pub note: Option<String>,
    pub correction_reason: Option<String>,
    pub filed_by: Option<Uuid>,
    pub filed_at: DateTime<Utc>,
    /// The figures frozen as filed.
    pub figures: FilingFigures,
}

impl TryFrom<Filing> for FilingView {
    type Error = AppError;

    fn try_from(f: Filing) -> Result<FilingView, AppError> {
        let versions = f
            .versions
            .into_iter()
            .map(|v| {
                Ok(FilingVersionView {
                    version: v.version,
                    principal_name: Some(v.principal_name),
                    note: v.note,
                    correction_reason: v.correction_reason,
                    filed_by: Some(v.filed_by.uuid()),
                    filed_at: v.filed_at.and_utc(),
                    figures: serde_json::from_str(&v.figures)
                        .map_err(|e| AppError::Internal(e.into()))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(FilingView {
            id: f.id,
            enterprise_id: f.enterprise_id,
            enterprise_name: f.enterprise_name,
            kind: match f.period.quarter {
                Some(_) => FilingKind::Quarterly,
                None => FilingKind::Yearly,
            },
            year: f.period.year,
            quarter: f.period.quarter,
            period_label: match f.period.quarter {
                Some(q) => format!("{}年第{q}季度", f.period.year),
                None => format!("{}年度", f.period.year),
            },
            first_day: f.period.first_day,
            last_day: f.period.last_day,
            due_on: f.due_on,
            status: f.status,
            figures: f.figures,
            versions,
        })
    }
}

impl Disclose for FilingView {
    /// The figures stay; the people and the free text go.
    fn aggregate_only(mut self) -> FilingView {
        for version in &mut self.versions {
            version.principal_name = None;
            version.note = None;
            version.correction_reason = None;
            version.filed_by = None;
        }
        self
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListFilingsQuery {
    /// Default: this year (park time).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// One quarter; without it, the four quarters and the year.
    #[param(minimum = 1, maximum = 4)]
    pub quarter: Option<u32>,
    /// Only quarterly or only yearly filings.
    pub kind: Option<FilingKind>,
    pub enterprise_id: Option<Uuid>,
    /// `late` lists who has not filed by the due day.
    pub status: Option<FilingStatus>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// The Art. 14 filings of a year (or one quarter): each enterprise's
/// figures, due day and status, so the park sees who has filed and who is
/// late; an enterprise contact sees its own.
#[utoipa::path(
    get,
    path = "/api/v1/filings",
    tag = "filings",
    security(("bearer" = [])),
    params(ListFilingsQuery),
    responses(
        (status = 200, body = Paginated<FilingView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_filings(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListFilingsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadFilings)?;
    let page = Page::new(query.limit)?;
    let after = decode_id_cursor(query.cursor.as_deref())?.map(|id| id.uuid());
    let today = state.park.now().park_today;
    let year = query.year.unwrap_or(chrono::Datelike::year(&today));
    let filter = FilingQuery {
        year,
        quarter: query
            .quarter
            .filter(|_| query.kind != Some(FilingKind::Yearly)),
        yearly_only: query.kind == Some(FilingKind::Yearly),
        quarterly_only: query.kind == Some(FilingKind::Quarterly),
        enterprise_id: query.enterprise_id,
        status: query.status,
    };
    let lifecycle = state.lifecycle_context();
    let behind = state.settings.major_sources.behind_below_rate;
    let shared = state.clone().into_inner();
    let page_size = page.fetch();
    let filings = state
        .db
        .run(move |conn| {
            let filings = app::filings::list(conn, &caller, &filter, today)?;
            // The page first: the figures kept elsewhere are worked out
            // for the filings shown only.
            let start = after.map_or(0, |id| {
                filings
                    .iter()
                    .position(|f| f.id == id)
                    .map_or(filings.len(), |i| i + 1)
            });
            let mut filings: Vec<_> = filings
                .into_iter()
                .skip(start)
                .take(usize::try_from(page_size).unwrap_or(usize::MAX))
                .collect();
            let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
            app::duty_figures::with_duties(conn, &mut filings, behind, &context)?;
            app::check_figures::with_checks(conn, &mut filings, &context)?;
            Ok(filings)
        })
        .await?;
    let views = filings
        .into_iter()
        .map(|f| FilingView::try_from(f).map(|v| v.seen_by(&caller)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |f| f.id.to_string(), |f| f)))
}

/// One filing with every version filed.
#[utoipa::path(
    get,
    path = "/api/v1/filings/{id}",
    tag = "filings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FilingView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_filing(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadFilings)?;
    let id = path.into_inner();
    let today = state.park.now().park_today;
    let lifecycle = state.lifecycle_context();
    let behind = state.settings.major_sources.behind_below_rate;
    let shared = state.clone().into_inner();
    let filing = state
        .db
        .run(move |conn| {
            let mut filing = app::filings::find(conn, &caller, id, today)?;
            let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
            let one = std::slice::from_mut(&mut filing);
            app::duty_figures::with_duties(conn, one, behind, &context)?;
            app::check_figures::with_checks(conn, one, &context)?;
            Ok(filing)
        })
        .await?;
    Ok(HttpResponse::Ok().json(FilingView::try_from(filing)?.seen_by(&caller)))
}

/// Files the period's statistical analysis as it stands, signed by the
/// principal (the enterprise's contact, after the period has ended). Its
/// figures are frozen as filed; filing again is a correction: a new
/// version with its reason, the earlier ones kept.
#[utoipa::path(
    post,
    path = "/api/v1/filings/{id}/file",
    tag = "filings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = FileRequest,
    responses(
        (status = 201, body = FilingView, headers(("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn file_filing(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<FileRequest>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::FileStatutoryReports)?;
    let id = path.into_inner();
    let request = body.into_inner();
    let fingerprint = serde_json::to_value(&request).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.park.now();
    let lifecycle = state.lifecycle_context();
    let behind = state.settings.major_sources.behind_below_rate;
    let shared = state.clone().into_inner();
    create_idempotently(&state, &req, &caller, &fingerprint, move |conn| {
        let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
        let extras = |conn: &mut crate::db::DbConnection,
                      enterprise,
                      period: &app::reports::Period,
                      figures: &mut app::filings::FilingFigures| {
            let days = (period.first_day, period.last_day);
            figures.major_sources =
                app::duty_figures::summary_of(conn, enterprise, days, behind, &context)?;
            figures.checks = app::check_figures::summary_of(conn, enterprise, days, &context)?;
            Ok(())
        };
        let filing = app::filings::file(conn, &caller, id, &request, now, extras)?;
        Created::new(
            &FilingView::try_from(filing)?,
            format!("/api/v1/filings/{id}"),
            None,
        )
    })
    .await
}
