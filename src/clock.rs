//! Time: the UTC instant every record stores, the park-local "now" a request
//! reads once, and the clock the background workers act on, injectable so
//! tests can move through days of deadlines without waiting for them.

use std::sync::Mutex;

use chrono::{NaiveDate, NaiveDateTime};

/// The current UTC time at the microsecond precision both backends store.
pub fn now_utc() -> NaiveDateTime {
    stored_precision(chrono::Utc::now().naive_utc())
}

/// `time` cut to the microsecond, the precision both backends store (a
/// client may send nanoseconds; PostgreSQL keeps microseconds).
pub fn stored_precision(time: NaiveDateTime) -> NaiveDateTime {
    chrono::DurationRound::duration_trunc(time, chrono::TimeDelta::microseconds(1)).unwrap_or(time)
}

/// What the clock says, read once per request so every check agrees.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub utc: NaiveDateTime,
    /// Today in the park's time zone.
    pub park_today: NaiveDate,
    pub time_zone: chrono_tz::Tz,
}

impl Now {
    /// The park-local calendar day of a UTC instant.
    pub fn local_date(&self, utc: NaiveDateTime) -> NaiveDate {
        chrono::TimeZone::from_utc_datetime(&self.time_zone, &utc).date_naive()
    }

    /// The UTC instant a park-local calendar day begins (its first valid
    /// local time, should a time-zone change skip midnight).
    pub fn day_start(&self, day: NaiveDate) -> NaiveDateTime {
        use chrono::TimeZone;
        (0..24)
            .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
            .find_map(|local| self.time_zone.from_local_datetime(&local).earliest())
            .map_or_else(|| day.and_time(chrono::NaiveTime::MIN), |t| t.naive_utc())
    }
}

pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> NaiveDateTime;
}

/// The real time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        now_utc()
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
