//! Extractors every protected handler shares: the [`Caller`] from a strictly
//! validated bearer token, confirmed against its account.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::access::Caller;
use crate::error::AppError;
use crate::http::state::AppState;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let validated = caller_from_token(req);
        Box::pin(async move {
            let (state, caller, issued_at) = validated?;
            state.accounts.confirm(&state.db, caller, issued_at).await
        })
    }
}

fn caller_from_token(req: &HttpRequest) -> Result<(web::Data<AppState>, Caller, i64), AppError> {
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
        ))?;
    let claims = state.tokens.validate(token)?;
    let caller = Caller {
        user_id: claims.sub,
        role: claims.role,
        enterprise_id: claims.enterprise_id,
    };
    Ok((state, caller, claims.iat))
}
