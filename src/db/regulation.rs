//! A major hazard's statutory records: its dossier (Art. 14 report
//! contents, Art. 15 plan parts, Art. 16 production stop) and its 挂牌督办
//! listing with the steps to 摘牌 (Art. 18). One row of each per hazard.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{hazard_dossiers, hazard_listings, hazards};
use super::DbConnection;
use crate::domain::hazard::listing::{AssessorKind, AuthorityLevel, ListingProgress, StopScope};
use crate::domain::hazard::HazardState;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hazard_dossiers, treat_none_as_null = true)]
pub struct DossierRow {
    pub hazard_id: Id,
    pub state_and_cause: String,
    pub danger_and_difficulty: String,
    pub goals_and_tasks: Option<String>,
    pub materials: Option<String>,
    pub responsible_body: Option<String>,
    pub requirements: Option<String>,
    pub stop_scope: StopScope,
    pub stop_from: Option<NaiveDate>,
    pub stop_until: Option<NaiveDate>,
    pub updated_by: Id,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hazard_listings, treat_none_as_null = true)]
pub struct ListingRow {
    pub hazard_id: Id,
    /// Absent for a listing carried over from a hazard's report, which
    /// named only the ordering body.
    pub authority_level: Option<AuthorityLevel>,
    pub authority_name: String,
    pub document_number: Option<String>,
    pub listed_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub listed_by: Id,
    pub assessor: Option<String>,
    pub assessor_kind: Option<AssessorKind>,
    pub assessment_conclusion: Option<String>,
    pub assessment_attachment_id: Option<Id>,
    pub assessed_on: Option<NaiveDate>,
    pub assessed_by: Option<Id>,
    pub resumption_applicant: Option<String>,
    pub resumption_applied_on: Option<NaiveDate>,
    pub resumption_note: Option<String>,
    pub resumption_by: Option<Id>,
    pub delisting_document_number: Option<String>,
    pub delisted_on: Option<NaiveDate>,
    pub delisted_by: Option<Id>,
}

impl ListingRow {
    /// A listing with nothing after it recorded yet.
    pub fn new(
        hazard_id: Id,
        authority_name: String,
        listed_on: NaiveDate,
        listed_by: Id,
    ) -> ListingRow {
        ListingRow {
            hazard_id,
            authority_level: None,
            authority_name,
            document_number: None,
            listed_on,
            due_on: None,
            responsible_leader: None,
            listed_by,
            assessor: None,
            assessor_kind: None,
            assessment_conclusion: None,
            assessment_attachment_id: None,
            assessed_on: None,
            assessed_by: None,
            resumption_applicant: None,
            resumption_applied_on: None,
            resumption_note: None,
            resumption_by: None,
            delisting_document_number: None,
            delisted_on: None,
            delisted_by: None,
        }
    }

    pub fn progress(&self) -> ListingProgress {
        ListingProgress {
            assessed: self.assessed_on.is_some(),
            resumption_applied: self.resumption_applied_on.is_some(),
            delisted: self.delisted_on.is_some(),
        }
    }
}

pub fn dossier(conn: &mut DbConnection, hazard_id: Id) -> Result<Option<DossierRow>, AppError> {
    Ok(hazard_dossiers::table
        .find(hazard_id)
        .select(DossierRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn listing(conn: &mut DbConnection, hazard_id: Id) -> Result<Option<ListingRow>, AppError> {
    Ok(hazard_listings::table
        .find(hazard_id)
        .select(ListingRow::as_select())
        .first(conn)
        .optional()?)
}

/// How much production stopped for a hazard, as its dossier says.
pub fn stop_scope(conn: &mut DbConnection, hazard_id: Id) -> Result<StopScope, AppError> {
    Ok(hazard_dossiers::table
        .find(hazard_id)
        .select(hazard_dossiers::stop_scope)
        .first(conn)
        .optional()?
        .unwrap_or(StopScope::None))
}

pub fn save_dossier(conn: &mut DbConnection, row: &DossierRow) -> Result<(), AppError> {
    let updated = diesel::update(hazard_dossiers::table.find(row.hazard_id))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(hazard_dossiers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn save_listing(conn: &mut DbConnection, row: &ListingRow) -> Result<(), AppError> {
    let updated = diesel::update(hazard_listings::table.find(row.hazard_id))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(hazard_listings::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Listings still in force on open hazards whose 督办期限 falls in
/// `from..=to` (either end open) and that have no message of `rule` yet.
pub fn listings_awaiting_rule(
    conn: &mut DbConnection,
    rule: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<(Id, NaiveDate)>, AppError> {
    use super::schema::outbox;
    use diesel::dsl::{exists, not};
    let mut query = hazard_listings::table
        .inner_join(hazards::table)
        .filter(hazards::state.eq_any(HazardState::open()))
        .filter(hazard_listings::delisted_on.is_null())
        .filter(hazard_listings::due_on.is_not_null())
        .filter(not(exists(
            outbox::table
                .filter(outbox::hazard_id.eq(hazard_listings::hazard_id.nullable()))
                .filter(outbox::rule.eq(rule)),
        )))
        .select((hazard_listings::hazard_id, hazard_listings::due_on))
        .order(hazard_listings::due_on.asc())
        .limit(limit)
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(hazard_listings::due_on.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(hazard_listings::due_on.le(to));
    }
    let rows: Vec<(Id, Option<NaiveDate>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, due)| due.map(|due| (id, due)))
        .collect())
}

/// Listed hazards found in a year: how many were listed, how many of those
/// are delisted, and how many are still listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ListingCounts {
    pub listed: i64,
    pub delisted: i64,
    pub still_listed: i64,
}

/// The listings of hazards found in `year` (in `months`, inclusive, when
/// given), voided ones excluded: as they are now, or as they stood at the
/// end of the day `as_of`.
pub fn listing_counts(
    conn: &mut DbConnection,
    year: i32,
    months: Option<(i32, i32)>,
    as_of: Option<NaiveDate>,
) -> Result<ListingCounts, AppError> {
    // Every listing with its hazard, filtered here: the listings are few,
    // and a filter on the hazards could make the database walk those of
    // the whole year to find them.
    let rows: Vec<(NaiveDate, Option<NaiveDate>, i32, i32, HazardState)> = hazard_listings::table
        .inner_join(hazards::table)
        .select((
            hazard_listings::listed_on,
            hazard_listings::delisted_on,
            hazards::found_year,
            hazards::found_month,
            hazards::state,
        ))
        .load(conn)?;
    let mut counts = ListingCounts::default();
    for (listed_on, delisted_on, found_year, found_month, state) in rows {
        if found_year != year
            || state == HazardState::Voided
            || months.is_some_and(|(first, last)| !(first..=last).contains(&found_month))
        {
            continue;
        }
        if as_of.is_some_and(|day| listed_on > day) {
            continue;
        }
        counts.listed += 1;
        if delisted_on.is_some_and(|on| as_of.is_none_or(|day| on <= day)) {
            counts.delisted += 1;
        } else {
            counts.still_listed += 1;
        }
    }
    Ok(counts)
}
