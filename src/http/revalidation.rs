//! Revalidations answered ahead of the middleware. A wall screen asks for
//! the overview every few seconds with the `ETag` it holds, and nearly
//! always gets `304`: through the whole middleware stack (the tracing
//! span, the request id, the security headers, the error pages) that
//! answer cost half again what it costs here.
//!
//! Here a `GET` with `If-None-Match` is answered `304` only when that is
//! known without waiting and is exactly what the handler would answer:
//! the caller comes from the remembered token and account checks
//! (`http::extract::remembered_caller`), the `ETag` from the remembered
//! change marker, both through the functions the handler itself calls.
//! Anything else (another route, no remembered answer, a changed tag, any
//! error, CORS configured) goes down the stack untouched. The `304` still
//! carries its security headers and `X-Request-Id`, is counted in
//! `/metrics` and logged under its route like any other answer.

use std::future::Future;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{web, HttpResponse};
use futures_util::future::Either;
use uuid::Uuid;

use crate::http::headers::{echo_request_id, AnswerKind};
use crate::http::request_log::finished;
use crate::http::state::AppState;
use crate::http::{stats, API_ROOT};

/// For `App::wrap_fn`, outermost: answers the revalidations it can and
/// passes everything else on.
pub fn answer_early<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let started = Instant::now();
    let call = match not_modified(&req) {
        Some(mut response) => {
            let request_id = Uuid::new_v4();
            echo_request_id(response.headers_mut(), &request_id);
            // The path has no parameters: it is its own route pattern.
            finished(
                req.app_data::<web::Data<AppState>>()
                    .map(|state| state.get_ref()),
                req.method(),
                req.path(),
                response.status(),
                started.elapsed(),
                Some(&request_id),
            );
            Either::Left(req.into_response(response).map_into_right_body())
        }
        None => Either::Right(service.call(req)),
    };
    async move {
        match call {
            Either::Left(answered) => Ok(answered),
            Either::Right(call) => call.await.map(ServiceResponse::map_into_left_body),
        }
    }
}

/// The `304` for `req`, with the security headers the way out would add,
/// if it is one answered here.
pub fn not_modified(req: &ServiceRequest) -> Option<HttpResponse> {
    if req.method() != Method::GET || !req.headers().contains_key(header::IF_NONE_MATCH) {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    // The CORS middleware adds `Vary` and the allowed origin: leave a
    // service that has any to it.
    if !state.settings.server.cors_allowed_origins.is_empty() {
        return None;
    }
    if req.path().strip_prefix(API_ROOT) != Some(stats::OVERVIEW_PATH) {
        return None;
    }
    let mut response = stats::overview_unchanged(req.request(), state)?;
    let status = response.status();
    AnswerKind::of(req.path(), status).add_headers(response.headers_mut());
    Some(response)
}
