//! Inspections: one visit of one kind of check (五查合一) to one
//! enterprise. The request to record one, the rules it must meet, and who
//! may record which kind of check in which enterprise.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Now;
use crate::domain::access::Caller;
use crate::domain::hazard::{may_record_source, CheckSource};
use crate::domain::text::{required_text, MAX_TEXT};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::{Detail, Rule};

const MAX_INSPECTORS: usize = 50;
const MAX_INSPECTOR_NAME: usize = 100;

/// Checks who may record a check of this source in this enterprise, and
/// that the checking enterprise fits the source; hazards and inspections
/// alike.
pub fn check_source_rules(
    caller: &Caller,
    source: CheckSource,
    enterprise_id: Uuid,
    checking_enterprise_id: Option<Uuid>,
) -> Result<(), AppError> {
    if !may_record_source(caller.role, source) {
        return Err(AppError::forbidden(
            Detail::SourceNotForRole
                .with("role", caller.role.as_str())
                .with("role_zh", caller.role.label_zh())
                .with("source", source.as_str())
                .with("source_zh", source.label_zh()),
        ));
    }
    if !caller.can_see_enterprise(enterprise_id) {
        return Err(AppError::forbidden(Detail::OwnEnterpriseOnly));
    }
    match (source, checking_enterprise_id) {
        (CheckSource::MutualCheck, None) => Err(AppError::invalid(
            "checking_enterprise_id",
            Rule::CheckingEnterpriseRequired,
        )),
        (CheckSource::MutualCheck, Some(checker)) if checker == enterprise_id => Err(
            AppError::invalid("checking_enterprise_id", Rule::CheckingEnterpriseSame),
        ),
        (CheckSource::MutualCheck, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(AppError::invalid(
            "checking_enterprise_id",
            Rule::OnlyForMutualCheck,
        )),
    }
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInspection {
    pub source: CheckSource,
    pub enterprise_id: Uuid,
    /// Required for `mutual_check`, refused otherwise.
    pub checking_enterprise_id: Option<Uuid>,
    /// Not in the future (park time).
    pub inspected_on: NaiveDate,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub inspectors: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub notes: String,
}

/// A checked inspection, ready to record.
#[derive(Debug, Clone)]
pub struct NewInspection {
    pub source: CheckSource,
    pub enterprise_id: Uuid,
    pub checking_enterprise_id: Option<Uuid>,
    pub inspected_on: NaiveDate,
    pub inspectors: Vec<String>,
    pub notes: String,
    pub created_by: Uuid,
    pub created_at: chrono::NaiveDateTime,
}

impl CreateInspection {
    /// Checks who may record it and every rule it must meet.
    pub fn parse(&self, caller: &Caller, now: &Now) -> Result<NewInspection, AppError> {
        let mut errors = FieldErrors::new();
        match check_source_rules(
            caller,
            self.source,
            self.enterprise_id,
            self.checking_enterprise_id,
        ) {
            Ok(()) => {}
            Err(AppError::Validation { errors: found, .. }) => errors.extend(found),
            // Who may record it comes before what it holds.
            Err(other) => return Err(other),
        }
        if self.inspected_on > now.park_today {
            errors.insert("inspected_on".into(), Rule::DateInFuture.into());
        }
        let mut inspectors = Vec::with_capacity(self.inspectors.len());
        if self.inspectors.len() > MAX_INSPECTORS {
            errors.insert(
                "inspectors".into(),
                FieldError::new(Rule::TooManyNames).with("max", MAX_INSPECTORS),
            );
        } else {
            for name in &self.inspectors {
                let name = required_text("inspectors", name, MAX_INSPECTOR_NAME);
                inspectors.extend(AppError::gather(&mut errors, "inspectors", name));
            }
        }
        if self.notes.contains('\0') {
            errors.insert("notes".into(), Rule::NulCharacter.into());
        } else if self.notes.chars().count() > MAX_TEXT {
            errors.insert(
                "notes".into(),
                FieldError::new(Rule::TooLong).with("max", MAX_TEXT),
            );
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
        Ok(NewInspection {
            source: self.source,
            enterprise_id: self.enterprise_id,
            checking_enterprise_id: self.checking_enterprise_id,
            inspected_on: self.inspected_on,
            inspectors,
            notes: self.notes.trim().to_owned(),
            created_by: caller.user_id,
            created_at: now.utc,
        })
    }
}
