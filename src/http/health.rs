//! Liveness and readiness probes.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::error::AppError;
use crate::http::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// The database answers; `503` when it does not.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = Health),
        (status = 503, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let backend = state.db.url().backend_name();
    state.db.run(crate::db::ping).await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: Some(backend),
    }))
}
