//! Webhook endpoints over HTTP (admin): register, list, change (disable,
//! rotate the secret), and read an endpoint's delivery log.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app;
use crate::app::webhooks::{CreateWebhook, UpdateWebhook};
use crate::db::webhooks::{self as store, Delivery, Webhook};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::delivery::DeliveryState;
use crate::domain::webhook::EventType;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::state::AppState;
use crate::http::{create_idempotently, decode_id_cursor, Created, Page, Paginated};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<EventType>,
    /// `false`: disabled, nothing is queued for it.
    pub active: bool,
    pub version: i64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<&Webhook> for WebhookView {
    type Error = AppError;

    fn try_from(h: &Webhook) -> Result<WebhookView, AppError> {
        Ok(WebhookView {
            id: h.id.uuid(),
            url: h.url.clone(),
            description: h.description.clone(),
            event_types: serde_json::from_str(&h.event_types)
                .map_err(|e| AppError::Internal(e.into()))?,
            active: h.active,
            version: h.version,
            created_by: h.created_by.uuid(),
            created_at: h.created_at.and_utc(),
            updated_at: h.updated_at.and_utc(),
        })
    }
}

/// An endpoint with its signing secret: answered when it is registered
/// and when the secret is rotated, never otherwise.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    /// Null when no new secret is answered, and on a replay.
    pub secret: Option<String>,
    /// `true` on a replay of the registration (same `Idempotency-Key`):
    /// the secret was answered by the first response only and is not
    /// kept, so `secret` is null (rotate it if it was lost).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub secret_shown_once: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    /// Sent as `webhook-id` (`msg_<event_id>`): the same on every attempt.
    pub event_id: Uuid,
    pub event_type: String,
    pub state: DeliveryState,
    pub attempts: i32,
    /// The endpoint's last HTTP status.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> DeliveryView {
        DeliveryView {
            id: d.id.uuid(),
            event_id: d.event_id.uuid(),
            event_type: d.event_type,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at.and_utc(),
            created_at: d.created_at.and_utc(),
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
        }
    }
}

/// Registers an endpoint for the given event types; deliveries go through
/// the outbox, signed per Standard Webhooks. The secret is answered once.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry replay the first response")),
    request_body = CreateWebhook,
    responses(
        (status = 201, body = WebhookWithSecret, headers(("Location" = String))),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: Body<CreateWebhook>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageWebhooks)?;
    let request = body.into_inner();
    app::webhooks::check_target(&request.url, &state.settings.webhooks).await?;
    let fingerprint = serde_json::to_value(&request).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.park.now().utc;
    let sealer = state.webhooks.sealer();
    create_idempotently(&state, &req, &caller, &fingerprint, move |conn| {
        let (hook, secret) = app::webhooks::register(conn, &sealer, &caller, &request, now)?;
        let answer = WebhookWithSecret {
            webhook: WebhookView::try_from(&hook)?,
            secret: Some(secret),
            secret_shown_once: None,
        };
        Ok(
            Created::new(&answer, format!("/api/v1/webhooks/{}", hook.id), None)?
                .shown_once("secret"),
        )
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WebhookPageQuery {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// The endpoints, newest first (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    params(WebhookPageQuery),
    responses(
        (status = 200, body = Paginated<WebhookView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<WebhookPageQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageWebhooks)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| store::list(conn, before, page.fetch()))
        .await?;
    let views = rows
        .iter()
        .map(WebhookView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |h| h.id.to_string(), |h| h)))
}

/// Changes an endpoint: its address, event types or description; `active:
/// false` disables it; `rotate_secret: true` answers a new secret once.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = UpdateWebhook,
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    body: Body<UpdateWebhook>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageWebhooks)?;
    let request = body.into_inner();
    if let Some(url) = &request.url {
        app::webhooks::check_target(url, &state.settings.webhooks).await?;
    }
    let id = path.into_inner();
    let now = state.park.now().utc;
    let sealer = state.webhooks.sealer();
    let (hook, secret) = state
        .db
        .write(move |conn| app::webhooks::change(conn, &sealer, id, &request, now))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret {
        webhook: WebhookView::try_from(&hook)?,
        secret,
        secret_shown_once: None,
    }))
}

/// An endpoint's delivery log, newest first: every event queued for it,
/// its attempts, last status and error.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), WebhookPageQuery),
    responses(
        (status = 200, body = Paginated<DeliveryView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<Uuid>,
    query: web::Query<WebhookPageQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ManageWebhooks)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let id = Id::from(path.into_inner());
    let rows = state
        .db
        .run(move |conn| {
            store::find(conn, id)?.ok_or(AppError::NotFound("webhook"))?;
            store::deliveries(conn, id, before, page.fetch())
        })
        .await?;
    let views: Vec<DeliveryView> = rows.into_iter().map(DeliveryView::from).collect();
    Ok(HttpResponse::Ok().json(page.finish(views, |d| d.id.to_string(), |d| d)))
}
