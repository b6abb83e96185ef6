//! Webhooks: registering endpoints, queueing one delivery per (event,
//! endpoint) in the transaction of the change that causes it, and sending
//! them signed per Standard Webhooks with retries, backoff and `dead` after
//! the limit. Outbound safety: http(s) only, no redirects followed, a
//! timeout, an optional host allow-list, and private or loopback targets
//! refused unless the park allows them — checked when an endpoint is
//! registered and again at every send.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::webhooks::{self as store, Attempt, Delivery, Webhook};
use crate::db::{Db, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::delivery::DeliveryState;
use crate::domain::text::{optional_text, MAX_LINE};
use crate::domain::webhook::{self, EventType};
use crate::error::AppError;
use crate::settings::WebhookSettings;

/// An endpoint as registered.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// http(s); private and loopback addresses only where configured.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    #[schema(min_items = 1)]
    pub event_types: Vec<EventType>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// A change to an endpoint.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub event_types: Option<Vec<EventType>>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// `false` disables the endpoint: nothing more is queued for it.
    pub active: Option<bool>,
    /// `true` issues a new secret (answered once); the old one stops.
    pub rotate_secret: Option<bool>,
}

/// Whether `url` may be called: its host on the allow-list (when there is
/// one) and every address it resolves to public unless private targets
/// are allowed.
pub async fn check_target(url: &str, settings: &WebhookSettings) -> Result<(), AppError> {
    let parsed = webhook::check_url(url)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if !settings.allowed_hosts.is_empty()
        && !settings
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
    {
        return Err(AppError::invalid(
            "url",
            "the host is not on the park's allow-list",
        ));
    }
    if settings.allow_private_targets {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host_for_lookup = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let lookup = tokio::net::lookup_host((host_for_lookup, port));
    let addresses: Vec<std::net::SocketAddr> = tokio::time::timeout(Duration::from_secs(3), lookup)
        .await
        .map_err(|_| AppError::invalid("url", "the host did not resolve in time"))?
        .map_err(|_| AppError::invalid("url", "the host does not resolve"))?
        .collect();
    if addresses.is_empty() || addresses.iter().any(|a| webhook::is_private(a.ip())) {
        return Err(AppError::invalid(
            "url",
            "private, loopback and link-local targets are refused (webhooks.allow_private_targets)",
        ));
    }
    Ok(())
}

fn event_types_json(types: &[EventType]) -> Result<String, AppError> {
    if types.is_empty() {
        return Err(AppError::invalid(
            "event_types",
            "must name at least one event type",
        ));
    }
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).map_err(|e| AppError::Internal(e.into()))
}

/// Records an endpoint (its address already checked); the secret is
/// answered once.
pub fn register(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &CreateWebhook,
    now: NaiveDateTime,
) -> Result<Webhook, AppError> {
    let hook = Webhook {
        id: Uuid::now_v7().into(),
        url: webhook::check_url(&request.url)?.to_string(),
        description: optional_text("description", request.description.as_deref(), MAX_LINE)?,
        event_types: event_types_json(&request.event_types)?,
        secret: webhook::new_secret(),
        active: true,
        version: 1,
        created_by: caller.user_id.into(),
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &hook)?;
    Ok(hook)
}

/// Changes an endpoint (its new address already checked).
pub fn change(
    conn: &mut DbConnection,
    id: Uuid,
    request: &UpdateWebhook,
    now: NaiveDateTime,
) -> Result<Webhook, AppError> {
    crate::db::write_transaction(conn, |conn| {
        let mut hook = store::find(conn, id.into())?.ok_or(AppError::NotFound("webhook"))?;
        let expected = hook.version;
        if let Some(url) = &request.url {
            hook.url = webhook::check_url(url)?.to_string();
        }
        if let Some(types) = &request.event_types {
            hook.event_types = event_types_json(types)?;
        }
        if request.description.is_some() {
            hook.description =
                optional_text("description", request.description.as_deref(), MAX_LINE)?;
        }
        if let Some(active) = request.active {
            hook.active = active;
        }
        if request.rotate_secret == Some(true) {
            hook.secret = webhook::new_secret();
        }
        hook.version += 1;
        hook.updated_at = now;
        if !store::update(conn, &hook, expected)? {
            return Err(AppError::conflict(
                "the webhook changed meanwhile; reload it",
            ));
        }
        Ok(hook)
    })
}

/// Queues `event` for every active endpoint subscribed to it, in the
/// caller's transaction: the delivery exists exactly when the change does.
pub fn publish(
    conn: &mut DbConnection,
    event: EventType,
    data: Value,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let subscribed: Vec<Webhook> = store::active(conn)?
        .into_iter()
        .filter(|h| {
            serde_json::from_str::<Vec<String>>(&h.event_types)
                .is_ok_and(|types| types.iter().any(|t| t == event.as_str()))
        })
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let event_id: Id = Uuid::now_v7().into();
    let payload = json!({
        "type": event.as_str(),
        "timestamp": now.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string();
    for hook in subscribed {
        store::insert_delivery(
            conn,
            &Delivery {
                id: Uuid::now_v7().into(),
                webhook_id: hook.id,
                event_id,
                event_type: event.as_str().to_owned(),
                payload: payload.clone(),
                state: DeliveryState::Pending,
                attempts: 0,
                next_attempt_at: now,
                lease_owner: None,
                lease_until: None,
                last_status: None,
                last_error: None,
                created_at: now,
                delivered_at: None,
            },
        )?;
    }
    Ok(())
}

/// What an event about a hazard tells.
pub fn hazard_data(hazard: &crate::db::hazards::Hazard) -> Value {
    json!({
        "hazard_id": hazard.id,
        "number": hazard.number,
        "enterprise_id": hazard.enterprise_id,
        "level": hazard.level,
        "source": hazard.source,
        "state": hazard.state,
        "deadline": hazard.deadline,
        "version": hazard.version,
    })
}

/// Sends due deliveries: the client and the policy they are sent with.
pub struct Sender {
    client: reqwest::Client,
    settings: WebhookSettings,
    /// The first retry delay and the cap of its doubling.
    retry: (Duration, Duration),
}

/// What one round of sending did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

impl Sender {
    pub fn new(
        settings: WebhookSettings,
        first_retry: Duration,
        max_retry: Duration,
    ) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(settings.timeout_secs.max(1)))
            .user_agent("hazard-tracker-webhooks")
            .build()?;
        Ok(Sender {
            client,
            settings,
            retry: (first_retry, max_retry),
        })
    }

    /// Claims and sends what is due; every delivery leased to `worker`.
    pub async fn deliver_due(
        &self,
        db: &Db,
        worker: &str,
        now: NaiveDateTime,
    ) -> Result<Sent, AppError> {
        let lease = now + chrono::Duration::seconds(self.settings.timeout_secs as i64 * 2 + 30);
        let owner = worker.to_owned();
        let due = db
            .write(move |conn| store::claim(conn, &owner, now, lease, 50))
            .await?;
        if due.is_empty() {
            return Ok(Sent::default());
        }
        // The endpoints of the whole batch, in one query.
        let ids: Vec<Id> = due.iter().map(|d| d.webhook_id).collect();
        let hooks: HashMap<Id, Webhook> = db
            .run(move |conn| store::by_ids(conn, &ids))
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let mut sent = Sent::default();
        for delivery in due {
            let attempt = self
                .attempt(hooks.get(&delivery.webhook_id), &delivery, now)
                .await;
            match attempt.state {
                DeliveryState::Sent => sent.sent += 1,
                DeliveryState::Dead | DeliveryState::Cancelled => sent.dead += 1,
                _ => sent.failed += 1,
            }
            let (id, owner) = (delivery.id, worker.to_owned());
            db.write(move |conn| store::record_attempt(conn, id, &owner, &attempt, now))
                .await?;
        }
        Ok(sent)
    }

    async fn attempt(
        &self,
        hook: Option<&Webhook>,
        delivery: &Delivery,
        now: NaiveDateTime,
    ) -> Attempt {
        let Some(hook) = hook.filter(|h| h.active) else {
            return Attempt {
                state: DeliveryState::Cancelled,
                status: None,
                error: Some("the endpoint was disabled".into()),
                retry_at: now,
            };
        };
        let result = self.send(hook, delivery, now).await;
        let failed_attempts = delivery.attempts + 1;
        match result {
            Ok(status) if (200..300).contains(&status) => Attempt {
                state: DeliveryState::Sent,
                status: Some(status),
                error: None,
                retry_at: now,
            },
            outcome => {
                let (status, error) = match outcome {
                    Ok(status) => (Some(status), format!("the endpoint answered {status}")),
                    Err(error) => (None, error),
                };
                let dead = u32::try_from(failed_attempts).unwrap_or(u32::MAX)
                    >= self.settings.max_attempts;
                Attempt {
                    state: if dead {
                        DeliveryState::Dead
                    } else {
                        DeliveryState::Failed
                    },
                    status,
                    error: Some(error),
                    retry_at: now + self.backoff(failed_attempts),
                }
            }
        }
    }

    fn backoff(&self, failed_attempts: i32) -> chrono::Duration {
        let (first, max) = self.retry;
        let factor = 2u32.saturating_pow(u32::try_from(failed_attempts - 1).unwrap_or(0));
        let delay = first.saturating_mul(factor).min(max);
        chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(300))
    }

    async fn send(
        &self,
        hook: &Webhook,
        delivery: &Delivery,
        now: NaiveDateTime,
    ) -> Result<i32, String> {
        check_target(&hook.url, &self.settings)
            .await
            .map_err(|e| format!("refused target: {e}"))?;
        let id = format!("msg_{}", delivery.event_id);
        let timestamp = now.and_utc().timestamp();
        let signature =
            webhook::signature(&hook.secret, &id, timestamp, delivery.payload.as_bytes())
                .map_err(|e| e.to_string())?;
        let answer = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| format!("sending failed: {e}"))?;
        Ok(i32::from(answer.status().as_u16()))
    }
}
