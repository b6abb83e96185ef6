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
        let validated = bearer_token(req).and_then(|(state, token)| {
            if is_display_key(&token) {
                Ok((state, Credential::DisplayKey(token)))
            } else {
                caller_from_token(&state, &token)
                    .map(|(caller, issued_at)| (state, Credential::Token(caller, issued_at)))
            }
        });
        Box::pin(async move {
            match validated? {
                (state, Credential::Token(caller, issued_at)) => {
                    state.accounts.confirm(&state.db, caller, issued_at).await
                }
                (state, Credential::DisplayKey(key)) => {
                    state.display_keys.confirm(&state.db, &key).await
                }
            }
        })
    }
}

/// What a bearer token turned out to be.
enum Credential {
    /// A signed token, with its `iat`, still to confirm against its account.
    Token(Caller, i64),
    /// A wall screen's display key, still to confirm.
    DisplayKey(String),
}

fn bearer_token(req: &HttpRequest) -> Result<(web::Data<AppState>, String), AppError> {
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
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is malformed"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthorized(
            "the Authorization header must be 'Bearer <token>'",
        ))?
        .to_owned();
    Ok((state, token))
}

fn caller_from_token(state: &AppState, token: &str) -> Result<(Caller, i64), AppError> {
    let claims = state.tokens.validate(token)?;
    let caller = Caller {
        user_id: claims.sub,
        role: claims.role,
        enterprise_id: claims.enterprise_id,
    };
    Ok((caller, claims.iat))
}
