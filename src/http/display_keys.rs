//! Display keys over HTTP (admin): issue one (the key shown once), list
//! them, revoke one.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::display_keys::CreateDisplayKey;
use crate::db::display_keys::{self as store, DisplayKey};
use crate::domain::access::{Caller, Capability};
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

/// A display key as listed: never the key itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisplayKeyView {
    pub id: Uuid,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub key_prefix: String,
    pub expires_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<DisplayKey> for DisplayKeyView {
    fn from(k: DisplayKey) -> DisplayKeyView {
        DisplayKeyView {
            id: k.id.uuid(),
            name: k.name,
            key_prefix: k.key_prefix,
            expires_at: k.expires_at.and_utc(),
            created_by: k.created_by.uuid(),
            created_at: k.created_at.and_utc(),
            revoked_at: k.revoked_at.map(|t| t.and_utc()),
        }
    }
}

/// A key just issued: the only time `key` is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedDisplayKey {
    #[serde(flatten)]
    pub display_key: DisplayKeyView,
    /// Send as `Authorization: Bearer <key>`; it is not kept and not shown
    /// again: null on a replay.
    #[schema(required = true)]
    pub key: Option<String>,
    /// `true` on a replay (same `Idempotency-Key`): the key was answered by
    /// the first response only and is not kept, so `key` is null (revoke
    /// it and issue another if it was lost).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key_shown_once: Option<bool>,
}

/// Issues a display key for a wall screen: read-only, the dashboard's
/// aggregate figures only (`/stats/overview`, `/enterprises/grade-counts`);
/// no hazard, enterprise directory or personal data.
#[utoipa::path(
    post,
    path = "/api/v1/display-keys",
    tag = "display-keys",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateDisplayKey,
    responses(
        (status = 201, body = IssuedDisplayKey, headers(("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_display_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateDisplayKey>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageDisplayKeys)?;
    let request = body.into_inner();
    let fingerprint = serde_json::to_value(&request).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.park.now().utc;
    create_idempotently(&state, &req, &caller, &fingerprint, move |conn| {
        let (row, key) = app::display_keys::issue(conn, &caller, &request, now)?;
        let location = format!("/api/v1/display-keys/{}", row.id);
        let issued = IssuedDisplayKey {
            display_key: row.into(),
            key: Some(key),
            key_shown_once: None,
        };
        Ok(Created::new(&issued, location, None)?.shown_once("key"))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListDisplayKeysQuery {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// The display keys, newest first, revoked ones too.
#[utoipa::path(
    get,
    path = "/api/v1/display-keys",
    tag = "display-keys",
    security(("bearer" = [])),
    params(ListDisplayKeysQuery),
    responses(
        (status = 200, body = Paginated<DisplayKeyView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_display_keys(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListDisplayKeysQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageDisplayKeys)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| store::list(conn, before, page.fetch()))
        .await?;
    let views: Vec<DisplayKeyView> = rows.into_iter().map(DisplayKeyView::from).collect();
    Ok(HttpResponse::Ok().json(page.finish(views, |k| k.id.to_string(), |k| k)))
}

/// Revokes a display key: the screen using it goes blank within seconds.
#[utoipa::path(
    delete,
    path = "/api/v1/display-keys/{id}",
    tag = "display-keys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = DisplayKeyView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn revoke_display_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageDisplayKeys)?;
    let id = path.into_inner();
    let now = state.park.now().utc;
    let row = state
        .db
        .write(move |conn| app::display_keys::revoke(conn, id, now))
        .await?;
    state.display_keys.forget(row.id);
    Ok(HttpResponse::Ok().json(DisplayKeyView::from(row)))
}
