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
use crate::domain::park::{CodeLabel, Park};
use crate::domain::text::{required_text, MAX_LINE, MAX_TEXT};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::Rule;

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
    #[schema(min_length = 1, max_length = 200)]
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
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    /// Location or risk point.
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    /// A category code (or label) from `/reference/vocabularies`.
    pub category: String,
    /// A specialty code (or label) from `/reference/vocabularies`.
    pub specialty: Option<String>,
    pub level: HazardLevel,
    /// Required for `major`, refused for `general`: item 1–20 of the criteria.
    #[schema(minimum = 1, maximum = 20)]
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
        let mut checks = Checks::default();
        let title = checks.take("title", text(&self.title, MAX_LINE));
        let description = checks.take("description", text(&self.description, MAX_TEXT));
        let location = checks.take("location", text(&self.location, MAX_LINE));
        let category = if self.category.trim().is_empty() {
            checks.take("category", Err(Rule::Required.into()))
        } else {
            let category = park.category_code(&self.category);
            checks.take("category", code_of(category, &park.categories))
        };
        let specialty = match self.specialty.as_deref() {
            None | Some("") => None,
            Some(input) => {
                let specialty = park.specialty_code(input);
                checks.take("specialty", code_of(specialty, &park.specialties))
            }
        };
        checks.take(
            "major_basis_code",
            major_basis(self.level, self.major_basis_code),
        );
        let listing = self
            .supervised_listing
            .as_ref()
            .and_then(|listing| checks.take_problem(supervised_listing(self.level, listing)));
        let found_at = self.found_at.map_or(now.utc, |t| t.naive_utc());
        let found_on = park.local_date(found_at);
        checks.take("found_at", not_in_future(found_at, now.utc));
        checks.take("deadline", not_before_found(self.deadline, found_on));
        checks.finish()?;
        let (listing_ordering_body, listing_listed_on) = listing.unzip();
        Ok(NewHazard {
            enterprise_id: self.enterprise_id,
            source: self.source,
            checking_enterprise_id: self.checking_enterprise_id,
            inspection_id: self.inspection_id,
            title: title.unwrap_or_default(),
            description: description.unwrap_or_default(),
            location: location.unwrap_or_default(),
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

/// The broken rules found so far, by field.
#[derive(Default)]
struct Checks(FieldErrors);

impl Checks {
    /// The value, or `None` with the message kept against `field`.
    fn take<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        result
            .map_err(|message| self.0.insert(field.to_owned(), message))
            .ok()
    }

    /// The value, or `None` with the field and message kept.
    fn take_problem<T>(&mut self, result: Result<T, (String, FieldError)>) -> Option<T> {
        result
            .map_err(|(field, message)| self.0.insert(field, message))
            .ok()
    }

    fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(self.0))
        }
    }
}

fn text(value: &str, max: usize) -> Result<String, FieldError> {
    required_text("", value, max).map_err(|e| error_message(&e))
}

/// The code `found` in the park's `list`, or which codes there are.
fn code_of(found: Option<&str>, list: &[CodeLabel]) -> Result<String, FieldError> {
    found.map(str::to_owned).ok_or_else(|| {
        let codes: Vec<&str> = list.iter().map(|c| c.code.as_str()).collect();
        FieldError::new(Rule::OneOf).with("allowed", codes.join(", "))
    })
}

/// A major hazard cites item 1–20 of the national criteria (121号); a
/// general one cites none.
fn major_basis(level: HazardLevel, code: Option<i32>) -> Result<(), FieldError> {
    match (level, code) {
        (HazardLevel::Major, None) => Err(Rule::MajorBasisRequired.into()),
        (HazardLevel::Major, Some(code)) if !is_major_basis_code(code) => {
            Err(Rule::MajorBasisRange.into())
        }
        (HazardLevel::General, Some(_)) => Err(Rule::OnlyForMajor.into()),
        _ => Ok(()),
    }
}

/// 挂牌督办 is for major hazards, and names the body that ordered it.
fn supervised_listing(
    level: HazardLevel,
    listing: &SupervisedListing,
) -> Result<(String, Option<NaiveDate>), (String, FieldError)> {
    if level != HazardLevel::Major {
        return Err((
            "supervised_listing".into(),
            Rule::ListingOnlyForMajor.into(),
        ));
    }
    let field = "supervised_listing.ordering_body";
    required_text(field, &listing.ordering_body, MAX_LINE)
        .map(|body| (body, listing.listed_on))
        .map_err(|e| (field.to_owned(), error_message(&e)))
}

fn not_in_future(at: NaiveDateTime, now: NaiveDateTime) -> Result<(), FieldError> {
    if at > now {
        return Err(Rule::DateInFuture.into());
    }
    Ok(())
}

fn not_before_found(deadline: NaiveDate, found_on: NaiveDate) -> Result<(), FieldError> {
    if deadline < found_on {
        return Err(FieldError::new(Rule::BeforeFound).with("found_on", found_on.to_string()));
    }
    Ok(())
}

fn error_message(error: &AppError) -> FieldError {
    match error {
        AppError::Validation { errors, detail } => errors
            .values()
            .next()
            .cloned()
            .unwrap_or_else(|| detail.clone().into()),
        other => other.to_string().into(),
    }
}
