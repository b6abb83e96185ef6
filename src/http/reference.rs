//! Reference data clients build their forms from: the national major-hazard
//! criteria, the park's configured vocabularies and its calendar of
//! statutory holidays (read by all; loaded by an admin).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::app::calendar::{self, CalendarYear};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::criteria::{major_hazard_criteria as criteria, MajorHazardCriteria};
use crate::domain::hazard::CheckSource;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::settings::CodeLabel;

/// The 20 items of 安监总管三〔2017〕121号; a major hazard cites one by code.
#[utoipa::path(
    get,
    path = "/api/v1/reference/major-hazard-criteria",
    tag = "reference",
    security(("bearer" = [])),
    responses((status = 200, body = MajorHazardCriteria))
)]
pub async fn major_hazard_criteria(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .json(criteria())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Vocabularies {
    /// Hazard categories; send the code (the label is accepted too).
    pub categories: Vec<CodeLabel>,
    /// Specialties; send the code (the label is accepted too).
    pub specialties: Vec<CodeLabel>,
    /// The five kinds of check (五查合一).
    pub sources: Vec<CodeLabel>,
}

/// The configured categories and specialties, and the five check sources.
#[utoipa::path(
    get,
    path = "/api/v1/reference/vocabularies",
    tag = "reference",
    security(("bearer" = [])),
    responses((status = 200, body = Vocabularies))
)]
pub async fn vocabularies(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Vocabularies {
        categories: state.park.categories.clone(),
        specialties: state.park.specialties.clone(),
        sources: CheckSource::ALL
            .into_iter()
            .map(|s| CodeLabel {
                code: s.as_str().to_owned(),
                label: s.label_zh().to_owned(),
            })
            .collect(),
    })
}

/// The park's calendar of statutory holidays and make-up working days in
/// force, year by year: shipped with the service, or loaded by the park
/// (which then replaces the shipped year). A year not listed follows the
/// week alone.
#[utoipa::path(
    get,
    path = "/api/v1/reference/calendar",
    tag = "reference",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<CalendarYear>))
)]
pub async fn calendar_years(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let years = state.db.run(calendar::years).await?;
    Ok(HttpResponse::Ok().json(years))
}

/// A year's calendar file, the form of `reference/calendar/2026.json`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarFileBody {
    pub year: i32,
    pub source: CalendarSourceBody,
    /// Whether every date was checked against the published notice.
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Every listed day: each day of a holiday span (weekend days inside
    /// it too) and each make-up working day.
    pub days: Vec<CalendarDayBody>,
}

/// The notice a year's dates come from.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarSourceBody {
    /// e.g. 国务院办公厅关于2027年部分节假日安排的通知
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    /// YYYY-MM-DD
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    /// Where the dates were checked against the published text.
    #[serde(default)]
    pub checked_against: Vec<String>,
}

/// One listed day.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayBody {
    /// YYYY-MM-DD, in the file's year or the December before it.
    pub date: String,
    /// `holiday` (放假) or `working_day` (调休上班, a Saturday or Sunday).
    pub kind: String,
    /// The holiday it belongs to (元旦, 春节, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Loads a year's calendar as the State Council's notice publishes it
/// (each November for the next year): the JSON of
/// `reference/calendar/2026.json` — `year`, `source` (the notice's
/// `title`, `document_number`, `issued_on`, `checked_against`),
/// `verified`, `note` and every listed `days` entry (`date`, `kind`
/// `holiday` or `working_day`, `name`). Checked whole (a make-up working
/// day must be a Saturday or Sunday; a date once, in one year's file
/// only) and then in force at once for every schedule, figure and mail;
/// every file loaded is kept. Answers the years in force.
#[utoipa::path(
    put,
    path = "/api/v1/reference/calendar/{year}",
    tag = "reference",
    security(("bearer" = [])),
    params(("year" = i32, Path)),
    request_body = CalendarFileBody,
    responses(
        (status = 200, body = Vec<CalendarYear>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn load_calendar(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<i32>,
    body: Body<CalendarFileBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageCalendar)?;
    let year = path.into_inner();
    let text =
        serde_json::to_string(&body.into_inner()).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.park.now().utc;
    let by = Id::from(caller.user_id);
    let years = state
        .db
        .run(move |conn| calendar::load(conn, year, &text, (by, now)))
        .await?;
    Ok(HttpResponse::Ok().json(years))
}
