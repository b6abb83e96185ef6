//! Headers the service adds to answers it did not shape itself: the
//! security headers every response carries, `Cache-Control: no-store` on
//! the API, and CORS for the browser origins named in configuration.

use std::future::Future;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Condition;

use crate::settings::ServerSettings;

/// API answers are data, never a page: nothing may load, frame or run.
const API_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// What the vendored Swagger UI at `/docs` needs, and no more: its own
/// scripts and styles, the inline styles its components set, `data:` icons
/// from its stylesheet, and calls back to this service.
const DOCS_POLICY: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// For `App::wrap_fn`: adds each security header a response lacks, and
/// `Cache-Control: no-store` to `/api/v1` answers that chose no caching of
/// their own (tokens and hazard data must not linger in shared caches).
/// Handlers' errors arrive here as responses already (`ResponseError`), so
/// they get the headers too.
pub fn secure<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    // The request must not be cloned here: routing needs it unshared.
    let call = service.call(req);
    async move {
        let mut response = call.await?;
        let path = response.request().path();
        let is_docs = path == "/docs" || path.starts_with("/docs/");
        let is_api = path.starts_with("/api/v1/") || path == "/api/v1";
        let not_modified = response.status() == StatusCode::NOT_MODIFIED;
        let headers = response.headers_mut();
        let policy = if is_docs { DOCS_POLICY } else { API_POLICY };
        for (name, value) in [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, policy),
        ] {
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
        // A 304 carries no body, and its headers would overwrite the caching
        // rules of the response the client holds (RFC 9111 §4.3.4).
        if is_api && !not_modified && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response)
    }
}

/// CORS for `server.cors_allowed_origins`; with none configured the
/// middleware is left out entirely, so no CORS header is ever sent.
/// Origins are matched exactly (validated at start); credentials are not
/// allowed, since the API takes bearer tokens, not cookies.
pub fn cors(settings: &ServerSettings) -> Condition<Cors> {
    let origins = &settings.cors_allowed_origins;
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}
