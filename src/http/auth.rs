//! Signing in and asking who one is.

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::app::auth::{verify_password, MAX_PASSWORD_BYTES};
use crate::db::users;
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::users::UserView;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub email: String,
    #[schema(value_type = String, format = Password, write_only)]
    pub password: SecretString,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

const BAD_CREDENTIALS: &str = "the email or password is wrong, or the account is disabled";

/// Exchanges an email and password for an access token. Attempts are
/// limited per minute for each client address, and wrong passwords for
/// each account from each client address (`429` with `Retry-After` past
/// either limit); wrong passwords for an account from anywhere only slow
/// its sign-in down (at most a few seconds), so nobody can lock another
/// person out.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<TokenRequest>,
) -> Result<HttpResponse, AppError> {
    let TokenRequest { email, password } = body.into_inner();
    let email = email.trim().to_lowercase();
    // Counted before anything else: every attempt, right or wrong, costs a
    // password hash. The address is the TCP peer, or what the park's own
    // proxies say the client's is; a forwarding header from anyone else,
    // which any client can write, is ignored.
    let client = state.client_address(&req);
    let hold = state.login_throttle.attempt(&email, client)?;
    if !hold.is_zero() {
        // An account others have been guessing at is slowed, never closed.
        actix_web::rt::time::sleep(hold).await;
    }
    let authenticated =
        if secrecy::ExposeSecret::expose_secret(&password).len() > MAX_PASSWORD_BYTES {
            Err(AppError::Unauthorized(BAD_CREDENTIALS))
        } else {
            authenticate(&state, email.clone(), password).await
        };
    if matches!(authenticated, Err(AppError::Unauthorized(_))) {
        state.login_throttle.failed(&email, client);
    }
    let user = authenticated?;
    let token_version = user.token_version;
    let view = UserView::try_from(user)?;
    let token = state
        .tokens
        .issue(view.id, view.role, view.enterprise_id, token_version)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_secs(),
        }))
}

/// The active account `email` names, if `password` is its password. An
/// unknown address costs the same hash as a wrong password, so the time
/// taken tells nothing about which accounts exist.
async fn authenticate(
    state: &AppState,
    email: String,
    password: SecretString,
) -> Result<users::User, AppError> {
    // No account's address holds a NUL; the store is not asked.
    let user = if email.contains('\0') {
        None
    } else {
        state
            .db
            .run(move |conn| users::find_by_email(conn, &email))
            .await?
    };
    // Hashing is slow on purpose: keep it off the async workers.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = web::block(move || verify_password(&password, stored.as_deref()))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("verifying a password: {e}")))?;
    match user {
        Some(user) if verified && user.active => Ok(user),
        _ => Err(AppError::Unauthorized(BAD_CREDENTIALS)),
    }
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadOwnAccount)?;
    let id = Id::from(caller.user_id);
    let user = state
        .db
        .run(move |conn| users::find(conn, id))
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::Unauthorized(
            "the account behind this token no longer exists or is disabled",
        ))?;
    Ok(HttpResponse::Ok().json(UserView::try_from(user)?))
}
