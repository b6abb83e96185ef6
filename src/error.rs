//! The one error type of the service and its rendering as RFC 9457
//! `application/problem+json`. Internal causes are logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{detail}")]
    Validation { detail: String, errors: FieldErrors },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("the resource has changed since it was read (If-Match is stale)")]
    PreconditionFailed,
    #[error("{0}")]
    IdempotencyMismatch(String),
    #[error("a concurrent request with the same Idempotency-Key is in progress; retry it")]
    IdempotencyRace,
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A share the enterprise may hold (its evidence) is used up.
    #[error("{0}")]
    QuotaExceeded(String),
    /// The client stopped sending its body.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the database is unavailable; retry shortly")]
    Unavailable,
    /// A rate limit was reached; the client may retry after this many seconds.
    #[error("too many attempts; retry in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(detail: impl Into<String>) -> AppError {
        AppError::BadRequest(detail.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> AppError {
        AppError::Forbidden(detail.into())
    }

    pub fn conflict(detail: impl Into<String>) -> AppError {
        AppError::Conflict(detail.into())
    }

    /// A validation failure of one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::Validation {
            detail: format!("{field}: {message}"),
            errors: BTreeMap::from([(field.to_owned(), message)]),
        }
    }

    /// A validation failure of several fields at once.
    pub fn invalid_fields(errors: FieldErrors) -> AppError {
        let detail = errors
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Validation { detail, errors }
    }

    /// Keeps a field's validation messages in `errors` and gives the value,
    /// so a request's every broken rule is reported at once. Any other
    /// error is kept under `field`.
    pub fn gather<T>(
        errors: &mut FieldErrors,
        field: &str,
        result: Result<T, AppError>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(AppError::Validation { errors: found, .. }) => {
                errors.extend(found);
                None
            }
            Err(other) => {
                errors.insert(field.to_owned(), other.to_string());
                None
            }
        }
    }

    /// Stable snake_case code clients can match on; also the last segment of
    /// the problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation { .. } => "validation_failed",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::InvalidTransition(_) => "invalid_transition",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::IdempotencyMismatch(_) => "idempotency_key_reused",
            AppError::IdempotencyRace => "idempotency_key_in_use",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::QuotaExceeded(_) => "quota_exceeded",
            AppError::RequestTimeout(_) => "request_timeout",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unavailable => "service_unavailable",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal(_) => "internal_error",
        }
    }
}

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem: `/problems/{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The same kind as a stable snake_case code.
    pub code: String,
    /// Field → message, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
}

/// Renders a problem response for any status; also used for errors raised by
/// actix itself (unknown routes, wrong methods, malformed extractors).
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: impl Into<String>,
    errors: Option<FieldErrors>,
) -> HttpResponse {
    let problem = Problem {
        problem_type: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        code: code.to_owned(),
        errors,
    };
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| "{}".to_owned());
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(body)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } | AppError::IdempotencyMismatch(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) | AppError::InvalidTransition(_) | AppError::IdempotencyRace => {
                StatusCode::CONFLICT
            }
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge(_) | AppError::QuotaExceeded(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (detail, errors) = match self {
            AppError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (
                    "an internal error occurred; it has been logged".to_owned(),
                    None,
                )
            }
            AppError::Validation { detail, errors } => (detail.clone(), Some(errors.clone())),
            other => (other.to_string(), None),
        };
        let mut response = problem_response(status, self.code(), detail, errors);
        match self {
            AppError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"hazard-tracker\""),
                );
            }
            AppError::Unavailable => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
            }
            AppError::TooManyRequests { retry_after_secs } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after_secs),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match &error {
            Error::NotFound => AppError::NotFound("resource"),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Conflict("the change collided with a concurrent one; retry it".to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                // The pool's check-out test discards the connection; the
                // cause is for the operator, the client gets 503 to retry.
                tracing::warn!(error = %error, "database connection lost");
                AppError::Unavailable
            }
            Error::DatabaseError(_, info) if is_busy(info.message()) => AppError::Unavailable,
            // PostgreSQL keeps no NUL in text. The domain refuses it in the
            // texts it reads; this answers for any it does not look at.
            Error::DatabaseError(_, info) if info.message().contains("0x00") => {
                AppError::invalid("text", "must not contain the NUL character (U+0000)")
            }
            _ => AppError::Internal(error.into()),
        }
    }
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked")
        || message.contains("database is busy")
        || message.contains("server closed the connection")
        // libpq, asked to use a connection it already found dead.
        || message.contains("no connection to the server")
        || message.contains("terminating connection")
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> AppError {
        tracing::warn!(error = %error, "no database connection available");
        AppError::Unavailable
    }
}
