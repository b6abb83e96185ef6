//! What every request handler shares: the database, the token service and
//! the park's configured vocabularies and clock.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};

use crate::auth::{AccountCheck, TokenService};
use crate::clock::Clock;
use crate::db::Db;
use crate::email::Mailer;
use crate::escalation::Escalation;
use crate::lifecycle::Now;
use crate::routes::stats::FiguresCache;
use crate::settings::{CodeLabel, ParkSettings, Settings};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    /// Confirms tokens against the accounts they name.
    pub accounts: Arc<AccountCheck>,
    pub park: Arc<Park>,
    /// Where evidence files are received and kept.
    pub evidence: Arc<crate::storage::EvidenceStore>,
    pub settings: Arc<Settings>,
    /// The escalation policy, applied inside hazard transactions.
    pub escalation: Arc<Escalation>,
    pub mailer: Arc<Mailer>,
    /// The time the background workers act on.
    pub clock: Arc<dyn Clock>,
    /// Dashboard figures and reports, kept until the data changes.
    pub figures: Arc<FiguresCache>,
    /// The long-lived series of `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Finished answers of the most-read routes, until the data changes.
    pub reads: Arc<crate::read_cache::ReadCache>,
    /// Sign-in attempts per account and per client address.
    pub login_throttle: Arc<crate::login_throttle::LoginThrottle>,
}

/// The park's time zone and vocabularies.
#[derive(Debug, Clone)]
pub struct Park {
    pub time_zone: chrono_tz::Tz,
    pub categories: Vec<CodeLabel>,
    pub specialties: Vec<CodeLabel>,
}

impl Park {
    pub fn from_settings(settings: &ParkSettings) -> anyhow::Result<Park> {
        Ok(Park {
            time_zone: settings.time_zone()?,
            categories: settings.categories.clone(),
            specialties: settings.specialties.clone(),
        })
    }

    pub fn now(&self) -> Now {
        let utc = crate::db::now_utc();
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
    let input = input.trim();
    list.iter()
        .find(|entry| entry.code == input || entry.label == input)
        .map(|entry| entry.code.as_str())
}
