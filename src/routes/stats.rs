//! Dashboard figures and the yearly and quarterly reports. Dashboards poll:
//! every answer carries an `ETag` derived from a cheap change marker, a
//! matching `If-None-Match` gets `304` without computing anything, and
//! computed figures are reused until the marker moves.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::stats::{self, GroupFilter};
use crate::domain::grading::Grade;
use crate::domain::hazard::Role;
use crate::error::AppError;
use crate::report::render::{render, ReportFormat};
use crate::report::{self, percent, Period, Vocabulary};
use crate::state::AppState;
use crate::supervision::{self, GradeCounts};

/// Counts of one slice of the park's hazards.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub reported: i64,
    pub rectifying: i64,
    pub pending_acceptance: i64,
    pub closed: i64,
    pub voided: i64,
    /// reported + rectifying + pending_acceptance.
    pub open: i64,
    /// Not yet submitted and past the deadline day (park time).
    pub overdue: i64,
}

impl Counts {
    fn add_state(&mut self, state: &str, n: i64) {
        match state {
            "reported" => self.reported += n,
            "rectifying" => self.rectifying += n,
            "pending_acceptance" => self.pending_acceptance += n,
            "closed" => self.closed += n,
            _ => self.voided += n,
        }
        if matches!(state, "reported" | "rectifying" | "pending_acceptance") {
            self.open += n;
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseCounts {
    pub enterprise_id: Uuid,
    pub name: String,
    pub grade: Option<Grade>,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// The park-local day the overdue figures are for.
    pub today: NaiveDate,
    pub year: Option<i32>,
    pub enterprise_id: Option<Uuid>,
    #[serde(flatten)]
    pub totals: Counts,
    /// closed / (all but voided), in percent.
    pub rectification_rate: f64,
    /// Open major hazards: the national target (动态清零) is zero.
    pub major_open: i64,
    pub by_level: BTreeMap<String, Counts>,
    pub by_source: BTreeMap<String, Counts>,
    pub by_category: BTreeMap<String, Counts>,
    /// By the enterprises' current grade (`not_assessed` for none).
    pub by_grade: BTreeMap<String, Counts>,
    pub by_enterprise: Vec<EnterpriseCounts>,
    /// Enterprises per grade today (the park's figures; absent for an
    /// enterprise contact).
    pub enterprises_per_grade: Option<GradeCounts>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OverviewQuery {
    /// Only hazards found in this year (park time).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
}

/// Computed figures, kept while the data they came from stands still, and
/// the last change marker read.
#[derive(Default)]
pub struct FiguresCache {
    entries: std::sync::Mutex<HashMap<String, std::sync::Arc<Vec<u8>>>>,
    marker: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl FiguresCache {
    fn fresh_marker(&self, ttl: std::time::Duration) -> Option<String> {
        let marker = self.marker.lock().ok()?;
        marker
            .as_ref()
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, m)| m.clone())
    }

    fn remember_marker(&self, marker: &str) {
        if let Ok(mut slot) = self.marker.lock() {
            *slot = Some((std::time::Instant::now(), marker.to_owned()));
        }
    }

    fn get(&self, tag: &str) -> Option<std::sync::Arc<Vec<u8>>> {
        self.entries.lock().ok()?.get(tag).cloned()
    }

    fn put(&self, tag: String, body: Vec<u8>) -> std::sync::Arc<Vec<u8>> {
        let body = std::sync::Arc::new(body);
        if let Ok(mut entries) = self.entries.lock() {
            // A handful of scopes are polled; anything beyond is stale.
            if entries.len() >= 256 {
                entries.clear();
            }
            entries.insert(tag, body.clone());
        }
        body
    }
}

/// The ETag of a view of the figures: the data's change marker, the day
/// (overdue moves at midnight) and what was asked.
async fn figures_tag(state: &AppState, scope: &str) -> Result<String, AppError> {
    let ttl = std::time::Duration::from_millis(state.settings.stats.marker_ttl_ms);
    let marker = match state.figures.fresh_marker(ttl) {
        Some(marker) => marker,
        None => {
            let marker = state.db.run(stats::change_marker).await?;
            state.figures.remember_marker(&marker);
            marker
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(marker.as_bytes());
    hasher.update(state.park.now().park_today.to_string().as_bytes());
    hasher.update(scope.as_bytes());
    let digest = hasher.finalize();
    Ok(format!(
        "\"{}\"",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag || t.trim() == "*")
        })
}

fn answer(tag: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type(content_type.to_owned())
        .body(body.to_vec())
}

fn unchanged(tag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish()
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
    let enterprise_id = match (caller.scope(), query.enterprise_id) {
        (Some(own), Some(asked)) if own != asked => return Err(AppError::NotFound("enterprise")),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    if query.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(AppError::invalid("year", "must be between 2000 and 2100"));
    }
    let scope = format!(
        "overview|{:?}|{:?}|{}",
        query.year,
        enterprise_id,
        caller.scope().is_some()
    );
    let tag = figures_tag(&state, &scope).await?;
    if not_modified(&req, &tag) {
        return Ok(unchanged(&tag));
    }
    if let Some(body) = state.figures.get(&tag) {
        return Ok(answer(&tag, "application/json", &body));
    }
    let today = state.park.now().park_today;
    let year = query.year;
    let park_wide = caller.scope().is_none();
    let overview = state
        .db
        .run(move |conn| {
            let filter = GroupFilter {
                found_year: year,
                months: None,
                enterprise_id: enterprise_id.map(|id| id.to_string()),
            };
            let groups = stats::hazard_groups(conn, &filter)?;
            let overdue = stats::overdue_groups(conn, today, &filter)?;
            let names: HashMap<String, String> =
                stats::enterprise_names(conn)?.into_iter().collect();
            // Only the grades: review flags would cost two more passes over the hazards.
            let grades = crate::db::grading::grades_as_of(conn, today, None)?;
            let per_grade = if park_wide {
                Some(supervision::grade_counts(conn, today)?)
            } else {
                None
            };
            let grade_of = |id: &str| grades.get(id).and_then(|a| a.grade.parse::<Grade>().ok());
            let grade_key = |id: &str| {
                grade_of(id).map_or("not_assessed".to_owned(), |g| g.as_str().to_owned())
            };

            let mut totals = Counts::default();
            let mut by_level: BTreeMap<String, Counts> = BTreeMap::new();
            let mut by_source: BTreeMap<String, Counts> = BTreeMap::new();
            let mut by_category: BTreeMap<String, Counts> = BTreeMap::new();
            let mut by_grade: BTreeMap<String, Counts> = BTreeMap::new();
            let mut by_enterprise: BTreeMap<String, Counts> = BTreeMap::new();
            let mut major_open = 0;
            for g in &groups {
                totals.add_state(&g.state, g.hazards);
                by_level
                    .entry(g.level.clone())
                    .or_default()
                    .add_state(&g.state, g.hazards);
                by_source
                    .entry(g.source.clone())
                    .or_default()
                    .add_state(&g.state, g.hazards);
                by_category
                    .entry(g.category.clone())
                    .or_default()
                    .add_state(&g.state, g.hazards);
                by_grade
                    .entry(grade_key(&g.enterprise_id))
                    .or_default()
                    .add_state(&g.state, g.hazards);
                by_enterprise
                    .entry(g.enterprise_id.clone())
                    .or_default()
                    .add_state(&g.state, g.hazards);
                if g.level == "major"
                    && matches!(
                        g.state.as_str(),
                        "reported" | "rectifying" | "pending_acceptance"
                    )
                {
                    major_open += g.hazards;
                }
            }
            for o in &overdue {
                let n = o.hazards;
                totals.overdue += n;
                by_level.entry(o.level.clone()).or_default().overdue += n;
                by_source.entry(o.source.clone()).or_default().overdue += n;
                by_category.entry(o.category.clone()).or_default().overdue += n;
                by_grade
                    .entry(grade_key(&o.enterprise_id))
                    .or_default()
                    .overdue += n;
                by_enterprise
                    .entry(o.enterprise_id.clone())
                    .or_default()
                    .overdue += n;
            }
            let mut enterprises: Vec<EnterpriseCounts> = by_enterprise
                .into_iter()
                .map(|(id, counts)| EnterpriseCounts {
                    enterprise_id: Uuid::parse_str(&id).unwrap_or(Uuid::nil()),
                    name: names.get(&id).cloned().unwrap_or_default(),
                    grade: grade_of(&id),
                    counts,
                })
                .collect();
            enterprises.sort_by(|a, b| {
                b.counts
                    .open
                    .cmp(&a.counts.open)
                    .then_with(|| a.name.cmp(&b.name))
            });
            Ok(Overview {
                today,
                year,
                enterprise_id,
                rectification_rate: percent(totals.closed, totals.open + totals.closed),
                totals,
                major_open,
                by_level,
                by_source,
                by_category,
                by_grade,
                by_enterprise: enterprises,
                enterprises_per_grade: per_grade,
            })
        })
        .await?;
    let body = serde_json::to_vec(&overview).map_err(|e| AppError::Internal(e.into()))?;
    let body = state.figures.put(tag.clone(), body);
    Ok(answer(&tag, "application/json", &body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default), `csv`, `xlsx` or `md`.
    pub format: Option<ReportFormat>,
    /// The figures as they stood at the end of this day, from the history.
    pub as_of: Option<NaiveDate>,
}

const REPORT_READERS: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Viewer];

async fn report_response(
    state: &AppState,
    req: &HttpRequest,
    period: Period,
    query: &ReportQuery,
) -> Result<HttpResponse, AppError> {
    let format = query.format.unwrap_or(ReportFormat::Json);
    let scope = format!("report|{period:?}|{:?}|{format:?}", query.as_of);
    let tag = figures_tag(state, &scope).await?;
    if not_modified(req, &tag) {
        return Ok(unchanged(&tag));
    }
    let body = match state.figures.get(&tag) {
        Some(body) => body,
        None => {
            let as_of = query.as_of;
            let park = state.park.clone();
            let report = state
                .db
                .run(move |conn| {
                    let vocabulary = Vocabulary {
                        categories: &park.categories,
                        specialties: &park.specialties,
                        time_zone: park.time_zone,
                    };
                    report::build(conn, period, as_of, &vocabulary)
                })
                .await?;
            let bytes = web::block(move || render(&report, format))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering the report: {e}")))??;
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
             (crate::report::Report = "application/json"),
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
    caller.require(&REPORT_READERS, "read the park's reports")?;
    let period = Period::year(path.into_inner())
        .ok_or_else(|| AppError::invalid("year", "must be between 2000 and 2100"))?;
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
             (crate::report::Report = "application/json"),
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
    caller.require(&REPORT_READERS, "read the park's reports")?;
    let (year, quarter) = path.into_inner();
    let period = Period::quarter(year, quarter).ok_or_else(|| {
        AppError::invalid("quarter", "must be 1–4 of a year between 2000 and 2100")
    })?;
    report_response(&state, &req, period, &query).await
}
