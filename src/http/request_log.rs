//! The middleware that gives every request one log line and its place in
//! the HTTP series of `/metrics`.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use uuid::Uuid;

use crate::http::metric_series::UNMATCHED_ROUTE;
use crate::http::state::AppState;

/// For `App::wrap_fn`, inside `TracingLogger` (whose request id it reads):
/// counts the request under its matched route pattern and logs one line
/// with method, route, status, latency and request id. `tracing-actix-web`
/// only opens a span per request; nothing prints unless an event is
/// emitted inside it, so this is that event.
pub fn observe_request<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let started = Instant::now();
    let method = req.method().clone();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = req.extensions().get::<RequestId>().copied();
    // The response's request knows the resource routing chose, which is
    // cheap to read. Matching the path against the route table instead is
    // not (patterns with parameters are regular expressions), so an error
    // that escaped without a response (handlers turn theirs into
    // responses) counts as unmatched.
    let call = service.call(req);
    async move {
        let outcome = call.await;
        let (status, route) = match &outcome {
            Ok(response) => (response.status(), response.request().match_pattern()),
            Err(error) => (error.as_response_error().status_code(), None),
        };
        let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        finished(
            state.as_ref().map(|state| state.get_ref()),
            &method,
            &route,
            status,
            started.elapsed(),
            request_id.as_deref(),
        );
        outcome
    }
}

/// Counts an answered request under its route pattern and logs its line:
/// method, route, status, latency and request id.
pub fn finished(
    state: Option<&AppState>,
    method: &Method,
    route: &str,
    status: StatusCode,
    elapsed: Duration,
    request_id: Option<&Uuid>,
) {
    if let Some(state) = state {
        state
            .metrics
            .observe_request(method, route, status, elapsed);
    }
    tracing::info!(
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = %request_id.map(|id| id.to_string()).unwrap_or_default(),
        "request finished"
    );
}

/// The span each request's events are logged in: method, path and request
/// id. `tracing-actix-web`'s default also works out the client address,
/// the route pattern, the host and the user agent for every request,
/// whether or not anything is logged (a sixth of the time of a `304`);
/// the `request finished` line above carries the route and the outcome.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = %request_id.map(|id| id.to_string()).unwrap_or_default(),
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
