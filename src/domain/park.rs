//! The park itself: its time zone (deadlines, years and months are read in
//! it) and the vocabularies its hazards are filed under.

use chrono::{NaiveDate, TimeZone};
use serde::Deserialize;

use crate::clock::Now;

/// One entry of a configurable list: a stable code and its Chinese label.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct CodeLabel {
    pub code: String,
    pub label: String,
}

/// The park's time zone and vocabularies.
#[derive(Debug, Clone)]
pub struct Park {
    pub time_zone: chrono_tz::Tz,
    pub categories: Vec<CodeLabel>,
    pub specialties: Vec<CodeLabel>,
}

impl Park {
    pub fn now(&self) -> Now {
        let utc = crate::clock::now_utc();
        Now {
            utc,
            park_today: self.local_date(utc),
            time_zone: self.time_zone,
        }
    }

    /// The park-local calendar date of a UTC instant.
    pub fn local_date(&self, utc: chrono::NaiveDateTime) -> NaiveDate {
        self.time_zone.from_utc_datetime(&utc).date_naive()
    }

    /// Finds a category by code or by label; returns the code.
    pub fn category_code(&self, input: &str) -> Option<&str> {
        lookup(&self.categories, input)
    }

    pub fn specialty_code(&self, input: &str) -> Option<&str> {
        lookup(&self.specialties, input)
    }
}

fn lookup<'a>(list: &'a [CodeLabel], input: &str) -> Option<&'a str> {
    list.iter()
        .find(|entry| entry.code == input || entry.label == input)
        .map(|entry| entry.code.as_str())
}
