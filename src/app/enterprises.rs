//! Enterprises: registering one and changing it, each together with its
//! event in the enterprise's history, in one transaction.

use chrono::NaiveDateTime;
use serde_json::json;
use uuid::Uuid;

use crate::app::grading::record_enterprise_event;
use crate::db::enterprises::{self, Enterprise, EnterpriseChanges, NewEnterprise};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::Caller;
use crate::domain::credit_code::CreditCode;
use crate::domain::enterprise::EnterpriseStatus;
use crate::domain::version::{check_version, ExpectedVersion};
use crate::error::AppError;

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
        let id = Uuid::now_v7().to_string();
        enterprises::insert(
            conn,
            &NewEnterprise {
                id: &id,
                name: &registration.name,
                credit_code: registration.credit_code.as_str(),
                status: registration.status.as_str(),
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
        record_enterprise_event(conn, &id, caller, "registered", now, None, details)?;
        enterprises::find(conn, &id)?.ok_or(AppError::NotFound("enterprise"))
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
    let id = id.to_string();
    write_transaction(conn, |conn| {
        let current = enterprises::find(conn, &id)?.ok_or(AppError::NotFound("enterprise"))?;
        check_version(if_match.as_ref(), current.version)?;
        if !enterprises::update(conn, &id, current.version, &changes, now)? {
            return Err(AppError::conflict(
                "the enterprise was changed concurrently; reload and retry",
            ));
        }
        let details = json!({
            "name": changes.name,
            "credit_code": changes.credit_code,
            "status": changes.status,
            "contact_emails": changes.contact_emails,
        });
        record_enterprise_event(conn, &id, caller, "updated", now, None, details)
    })
}
