//! Times and days on the wire, written without `core::fmt`. The text is
//! exactly what chrono's serde writes: RFC 3339 in UTC with `Z`, the
//! fraction of a second in 0, 3, 6 or 9 digits as needed, and days as
//! `YYYY-MM-DD`. A page of 50 hazards carries a few hundred of them, and
//! chrono formats each one character by character. Years outside
//! 0000–9999 and leap seconds are left to chrono. Used as a view field's
//! `#[serde(serialize_with = …)]`.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Writes `value` (< 10^width) as `width` digits into `out`.
fn put(out: &mut [u8], value: u32, width: usize) {
    let mut value = value;
    for slot in out[..width].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `YYYY-MM-DD` into the first 10 bytes; `None` outside years 0–9999.
fn put_day(out: &mut [u8], day: NaiveDate) -> Option<()> {
    let year = u32::try_from(day.year()).ok().filter(|y| *y <= 9999)?;
    put(out, year, 4);
    out[4] = b'-';
    put(&mut out[5..], day.month(), 2);
    out[7] = b'-';
    put(&mut out[8..], day.day(), 2);
    Some(())
}

/// The RFC 3339 text of `time`, as chrono's serde writes it; `None` where
/// chrono should write it.
fn rfc3339(time: &DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    put_day(out, time.date_naive())?;
    out[10] = b'T';
    put(&mut out[11..], time.hour(), 2);
    out[13] = b':';
    put(&mut out[14..], time.minute(), 2);
    out[16] = b':';
    put(&mut out[17..], time.second(), 2);
    let mut end = 19;
    let (fraction, digits) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1_000) {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if digits > 0 {
        out[end] = b'.';
        put(&mut out[end + 1..], fraction, digits);
        end += 1 + digits;
    }
    out[end] = b'Z';
    Some(end + 1)
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("digits and separators are ASCII")
}

pub fn utc<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut out = [0u8; 30];
    match rfc3339(time, &mut out) {
        Some(len) => serializer.serialize_str(ascii(&out[..len])),
        None => time.serialize(serializer),
    }
}

pub fn utc_opt<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => utc(time, serializer),
        None => serializer.serialize_none(),
    }
}

pub fn day<S: Serializer>(day: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    let mut out = [0u8; 10];
    match put_day(&mut out, *day) {
        Some(()) => serializer.serialize_str(ascii(&out)),
        None => day.serialize(serializer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "utc")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "utc_opt")]
        maybe: Option<DateTime<Utc>>,
        #[serde(serialize_with = "day")]
        on: NaiveDate,
    }

    #[derive(Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
        on: NaiveDate,
    }

    fn same(at: DateTime<Utc>) {
        let on = at.date_naive();
        let ours = serde_json::to_string(&Ours {
            at,
            maybe: Some(at),
            on,
        })
        .unwrap();
        let chronos = serde_json::to_string(&Chronos {
            at,
            maybe: Some(at),
            on,
        })
        .unwrap();
        assert_eq!(ours, chronos);
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            120_000,
            123_456,
            1_000_000,
            7_000_000,
            123_000_000,
            123_456_789,
            999_999_999,
        ] {
            same(base + chrono::Duration::nanoseconds(nanos));
        }
        for (y, m, d) in [(1, 1, 1), (999, 12, 31), (2026, 11, 30), (9999, 12, 31)] {
            same(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap());
        }
        // Left to chrono: years beyond four digits, a leap second.
        same(Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap());
        same(Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap());
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        same(leap);
        let none = serde_json::to_string(&Ours {
            at: base,
            maybe: None,
            on: base.date_naive(),
        });
        assert!(none.unwrap().contains("\"maybe\":null"));
    }
}
