//! Webhooks: registering endpoints, queueing one delivery per (event,
//! endpoint) in the transaction of the change that causes it, and sending
//! them signed per Standard Webhooks with retries, backoff and `dead` after
//! the limit. Outbound safety: http(s) only, no redirects followed, no
//! proxy, a timeout, an optional host allow-list, and targets that are not
//! public refused unless the park allows them — checked when an endpoint is
//! registered, and at every send on the very addresses connected to (the
//! client's resolver drops those that are not public), so a name that
//! resolves elsewhere later (DNS rebinding) reaches nothing it may not.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use uuid::Uuid;

use crate::app::workers::Workers;
use crate::clock::Clock;
use crate::db::webhooks::{self as store, Attempt, Delivery, Webhook};
use crate::db::{Db, DbConnection, Id};
use crate::domain::access::Caller;
use crate::domain::delivery::DeliveryState;
use crate::domain::text::{optional_text, MAX_LINE};
use crate::domain::webhook::{self, EventType, SecretSealer};
use crate::error::AppError;
use crate::messages::{Detail, Lang, Rule};
use crate::settings::{WebhookSettings, WEBHOOK_LEASE_MARGIN};

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
/// are allowed. (Checked when an endpoint is registered or changed; at
/// every send, [`allowed_at_send`] and the client's [`PublicResolver`].)
pub async fn check_target(url: &str, settings: &WebhookSettings) -> Result<(), AppError> {
    let parsed = webhook::check_url(url)?;
    check_allowed_host(&parsed, settings).map_err(|rule| AppError::invalid("url", rule))?;
    if settings.allow_private_targets {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
        Some(url::Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
        _ => {
            let host = parsed.host_str().unwrap_or_default().to_owned();
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
                .await
                .map_err(|_| AppError::invalid("url", Rule::HostSlow))?
                .map_err(|_| AppError::invalid("url", Rule::HostUnresolved))?
                .map(|a| a.ip())
                .collect()
        }
    };
    if addresses.is_empty() || !addresses.into_iter().all(webhook::is_public) {
        return Err(AppError::invalid("url", Rule::HostNotPublic));
    }
    Ok(())
}

/// The longest a name may take to resolve when an endpoint is registered.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

fn check_allowed_host(url: &reqwest::Url, settings: &WebhookSettings) -> Result<(), Rule> {
    let host = url.host_str().unwrap_or_default();
    if !settings.allowed_hosts.is_empty()
        && !settings
            .allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    {
        return Err(Rule::HostNotAllowed);
    }
    Ok(())
}

/// What is checked at every send before the request goes: the address,
/// the allow-list, and an address written in the URL (which no resolver
/// sees). A name's addresses are checked by [`PublicResolver`] as they are
/// connected to.
fn allowed_at_send(url: &str, settings: &WebhookSettings) -> Result<(), String> {
    let parsed = webhook::check_url(url).map_err(|e| e.to_string())?;
    check_allowed_host(&parsed, settings).map_err(|rule| rule.text(Lang::En).to_owned())?;
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        _ => None,
    };
    if !settings.allow_private_targets && literal.is_some_and(|ip| !webhook::is_public(ip)) {
        return Err(Rule::HostNotPublic.text(Lang::En).to_owned());
    }
    Ok(())
}

/// The webhook client's resolver: a name's addresses, less those that are
/// not public (unless private targets are allowed). The address connected
/// to is the address checked; a name left with none fails the attempt.
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || webhook::is_public(a.ip()))
                .collect();
            if usable.is_empty() {
                let refused: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "{host} resolves to no public address ({}): refused",
                    refused.join(", ")
                )
                .into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(usable.into_iter());
            Ok(addresses)
        })
    }
}

/// An error with its causes, for the delivery log: reqwest's own message
/// names the request, its sources what went wrong.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn event_types_json(types: &[EventType]) -> Result<String, AppError> {
    if types.is_empty() {
        return Err(AppError::invalid("event_types", Rule::NoEventTypes));
    }
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).map_err(|e| AppError::Internal(e.into()))
}

/// Records an endpoint (its address already checked) with a new secret,
/// kept sealed: the row and the secret, which is answered once.
pub fn register(
    conn: &mut DbConnection,
    sealer: &SecretSealer,
    caller: &Caller,
    request: &CreateWebhook,
    now: NaiveDateTime,
) -> Result<(Webhook, String), AppError> {
    let id = Uuid::now_v7();
    let secret = webhook::new_secret();
    let hook = Webhook {
        id: id.into(),
        url: webhook::check_url(&request.url)?.to_string(),
        description: optional_text("description", request.description.as_deref(), MAX_LINE)?,
        event_types: event_types_json(&request.event_types)?,
        secret: sealer.seal(id, &secret)?,
        active: true,
        version: 1,
        created_by: caller.user_id.into(),
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &hook)?;
    Ok((hook, secret))
}

/// Changes an endpoint (its new address already checked): the row, and the
/// new secret when one was asked for.
pub fn change(
    conn: &mut DbConnection,
    sealer: &SecretSealer,
    id: Uuid,
    request: &UpdateWebhook,
    now: NaiveDateTime,
) -> Result<(Webhook, Option<String>), AppError> {
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
        let rotated = (request.rotate_secret == Some(true)).then(webhook::new_secret);
        if let Some(secret) = &rotated {
            hook.secret = sealer.seal(id, secret)?;
        }
        hook.version += 1;
        hook.updated_at = now;
        if !store::update(conn, &hook, expected)? {
            return Err(AppError::conflict(Detail::WebhookChanged));
        }
        Ok((hook, rotated))
    })
}

/// Seals the secrets still kept in clear (from before secrets were
/// sealed); how many. Run at start-up; until then such a secret is read
/// as it is.
pub fn seal_clear_secrets(
    conn: &mut DbConnection,
    sealer: &SecretSealer,
) -> Result<usize, AppError> {
    let mut sealed = 0;
    for (id, secret) in store::clear_secrets(conn, webhook::SEALED_PREFIX)? {
        let stored = sealer.seal(id.uuid(), &secret)?;
        if store::replace_secret(conn, id, &secret, &stored)? {
            sealed += 1;
        }
    }
    Ok(sealed)
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
    /// Opens the endpoints' stored secrets.
    sealer: Arc<SecretSealer>,
    /// The first retry delay and the cap of its doubling.
    retry: (Duration, Duration),
}

/// What one round of sending did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
    /// Claimed but not attempted (the worker was stopping, or the lease
    /// would not have covered the send): they stay leased until the lease
    /// runs out or the worker gives it back, then go again.
    pub left: usize,
}

impl Sent {
    fn count(&mut self, state: Option<DeliveryState>) {
        match state {
            Some(DeliveryState::Sent) => self.sent += 1,
            Some(DeliveryState::Dead | DeliveryState::Cancelled) => self.dead += 1,
            Some(DeliveryState::Pending | DeliveryState::Failed) => self.failed += 1,
            None => self.left += 1,
        }
    }

    fn total(&self) -> usize {
        self.sent + self.failed + self.dead + self.left
    }
}

impl Sender {
    pub fn new(
        settings: WebhookSettings,
        sealer: Arc<SecretSealer>,
        first_retry: Duration,
        max_retry: Duration,
    ) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Straight to the endpoint, whose addresses the resolver checks;
            // a proxy would connect elsewhere, unchecked.
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver {
                allow_private: settings.allow_private_targets,
            }))
            .timeout(settings.timeout())
            .user_agent("hazard-tracker-webhooks")
            .build()?;
        Ok(Sender {
            client,
            settings,
            sealer,
            retry: (first_retry, max_retry),
        })
    }

    /// What seals and opens the endpoints' secrets.
    pub fn sealer(&self) -> Arc<SecretSealer> {
        self.sealer.clone()
    }

    /// Claims and sends what is due; every delivery leased to `worker`.
    pub async fn deliver_due(
        &self,
        db: &Db,
        worker: &str,
        now: NaiveDateTime,
    ) -> Result<Sent, AppError> {
        let (_never_stops, stopping) = watch::channel(false);
        self.deliver(db, worker, now, &stopping).await
    }

    /// [`Sender::deliver_due`] that stops early once `stopping` turns
    /// true: sends in progress are abandoned (not attempts; the deliveries
    /// stay due), records in progress finish.
    ///
    /// The batch is sent at once, at most `concurrency_per_endpoint` to one
    /// endpoint and `max_concurrency` in all, each recorded as soon as it
    /// is answered; `now` is the time due-ness is judged by, and the
    /// attempts are dated that plus the time since.
    async fn deliver(
        &self,
        db: &Db,
        worker: &str,
        now: NaiveDateTime,
        stopping: &watch::Receiver<bool>,
    ) -> Result<Sent, AppError> {
        let lease = self.settings.lease();
        let started = Instant::now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let owner = worker.to_owned();
        let batch = i64::from(self.settings.batch_size);
        let due = db
            .write(move |conn| store::claim(conn, &owner, now, lease_until, batch))
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
        let per_endpoint: HashMap<Id, Semaphore> = due
            .iter()
            .map(|d| {
                (
                    d.webhook_id,
                    Semaphore::new(self.settings.concurrency_per_endpoint),
                )
            })
            .collect();
        let in_all = Semaphore::new(self.settings.max_concurrency);
        // A send that could not end before the lease, less what recording
        // needs, is not started: another worker may claim it then.
        let last_start = lease
            .saturating_sub(WEBHOOK_LEASE_MARGIN)
            .saturating_sub(self.settings.timeout());
        let attempts = due.iter().map(|delivery| {
            let hook = hooks.get(&delivery.webhook_id).filter(|h| h.active);
            let slots = (&per_endpoint[&delivery.webhook_id], &in_all);
            let mut stopping = stopping.clone();
            async move {
                // `None`: the endpoint was disabled (or is gone).
                let result = match hook {
                    None => None,
                    Some(hook) => {
                        let tried = tokio::select! {
                            tried = self.attempt(hook, delivery, slots, started, last_start) => tried,
                            _ = stopping.wait_for(|stop| *stop) => None,
                        };
                        let Some(result) = tried else {
                            return Ok(None);
                        };
                        Some(result)
                    }
                };
                let at = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
                let attempt = self.outcome(delivery, result, at);
                let state = attempt.state;
                let (id, owner) = (delivery.id, worker.to_owned());
                let recorded = db
                    .write(move |conn| store::record_attempt(conn, id, &owner, &attempt, at))
                    .await?;
                if !recorded {
                    tracing::warn!(delivery_id = %id, "webhook lease lost before the attempt was recorded");
                }
                Ok::<_, AppError>(Some(state))
            }
        });
        let mut sent = Sent::default();
        for outcome in futures_util::future::join_all(attempts).await {
            sent.count(outcome?);
        }
        Ok(sent)
    }

    /// One attempt, once its endpoint and the worker have a free slot:
    /// `None` when it is not made (the lease would not cover it).
    async fn attempt(
        &self,
        hook: &Webhook,
        delivery: &Delivery,
        (endpoint, in_all): (&Semaphore, &Semaphore),
        started: Instant,
        last_start: Duration,
    ) -> Option<Result<i32, String>> {
        // The endpoint's slot first: one waiting for its endpoint holds
        // none of the slots other endpoints could use.
        let _endpoint = endpoint.acquire().await.ok()?;
        let _in_all = in_all.acquire().await.ok()?;
        if started.elapsed() > last_start {
            return None;
        }
        Some(self.send(hook, delivery).await)
    }

    /// How an attempt ends: `result` is the endpoint's status or why there
    /// was none, `None` when the endpoint is disabled.
    fn outcome(
        &self,
        delivery: &Delivery,
        result: Option<Result<i32, String>>,
        now: NaiveDateTime,
    ) -> Attempt {
        let failed_attempts = delivery.attempts + 1;
        match result {
            None => Attempt {
                state: DeliveryState::Cancelled,
                status: None,
                error: Some("the endpoint was disabled".into()),
                retry_at: now,
            },
            Some(Ok(status)) if (200..300).contains(&status) => Attempt {
                state: DeliveryState::Sent,
                status: Some(status),
                error: None,
                retry_at: now,
            },
            Some(outcome) => {
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

    /// Sends one delivery, signed at the moment it goes: a receiver
    /// checks `webhook-timestamp` against its own clock.
    async fn send(&self, hook: &Webhook, delivery: &Delivery) -> Result<i32, String> {
        allowed_at_send(&hook.url, &self.settings).map_err(|e| format!("refused target: {e}"))?;
        let secret = self
            .sealer
            .open(hook.id.uuid(), &hook.secret)
            .map_err(|e| match e {
                AppError::Internal(cause) => format!("{cause:#}"),
                other => other.to_string(),
            })?;
        let id = format!("msg_{}", delivery.event_id);
        let timestamp = chrono::Utc::now().timestamp();
        let signature = webhook::signature(&secret, &id, timestamp, delivery.payload.as_bytes())
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
            .map_err(|e| format!("sending failed: {}", with_causes(&e)))?;
        Ok(i32::from(answer.status().as_u16()))
    }
}

/// The webhook worker, running inside `serve` beside the mail's.
pub struct Worker {
    pub db: Db,
    pub sender: Arc<Sender>,
    pub clock: Arc<dyn Clock>,
    /// Its name on the leases it takes.
    pub name: String,
    /// How often it looks for due deliveries (at once again after a full
    /// batch).
    pub interval: Duration,
}

impl Worker {
    /// Runs until stopped; the caller then gives back this worker's leases
    /// ([`store::release_leases`]).
    pub fn spawn(self) -> Workers {
        let (stop, mut stopping) = watch::channel(false);
        let task = actix_web::rt::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut full = false;
            loop {
                if !full {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        _ = stopping.wait_for(|stop| *stop) => return,
                    }
                }
                if *stopping.borrow() {
                    return;
                }
                let now = self.clock.now();
                full = match self
                    .sender
                    .deliver(&self.db, &self.name, now, &stopping)
                    .await
                {
                    Ok(s) if s == Sent::default() => false,
                    Ok(s) => {
                        tracing::info!(
                            sent = s.sent,
                            failed = s.failed,
                            dead = s.dead,
                            left = s.left,
                            "webhook delivery"
                        );
                        s.total() >= self.sender.settings.batch_size as usize
                    }
                    Err(error) => {
                        tracing::warn!(%error, "webhook delivery failed");
                        false
                    }
                };
            }
        });
        Workers::new(stop, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    async fn resolve(allow_private: bool, name: &str) -> Result<Vec<SocketAddr>, String> {
        let resolver = PublicResolver { allow_private };
        resolver
            .resolve(name.parse().unwrap())
            .await
            .map(Iterator::collect)
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_public_addresses() {
        let refused = resolve(false, "localhost").await.unwrap_err();
        assert!(refused.contains("no public address"), "{refused}");
        let allowed = resolve(true, "localhost").await.unwrap();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()), "{allowed:?}");
        assert!(!allowed.is_empty());
    }

    #[test]
    fn addresses_in_the_url_are_checked_at_send() {
        let strict = WebhookSettings::default();
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://[::ffff:10.0.0.1]/hook",
            "http://[64:ff9b::a9fe:a9fe]/hook",
            "http://198.18.0.1/hook",
            "http://224.0.0.1/hook",
        ] {
            assert!(allowed_at_send(url, &strict).is_err(), "{url}");
        }
        assert!(allowed_at_send("http://8.8.8.8/hook", &strict).is_ok());
        assert!(allowed_at_send("https://ehs.example.cn/hook", &strict).is_ok());
        let open = WebhookSettings {
            allow_private_targets: true,
            ..WebhookSettings::default()
        };
        assert!(allowed_at_send("http://127.0.0.1:8080/hook", &open).is_ok());
        let listed = WebhookSettings {
            allow_private_targets: true,
            allowed_hosts: vec!["ehs.example.cn".into()],
            ..WebhookSettings::default()
        };
        assert!(allowed_at_send("http://127.0.0.1:8080/hook", &listed).is_err());
    }
}
