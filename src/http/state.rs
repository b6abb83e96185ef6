//! What every request handler shares, built in `startup` from parts that
//! know nothing of it: the database, the token service, the park, the
//! caches and the long-lived series.

use std::sync::Arc;

use crate::app::auth::{AccountCheck, TokenService};
use crate::app::escalation::{Escalation, Outbox};
use crate::cache::figures::FiguresCache;
use crate::clock::Clock;
use crate::db::Db;
use crate::domain::hazard::rules::RecordPolicy;
use crate::domain::network::Cidr;
use crate::domain::park::Park;
use crate::email::Mailer;
use crate::http::client_address::client_address;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    /// Confirms tokens against the accounts they name.
    pub accounts: Arc<AccountCheck>,
    /// Confirms wall screens' display keys.
    pub display_keys: Arc<crate::app::display_keys::DisplayKeyCheck>,
    pub park: Arc<Park>,
    /// Where evidence files are received and kept.
    pub evidence: Arc<crate::storage::EvidenceStore>,
    pub settings: Arc<Settings>,
    /// The escalation policy, applied inside hazard transactions.
    pub escalation: Arc<Escalation>,
    pub mailer: Arc<Mailer>,
    /// Sends webhook deliveries.
    pub webhooks: Arc<crate::app::webhooks::Sender>,
    /// The time the background workers act on.
    pub clock: Arc<dyn Clock>,
    /// Dashboard figures and reports, kept until the data changes.
    pub figures: Arc<FiguresCache>,
    /// Every hazard's facts for the analytics, kept up to date.
    pub facts: Arc<crate::cache::facts::FactStore>,
    /// The long-lived series of `/metrics`.
    pub metrics: Arc<crate::http::metric_series::Metrics>,
    /// Finished answers of the most-read routes, until the data changes.
    pub reads: Arc<crate::cache::reads::ReadCache>,
    /// Sign-in attempts per account and per client address.
    pub login_throttle: Arc<crate::http::login_throttle::LoginThrottle>,
}

impl AppState {
    /// The client's address, as far as the park's own proxies vouch for it.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        let trusted: Vec<Cidr> = self
            .settings
            .server
            .trusted_proxies
            .iter()
            .filter_map(|proxy| Cidr::parse(proxy).ok())
            .collect();
        client_address(req, &trusted)
    }

    /// How far back a find or a step may be dated before it is an entered
    /// record.
    pub fn record_policy(&self) -> RecordPolicy {
        RecordPolicy {
            backdate_tolerance: chrono::Duration::minutes(i64::from(
                self.settings.records.backdate_tolerance_minutes,
            )),
        }
    }

    /// What a lifecycle command is taken with: the moment, the park's
    /// dating policy and its escalation rules.
    pub fn lifecycle_context(&self) -> crate::app::hazards::Context {
        crate::app::hazards::Context {
            now: self.park.now(),
            policy: self.record_policy(),
            escalation: self.escalation.clone(),
        }
    }

    /// The webhook worker, leasing as `name`.
    pub fn webhook_worker(&self, name: String) -> crate::app::webhooks::Worker {
        crate::app::webhooks::Worker {
            db: self.db.clone(),
            sender: self.webhooks.clone(),
            clock: self.clock.clone(),
            name,
            interval: std::time::Duration::from_secs(self.settings.escalation.interval_secs.max(1)),
        }
    }

    /// The parts the outbox workers run on.
    pub fn outbox(&self) -> Outbox {
        Outbox {
            db: self.db.clone(),
            escalation: self.escalation.clone(),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
        }
    }
}

/// What the check services read besides the database: the park, its
/// calendar in force (read through `conn`) and the lifecycle's context.
pub fn record_context<'a>(
    state: &'a AppState,
    lifecycle: &'a crate::app::hazards::Context,
    conn: &mut crate::db::DbConnection,
) -> Result<crate::app::checks::RecordContext<'a>, crate::error::AppError> {
    Ok(crate::app::checks::RecordContext {
        park: &state.park,
        calendar: crate::app::calendar::current(conn)?,
        lifecycle,
    })
}
