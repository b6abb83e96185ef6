//! Headers the service adds to answers it did not shape itself: the
//! security headers every response carries, `Cache-Control: no-store` on
//! the API, and CORS for the browser origins named in configuration.

use std::future::Future;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Condition;
use uuid::Uuid;

use crate::http::API_ROOT;
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
        let kind = AnswerKind::of(response.request().path(), response.status());
        kind.add_headers(response.headers_mut());
        Ok(response)
    }
}

/// What decides the headers [`secure`] adds to an answer.
#[derive(Debug, Clone, Copy)]
pub struct AnswerKind {
    docs: bool,
    /// An `/api/v1` answer other than a `304`.
    api_with_body: bool,
}

impl AnswerKind {
    pub fn of(path: &str, status: StatusCode) -> AnswerKind {
        let is_api = path
            .strip_prefix(API_ROOT)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        AnswerKind {
            docs: path == "/docs" || path.starts_with("/docs/"),
            // A 304 carries no body, and its headers would overwrite the
            // caching rules of the response the client holds (RFC 9111
            // §4.3.4).
            api_with_body: is_api && status != StatusCode::NOT_MODIFIED,
        }
    }

    /// Adds each security header `headers` lack, and `Cache-Control:
    /// no-store` to an API answer that chose no caching of its own.
    pub fn add_headers(self, headers: &mut HeaderMap) {
        headers.reserve(5);
        // Values checked once, when compiled, not on every answer.
        let policy = if self.docs {
            const { HeaderValue::from_static(DOCS_POLICY) }
        } else {
            const { HeaderValue::from_static(API_POLICY) }
        };
        for (name, value) in [
            (
                header::X_CONTENT_TYPE_OPTIONS,
                const { HeaderValue::from_static("nosniff") },
            ),
            (
                header::X_FRAME_OPTIONS,
                const { HeaderValue::from_static("DENY") },
            ),
            (
                header::REFERRER_POLICY,
                const { HeaderValue::from_static("no-referrer") },
            ),
            (header::CONTENT_SECURITY_POLICY, policy),
        ] {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
        if self.api_with_body && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(
                header::CACHE_CONTROL,
                const { HeaderValue::from_static("no-store") },
            );
        }
    }
}

/// Echoes the id of the request's log span (`X-Request-Id`), so a client
/// report can be matched with the logs.
pub fn echo_request_id(headers: &mut HeaderMap, id: &Uuid) {
    let mut text = Uuid::encode_buffer();
    if let Ok(value) = HeaderValue::from_bytes(id.hyphenated().encode_lower(&mut text).as_bytes()) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
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
