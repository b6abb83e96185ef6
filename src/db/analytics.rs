//! What the analytics read: one row of facts per hazard (no texts but the
//! location), and which hazards carry an entered record.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{hazard_events, hazards};
use super::DbConnection;
use crate::domain::hazard::{CheckSource, HazardLevel, HazardState};
use crate::error::AppError;

/// The facts of one hazard that the analyses cut by.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hazards)]
pub struct HazardFact {
    pub id: Id,
    pub enterprise_id: Id,
    pub source: CheckSource,
    pub level: HazardLevel,
    pub category: String,
    pub specialty: Option<String>,
    pub location: String,
    pub found_at: NaiveDateTime,
    pub deadline: NaiveDate,
    pub state: HazardState,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_on_time: Option<bool>,
}

/// Which hazards to read; dates are cut in park time by the caller.
#[derive(Debug, Default, Clone)]
pub struct FactFilter {
    /// Only these enterprises (a contact's own, or those of a grade).
    pub enterprises: Option<Vec<Id>>,
    pub source: Option<CheckSource>,
    pub level: Option<HazardLevel>,
    /// Found at or after this moment (UTC); a little early is fine.
    pub found_since: Option<NaiveDateTime>,
}

/// The facts of every hazard the filter admits, voided ones included.
pub fn hazard_facts(
    conn: &mut DbConnection,
    filter: &FactFilter,
) -> Result<Vec<HazardFact>, AppError> {
    let mut query = hazards::table
        .select(HazardFact::as_select())
        .order(hazards::found_at.asc())
        .into_boxed();
    if let Some(ids) = &filter.enterprises {
        query = query.filter(hazards::enterprise_id.eq_any(ids.clone()));
    }
    if let Some(source) = filter.source {
        query = query.filter(hazards::source.eq(source));
    }
    if let Some(level) = filter.level {
        query = query.filter(hazards::level.eq(level));
    }
    if let Some(since) = filter.found_since {
        query = query.filter(hazards::found_at.ge(since));
    }
    Ok(query.load(conn)?)
}

/// Hazards with at least one step entered after the fact (补录).
pub fn hazards_with_entered_records(conn: &mut DbConnection) -> Result<HashSet<Id>, AppError> {
    let ids: Vec<Id> = hazard_events::table
        .filter(hazard_events::entered_late.eq(true))
        .select(hazard_events::hazard_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}
