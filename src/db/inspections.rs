//! Inspections: one visit by one kind of check, grouping the hazards found.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::inspections;
use super::DbConnection;
use crate::domain::hazard::CheckSource;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = inspections)]
pub struct Inspection {
    pub id: Id,
    pub source: CheckSource,
    pub enterprise_id: Id,
    pub checking_enterprise_id: Option<Id>,
    pub inspected_on: NaiveDate,
    /// JSON array of names.
    pub inspectors: String,
    pub notes: String,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, inspection: &Inspection) -> Result<(), AppError> {
    diesel::insert_into(inspections::table)
        .values(inspection)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<Inspection>, AppError> {
    Ok(inspections::table
        .find(id)
        .select(Inspection::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Default)]
pub struct InspectionFilter {
    pub enterprise_id: Option<Id>,
    pub source: Option<CheckSource>,
}

/// Newest first: ids are time-ordered (UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    filter: &InspectionFilter,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<Inspection>, AppError> {
    let mut query = inspections::table
        .select(Inspection::as_select())
        .order(inspections::id.desc())
        .into_boxed();
    if let Some(enterprise_id) = &filter.enterprise_id {
        query = query.filter(inspections::enterprise_id.eq(enterprise_id));
    }
    if let Some(source) = &filter.source {
        query = query.filter(inspections::source.eq(*source));
    }
    if let Some(before) = before {
        query = query.filter(inspections::id.lt(before));
    }
    Ok(query.limit(limit).load(conn)?)
}
