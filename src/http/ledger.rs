//! The hazard ledger export: `GET /api/v1/hazards/export`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::domain::access::{Caller, Capability};
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;
use crate::http::hazards::ListHazardsQuery;
use crate::http::state::AppState;

/// A spreadsheet the park opens in Excel or WPS.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerFormat {
    #[default]
    Xlsx,
    /// UTF-8 with a byte-order mark, so spreadsheets read the Chinese.
    Csv,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportHazardsQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<LedgerFormat>,
    pub state: Option<HazardState>,
    pub level: Option<HazardLevel>,
    pub source: Option<CheckSource>,
    pub enterprise_id: Option<Uuid>,
    #[param(pattern = r"^[^\u0000]*(?![\s\S])")]
    pub category: Option<String>,
    #[param(pattern = r"^[^\u0000]*(?![\s\S])")]
    pub specialty: Option<String>,
    pub inspection_id: Option<Uuid>,
    pub overdue: Option<bool>,
    pub pending_extension: Option<bool>,
    pub rejected: Option<bool>,
    pub found_year: Option<i32>,
    #[param(max_length = 100, pattern = r"^[^\u0000]*(?![\s\S])")]
    pub q: Option<String>,
}

impl ExportHazardsQuery {
    /// The list's filters, to share their rules.
    fn as_list(&self) -> ListHazardsQuery {
        ListHazardsQuery {
            state: self.state,
            level: self.level,
            source: self.source,
            enterprise_id: self.enterprise_id,
            category: self.category.clone(),
            specialty: self.specialty.clone(),
            inspection_id: self.inspection_id,
            overdue: self.overdue,
            pending_extension: self.pending_extension,
            rejected: self.rejected,
            found_year: self.found_year,
            q: self.q.clone(),
            limit: None,
            cursor: None,
        }
    }
}

/// The hazards the list's filters select, oldest first, as the park's
/// ledger (隐患排查治理台账): one row per hazard, Chinese headers, the
/// layout of the import template. An enterprise contact exports its own.
#[utoipa::path(
    get,
    path = "/api/v1/hazards/export",
    tag = "hazards",
    security(("bearer" = [])),
    params(ExportHazardsQuery),
    responses(
        (status = 200, description = "The ledger as a workbook or CSV",
         content(
             (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             (String = "text/csv")
         )),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn export_hazards(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ExportHazardsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadHazards)?;
    let format = query.format.unwrap_or_default();
    let today = state.park.now().park_today;
    let filter = query.as_list().filter(&caller, &state.park, today)?;
    let park = state.park.clone();
    let table = state
        .db
        .run(move |conn| app::ledger::export(conn, &filter, &park))
        .await?;
    let (content_type, extension, body) = match format {
        LedgerFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            table.xlsx()?,
        ),
        LedgerFormat::Csv => {
            let mut body = "\u{feff}".as_bytes().to_vec();
            body.extend(table.csv()?);
            ("text/csv; charset=utf-8", "csv", body)
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"hazard-ledger-{today}.{extension}\""),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .body(body))
}
