//! The time the background workers act on, injectable so tests can move
//! through days of deadlines without waiting for them.

use std::sync::Mutex;

use chrono::NaiveDateTime;

pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> NaiveDateTime;
}

/// The real time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        crate::db::now_utc()
    }
}

/// A clock that stands still until told otherwise.
pub struct ManualClock(Mutex<NaiveDateTime>);

impl ManualClock {
    pub fn new(start: NaiveDateTime) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn set(&self, to: NaiveDateTime) {
        if let Ok(mut now) = self.0.lock() {
            *now = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or_else(|poisoned| *poisoned.into_inner())
    }
}
