//! The one error type of the service and its rendering as RFC 9457
//! `application/problem+json`. Internal causes are logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::messages::{self, Detail, DetailText, Lang, Params, Rule};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Field name → the rule its value broke.
pub type FieldErrors = BTreeMap<String, FieldError>;

/// Field name → what is wrong with it, in words: a problem's `errors`.
pub type FieldMessages = BTreeMap<String, String>;

/// A rule a field's value broke, with the parameters its message names
/// (`{"max": 200}`); the texts are in [`messages`].
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub rule: Rule,
    pub params: Params,
}

impl FieldError {
    pub fn new(rule: Rule) -> FieldError {
        FieldError {
            rule,
            params: Params::new(),
        }
    }

    /// The same with one more parameter.
    pub fn with(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> FieldError {
        self.params.insert(name, value.into());
        self
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self.rule, lang) {
            // A text written elsewhere in Chinese already is its own Chinese.
            (Rule::Invalid, Lang::Zh) if self.reason().is_some_and(is_chinese) => {
                self.reason().unwrap_or_default().to_owned()
            }
            _ => messages::render(self.rule.text(lang), &self.params),
        }
    }

    fn reason(&self) -> Option<&str> {
        self.params.get("reason").and_then(|r| r.as_str())
    }
}

fn is_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The English message.
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl From<Rule> for FieldError {
    fn from(rule: Rule) -> FieldError {
        FieldError::new(rule)
    }
}

/// A message written as text: the catalogue's rule with that English text,
/// or else code `invalid` with the text kept as the English message.
impl From<String> for FieldError {
    fn from(reason: String) -> FieldError {
        match messages::rule_of_text(&reason) {
            Some(rule) => FieldError::new(rule),
            None => FieldError::new(Rule::Invalid).with("reason", reason),
        }
    }
}

impl From<&str> for FieldError {
    fn from(reason: &str) -> FieldError {
        FieldError::from(reason.to_owned())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(DetailText),
    #[error("{detail}")]
    Validation { detail: String, errors: FieldErrors },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(DetailText),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(DetailText),
    #[error("{0}")]
    InvalidTransition(DetailText),
    #[error("the resource has changed since it was read (If-Match is stale)")]
    PreconditionFailed,
    #[error("{0}")]
    IdempotencyMismatch(DetailText),
    #[error("a concurrent request with the same Idempotency-Key is in progress; retry it")]
    IdempotencyRace,
    #[error("{0}")]
    PayloadTooLarge(DetailText),
    /// A share the enterprise may hold (its evidence) is used up.
    #[error("{0}")]
    QuotaExceeded(DetailText),
    /// The client stopped sending its body.
    #[error("{0}")]
    RequestTimeout(DetailText),
    #[error("{0}")]
    UnsupportedMediaType(DetailText),
    #[error("the database is unavailable; retry shortly")]
    Unavailable,
    /// A rate limit was reached; the client may retry after this many seconds.
    #[error("too many attempts; retry in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A `400`: a [`Detail`] of the catalogue (with its parameters), or a
    /// plain English text.
    pub fn bad_request(detail: impl Into<DetailText>) -> AppError {
        AppError::BadRequest(detail.into())
    }

    /// A `413`: a [`Detail`] of the catalogue (with its parameters:
    /// `Detail::BodyTooLarge.with("limit", 1024)`), or a plain English text.
    pub fn payload_too_large(detail: impl Into<DetailText>) -> AppError {
        AppError::PayloadTooLarge(detail.into())
    }

    /// A `413` of a share the enterprise may hold: a [`Detail`] of the
    /// catalogue, or a plain English text.
    pub fn quota_exceeded(detail: impl Into<DetailText>) -> AppError {
        AppError::QuotaExceeded(detail.into())
    }

    /// A `408`: a [`Detail`] of the catalogue, or a plain English text.
    pub fn request_timeout(detail: impl Into<DetailText>) -> AppError {
        AppError::RequestTimeout(detail.into())
    }

    /// A `415`: a [`Detail`] of the catalogue, or a plain English text.
    pub fn unsupported_media_type(detail: impl Into<DetailText>) -> AppError {
        AppError::UnsupportedMediaType(detail.into())
    }

    /// A `422` of an `Idempotency-Key` reused: a [`Detail`] of the
    /// catalogue, or a plain English text.
    pub fn idempotency_mismatch(detail: impl Into<DetailText>) -> AppError {
        AppError::IdempotencyMismatch(detail.into())
    }

    /// A `403`: a [`Detail`] of the catalogue (with its parameters:
    /// `Detail::RoleMayNot.with("role", …)`), or a plain English text.
    pub fn forbidden(detail: impl Into<DetailText>) -> AppError {
        AppError::Forbidden(detail.into())
    }

    /// A `409`: a [`Detail`] of the catalogue (with its parameters:
    /// `Detail::OccurrenceRecorded.with("occurrence", 3)`), or a plain
    /// English text.
    pub fn conflict(detail: impl Into<DetailText>) -> AppError {
        AppError::Conflict(detail.into())
    }

    /// The detail as the catalogue names it, where it does.
    pub fn detail_text(&self) -> Option<&DetailText> {
        match self {
            AppError::BadRequest(detail)
            | AppError::Forbidden(detail)
            | AppError::Conflict(detail)
            | AppError::InvalidTransition(detail)
            | AppError::IdempotencyMismatch(detail)
            | AppError::PayloadTooLarge(detail)
            | AppError::QuotaExceeded(detail)
            | AppError::RequestTimeout(detail)
            | AppError::UnsupportedMediaType(detail) => Some(detail),
            _ => None,
        }
    }

    /// A validation failure of one field: a [`Rule`] or [`FieldError`]
    /// (with its parameters), or a plain text (code `invalid`).
    pub fn invalid(field: &str, message: impl Into<FieldError>) -> AppError {
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
                errors.insert(field.to_owned(), other.to_string().into());
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
    /// What went wrong, as a stable snake_case code finer than `code`
    /// (`occurrence_recorded`, `email_taken`, `not_in_state`, …), where
    /// the detail has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_code: Option<String>,
    /// The values the detail names, e.g. `{"occurrence": 3}` or
    /// `{"email": "a@b.cn"}`, with `detail_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail_params: Option<BTreeMap<String, serde_json::Value>>,
    /// Field → message, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldMessages>,
    /// The same failures for programs: each field's rule as a stable code
    /// with the parameters its message names, and the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<Violation>>,
}

/// A field's broken rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Violation {
    /// The field, as named in the request (`contact_emails[1]`,
    /// `supervised_listing.ordering_body`).
    pub field: String,
    /// The rule, a stable snake_case code: `required`, `blank`,
    /// `too_long`, `date_in_future`, `deadline_later_than_current`, …;
    /// `invalid` for a rule with no code of its own yet.
    pub code: String,
    /// The values the message names, e.g. `{"max": 200}` or
    /// `{"current_deadline": "2026-12-20"}`.
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// The message in the response's language (`Content-Language`).
    pub message: String,
}

impl Problem {
    fn new(status: StatusCode, code: &str, detail: String) -> Problem {
        Problem {
            problem_type: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            detail_code: None,
            detail_params: None,
            errors: None,
            violations: None,
        }
    }

    /// The catalogue's code of the detail and its parameters (those a
    /// Chinese text alone names, `…_zh`, left out).
    fn with_detail(mut self, detail: &DetailText) -> Problem {
        if let Some(code) = detail.detail() {
            self.detail_code = Some(code.code().to_owned());
            let params: BTreeMap<String, serde_json::Value> = detail
                .params()
                .iter()
                .filter(|(name, _)| !name.ends_with("_zh"))
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect();
            self.detail_params = (!params.is_empty()).then_some(params);
        }
        self
    }

    /// The field failures, as `errors` and as `violations`, in `lang`.
    fn with_fields(mut self, fields: &FieldErrors, lang: Lang) -> Problem {
        self.errors = Some(
            fields
                .iter()
                .map(|(field, error)| (field.clone(), error.message(lang)))
                .collect(),
        );
        self.violations = Some(
            fields
                .iter()
                .map(|(field, error)| Violation {
                    field: field.clone(),
                    code: error.rule.code().to_owned(),
                    params: error
                        .params
                        .iter()
                        .filter(|(name, _)| !name.ends_with("_zh"))
                        .map(|(name, value)| ((*name).to_owned(), value.clone()))
                        .collect(),
                    message: error.message(lang),
                })
                .collect(),
        );
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// What a problem response built without an [`AppError`] carries in its
/// extensions, so it can be written again in the caller's language.
#[derive(Debug, Clone)]
pub struct ProblemKind {
    pub code: String,
    pub detail: String,
}

/// Renders a problem response for any status; also used for errors raised by
/// actix itself (unknown routes, wrong methods, malformed extractors).
pub fn problem_response(
    status: StatusCode,
    code: &str,
    detail: impl Into<String>,
    errors: Option<FieldErrors>,
) -> HttpResponse {
    let detail = detail.into();
    let mut problem = Problem::new(status, code, detail.clone());
    if let Some(errors) = &errors {
        problem = problem.with_fields(errors, Lang::En);
    }
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(problem.to_json());
    if errors.is_none() {
        response.extensions_mut().insert(ProblemKind {
            code: code.to_owned(),
            detail,
        });
    }
    response
}

/// A problem document built by [`problem_response`], in `lang`.
pub fn problem_in(status: StatusCode, kind: &ProblemKind, lang: Lang) -> Problem {
    let detail = match lang {
        Lang::En => kind.detail.clone(),
        Lang::Zh => {
            // Such a `404` is of a path, not of a resource named.
            let params = Params::from([("resource", messages::resource_zh("resource").into())]);
            messages::problem_detail_zh(&kind.code, &kind.detail, &params)
        }
    };
    Problem::new(status, &kind.code, detail)
}

impl AppError {
    /// The problem document in `lang`.
    pub fn problem(&self, lang: Lang) -> Problem {
        let status = self.status_code();
        match self {
            AppError::Validation { detail, errors } => {
                let detail = match lang {
                    Lang::En => detail.clone(),
                    Lang::Zh if errors.is_empty() => {
                        messages::problem_detail_zh(self.code(), detail, &Params::new())
                    }
                    Lang::Zh => errors
                        .iter()
                        .map(|(field, error)| format!("{field}：{}", error.message(lang)))
                        .collect::<Vec<_>>()
                        .join("；"),
                };
                Problem::new(status, self.code(), detail).with_fields(errors, lang)
            }
            other => {
                let english = match other {
                    AppError::Internal(_) => {
                        "an internal error occurred; it has been logged".to_owned()
                    }
                    other => other.to_string(),
                };
                let catalogued = other.detail_text();
                let chinese = match lang {
                    Lang::En => None,
                    Lang::Zh => catalogued.and_then(DetailText::chinese),
                };
                let detail = match (lang, chinese) {
                    (_, Some(chinese)) => chinese,
                    (Lang::En, None) => english,
                    (Lang::Zh, None) => {
                        let mut params = Params::new();
                        match other {
                            AppError::NotFound(resource) => {
                                params.insert("resource", messages::resource_zh(resource).into());
                            }
                            AppError::TooManyRequests { retry_after_secs } => {
                                params.insert("retry_after_secs", (*retry_after_secs).into());
                            }
                            _ => {}
                        }
                        messages::problem_detail_zh(other.code(), &english, &params)
                    }
                };
                let problem = Problem::new(status, other.code(), detail);
                match catalogued {
                    Some(text) => problem.with_detail(text),
                    None => problem,
                }
            }
        }
    }
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
        if let AppError::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        // English here; the language middleware writes the body again from
        // this error (kept on the response) when the caller reads Chinese.
        let mut response = HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .body(self.problem(Lang::En).to_json());
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
                AppError::conflict(Detail::Collided)
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
                AppError::invalid("text", Rule::NulCharacter)
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
