//! Dashboard figures and the yearly and quarterly reports. Dashboards poll:
//! every answer carries an `ETag` derived from a cheap change marker, a
//! matching `If-None-Match` gets `304` without computing anything, and
//! computed figures are reused until the marker moves.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app;
use crate::app::reports::render::{render, ReportFormat};
use crate::app::reports::{Period, Vocabulary};
use crate::app::stats::{self, Overview};
use crate::domain::access::{Caller, Capability};
use crate::error::{AppError, FieldError};
use crate::http::conditional::none_match;
use crate::http::extract::remembered_caller;
use crate::http::state::AppState;
use crate::messages::Rule;

/// The overview's path under `/api/v1`, where it is routed
/// (`http::configure`) and where its revalidations are answered early
/// (`http::revalidation`).
pub const OVERVIEW_PATH: &str = "/stats/overview";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// Only hazards found in this year (park time).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
}

/// The ETag of a view of the figures: the data's change marker, the day
/// (overdue moves at midnight) and what was asked. The marker is read again
/// once it is older than `stats.marker_ttl_ms`, and the day with it.
pub(crate) async fn figures_tag(state: &AppState, scope: &str) -> Result<String, AppError> {
    if let Some(tag) = remembered_figures_tag(state, scope) {
        return Ok(tag);
    }
    let generation = state.reads.generation();
    // The hazards' marker and the checks' (the overview and the reports
    // carry check figures too).
    let marker = state.db.run(figures_marker).await?;
    let today = state.park.now().park_today;
    state.figures.remember_marker(&marker, generation, today);
    Ok(tag_of(&marker, today, scope))
}

/// [`figures_tag`] without waiting: `None` when the change marker was not
/// read within `stats.marker_ttl_ms`, or the data changed here since, and
/// the database must be asked.
pub(crate) fn remembered_figures_tag(state: &AppState, scope: &str) -> Option<String> {
    let ttl = std::time::Duration::from_millis(state.settings.stats.marker_ttl_ms);
    state
        .figures
        .fresh_tag(ttl, state.reads.generation(), scope, tag_of)
}

/// Moves whenever a figure could: the hazards' change marker and the
/// checks' (`db::risk::check_marker`).
pub(crate) fn figures_marker(conn: &mut crate::db::DbConnection) -> Result<String, AppError> {
    Ok(format!(
        "{}|{}",
        crate::db::stats::change_marker(conn)?,
        crate::db::risk::check_marker(conn)?
    ))
}

fn tag_of(marker: &str, day: NaiveDate, scope: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(marker.as_bytes());
    hasher.update(day.num_days_from_ce().to_le_bytes());
    hasher.update(scope.as_bytes());
    let digest = hasher.finalize();
    format!("\"{}\"", crate::domain::hex::hex(&digest[..12]))
}

pub(crate) fn answer(tag: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type(content_type.to_owned())
        .body(body.to_vec())
}

pub(crate) fn unchanged(tag: String) -> HttpResponse {
    let mut response = HttpResponse::new(StatusCode::NOT_MODIFIED);
    let headers = response.headers_mut();
    // Room for what the way out adds (`http::headers`), without regrowing.
    headers.reserve(8);
    if let Ok(tag) = HeaderValue::try_from(tag) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(
        header::CACHE_CONTROL,
        const { HeaderValue::from_static("no-cache") },
    );
    response
}

/// Dashboard counts: open, overdue, pending acceptance, closed, voided; by
/// level, source, category, enterprise and grade; rectification rate.
#[utoipa::path(
    get,
    path = "/api/v1/stats/overview",
    tag = "stats",
    security(("bearer" = [])),
    params(OverviewQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Overview, headers(("ETag" = String))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn overview(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, AppError> {
    let (enterprise_id, scope) = overview_scope(&caller, &query)?;
    let tag = figures_tag(&state, &scope).await?;
    if none_match(&req, &tag) {
        return Ok(unchanged(tag));
    }
    if let Some(body) = state.figures.get(&tag) {
        return Ok(answer(&tag, "application/json", &body));
    }
    let today = state.park.now().park_today;
    let zone = state.park.time_zone;
    let year = query.year;
    let park_wide = caller.scope().is_none();
    let _turn = state.figures.turn().await?;
    let lifecycle = state.lifecycle_context();
    let shared = state.clone().into_inner();
    let overview = state
        .db
        .run(move |conn| {
            let mut overview = stats::overview(conn, today, zone, year, enterprise_id, park_wide)?;
            let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
            overview.checks = Some(stats::overview_checks(
                conn,
                enterprise_id,
                today,
                &context,
            )?);
            Ok(overview)
        })
        .await?;
    let body = serde_json::to_vec(&overview).map_err(|e| AppError::Internal(e.into()))?;
    let body = state.figures.put(tag.clone(), body);
    Ok(answer(&tag, "application/json", &body))
}

/// Who may see which overview: the enterprise it is scoped to, and the
/// scope its `ETag` is taken over.
fn overview_scope(
    caller: &Caller,
    query: &OverviewQuery,
) -> Result<(Option<Uuid>, String), AppError> {
    caller.require(Capability::ReadStats)?;
    let enterprise_id = caller.figures_scope(query.enterprise_id)?;
    if query.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(AppError::invalid("year", years()));
    }
    let scope = format!(
        "overview|{:?}|{:?}|{}",
        query.year,
        enterprise_id,
        caller.scope().is_some()
    );
    Ok((enterprise_id, scope))
}

/// The `304` [`overview`] would answer `req`, when that is known without
/// waiting (`http::revalidation`); `None` for anything else, which
/// [`overview`] answers.
pub(crate) fn overview_unchanged(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    let caller = remembered_caller(req)?;
    let query = web::Query::<OverviewQuery>::from_query(req.query_string()).ok()?;
    let (_, scope) = overview_scope(&caller, &query).ok()?;
    let tag = remembered_figures_tag(state, &scope)?;
    none_match(req, &tag).then(|| unchanged(tag))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default), `csv`, `xlsx` or `md`.
    pub format: Option<ReportFormat>,
    /// The figures as they stood at the end of this day, from the history.
    pub as_of: Option<NaiveDate>,
}

/// Computes a report (in its turn) and renders it.
async fn render_report(
    state: &AppState,
    period: Period,
    as_of: Option<NaiveDate>,
    format: ReportFormat,
) -> Result<Vec<u8>, AppError> {
    let park = state.park.clone();
    let _turn = state.figures.turn().await?;
    let lifecycle = state.lifecycle_context();
    let behind = state.settings.major_sources.behind_below_rate;
    let shared = state.clone();
    let report = state
        .db
        .run(move |conn| {
            let vocabulary = Vocabulary {
                categories: &park.categories,
                specialties: &park.specialties,
                time_zone: park.time_zone,
            };
            let mut report = app::reports::build(conn, period, as_of, &vocabulary)?;
            // The mechanism's figures are worked out as they stand now.
            if let (None, Some(days)) = (as_of, period.days()) {
                let context = crate::http::state::record_context(&shared, &lifecycle, conn)?;
                report.dual_prevention =
                    app::prevention_board::report_section(conn, days, behind, &context)?;
            }
            Ok(report)
        })
        .await?;
    web::block(move || render(&report, format))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering the report: {e}")))?
}

async fn report_response(
    state: &AppState,
    req: &HttpRequest,
    period: Period,
    query: &ReportQuery,
) -> Result<HttpResponse, AppError> {
    let format = query.format.unwrap_or(ReportFormat::Json);
    // A report as it stands now carries the check figures, which move with
    // records and with time.
    let checks = match query.as_of {
        Some(_) => String::new(),
        None => format!(
            "{}|{}",
            state.db.run(crate::db::risk::check_marker).await?,
            state.park.now().utc.format("%Y-%m-%dT%H:%M")
        ),
    };
    let scope = format!("report|{period:?}|{:?}|{format:?}|{checks}", query.as_of);
    let tag = figures_tag(state, &scope).await?;
    if none_match(req, &tag) {
        return Ok(unchanged(tag));
    }
    let body = match state.figures.get(&tag) {
        Some(body) => body,
        None => {
            let bytes = render_report(state, period, query.as_of, format).await?;
            state.figures.put(tag.clone(), bytes)
        }
    };
    let file = match period.quarter {
        Some(q) => format!("hazards-{}-q{q}.{}", period.year, format.extension()),
        None => format!("hazards-{}.{}", period.year, format.extension()),
    };
    let mut response = answer(&tag, format.content_type(), &body);
    if format != ReportFormat::Json {
        if let Ok(value) =
            header::HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// The yearly report (supervisor, admin, viewer).
#[utoipa::path(
    get,
    path = "/api/v1/reports/yearly/{year}",
    tag = "stats",
    security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 2000, maximum = 2100), ReportQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx|md` for text/csv, an XLSX workbook or Markdown",
         content(
             (crate::app::reports::Report = "application/json"),
             (String = "text/csv"),
             (String = "text/markdown"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn yearly(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<i32>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadReports)?;
    let period =
        Period::year(path.into_inner()).ok_or_else(|| AppError::invalid("year", years()))?;
    report_response(&state, &req, period, &query).await
}

/// The quarterly statistics (supervisor, admin, viewer).
#[utoipa::path(
    get,
    path = "/api/v1/reports/quarterly/{year}/{quarter}",
    tag = "stats",
    security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 2000, maximum = 2100), ("quarter" = u32, Path, minimum = 1, maximum = 4), ReportQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, headers(("ETag" = String)),
         description = "JSON by default; `?format=csv|xlsx|md` for text/csv, an XLSX workbook or Markdown",
         content(
             (crate::app::reports::Report = "application/json"),
             (String = "text/csv"),
             (String = "text/markdown"),
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 304, description = "Nothing changed since the ETag sent"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn quarterly(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(i32, u32)>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadReports)?;
    let (year, quarter) = path.into_inner();
    let period = Period::quarter(year, quarter)
        .ok_or_else(|| AppError::invalid("quarter", Rule::QuarterOfYear))?;
    report_response(&state, &req, period, &query).await
}

/// The years the figures cover.
fn years() -> FieldError {
    FieldError::new(Rule::OutOfRange)
        .with("min", 2000)
        .with("max", 2100)
}
