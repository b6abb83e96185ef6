//! Assessments, the enterprise history, and the facts grading and
//! differentiated supervision are computed from: grades as of a date, the
//! last supervision visit, open major and overdue hazards per enterprise.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, max};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{enterprise_assessments, enterprise_events, hazards, inspections};
use super::DbConnection;
use crate::domain::access::Role;
use crate::domain::grading::Grade;
use crate::domain::hazard::{HazardLevel, HazardState};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enterprise_assessments)]
pub struct Assessment {
    pub id: Id,
    pub enterprise_id: Id,
    pub score_centi: i32,
    /// JSON array of trigger codes.
    pub direct_red_triggers: String,
    pub grade: Grade,
    pub thresholds_version: String,
    /// JSON of the thresholds the grade was derived with.
    pub thresholds: String,
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub notes: String,
    pub recorded_by: Id,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enterprise_events)]
pub struct EnterpriseEvent {
    pub id: Id,
    pub enterprise_id: Id,
    pub seq: i32,
    pub action: String,
    pub actor_id: Id,
    pub actor_role: Role,
    pub occurred_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub note: Option<String>,
    pub details: String,
}

pub fn insert_assessment(conn: &mut DbConnection, assessment: &Assessment) -> Result<(), AppError> {
    diesel::insert_into(enterprise_assessments::table)
        .values(assessment)
        .execute(conn)?;
    Ok(())
}

/// An enterprise's assessments, latest first.
pub fn assessments(
    conn: &mut DbConnection,
    enterprise_id: Id,
) -> Result<Vec<Assessment>, AppError> {
    Ok(enterprise_assessments::table
        .filter(enterprise_assessments::enterprise_id.eq(enterprise_id))
        .select(Assessment::as_select())
        .order((
            enterprise_assessments::assessed_on.desc(),
            enterprise_assessments::recorded_at.desc(),
        ))
        .load(conn)?)
}

/// The assessment in force for each enterprise on `as_of`: the latest one
/// assessed on or before that day (a later-recorded one wins a tie).
pub fn grades_as_of(
    conn: &mut DbConnection,
    as_of: NaiveDate,
    only: Option<Id>,
) -> Result<HashMap<Id, Assessment>, AppError> {
    let mut query = enterprise_assessments::table
        .filter(enterprise_assessments::assessed_on.le(as_of))
        .select(Assessment::as_select())
        .order((
            enterprise_assessments::assessed_on.asc(),
            enterprise_assessments::recorded_at.asc(),
        ))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(enterprise_assessments::enterprise_id.eq(id));
    }
    let mut latest = HashMap::new();
    for assessment in query.load::<Assessment>(conn)? {
        latest.insert(assessment.enterprise_id, assessment);
    }
    Ok(latest)
}

/// The day of each enterprise's latest inspection by one of `sources`.
pub fn last_supervision_visits(
    conn: &mut DbConnection,
    sources: &[String],
) -> Result<HashMap<Id, NaiveDate>, AppError> {
    let rows: Vec<(Id, Option<NaiveDate>)> = inspections::table
        .filter(inspections::source.eq_any(sources))
        .group_by(inspections::enterprise_id)
        .select((inspections::enterprise_id, max(inspections::inspected_on)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, day)| day.map(|d| (id, d)))
        .collect())
}

/// Per enterprise: open major hazards, and hazards overdue on `today`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HazardPressure {
    pub open_major: i64,
    pub overdue: i64,
}

pub fn hazard_pressure(
    conn: &mut DbConnection,
    today: NaiveDate,
    only: Option<Id>,
) -> Result<HashMap<Id, HazardPressure>, AppError> {
    let mut majors = hazards::table
        .filter(hazards::level.eq(HazardLevel::Major))
        .filter(hazards::state.eq_any(HazardState::open()))
        .group_by(hazards::enterprise_id)
        .select((hazards::enterprise_id, count_star()))
        .into_boxed();
    let mut overdue = hazards::table
        .filter(hazards::state.eq_any(HazardState::counting_toward_overdue()))
        .filter(hazards::deadline.lt(today))
        .group_by(hazards::enterprise_id)
        .select((hazards::enterprise_id, count_star()))
        .into_boxed();
    if let Some(id) = only {
        majors = majors.filter(hazards::enterprise_id.eq(id));
        overdue = overdue.filter(hazards::enterprise_id.eq(id));
    }
    let mut pressure: HashMap<Id, HazardPressure> = HashMap::new();
    for (id, n) in majors.load::<(Id, i64)>(conn)? {
        pressure.entry(id).or_default().open_major = n;
    }
    for (id, n) in overdue.load::<(Id, i64)>(conn)? {
        pressure.entry(id).or_default().overdue = n;
    }
    Ok(pressure)
}

pub fn append_event(conn: &mut DbConnection, event: &EnterpriseEvent) -> Result<(), AppError> {
    diesel::insert_into(enterprise_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

pub fn next_event_seq(conn: &mut DbConnection, enterprise_id: Id) -> Result<i32, AppError> {
    let last: Option<i32> = enterprise_events::table
        .filter(enterprise_events::enterprise_id.eq(enterprise_id))
        .select(max(enterprise_events::seq))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

pub fn events(
    conn: &mut DbConnection,
    enterprise_id: Id,
    after_seq: Option<i32>,
    limit: i64,
) -> Result<Vec<EnterpriseEvent>, AppError> {
    let mut query = enterprise_events::table
        .filter(enterprise_events::enterprise_id.eq(enterprise_id))
        .select(EnterpriseEvent::as_select())
        .order(enterprise_events::seq.asc())
        .into_boxed();
    if let Some(after) = after_seq {
        query = query.filter(enterprise_events::seq.gt(after));
    }
    Ok(query.limit(limit).load(conn)?)
}
