//! The Prometheus series behind `GET /metrics`: HTTP traffic per matched
//! route pattern (recorded by the request middleware in `telemetry`), and
//! gauges computed at scrape time from the pool and a few cheap queries
//! (outbox backlog, open and overdue hazards), so they are never stale.
//!
//! Each application owns its registry rather than using a process-global
//! one: tests run many servers in one process, and each must count only
//! its own traffic.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use prometheus::core::Collector;
use prometheus::{
    Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::db::outbox::OutboxBacklog;
use crate::db::PoolStatus;
use crate::error::AppError;

const NAMESPACE: &str = "hazard_tracker";

/// The `route` label of a request no route matched: raw paths would give
/// every scanner's probe its own series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The series that live as long as the application.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
}

/// The read cache's counters at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadCacheFigures {
    pub hits: u64,
    pub misses: u64,
    pub live: bool,
}

/// What the database said at scrape time.
#[derive(Debug, Clone)]
pub struct StoreFigures {
    pub outbox: OutboxBacklog,
    pub open_hazards: i64,
    pub overdue_hazards: i64,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new_custom(Some(NAMESPACE.to_owned()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, matched route pattern and status.",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response head, by method and matched route pattern.",
            ),
            &["method", "route"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
        })
    }

    /// Records one answered request. `route` is the matched pattern (e.g.
    /// `/api/v1/hazards/{id}`) or [`UNMATCHED_ROUTE`].
    pub fn observe_request(
        &self,
        method: &Method,
        route: &str,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        self.http_requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition: the long-lived series plus the scrape-time
    /// gauges. `store` is `None` when the database did not answer; its
    /// series are then left out (not reported as zero) and
    /// `database_up` is 0.
    pub fn render(
        &self,
        pool: PoolStatus,
        reads: ReadCacheFigures,
        store: Option<&StoreFigures>,
    ) -> Result<String, AppError> {
        let scrape = scrape_gauges(pool, reads, store).map_err(|e| AppError::Internal(e.into()))?;
        let mut families = self.registry.gather();
        families.extend(scrape.gather());
        TextEncoder::new()
            .encode_to_string(&families)
            .map_err(|e| AppError::Internal(e.into()))
    }
}

/// A fresh registry of gauges for one scrape.
fn scrape_gauges(
    pool: PoolStatus,
    reads: ReadCacheFigures,
    store: Option<&StoreFigures>,
) -> prometheus::Result<Registry> {
    let registry = Registry::new_custom(Some(NAMESPACE.to_owned()), None)?;
    pool_gauges(&registry, pool)?;
    read_cache_series(&registry, reads)?;
    int_gauge(
        &registry,
        "database_up",
        "1 when the scrape-time queries answered; 0 leaves their series out.",
        i64::from(store.is_some()),
    )?;
    if let Some(store) = store {
        store_gauges(&registry, store)?;
    }
    Ok(registry)
}

/// Registers a gauge `name` set to `value`.
fn int_gauge(registry: &Registry, name: &str, help: &str, value: i64) -> prometheus::Result<()> {
    let gauge = IntGauge::new(name, help)?;
    gauge.set(value);
    registry.register(Box::new(gauge))
}

/// The connection pool's occupancy.
fn pool_gauges(registry: &Registry, pool: PoolStatus) -> prometheus::Result<()> {
    int_gauge(
        registry,
        "db_pool_connections",
        "Database connections open in the pool, busy or idle.",
        i64::from(pool.connections),
    )?;
    int_gauge(
        registry,
        "db_pool_idle_connections",
        "Open database connections not in use.",
        i64::from(pool.idle),
    )?;
    int_gauge(
        registry,
        "db_pool_max_connections",
        "Most connections the pool opens (database.pool_size).",
        i64::from(pool.max),
    )
}

/// The read cache's lookups by outcome, and whether it may answer.
fn read_cache_series(registry: &Registry, reads: ReadCacheFigures) -> prometheus::Result<()> {
    let lookups = IntCounterVec::new(
        Opts::new(
            "read_cache_lookups_total",
            "Reads of hazards and hazard pages by outcome: hit (answered from memory) or miss (read from the database).",
        ),
        &["outcome"],
    )?;
    lookups.with_label_values(&["hit"]).inc_by(reads.hits);
    lookups.with_label_values(&["miss"]).inc_by(reads.misses);
    register(registry, lookups)?;
    int_gauge(
        registry,
        "read_cache_live",
        "1 while the read cache may answer: its watcher is connected and has confirmed it sees every change.",
        i64::from(reads.live),
    )
}

/// What the scrape-time queries found: the outbox backlog and the open and
/// overdue hazards.
fn store_gauges(registry: &Registry, store: &StoreFigures) -> prometheus::Result<()> {
    let messages = IntGaugeVec::new(
        Opts::new(
            "outbox_messages",
            "Outbox messages by state: pending (not tried yet), failed (to be retried), dead (given up).",
        ),
        &["state"],
    )?;
    for (state, count) in [
        ("pending", store.outbox.pending),
        ("failed", store.outbox.failed),
        ("dead", store.outbox.dead),
    ] {
        messages.with_label_values(&[state]).set(count);
    }
    register(registry, messages)?;
    let oldest = Gauge::new(
        "outbox_oldest_pending_age_seconds",
        "Age of the oldest message still waiting to be sent (pending or failed); 0 when none waits.",
    )?;
    oldest.set(store.outbox.oldest_waiting_age_secs);
    register(registry, oldest)?;
    int_gauge(
        registry,
        "hazards_open",
        "Hazards not yet closed or voided.",
        store.open_hazards,
    )?;
    int_gauge(
        registry,
        "hazards_overdue",
        "Hazards reported or rectifying whose deadline day has ended, in the park's time zone.",
        store.overdue_hazards,
    )
}

fn register<C: Collector + 'static>(registry: &Registry, collector: C) -> prometheus::Result<()> {
    registry.register(Box::new(collector))
}

/// The standard methods by name; anything else as one value, so a client
/// inventing methods cannot create series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_its_labels() {
        let metrics = Metrics::new().unwrap();
        metrics.observe_request(
            &Method::GET,
            "/api/v1/hazards/{id}",
            StatusCode::OK,
            Duration::from_millis(12),
        );
        metrics.observe_request(
            &Method::from_bytes(b"BREW").unwrap(),
            UNMATCHED_ROUTE,
            StatusCode::NOT_FOUND,
            Duration::from_millis(1),
        );
        let pool = PoolStatus {
            connections: 2,
            idle: 1,
            max: 8,
        };
        let store = StoreFigures {
            outbox: OutboxBacklog {
                pending: 3,
                failed: 1,
                dead: 0,
                oldest_waiting_age_secs: 42.5,
            },
            open_hazards: 5,
            overdue_hazards: 2,
        };
        let text = metrics
            .render(pool, ReadCacheFigures::default(), Some(&store))
            .unwrap();
        for line in [
            "hazard_tracker_http_requests_total{method=\"GET\",route=\"/api/v1/hazards/{id}\",status=\"200\"} 1",
            "hazard_tracker_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"404\"} 1",
            "hazard_tracker_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/hazards/{id}\"} 1",
            "hazard_tracker_db_pool_max_connections 8",
            "hazard_tracker_db_pool_idle_connections 1",
            "hazard_tracker_database_up 1",
            "hazard_tracker_outbox_messages{state=\"pending\"} 3",
            "hazard_tracker_outbox_messages{state=\"dead\"} 0",
            "hazard_tracker_outbox_oldest_pending_age_seconds 42.5",
            "hazard_tracker_hazards_open 5",
            "hazard_tracker_hazards_overdue 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }

        let without_database = metrics
            .render(pool, ReadCacheFigures::default(), None)
            .unwrap();
        assert!(without_database.contains("hazard_tracker_database_up 0"));
        assert!(!without_database.contains("hazards_open"));
    }
}
