//! Reference data clients build their forms from: the national major-hazard
//! criteria and the park's configured vocabularies.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::domain::access::Caller;
use crate::domain::criteria::{major_hazard_criteria as criteria, MajorHazardCriteria};
use crate::domain::hazard::CheckSource;
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
