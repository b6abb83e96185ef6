//! `/api/v1/analytics/…`: the analyses of `app::analytics` over HTTP, each
//! with the overview's `ETag`/`304` and figures cache, scoped as the
//! overview is (an enterprise contact sees its own enterprise only), and
//! each as JSON, CSV or XLSX.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::analytics::{
    self, Ageing, Facts, Filter, GroupBy, Locations, RectificationTime, Recurring, ScoreInputs,
    Scorecard, ScorecardSort, Table, Trends,
};
use crate::domain::access::{Caller, Capability};
use crate::domain::grading::Grade;
use crate::domain::hazard::{CheckSource, HazardLevel};
use crate::error::AppError;
use crate::http::conditional::none_match;
use crate::http::disclosure::{discloses_to, Disclose};
use crate::http::state::{record_context, AppState};
use crate::http::stats::{answer, figures_tag, unchanged};

/// How an analysis is sent.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

/// The cuts every analysis takes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// Hazards found on or after this day (park time).
    pub from: Option<NaiveDate>,
    /// Hazards found on or before this day (park time); for trends, the
    /// last month shown.
    pub to: Option<NaiveDate>,
    /// Only this enterprise (an enterprise contact always gets its own).
    pub enterprise_id: Option<Uuid>,
    pub source: Option<CheckSource>,
    pub level: Option<HazardLevel>,
    /// Only enterprises of this grade today.
    pub grade: Option<Grade>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<TableFormat>,
    /// Rectification time: what to group by (default `source`).
    pub group_by: Option<GroupBy>,
    /// Scorecard: the column to sort by (default `overdue_now`).
    pub sort: Option<ScorecardSort>,
    /// Recurring hazards: require the same location too (default false).
    pub match_location: Option<bool>,
    /// Locations: how many (default 20); recurring hazards: how many of
    /// the latest found to list (default 100; `count` counts them all).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The analyses, by the last segment of their path.
#[derive(Debug, Clone, Copy)]
enum Analysis {
    RectificationTime,
    Ageing,
    Scorecard,
    Recurring,
    Trends,
    Locations,
}

/// The query parameters each analysis reads, by the last segment of its
/// path: the document lists these alone for each operation.
pub fn parameters_read(analysis: &str) -> Option<Vec<&'static str>> {
    // Trends show the 24 months up to `to`, whatever `from` says.
    let cuts = ["to", "enterprise_id", "source", "level", "grade", "format"];
    let (from, own): (bool, &[&'static str]) = match analysis {
        "rectification-time" => (true, &["group_by"]),
        "ageing" => (true, &[]),
        "scorecard" => (true, &["sort"]),
        "recurring" => (true, &["match_location", "limit"]),
        "trends" => (false, &[]),
        "locations" => (true, &["limit"]),
        _ => return None,
    };
    let from = from.then_some("from");
    Some(
        from.into_iter()
            .chain(cuts)
            .chain(own.iter().copied())
            .collect(),
    )
}

impl AnalyticsQuery {
    /// The filter as the caller may see it: a contact's own enterprise.
    fn filter(&self, caller: &Caller) -> Result<Filter, AppError> {
        Filter::new(
            self.from,
            self.to,
            caller.figures_scope(self.enterprise_id)?,
            self.source,
            self.level,
            self.grade,
        )
    }
}

/// Computes `analysis` (or reuses it while nothing changed) and sends it.
async fn analyse(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    query: AnalyticsQuery,
    analysis: Analysis,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadAnalytics)?;
    let filter = query.filter(&caller)?;
    let limit = analytics::listed(
        query.limit,
        match analysis {
            Analysis::Recurring => analytics::RECURRING_LISTED,
            _ => analytics::LOCATIONS_LISTED,
        },
    )?;
    let format = query.format.unwrap_or_default();
    let disclosed = discloses_to(&caller);
    let mut scope = format!("analytics|{analysis:?}|{filter:?}|{query:?}|{disclosed}");
    let lifecycle = state.lifecycle_context();
    if matches!(analysis, Analysis::Scorecard) {
        // Its checks change as records are made and as time passes.
        let checks = state.db.run(crate::db::risk::check_marker).await?;
        let minute = lifecycle.now.utc.format("%Y-%m-%dT%H:%M");
        scope.push_str(&format!("|{checks}|{minute}"));
    }
    let tag = figures_tag(&state, &scope).await?;
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
    let park = state.park.clone();
    let today = park.now().park_today;
    let sources = state.settings.grading.supervision_sources.clone();
    let rules = state.settings.risk.evaluation;
    let inner = state.clone();
    let store = state.facts.clone();
    let _turn = state.figures.turn().await?;
    let body = state
        .db
        .run(move |conn| {
            store.with(conn, &park, |conn, table| {
                let since = matches!(analysis, Analysis::Trends)
                    .then(|| analytics::trends_since(filter.to.unwrap_or(today)));
                let facts = Facts::new(conn, table, &park, &filter, today, since)?;
                let (json, table): (serde_json::Result<Vec<u8>>, Table) = match analysis {
                    Analysis::RectificationTime => {
                        let found = analytics::rectification_time(
                            &facts,
                            query.group_by.unwrap_or(GroupBy::Source),
                        );
                        (serde_json::to_vec(&found), found.table())
                    }
                    Analysis::Ageing => {
                        let found = analytics::ageing(&facts);
                        (serde_json::to_vec(&found), found.table())
                    }
                    Analysis::Scorecard => {
                        let mut inputs = ScoreInputs::load(conn, &sources)?;
                        if let Some(period) = analytics::checks_period(&filter, today) {
                            let context = record_context(&inner, &lifecycle, conn)?;
                            let (checks, month) = crate::app::evaluation::score_checks(
                                conn,
                                filter.enterprise_id,
                                period.1,
                                &rules,
                                &context,
                            )?;
                            inputs.checks = checks;
                            inputs.checks_period = Some(period);
                            inputs.evaluation_month = Some(month);
                        }
                        let sort = query.sort.unwrap_or(ScorecardSort::OverdueNow);
                        let found = analytics::scorecard(&facts, &inputs, sort);
                        (serde_json::to_vec(&found), found.table())
                    }
                    Analysis::Recurring => {
                        let found = analytics::recurring(
                            &facts,
                            query.match_location.unwrap_or(false),
                            limit,
                        )
                        .seen_by(&caller);
                        (serde_json::to_vec(&found), found.table())
                    }
                    Analysis::Trends => {
                        let found = analytics::trends(&facts);
                        (serde_json::to_vec(&found), found.table())
                    }
                    Analysis::Locations => {
                        let found = analytics::locations(&facts, limit).seen_by(&caller);
                        (serde_json::to_vec(&found), found.table())
                    }
                };
                match format {
                    TableFormat::Json => json.map_err(|e| AppError::Internal(e.into())),
                    TableFormat::Csv => table.csv(),
                    TableFormat::Xlsx => table.xlsx(),
                }
            })
        })
        .await?;
    let body = state.figures.put(tag.clone(), body);
    Ok(answer(&tag, content_type, &body))
}

/// Declares one analysis endpoint: its path, its JSON body and its doc.
macro_rules! analysis_endpoint {
    ($name:ident, $path:literal, $body:ty, $analysis:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            get,
            path = $path,
            tag = "analytics",
            security(("bearer" = [])),
            params(AnalyticsQuery, ("If-None-Match" = Option<String>, Header)),
            responses(
                (status = 200, headers(("ETag" = String)),
                 description = "JSON by default; `?format=csv|xlsx` for a table",
                 content(
                     ($body = "application/json"),
                     (String = "text/csv"),
                     (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
                (status = 304, description = "Nothing changed since the ETag sent"),
                (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
            )
        )]
        pub async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: Caller,
            query: web::Query<AnalyticsQuery>,
        ) -> Result<HttpResponse, AppError> {
            analyse(state, req, caller, query.into_inner(), Analysis::$analysis).await
        }
    };
}

analysis_endpoint!(
    rectification_time,
    "/api/v1/analytics/rectification-time",
    RectificationTime,
    RectificationTime,
    "Days from found to closed (median and 90th percentile) of the closed hazards found in the period, overall and by `group_by`."
);
analysis_endpoint!(
    ageing,
    "/api/v1/analytics/ageing",
    Ageing,
    Ageing,
    "Open hazards by age (0–7, 8–30, 31–90, over 90 days since found) and overdue ones by days past the deadline, in total and by enterprise."
);
analysis_endpoint!(
    scorecard,
    "/api/v1/analytics/scorecard",
    Scorecard,
    Scorecard,
    "One row per enterprise: found, closed, on-time rate, overdue now, open major, the share entered after the fact, grade and last supervision visit; sorted by `sort`."
);
analysis_endpoint!(
    recurring,
    "/api/v1/analytics/recurring",
    Recurring,
    Recurring,
    "Hazards found again (重复隐患): same enterprise, category and specialty (and location with `match_location`) within 12 months of an earlier one's closure."
);
analysis_endpoint!(
    trends,
    "/api/v1/analytics/trends",
    Trends,
    Trends,
    "Found and closed per month for the 24 months up to `to`, by source and level, with the change from the same month a year before."
);
analysis_endpoint!(
    locations,
    "/api/v1/analytics/locations",
    Locations,
    Locations,
    "The places (隐患部位) where most hazards are found, with how many are open or major and how many enterprises name them."
);
