//! Extractors every protected handler shares: the [`Caller`] from a strictly
//! validated bearer token, confirmed against its account.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::app::display_keys::is_display_key;
use crate::domain::access::Caller;
use crate::error::AppError;
use crate::http::state::AppState;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let validated = credential(req);
        Box::pin(async move {
            match validated? {
                (state, Credential::Token(caller, token_version)) => {
                    state
                        .accounts
                        .confirm(&state.db, caller, token_version)
                        .await
                }
                (state, Credential::DisplayKey(key)) => {
                    state.display_keys.confirm(&state.db, &key).await
                }
            }
        })
    }
}

/// The caller `req` stands for, if that is known without waiting: its
/// credential is valid and its account (or display key) was confirmed
/// within the recheck time, exactly as the [`Caller`] extractor would find.
/// `None` when the extractor would ask the database or refuse the request.
pub fn remembered_caller(req: &HttpRequest) -> Option<Caller> {
    let answer = match credential(req).ok()? {
        (state, Credential::Token(caller, token_version)) => {
            state.accounts.remembered(caller, token_version)
        }
        (state, Credential::DisplayKey(key)) => state.display_keys.remembered(&key),
    };
    answer?.ok()
}

/// The request's bearer token, checked as far as it can be without the
/// database.
fn credential(req: &HttpRequest) -> Result<(web::Data<AppState>, Credential), AppError> {
    let (state, token) = bearer_token(req)?;
    if is_display_key(token) {
        Ok((state, Credential::DisplayKey(token.to_owned())))
    } else {
        let (caller, token_version) = caller_from_token(&state, token)?;
        Ok((state, Credential::Token(caller, token_version)))
    }
}

/// What a bearer token turned out to be.
enum Credential {
    /// A signed token, with its `ver`, still to confirm against its account.
    Token(Caller, i64),
    /// A wall screen's display key, still to confirm.
    DisplayKey(String),
}

fn bearer_token(req: &HttpRequest) -> Result<(web::Data<AppState>, &str), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state not configured")))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AppError::Unauthorized(
            "an Authorization: Bearer token is required",
        ))?;
    // Not `HeaderValue::to_str`, which checks a byte at a time: the parser
    // let no control character through, and anything that is not a token
    // we issued fails its check below.
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AppError::Unauthorized("the Authorization header is malformed"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthorized(
            "the Authorization header must be 'Bearer <token>'",
        ))?;
    Ok((state, token))
}

fn caller_from_token(state: &AppState, token: &str) -> Result<(Caller, i64), AppError> {
    let claims = state.tokens.validate(token)?;
    let caller = Caller {
        user_id: claims.sub,
        role: claims.role,
        enterprise_id: claims.enterprise_id,
    };
    Ok((caller, claims.ver))
}
