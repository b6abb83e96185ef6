//! Inspections: recording one, once its enterprises are known to exist.

use uuid::Uuid;

use crate::db::inspections::{self, Inspection};
use crate::db::Id;
use crate::db::{enterprises, write_transaction, DbConnection};
use crate::domain::inspection::NewInspection;
use crate::error::AppError;
use crate::messages::Rule;

/// Records a checked inspection.
pub fn record(conn: &mut DbConnection, new: NewInspection) -> Result<Inspection, AppError> {
    let inspection = Inspection {
        id: Uuid::now_v7().into(),
        source: new.source,
        enterprise_id: new.enterprise_id.into(),
        checking_enterprise_id: new.checking_enterprise_id.map(Id::from),
        inspected_on: new.inspected_on,
        inspectors: serde_json::to_string(&new.inspectors)
            .map_err(|e| AppError::Internal(e.into()))?,
        notes: new.notes,
        created_by: new.created_by.into(),
        created_at: new.created_at,
    };
    write_transaction(conn, |conn| {
        if !enterprises::exists(conn, inspection.enterprise_id)? {
            return Err(AppError::invalid("enterprise_id", Rule::UnknownEnterprise));
        }
        if let Some(checker) = &inspection.checking_enterprise_id {
            if !enterprises::exists(conn, *checker)? {
                return Err(AppError::invalid(
                    "checking_enterprise_id",
                    Rule::UnknownEnterprise,
                ));
            }
        }
        inspections::insert(conn, &inspection)?;
        Ok(inspection)
    })
}
