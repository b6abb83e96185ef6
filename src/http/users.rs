//! User management (admin only).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::users::{hash_new_password, AccountChanges, NewAccount};
use crate::db::users::{self, User};
use crate::db::Id;
use crate::domain::access::Role;
use crate::domain::access::{Caller, Capability};
use crate::domain::email::Email;
use crate::domain::text::{required_text, MAX_LINE};
use crate::error::{AppError, FieldErrors};
use crate::http::body::Body;
use crate::http::conditional::IfMatch;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, with_etag, Created, Page, Paginated};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Set exactly for the `enterprise` role.
    pub enterprise_id: Option<Uuid>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<User> for UserView {
    type Error = AppError;

    fn try_from(user: User) -> Result<UserView, AppError> {
        Ok(UserView {
            id: user.id.uuid(),
            role: user.role,
            enterprise_id: user.enterprise_id.map(Id::uuid),
            email: user.email,
            name: user.name,
            active: user.active,
            version: user.version,
            created_at: user.created_at.and_utc(),
            updated_at: user.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    /// Required for the `enterprise` role, refused for the others.
    pub enterprise_id: Option<Uuid>,
    /// At least 10 characters; never returned.
    #[schema(value_type = String, format = Password, write_only, min_length = 10)]
    pub password: SecretString,
}

/// What makes two requests to create a user the same request, for
/// `Idempotency-Key`: everything but the password, which is never kept.
#[derive(Serialize)]
struct CreateUserFingerprint<'a> {
    email: &'a str,
    name: &'a str,
    role: Role,
    enterprise_id: Option<Uuid>,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// Required when the role becomes (or is) `enterprise`.
    pub enterprise_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = Password, write_only, min_length = 10)]
    pub password: Option<SecretString>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListUsersQuery {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// Creates a local user (admin).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateUser,
    responses(
        (status = 201, body = UserView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateUser>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let body = body.into_inner();
    let fingerprint = CreateUserFingerprint {
        email: &body.email,
        name: &body.name,
        role: body.role,
        enterprise_id: body.enterprise_id,
    };
    let mut errors = FieldErrors::new();
    let email = Email::parse(&body.email).map_err(|m| AppError::invalid("email", m));
    let email = AppError::gather(&mut errors, "email", email);
    let name = required_text("name", &body.name, MAX_LINE);
    let name = AppError::gather(&mut errors, "name", name);
    let password_hash = hash_new_password(body.password.clone()).await;
    let password_hash = AppError::gather(&mut errors, "password", password_hash);
    let (Some(email), Some(name), Some(password_hash)) = (email, name, password_hash) else {
        return Err(AppError::invalid_fields(errors));
    };
    let account = NewAccount {
        email,
        name,
        role: body.role,
        enterprise_id: body.enterprise_id,
        password_hash,
    };
    create_idempotently(&state, &req, &caller, &fingerprint, move |conn| {
        let user = app::users::create_user(conn, account, crate::clock::now_utc())?;
        let view = UserView::try_from(user)?;
        let location = format!("/api/v1/users/{}", view.id);
        Created::new(&view, location, Some(view.version))
    })
    .await
}

/// Lists users (admin).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, body = Paginated<UserView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListUsersQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let page = Page::new(query.limit)?;
    let after = decode_id_cursor(query.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| users::list(conn, after, page.fetch()))
        .await?;
    let views = rows
        .into_iter()
        .map(UserView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |u| u.id.to_string(), |u| u)))
}

/// One user (admin).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let id = Id::from(path.into_inner());
    let user = state
        .db
        .run(move |conn| users::find(conn, id))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let view = UserView::try_from(user)?;
    state.accounts.forget(view.id);
    Ok(with_etag(StatusCode::OK, view.version, &view))
}

/// Changes a user's name, role, enterprise, password or active flag (admin).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    if_match: IfMatch,
    path: web::Path<Uuid>,
    body: Body<UpdateUser>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let if_match = if_match.0;
    let body = body.into_inner();
    let id = path.into_inner();
    let mut errors = FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .map(|n| required_text("name", n, MAX_LINE))
        .transpose();
    let name = AppError::gather(&mut errors, "name", name);
    let password_hash = match body.password {
        Some(password) => hash_new_password(password).await.map(Some),
        None => Ok(None),
    };
    let password_hash = AppError::gather(&mut errors, "password", password_hash);
    let (Some(name), Some(password_hash)) = (name, password_hash) else {
        return Err(AppError::invalid_fields(errors));
    };
    let change = AccountChanges {
        name,
        role: body.role,
        enterprise_id: body.enterprise_id,
        password_hash,
        active: body.active,
    };
    let now = crate::clock::now_utc();
    let user = state
        .db
        .write(move |conn| app::users::update_user(conn, &caller, id, if_match, change, now))
        .await?;
    let view = UserView::try_from(user)?;
    state.accounts.forget(view.id);
    Ok(with_etag(StatusCode::OK, view.version, &view))
}

/// Signs a user out everywhere (admin): every token issued before now stops
/// working, on every instance within 10 s. Changing a password or
/// disabling the account does the same.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/revoke-tokens",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Every token issued before now is refused from now on"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn revoke_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let id = path.into_inner();
    let now = crate::clock::now_utc();
    state
        .db
        .write(move |conn| app::users::revoke_tokens(conn, id, now))
        .await?;
    state.accounts.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
