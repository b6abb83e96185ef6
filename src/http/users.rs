//! User management (admin only).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::auth::{check_password_strength, hash_password};
use crate::db::users::{self, NewUser, User, UserChanges};
use crate::db::{enterprises, write_transaction, DbConnection};
use crate::domain::access::Role;
use crate::domain::access::{Caller, Capability};
use crate::domain::email::Email;
use crate::domain::text::required_text;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::http::{
    create_idempotently, decode_id_cursor, if_match_version, with_etag, Created, Page, Paginated,
};

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
        let corrupt =
            |what: &str| AppError::Internal(anyhow::anyhow!("user {} has a bad {what}", user.id));
        Ok(UserView {
            id: Uuid::parse_str(&user.id).map_err(|_| corrupt("id"))?,
            role: user.role,
            enterprise_id: user
                .enterprise_id
                .as_deref()
                .map(Uuid::parse_str)
                .transpose()
                .map_err(|_| corrupt("enterprise_id"))?,
            email: user.email,
            name: user.name,
            active: user.active,
            version: user.version,
            created_at: user.created_at.and_utc(),
            updated_at: user.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Required for the `enterprise` role, refused for the others.
    pub enterprise_id: Option<Uuid>,
    /// At least 10 characters.
    #[serde(skip_serializing)]
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// Required when the role becomes (or is) `enterprise`.
    pub enterprise_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = Password)]
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
    pub cursor: Option<String>,
}

/// Checks that the role and enterprise fit together.
fn enterprise_for_role(
    conn: &mut DbConnection,
    role: Role,
    enterprise_id: Option<Uuid>,
) -> Result<Option<String>, AppError> {
    match (role, enterprise_id) {
        (Role::Enterprise, None) => Err(AppError::invalid(
            "enterprise_id",
            "is required for the enterprise role",
        )),
        (Role::Enterprise, Some(id)) => {
            if !enterprises::exists(conn, &id.to_string())? {
                return Err(AppError::invalid("enterprise_id", "no such enterprise"));
            }
            Ok(Some(id.to_string()))
        }
        (_, Some(_)) => Err(AppError::invalid(
            "enterprise_id",
            "is only for the enterprise role",
        )),
        (_, None) => Ok(None),
    }
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
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let body = body.into_inner();
    let email = Email::parse(&body.email).map_err(|m| AppError::invalid("email", m))?;
    let name = required_text("name", &body.name, 200)?;
    check_password_strength(body.password.expose_secret())?;
    let password = body.password.clone();
    let password_hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))??;
    let (role, enterprise_id) = (body.role, body.enterprise_id);
    create_idempotently(&state, &req, &caller, &body, move |conn| {
        let enterprise_id = enterprise_for_role(conn, role, enterprise_id)?;
        let id = Uuid::now_v7().to_string();
        let now = crate::clock::now_utc();
        users::insert(
            conn,
            &NewUser {
                id: &id,
                email: email.as_str(),
                name: &name,
                role,
                enterprise_id: enterprise_id.as_deref(),
                password_hash: &password_hash,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let user = users::find(conn, &id)?.ok_or(AppError::NotFound("user"))?;
        let view = UserView::try_from(user)?;
        Created::new(&view, format!("/api/v1/users/{id}"), Some(view.version))
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
        .run(move |conn| users::list(conn, after.as_deref(), page.fetch()))
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
    let id = path.into_inner().to_string();
    let user = state
        .db
        .run(move |conn| users::find(conn, &id))
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
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Uuid>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageUsers)?;
    let if_match = if_match_version(&req)?;
    let body = body.into_inner();
    let name = body
        .name
        .as_deref()
        .map(|n| required_text("name", n, 200))
        .transpose()?;
    let password_hash = match body.password {
        Some(password) => {
            check_password_strength(password.expose_secret())?;
            Some(
                web::block(move || hash_password(&password))
                    .await
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))??,
            )
        }
        None => None,
    };
    let id = path.into_inner().to_string();
    let (role, enterprise_id, active) = (body.role, body.enterprise_id, body.active);
    if caller.user_id.to_string() == id
        && (active == Some(false) || role.is_some_and(|r| r != Role::Admin))
    {
        return Err(AppError::conflict(
            "an admin cannot disable or demote their own account",
        ));
    }
    let user = state
        .db
        .write(move |conn| {
            write_transaction(conn, |conn| {
                let current = users::find(conn, &id)?.ok_or(AppError::NotFound("user"))?;
                if if_match.is_some_and(|v| v != current.version) {
                    return Err(AppError::PreconditionFailed);
                }
                let current_role = current.role;
                let new_role = role.unwrap_or(current_role);
                let requested_enterprise = enterprise_id.or_else(|| {
                    // Keep the enterprise when only other fields change.
                    (role.is_none() || new_role == current_role)
                        .then(|| {
                            current
                                .enterprise_id
                                .as_deref()
                                .and_then(|e| Uuid::parse_str(e).ok())
                        })
                        .flatten()
                });
                let enterprise = enterprise_for_role(conn, new_role, requested_enterprise)?;
                let changes = UserChanges {
                    name,
                    role,
                    enterprise_id: Some(enterprise),
                    password_hash,
                    active,
                };
                if !users::update(
                    conn,
                    &id,
                    current.version,
                    &changes,
                    crate::clock::now_utc(),
                )? {
                    return Err(AppError::conflict(
                        "the user was changed concurrently; reload and retry",
                    ));
                }
                users::find(conn, &id)?.ok_or(AppError::NotFound("user"))
            })
        })
        .await?;
    let view = UserView::try_from(user)?;
    state.accounts.forget(view.id);
    Ok(with_etag(StatusCode::OK, view.version, &view))
}
