//! 《安全生产事故隐患排查治理暂行规定》 Art. 14 statistical filings: an
//! enterprise files its analysis of hazard work for each quarter by the
//! 15th of the following quarter's first month, and for each year by
//! 31 January, signed by its principal. When a period's filing is due, how
//! it stands, what a filing must hold, and the stable id of an
//! (enterprise, period).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::text::{optional_text, required_text, MAX_LINE, MAX_TEXT};
use crate::domain::vocabulary::vocabulary;
use crate::error::{AppError, FieldErrors};
use crate::messages::{Detail, Rule};

vocabulary! {
    /// Where a period's filing stands.
    pub enum FilingStatus {
        /// The period has not ended.
        Upcoming => "upcoming",
        /// The period has ended and the due day has not passed.
        Due => "due",
        /// The due day has passed and nothing was filed.
        Late => "late",
        /// Filed by the due day.
        Filed => "filed",
        /// Filed after the due day.
        FiledLate => "filed_late",
    }
}

/// The last day to file (park time): quarter `q` by the 15th of the first
/// month of the next quarter; the year (`None`) by 31 January of the next.
pub fn due_on(year: i32, quarter: Option<u32>) -> Option<NaiveDate> {
    match quarter {
        Some(4) => NaiveDate::from_ymd_opt(year + 1, 1, 15),
        Some(q @ 1..=3) => NaiveDate::from_ymd_opt(year, q * 3 + 1, 15),
        Some(_) => None,
        None => NaiveDate::from_ymd_opt(year + 1, 1, 31),
    }
}

/// How a filing stands on `today`, by the day its first version was filed.
pub fn status(
    last_day: NaiveDate,
    due_on: NaiveDate,
    first_filed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> FilingStatus {
    match first_filed_on {
        Some(on) if on <= due_on => FilingStatus::Filed,
        Some(_) => FilingStatus::FiledLate,
        None if today <= last_day => FilingStatus::Upcoming,
        None if today <= due_on => FilingStatus::Due,
        None => FilingStatus::Late,
    }
}

/// The stable id of an enterprise's filing for a period: the same on every
/// instance and every day, so a client can keep it before anything is
/// filed.
pub fn period_id(enterprise_id: Uuid, year: i32, quarter: Option<u32>) -> Uuid {
    let key = format!(
        "art14-filing:{enterprise_id}:{year}:{}",
        quarter.map_or_else(|| "year".to_owned(), |q| q.to_string())
    );
    let digest = Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // A version-8 (custom) UUID of RFC 9562.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

/// A filing as sent: signed by the principal; a correction says why.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    /// The enterprise's principal (主要负责人) who signs it.
    #[schema(min_length = 1, max_length = 200)]
    pub principal_name: String,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// Required when correcting an earlier version.
    #[schema(max_length = 10000)]
    pub correction_reason: Option<String>,
}

/// A filing, checked.
pub struct Signed {
    pub principal_name: String,
    pub note: Option<String>,
    pub correction_reason: Option<String>,
}

impl FileRequest {
    /// Checks the fields; `versions_before` is how many versions the period
    /// has, so a correction names its reason and a first filing names none.
    pub fn parse(&self, versions_before: usize) -> Result<Signed, AppError> {
        let mut errors = FieldErrors::new();
        let principal = required_text("principal_name", &self.principal_name, MAX_LINE);
        let principal_name = AppError::gather(&mut errors, "principal_name", principal);
        let note = optional_text("note", self.note.as_deref(), MAX_TEXT);
        let note = AppError::gather(&mut errors, "note", note).flatten();
        let reason = optional_text(
            "correction_reason",
            self.correction_reason.as_deref(),
            MAX_TEXT,
        );
        let correction_reason =
            AppError::gather(&mut errors, "correction_reason", reason).flatten();
        match (versions_before, &correction_reason) {
            (0, Some(_)) => {
                errors.insert("correction_reason".into(), Rule::OnlyForCorrection.into());
            }
            (1.., None) => {
                errors.insert(
                    "correction_reason".into(),
                    Rule::CorrectionNeedsReason.into(),
                );
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(Signed {
            principal_name: principal_name.unwrap_or_default(),
            note,
            correction_reason,
        })
    }
}

/// A period is filed once it has ended.
pub fn check_period_ended(last_day: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if today <= last_day {
        return Err(AppError::conflict(
            Detail::PeriodNotEnded.with("last_day", last_day.to_string()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn due_days_follow_article_14() {
        assert_eq!(due_on(2026, Some(1)), Some(day(2026, 4, 15)));
        assert_eq!(due_on(2026, Some(2)), Some(day(2026, 7, 15)));
        assert_eq!(due_on(2026, Some(3)), Some(day(2026, 10, 15)));
        assert_eq!(due_on(2026, Some(4)), Some(day(2027, 1, 15)));
        assert_eq!(due_on(2026, None), Some(day(2027, 1, 31)));
        assert_eq!(due_on(2026, Some(5)), None);
    }

    #[test]
    fn a_filing_is_upcoming_due_late_or_filed() {
        let (last, due) = (day(2026, 3, 31), day(2026, 4, 15));
        assert_eq!(
            status(last, due, None, day(2026, 3, 31)),
            FilingStatus::Upcoming
        );
        assert_eq!(status(last, due, None, day(2026, 4, 15)), FilingStatus::Due);
        assert_eq!(
            status(last, due, None, day(2026, 4, 16)),
            FilingStatus::Late
        );
        let on_time = Some(day(2026, 4, 15));
        assert_eq!(
            status(last, due, on_time, day(2026, 9, 1)),
            FilingStatus::Filed
        );
        let late = Some(day(2026, 4, 16));
        assert_eq!(
            status(last, due, late, day(2026, 9, 1)),
            FilingStatus::FiledLate
        );
    }

    #[test]
    fn period_ids_are_stable_and_distinct() {
        let a = Uuid::from_u128(1);
        assert_eq!(period_id(a, 2026, Some(1)), period_id(a, 2026, Some(1)));
        assert_ne!(period_id(a, 2026, Some(1)), period_id(a, 2026, None));
        assert_ne!(
            period_id(a, 2026, Some(1)),
            period_id(Uuid::from_u128(2), 2026, Some(1))
        );
        assert_eq!(period_id(a, 2026, None).get_version_num(), 8);
    }
}
