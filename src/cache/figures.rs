//! Dashboard figures and reports, kept as finished bytes while the data
//! they came from stands still, and the last change marker read.

use std::collections::HashMap;

/// Computed figures, kept while the data they came from stands still, and
/// the last change marker read.
#[derive(Default)]
pub struct FiguresCache {
    entries: std::sync::Mutex<HashMap<String, std::sync::Arc<Vec<u8>>>>,
    marker: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl FiguresCache {
    pub fn fresh_marker(&self, ttl: std::time::Duration) -> Option<String> {
        let marker = self.marker.lock().ok()?;
        marker
            .as_ref()
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, m)| m.clone())
    }

    pub fn remember_marker(&self, marker: &str) {
        if let Ok(mut slot) = self.marker.lock() {
            *slot = Some((std::time::Instant::now(), marker.to_owned()));
        }
    }

    pub fn get(&self, tag: &str) -> Option<std::sync::Arc<Vec<u8>>> {
        self.entries.lock().ok()?.get(tag).cloned()
    }

    pub fn put(&self, tag: String, body: Vec<u8>) -> std::sync::Arc<Vec<u8>> {
        let body = std::sync::Arc::new(body);
        if let Ok(mut entries) = self.entries.lock() {
            // A handful of scopes are polled; anything beyond is stale.
            if entries.len() >= 256 {
                entries.clear();
            }
            entries.insert(tag, body.clone());
        }
        body
    }
}
