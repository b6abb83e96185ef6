//! Dashboard figures and reports: kept as finished bytes while the data
//! they came from stands still (a bounded least-recently-used set, never
//! wiped whole), the last change marker read, and the gate that lets only
//! a few computations at a time reach the database, so no viewer asking
//! for many distinct reports can take every connection from everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cache::reads::Generation;
use crate::error::AppError;

/// How many computed answers are kept.
const MAX_ENTRIES: usize = 256;

struct Entry {
    body: Arc<Vec<u8>>,
    /// When it was last used, for eviction.
    used: u64,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    clock: u64,
}

/// How many `ETag`s are kept for one change marker: one per view asked for
/// (overview, analysis and filter) since the marker was read.
const MAX_TAGS: usize = 1024;

/// The last change marker read, the data generation and the park's day
/// then, and the `ETag`s worked out from them, by the view they name.
struct Marker {
    read_at: Instant,
    generation: Generation,
    text: String,
    day: NaiveDate,
    tags: HashMap<String, String>,
}

/// Computed figures, kept while the data they came from stands still, and
/// the last change marker read.
pub struct FiguresCache {
    entries: Mutex<Entries>,
    marker: Mutex<Option<Marker>>,
    computations: Arc<Semaphore>,
    wait: Duration,
}

impl FiguresCache {
    /// At most `max_concurrent` computations at once; another waits up to
    /// `wait` for its turn.
    pub fn new(max_concurrent: usize, wait: Duration) -> FiguresCache {
        FiguresCache {
            entries: Mutex::default(),
            marker: Mutex::default(),
            computations: Arc::new(Semaphore::new(max_concurrent.max(1))),
            wait,
        }
    }

    /// The `ETag` of the view `scope` from the change marker read within
    /// `ttl` and at data generation `now` (so this service's own changes
    /// show at once): `tag_of(marker, day, scope)`, worked out once per
    /// marker. `None` when the marker must be read again.
    pub fn fresh_tag(
        &self,
        ttl: Duration,
        now: Generation,
        scope: &str,
        tag_of: impl FnOnce(&str, NaiveDate, &str) -> String,
    ) -> Option<String> {
        let mut slot = self.marker.lock().ok()?;
        let marker = slot
            .as_mut()
            .filter(|m| m.generation == now && m.read_at.elapsed() < ttl)?;
        if let Some(tag) = marker.tags.get(scope) {
            return Some(tag.clone());
        }
        let tag = tag_of(&marker.text, marker.day, scope);
        if marker.tags.len() >= MAX_TAGS {
            marker.tags.clear();
        }
        marker.tags.insert(scope.to_owned(), tag.clone());
        Some(tag)
    }

    /// Remembers the change marker just read, at data generation
    /// `generation` (taken before reading it) on the park's day `day`.
    pub fn remember_marker(&self, marker: &str, generation: Generation, day: NaiveDate) {
        if let Ok(mut slot) = self.marker.lock() {
            *slot = Some(Marker {
                read_at: Instant::now(),
                generation,
                text: marker.to_owned(),
                day,
                tags: HashMap::new(),
            });
        }
    }

    pub fn get(&self, tag: &str) -> Option<Arc<Vec<u8>>> {
        let mut entries = self.entries.lock().ok()?;
        entries.clock += 1;
        let now = entries.clock;
        let entry = entries.map.get_mut(tag)?;
        entry.used = now;
        Some(entry.body.clone())
    }

    pub fn put(&self, tag: String, body: Vec<u8>) -> Arc<Vec<u8>> {
        let body = Arc::new(body);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.map.len() >= MAX_ENTRIES && !entries.map.contains_key(&tag) {
                let oldest = entries
                    .map
                    .iter()
                    .min_by_key(|(_, e)| e.used)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    entries.map.remove(&oldest);
                }
            }
            entries.clock += 1;
            let used = entries.clock;
            entries.map.insert(
                tag,
                Entry {
                    body: body.clone(),
                    used,
                },
            );
        }
        body
    }

    /// A turn to compute figures: waits up to the configured time for one
    /// of the few, then answers `503` (with `Retry-After`).
    pub async fn turn(&self) -> Result<OwnedSemaphorePermit, AppError> {
        match tokio::time::timeout(self.wait, self.computations.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                tracing::warn!("figures computation refused: too many at once");
                Err(AppError::Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_answer_goes_first_and_never_all() {
        let cache = FiguresCache::new(1, Duration::ZERO);
        for i in 0..MAX_ENTRIES {
            cache.put(format!("t{i}"), vec![1]);
        }
        assert!(cache.get("t0").is_some());
        cache.put("new".into(), vec![2]);
        assert!(cache.get("t0").is_some(), "recently used, kept");
        assert!(cache.get("t1").is_none(), "least recently used, evicted");
        assert!(cache.get("t2").is_some() && cache.get("new").is_some());
    }

    #[actix_web::test]
    async fn computations_beyond_the_limit_wait_then_are_refused() {
        let cache = FiguresCache::new(1, Duration::from_millis(50));
        let first = cache.turn().await.unwrap();
        assert!(matches!(cache.turn().await, Err(AppError::Unavailable)));
        drop(first);
        assert!(cache.turn().await.is_ok());
    }
}
