//! `GET /metrics`: the Prometheus text exposition, optionally behind its own
//! bearer token (`metrics.token`), which is not an account's token.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::db;
use crate::error::AppError;
use crate::http::metric_series::{ReadCacheFigures, StoreFigures};
use crate::http::state::AppState;

/// Prometheus text exposition format 0.0.4.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metrics in the Prometheus text format. Needs `Authorization: Bearer
/// <metrics.token>` when that is configured.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    check_token(&req, state.settings.metrics.token.expose_secret())?;
    let (hits, misses) = state.reads.counts();
    let reads = ReadCacheFigures {
        hits,
        misses,
        live: state.reads.is_live(),
    };
    let figures = store_figures(&state).await;
    let body = state
        .metrics
        .render(state.db.pool_status(), reads, figures.as_ref())?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, EXPOSITION))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// The outbox backlog and the open and overdue hazards, or `None` while
/// the database does not answer: a scrape must still succeed then, since
/// the HTTP and pool series are what explains the outage.
async fn store_figures(state: &AppState) -> Option<StoreFigures> {
    let park = state.park.clone();
    let figures = state
        .db
        .run(move |conn| {
            let now = park.now();
            let outbox = db::outbox::backlog(conn, now.utc)?;
            let (open_hazards, overdue_hazards) =
                db::hazards::count_open_and_overdue(conn, now.park_today)?;
            Ok(StoreFigures {
                outbox,
                open_hazards,
                overdue_hazards,
            })
        })
        .await;
    figures
        .inspect_err(|error| tracing::warn!(%error, "metrics: the database did not answer"))
        .ok()
}

/// With a token configured, the request must carry exactly it. Both sides
/// are hashed before comparing so the time taken says nothing about how
/// much of a guess was right.
fn check_token(req: &HttpRequest, expected: &str) -> Result<(), AppError> {
    if expected.is_empty() {
        return Ok(());
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let matches = !presented.is_empty()
        && Sha256::digest(presented.as_bytes()) == Sha256::digest(expected.as_bytes());
    if matches {
        Ok(())
    } else {
        Err(AppError::Unauthorized(
            "/metrics needs Authorization: Bearer with the configured metrics token",
        ))
    }
}
