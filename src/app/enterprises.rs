//! Enterprises: registering one and changing it, each together with its
//! event in the enterprise's history, in one transaction.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;
use uuid::Uuid;

use crate::app::grading::{record_enterprise_event, standings, Standing};
use crate::db::enterprises::{
    self, Enterprise, EnterpriseChanges, EnterpriseFilter, NewEnterprise,
};
use crate::db::Id;
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::Caller;
use crate::domain::credit_code::CreditCode;
use crate::domain::email::Email;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::grading::Grade;
use crate::domain::version::{check_version, ExpectedVersion};
use crate::error::{AppError, FieldError, FieldErrors};
use crate::messages::{Detail, Rule};
use crate::settings::GradingSettings;

/// The most contact addresses an enterprise holds.
const MAX_CONTACT_EMAILS: usize = 20;

/// Checks contact addresses (duplicates dropped) and answers them as the
/// stored JSON array; each bad one is named `contact_emails[i]`.
pub fn contact_emails(input: &[String]) -> Result<String, AppError> {
    if input.len() > MAX_CONTACT_EMAILS {
        return Err(AppError::invalid(
            "contact_emails",
            FieldError::new(Rule::TooManyAddresses).with("max", MAX_CONTACT_EMAILS),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut emails = Vec::with_capacity(input.len());
    for (i, raw) in input.iter().enumerate() {
        match Email::parse(raw) {
            Ok(email) if !emails.contains(&email) => emails.push(email),
            Ok(_) => {}
            Err(message) => {
                errors.insert(format!("contact_emails[{i}]"), message);
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    serde_json::to_string(&emails).map_err(|e| AppError::Internal(e.into()))
}

/// A checked registration.
pub struct Registration {
    pub name: String,
    pub credit_code: CreditCode,
    pub status: EnterpriseStatus,
    /// JSON array of checked addresses.
    pub contact_emails: String,
}

/// Registers an enterprise and records the `registered` event.
pub fn register(
    conn: &mut DbConnection,
    caller: &Caller,
    registration: Registration,
    now: NaiveDateTime,
) -> Result<Enterprise, AppError> {
    write_transaction(conn, |conn| {
        let id = Id::from(Uuid::now_v7());
        enterprises::insert(
            conn,
            &NewEnterprise {
                id,
                name: &registration.name,
                credit_code: registration.credit_code.as_str(),
                status: registration.status,
                contact_emails: &registration.contact_emails,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let details = json!({
            "name": registration.name,
            "credit_code": registration.credit_code.as_str(),
            "status": registration.status,
        });
        record_enterprise_event(conn, id, caller, "registered", now, None, details)?;
        enterprises::find(conn, id)?.ok_or(AppError::NotFound("enterprise"))
    })
}

/// Changes an enterprise (`412` on a stale `if_match`) and records the
/// `updated` event with what changed.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    if_match: Option<ExpectedVersion>,
    changes: EnterpriseChanges,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let id = Id::from(id);
    write_transaction(conn, |conn| {
        let current = enterprises::find(conn, id)?.ok_or(AppError::NotFound("enterprise"))?;
        check_version(if_match.as_ref(), current.version)?;
        if !enterprises::update(conn, id, current.version, &changes, now)? {
            return Err(AppError::conflict(Detail::EnterpriseChanged));
        }
        let details = json!({
            "name": changes.name,
            "credit_code": changes.credit_code,
            "status": changes.status,
            "contact_emails": changes.contact_emails,
        });
        record_enterprise_event(conn, id, caller, "updated", now, None, details)
    })
}

/// What a page of the enterprise directory asks for.
pub struct DirectoryQuery {
    /// An enterprise contact's own enterprise.
    pub only: Option<Id>,
    pub status: Option<EnterpriseStatus>,
    /// Only enterprises of this grade as of `as_of`.
    pub grade: Option<Grade>,
    pub as_of: NaiveDate,
    pub today: NaiveDate,
}

/// A page of the directory with each enterprise's standing (grade, review
/// flags) as of the day asked.
pub fn directory_page(
    conn: &mut DbConnection,
    grading: &GradingSettings,
    asked: &DirectoryQuery,
    after: Option<Id>,
    limit: i64,
) -> Result<(Vec<Enterprise>, HashMap<Id, Standing>), AppError> {
    let standings = standings(conn, grading, asked.as_of, asked.today, asked.only)?;
    let among = asked.grade.map(|wanted| {
        standings
            .iter()
            .filter(|(_, s)| s.grade() == Some(wanted))
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
    });
    let filter = EnterpriseFilter {
        only: asked.only,
        status: asked.status,
        among,
    };
    Ok((enterprises::list(conn, &filter, after, limit)?, standings))
}
