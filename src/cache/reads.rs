//! The read cache: finished JSON answers of the most-read routes (a hazard,
//! a page of hazards), kept in memory until the hazard data changes.
//! Dashboards on the wall poll the same pages all day; serving those from
//! memory takes the database, the blocking pool and the serialisation out
//! of their path.
//!
//! Correctness rests on one number, the *generation*. An answer is stored
//! with the generation read *before* its data was read from the database,
//! and served only while the generation is still the same, so a change that
//! lands during the read can never be hidden. The generation moves:
//!
//! - at once, after every [`Db::write`](crate::db::Db::write) of this
//!   process (the services' changes all go through it), so a client always
//!   reads its own writes;
//! - when another process changes the data, as seen by the [`Watcher`]: on
//!   PostgreSQL a trigger on `hazards` sends `NOTIFY hazard_tracker_changes`
//!   (delivered only once the change is visible), on SQLite the file's
//!   `PRAGMA data_version` moves with every commit of another connection.
//!   The watcher looks every `poll_interval_ms`: that is how long another
//!   instance's change can take to show here.
//!
//! Nothing is served from memory unless the watcher has confirmed, within
//! the last `2 × heartbeat`, that it is connected and watching: an outage,
//! a lost listener or a stuck watcher turns the cache off, and the routes
//! read the database (and say `503` if it is gone) until the watcher is
//! back and has moved the generation past everything it could have missed.
//! A request with `Cache-Control: no-cache` always reads the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpRequest;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::db::change_feed::{ChangeFeed, HEARTBEAT};
use crate::db::Db;
use crate::settings::ReadCacheSettings;

/// Milliseconds on a process-wide monotonic clock.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The data generation an answer was computed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

/// A stored answer.
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    /// The hazard's version, for its `ETag`.
    pub version: Option<i64>,
    /// Whose data it is: an enterprise contact may only be served its own.
    pub enterprise_id: Option<Uuid>,
    /// `overdue` depends on the park's day: an answer is for one day only.
    pub day: NaiveDate,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    bytes: usize,
    map: HashMap<String, Cached>,
}

/// See the module documentation.
pub struct ReadCache {
    enabled: bool,
    max_bytes: usize,
    /// Write transactions this application committed (see [`Db::commit_counter`]).
    commits: Arc<AtomicU64>,
    /// Changes seen by the watcher (other processes, or this one).
    watched: AtomicU64,
    /// Until when (see [`now_ms`]) the watcher's last confirmation holds.
    trusted_until: AtomicU64,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ReadCache {
    pub fn new(settings: &ReadCacheSettings, commits: Arc<AtomicU64>) -> ReadCache {
        ReadCache {
            enabled: settings.enabled,
            max_bytes: settings.max_bytes,
            commits,
            watched: AtomicU64::new(0),
            trusted_until: AtomicU64::new(0),
            entries: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn current(&self) -> u64 {
        // Both counters only grow, so their sum moves whenever either does.
        self.watched
            .load(Ordering::Acquire)
            .wrapping_add(self.commits.load(Ordering::Acquire))
    }

    /// Whether answers may be served from memory right now.
    pub fn is_live(&self) -> bool {
        self.enabled && now_ms() < self.trusted_until.load(Ordering::Acquire)
    }

    /// Read before reading the data an answer is built from.
    pub fn generation(&self) -> Generation {
        Generation(self.current())
    }

    /// The answer stored under `key`, if it is still current for `day` and
    /// the request does not ask to bypass the cache.
    pub fn get(&self, req: &HttpRequest, key: &str, day: NaiveDate) -> Option<Cached> {
        if !self.is_live() || wants_fresh(req) {
            return None;
        }
        let current = self.current();
        let found = self.entries.lock().ok().and_then(|entries| {
            (entries.generation == current)
                .then(|| entries.map.get(key).filter(|c| c.day == day).cloned())
                .flatten()
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores an answer computed from data read at `generation`; an answer
    /// that a change has overtaken meanwhile is not stored.
    pub fn put(&self, generation: Generation, key: String, answer: Cached) {
        if !self.enabled {
            return;
        }
        let size = key.len() + answer.body.len();
        if size > self.max_bytes / 16 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if generation.0 != self.current() {
            return;
        }
        if entries.generation != generation.0 || entries.bytes + size > self.max_bytes {
            entries.map.clear();
            entries.bytes = 0;
            entries.generation = generation.0;
        }
        let key_len = key.len();
        entries.bytes += size;
        if let Some(old) = entries.map.insert(key, answer) {
            entries.bytes -= key_len + old.body.len();
        }
    }

    /// Answers served from memory and answers that had to be computed,
    /// since start (while the cache was live).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    fn changed(&self) {
        self.watched.fetch_add(1, Ordering::AcqRel);
    }

    fn trust_until(&self, until_ms: u64) {
        self.trusted_until.store(until_ms, Ordering::Release);
    }

    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::Release);
    }
}

/// `Cache-Control: no-cache` (or `no-store`, or `max-age=0`) asks for an
/// answer from the database.
fn wants_fresh(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|d| {
            d.eq_ignore_ascii_case("no-cache")
                || d.eq_ignore_ascii_case("no-store")
                || d.eq_ignore_ascii_case("max-age=0")
        })
}

/// The thread that keeps a [`ReadCache`] honest about changes made
/// elsewhere; stops when told or when the cache is dropped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    pub fn spawn(
        db: Db,
        cache: &Arc<ReadCache>,
        poll_interval: Duration,
    ) -> std::io::Result<Watcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let cache = Arc::downgrade(cache);
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("read-cache-watcher".into())
            .spawn(move || {
                let mut failures = 0u32;
                while !stopping.load(Ordering::Acquire) && cache.strong_count() > 0 {
                    match watch(&db, &cache, &stopping, poll_interval) {
                        Ok(()) => return,
                        Err(error) => {
                            if let Some(cache) = cache.upgrade() {
                                cache.distrust();
                            }
                            if failures == 0 {
                                tracing::warn!(%error, "read cache off: cannot watch the database for changes");
                            }
                            failures = failures.saturating_add(1);
                            let backoff = poll_interval * failures.min(50);
                            sleep_unless(&stopping, backoff.min(Duration::from_secs(2)));
                        }
                    }
                }
            })?;
        Ok(Watcher {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops watching and waits for the thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(10);
    let until = Instant::now() + total;
    while !stop.load(Ordering::Acquire) && Instant::now() < until {
        std::thread::sleep(step.min(until.saturating_duration_since(Instant::now())));
    }
}

/// Watches until stopped (`Ok`) or until the connection fails (`Err`).
fn watch(
    db: &Db,
    cache: &std::sync::Weak<ReadCache>,
    stop: &AtomicBool,
    poll_interval: Duration,
) -> anyhow::Result<()> {
    let mut feed = ChangeFeed::open(db)?;
    let mut first = true;
    while !stop.load(Ordering::Acquire) {
        let Some(cache) = cache.upgrade() else {
            return Ok(());
        };
        let changed = feed.poll()?;
        // On (re)connecting, anything may have changed while nobody watched.
        if changed || first {
            cache.changed();
            first = false;
        }
        let confirmed = feed.confirmed_at().map_or(0, |at| {
            now_ms().saturating_sub(u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX))
        });
        let lease = (2 * HEARTBEAT).max(poll_interval * 3);
        cache.trust_until(confirmed + u64::try_from(lease.as_millis()).unwrap_or(0));
        drop(cache);
        sleep_unless(stop, poll_interval);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache whose watcher has confirmed it for good.
    fn cache_of(max_bytes: usize) -> ReadCache {
        let settings = ReadCacheSettings {
            enabled: true,
            max_bytes,
            poll_interval_ms: 20,
        };
        let cache = ReadCache::new(&settings, Arc::default());
        cache.trust_until(u64::MAX);
        cache
    }

    fn cache() -> ReadCache {
        cache_of(1 << 20)
    }

    fn answer(body: &'static str) -> Cached {
        Cached {
            body: Bytes::from_static(body.as_bytes()),
            version: Some(1),
            enterprise_id: None,
            day: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        }
    }

    fn request() -> HttpRequest {
        actix_web::test::TestRequest::default().to_http_request()
    }

    #[test]
    fn an_answer_is_served_until_the_data_changes() {
        let cache = cache();
        let day = answer("").day;
        let generation = cache.generation();
        cache.put(generation, "k".into(), answer("one"));
        assert_eq!(cache.get(&request(), "k", day).unwrap().body, "one");
        cache.changed();
        assert!(cache.get(&request(), "k", day).is_none());
    }

    #[test]
    fn an_answer_overtaken_by_a_change_is_not_stored() {
        let cache = cache();
        let day = answer("").day;
        let generation = cache.generation();
        cache.commits.fetch_add(1, Ordering::AcqRel);
        cache.put(generation, "k".into(), answer("stale"));
        assert!(cache.get(&request(), "k", day).is_none());
    }

    #[test]
    fn nothing_is_served_without_a_watcher_or_on_another_day() {
        let cache = cache();
        let day = answer("").day;
        cache.put(cache.generation(), "k".into(), answer("one"));
        assert!(cache
            .get(&request(), "k", day.succ_opt().unwrap())
            .is_none());
        let fresh = actix_web::test::TestRequest::default()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .to_http_request();
        assert!(cache.get(&fresh, "k", day).is_none());
        cache.distrust();
        assert!(cache.get(&request(), "k", day).is_none());
    }

    #[test]
    fn the_memory_bound_holds() {
        let cache = cache_of(16 * 64);
        let generation = cache.generation();
        for i in 0..100 {
            cache.put(
                generation,
                format!("key-{i:03}"),
                answer("0123456789012345678901234567890123456789"),
            );
        }
        let entries = cache.entries.lock().unwrap();
        assert!(entries.bytes <= 16 * 64, "{} bytes", entries.bytes);
        assert!(!entries.map.is_empty());
    }
}
