//! A new hazard: the request to report one, and every rule it must meet
//! before it exists (texts, vocabulary codes, the 121号 basis of a major
//! hazard, supervised listing, dates in park time). `CreateHazard::parse`
//! is the one place these rules live.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Now;
use crate::domain::criteria::is_major_basis_code;
use crate::domain::hazard::{CheckSource, HazardLevel};
use crate::domain::park::Park;
use crate::domain::text::{required_text, MAX_LINE, MAX_TEXT};
use crate::error::{AppError, FieldErrors};

/// A validated request to report a hazard.
#[derive(Debug, Clone)]
pub struct NewHazard {
    pub enterprise_id: Uuid,
    pub source: CheckSource,
    pub checking_enterprise_id: Option<Uuid>,
    pub inspection_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub location: String,
    pub category: String,
    pub specialty: Option<String>,
    pub level: HazardLevel,
    pub major_basis_code: Option<i32>,
    pub listing_ordering_body: Option<String>,
    pub listing_listed_on: Option<NaiveDate>,
    pub found_at: NaiveDateTime,
    /// The calendar year of `found_at` in the park's time zone.
    pub found_year: i32,
    pub deadline: NaiveDate,
}

/// 挂牌督办: the hazard is listed for official supervision.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisedListing {
    /// The body that ordered the listing (挂牌督办单位).
    pub ordering_body: String,
    pub listed_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHazard {
    pub enterprise_id: Uuid,
    pub source: CheckSource,
    /// Required for `mutual_check`: the enterprise that found it.
    pub checking_enterprise_id: Option<Uuid>,
    /// The inspection that found it; same enterprise and source.
    pub inspection_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    /// Location or risk point.
    pub location: String,
    /// A category code (or label) from `/reference/vocabularies`.
    pub category: String,
    /// A specialty code (or label) from `/reference/vocabularies`.
    pub specialty: Option<String>,
    pub level: HazardLevel,
    /// Required for `major`, refused for `general`: item 1–20 of the criteria.
    pub major_basis_code: Option<i32>,
    /// Only for major hazards.
    pub supervised_listing: Option<SupervisedListing>,
    /// When it was found; default now, never in the future. Paper records
    /// can be entered with their real dates.
    pub found_at: Option<DateTime<Utc>>,
    /// Last day for rectification (park time), not before the day found.
    pub deadline: NaiveDate,
}

impl CreateHazard {
    /// Checks every rule a new hazard must meet, all at once (each broken
    /// rule is reported against its field), and turns the request into a
    /// [`NewHazard`] with codes resolved and dates settled in park time.
    pub fn parse(&self, park: &Park, now: &Now) -> Result<NewHazard, AppError> {
        let mut errors = FieldErrors::new();
        let mut field = |name: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.insert(name.to_owned(), message);
            }
        };
        let text = |name: &str, value: &str, max: usize| required_text(name, value, max);
        let title = text("title", &self.title, MAX_LINE);
        let description = text("description", &self.description, MAX_TEXT);
        let location = text("location", &self.location, MAX_LINE);
        for (name, result) in [
            ("title", &title),
            ("description", &description),
            ("location", &location),
        ] {
            field(name, result.as_ref().map(|_| ()).map_err(error_message));
        }
        let category = park.category_code(&self.category).map(str::to_owned);
        if category.is_none() {
            let codes: Vec<&str> = park.categories.iter().map(|c| c.code.as_str()).collect();
            field(
                "category",
                Err(format!("must be one of {}", codes.join(", "))),
            );
        }
        let specialty = match self
            .specialty
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(input) => {
                let code = park.specialty_code(input).map(str::to_owned);
                if code.is_none() {
                    let codes: Vec<&str> =
                        park.specialties.iter().map(|c| c.code.as_str()).collect();
                    field(
                        "specialty",
                        Err(format!("must be one of {}", codes.join(", "))),
                    );
                }
                code
            }
        };
        match (self.level, self.major_basis_code) {
            (HazardLevel::Major, None) => field(
                "major_basis_code",
                Err(
                    "a major hazard must cite its basis: an item 1–20 of the national criteria"
                        .into(),
                ),
            ),
            (HazardLevel::Major, Some(code)) if !is_major_basis_code(code) => field(
                "major_basis_code",
                Err("must be an item number 1–20 of the national criteria".into()),
            ),
            (HazardLevel::General, Some(_)) => {
                field("major_basis_code", Err("is only for major hazards".into()))
            }
            _ => {}
        }
        let listing = match &self.supervised_listing {
            Some(_) if self.level != HazardLevel::Major => {
                field(
                    "supervised_listing",
                    Err("only a major hazard is listed for supervision (挂牌督办)".into()),
                );
                None
            }
            Some(listing) => match required_text(
                "supervised_listing.ordering_body",
                &listing.ordering_body,
                MAX_LINE,
            ) {
                Ok(body) => Some((body, listing.listed_on)),
                Err(e) => {
                    field("supervised_listing.ordering_body", Err(error_message(&e)));
                    None
                }
            },
            None => None,
        };
        let found_at = self.found_at.map_or(now.utc, |t| t.naive_utc());
        if found_at > now.utc {
            field("found_at", Err("must not be in the future".into()));
        }
        let found_on = park.local_date(found_at);
        if self.deadline < found_on {
            field(
                "deadline",
                Err(format!(
                    "must not be before the day the hazard was found ({found_on})"
                )),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        let (listing_ordering_body, listing_listed_on) = listing.unzip();
        Ok(NewHazard {
            enterprise_id: self.enterprise_id,
            source: self.source,
            checking_enterprise_id: self.checking_enterprise_id,
            inspection_id: self.inspection_id,
            title: title?,
            description: description?,
            location: location?,
            category: category.unwrap_or_default(),
            specialty,
            level: self.level,
            major_basis_code: self.major_basis_code,
            listing_ordering_body,
            listing_listed_on: listing_listed_on.flatten(),
            found_at,
            found_year: chrono::Datelike::year(&found_on),
            deadline: self.deadline,
        })
    }
}

fn error_message(error: &AppError) -> String {
    match error {
        AppError::Validation { errors, detail } => errors
            .values()
            .next()
            .cloned()
            .unwrap_or_else(|| detail.clone()),
        other => other.to_string(),
    }
}
