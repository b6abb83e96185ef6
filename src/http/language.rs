//! The language of problem documents: a request whose `Accept-Language`
//! prefers Chinese gets its problem's `detail`, `errors` and `violations`
//! in Chinese, written again here from the error the response carries, so
//! no handler needs to know the caller's language.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::error::{problem_in, AppError, ProblemKind};
use crate::messages::Lang;

/// The language a request asks for.
pub fn requested(req: &actix_web::HttpRequest) -> Lang {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::preferred)
}

/// Middleware: rewrites a problem response's body in the requested
/// language, and says which language it is in.
pub async fn speak(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = requested(req.request());
    // (The request cannot be kept: routing needs it unshared. Middleware
    // errors are answered by the error handlers inside this one.)
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if status.is_success() || status.is_redirection() {
        return Ok(res);
    }
    let problem = if let Some(error) = res.response().error() {
        error.as_error::<AppError>().map(|e| e.problem(lang))
    } else {
        None
    };
    let problem = problem.or_else(|| {
        res.response()
            .extensions()
            .get::<ProblemKind>()
            .map(|kind| problem_in(status, kind, lang))
    });
    let Some(problem) = problem else {
        return Ok(res);
    };
    let mut res = res.map_body(|head, _| {
        head.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        BoxBody::new(problem.to_json())
    });
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Language"));
    Ok(res)
}
