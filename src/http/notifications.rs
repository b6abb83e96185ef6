//! The outbox, as admins see it: every mail, its rule, recipients and
//! delivery state.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::outbox::{self, OutboxFilter, OutboxMessage};
use crate::db::Id;
use crate::domain::access::{Caller, Capability};
use crate::domain::delivery::DeliveryState;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::http::{decode_id_cursor, Page, Paginated};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub hazard_id: Option<Uuid>,
    /// The escalation rule that produced it.
    pub rule: String,
    /// The deadline a time-based rule fired for.
    pub deadline: Option<NaiveDate>,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `pending`, `sent`, `failed` (will be retried), `dead` (given up) or
    /// `cancelled` (the hazard was closed, voided, or its deadline moved).
    pub state: DeliveryState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<OutboxMessage> for NotificationView {
    type Error = AppError;

    fn try_from(m: OutboxMessage) -> Result<NotificationView, AppError> {
        Ok(NotificationView {
            id: m.id.uuid(),
            hazard_id: m.hazard_id.map(Id::uuid),
            rule: m.rule,
            deadline: m.deadline,
            recipients: serde_json::from_str(&m.recipients).unwrap_or_default(),
            subject: m.subject,
            state: m.state,
            attempts: m.attempts,
            last_error: m.last_error,
            next_attempt_at: m.next_attempt_at.and_utc(),
            created_at: m.created_at.and_utc(),
            sent_at: m.sent_at.map(|t| t.and_utc()),
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationsQuery {
    pub state: Option<DeliveryState>,
    pub hazard_id: Option<Uuid>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\s\S])")]
    pub cursor: Option<String>,
}

/// Every escalation mail, newest first (admin).
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationsQuery),
    responses(
        (status = 200, body = Paginated<NotificationView>),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json")
    )
)]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<NotificationsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Capability::ReadOutbox)?;
    let page = Page::new(query.limit)?;
    let before = decode_id_cursor(query.cursor.as_deref())?;
    let filter = OutboxFilter {
        state: query.state,
        hazard_id: query.hazard_id.map(Id::from),
    };
    let rows = state
        .db
        .run(move |conn| outbox::list(conn, &filter, before, page.fetch()))
        .await?;
    let views = rows
        .into_iter()
        .map(NotificationView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(page.finish(views, |v| v.id.to_string(), |v| v)))
}
