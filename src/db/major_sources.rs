//! Major hazard sources and their 包保责任人, as stored: a source's row
//! with its inputs and computed S, R and grade; each person who held a
//! kind of duty, with when they were replaced.

use chrono::NaiveDate;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{
    major_source_assessments, major_source_drills, major_source_persons, major_sources,
};
use super::DbConnection;
use crate::domain::major_source::{DrillKind, PersonKind, SourceUnitKind};
use crate::error::AppError;
use crate::messages::{Detail, Rule};

/// The most sources one listing returns: a park has dozens.
pub const MAX_SOURCES: i64 = 5_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = major_sources)]
pub struct SourceRow {
    pub id: Id,
    pub enterprise_id: Id,
    pub object_id: Id,
    pub unit_id: Id,
    pub event_id: Id,
    pub principal_measure_id: Id,
    pub technical_measure_id: Id,
    pub operational_measure_id: Id,
    pub code: String,
    pub name: String,
    pub unit_kind: SourceUnitKind,
    /// JSON of `domain::major_source::SourceInputs`.
    pub inputs: String,
    pub s_centi: i64,
    pub r_centi: i64,
    pub grade: i32,
    pub assessed_on: Option<NaiveDate>,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The park's day a change of its inputs last moved R: a new safety
    /// assessment falls due from it when none is later.
    pub inputs_changed_on: Option<NaiveDate>,
    /// The park's day it was registered.
    pub registered_on: Option<NaiveDate>,
}

impl SourceRow {
    /// The measure a kind of person's duty checks belong to.
    pub fn measure_of(&self, kind: PersonKind) -> Id {
        match kind {
            PersonKind::Principal => self.principal_measure_id,
            PersonKind::Technical => self.technical_measure_id,
            PersonKind::Operational => self.operational_measure_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = major_source_persons)]
pub struct PersonRow {
    pub id: Id,
    pub source_id: Id,
    pub enterprise_id: Id,
    pub kind: PersonKind,
    pub name: String,
    pub post: String,
    pub phone: String,
    pub user_id: Option<Id>,
    pub since: NaiveDate,
    pub task_id: Id,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    pub replaced_at: Option<NaiveDateTime>,
}

fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

pub fn insert_source(conn: &mut DbConnection, row: &SourceRow) -> Result<(), AppError> {
    match diesel::insert_into(major_sources::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(AppError::invalid("code", Rule::SourceCodeTaken)),
        Err(e) => Err(e.into()),
    }
}

pub fn update_inputs(
    conn: &mut DbConnection,
    id: Id,
    (inputs, s_centi, r_centi, grade): (&str, i64, i64, i32),
    (assessed_on, inputs_changed_on): (Option<NaiveDate>, Option<NaiveDate>),
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(major_sources::table.find(id))
        .set((
            major_sources::inputs.eq(inputs),
            major_sources::s_centi.eq(s_centi),
            major_sources::r_centi.eq(r_centi),
            major_sources::grade.eq(grade),
            major_sources::assessed_on.eq(assessed_on),
            major_sources::inputs_changed_on.eq(inputs_changed_on),
            major_sources::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_source(conn: &mut DbConnection, id: Id) -> Result<Option<SourceRow>, AppError> {
    Ok(major_sources::table
        .find(id)
        .select(SourceRow::as_select())
        .first(conn)
        .optional()?)
}

/// The source whose duties a unit holds.
pub fn source_of_unit(conn: &mut DbConnection, unit: Id) -> Result<Option<SourceRow>, AppError> {
    Ok(major_sources::table
        .filter(major_sources::unit_id.eq(unit))
        .select(SourceRow::as_select())
        .first(conn)
        .optional()?)
}

/// The source whose register object `object` is, if any.
pub fn source_of_object(
    conn: &mut DbConnection,
    object: Id,
) -> Result<Option<SourceRow>, AppError> {
    Ok(major_sources::table
        .filter(major_sources::object_id.eq(object))
        .select(SourceRow::as_select())
        .first(conn)
        .optional()?)
}

/// The sources of one enterprise or all, by enterprise and code.
pub fn sources(
    conn: &mut DbConnection,
    enterprise: Option<Id>,
) -> Result<Vec<SourceRow>, AppError> {
    let mut query = major_sources::table
        .select(SourceRow::as_select())
        .order((major_sources::enterprise_id, major_sources::code))
        .limit(MAX_SOURCES)
        .into_boxed();
    if let Some(enterprise) = enterprise {
        query = query.filter(major_sources::enterprise_id.eq(enterprise));
    }
    Ok(query.load(conn)?)
}

pub fn insert_person(conn: &mut DbConnection, row: &PersonRow) -> Result<(), AppError> {
    match diesel::insert_into(major_source_persons::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        // Two appointments of one kind at once: the second finds the
        // first in office.
        Err(e) if is_unique_violation(&e) => Err(AppError::conflict(Detail::AppointmentCollided)),
        Err(e) => Err(e.into()),
    }
}

/// The person of `kind` in office for a source.
pub fn current_person(
    conn: &mut DbConnection,
    source: Id,
    kind: PersonKind,
) -> Result<Option<PersonRow>, AppError> {
    Ok(major_source_persons::table
        .filter(major_source_persons::source_id.eq(source))
        .filter(major_source_persons::kind.eq(kind))
        .filter(major_source_persons::replaced_at.is_null())
        .select(PersonRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn mark_replaced(
    conn: &mut DbConnection,
    person: Id,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(major_source_persons::table.find(person))
        .set(major_source_persons::replaced_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Every person of these sources, current and past, oldest first.
pub fn persons_of(conn: &mut DbConnection, sources: &[Id]) -> Result<Vec<PersonRow>, AppError> {
    let mut all = Vec::new();
    for chunk in sources.chunks(500) {
        all.extend(
            major_source_persons::table
                .filter(major_source_persons::source_id.eq_any(chunk))
                .select(PersonRow::as_select())
                .order((major_source_persons::created_at, major_source_persons::id))
                .load(conn)?,
        );
    }
    Ok(all)
}

/// Those of `hazards` that are closed (rectified and accepted).
pub fn closed_among(
    conn: &mut DbConnection,
    hazards: &[Id],
) -> Result<std::collections::HashSet<Id>, AppError> {
    use super::schema::hazards as h;
    use crate::domain::hazard::HazardState;
    let mut closed = std::collections::HashSet::new();
    for chunk in hazards.chunks(500) {
        closed.extend(
            h::table
                .filter(h::id.eq_any(chunk))
                .filter(h::state.eq(HazardState::Closed))
                .select(h::id)
                .load::<Id>(conn)?,
        );
    }
    Ok(closed)
}

/// A hazard a source's duty checks found, as the source lists it.
#[derive(Debug, Clone, Queryable)]
pub struct SourceHazard {
    pub id: Id,
    pub number: String,
    pub title: String,
    pub state: crate::domain::hazard::HazardState,
    pub deadline: NaiveDate,
    pub found_at: NaiveDateTime,
}

/// The newest `limit` hazards the duty checks of the source whose duties
/// `unit` holds found, newest first.
pub fn hazards_of_unit(
    conn: &mut DbConnection,
    unit: Id,
    limit: i64,
) -> Result<Vec<SourceHazard>, AppError> {
    use super::schema::{check_records as r, check_tasks as t, hazards as h};
    let found = r::table
        .inner_join(t::table.on(t::id.eq(r::task_id)))
        .filter(t::unit_id.eq(unit))
        .filter(r::hazard_id.is_not_null())
        .select(r::hazard_id.assume_not_null());
    Ok(h::table
        .filter(h::id.eq_any(found))
        .order(h::found_at.desc())
        .limit(limit)
        .select((
            h::id,
            h::number,
            h::title,
            h::state,
            h::deadline,
            h::found_at,
        ))
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = major_source_drills)]
pub struct DrillRow {
    pub id: Id,
    pub source_id: Id,
    pub enterprise_id: Id,
    pub kind: DrillKind,
    pub held_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Id,
    pub recorded_at: NaiveDateTime,
}

pub fn insert_drill(conn: &mut DbConnection, row: &DrillRow) -> Result<(), AppError> {
    diesel::insert_into(major_source_drills::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The last day each kind of drill was held, per source.
pub fn last_drills(
    conn: &mut DbConnection,
    sources: &[Id],
) -> Result<Vec<(Id, DrillKind, NaiveDate)>, AppError> {
    use diesel::dsl::max;
    let mut all = Vec::new();
    for chunk in sources.chunks(500) {
        let rows: Vec<(Id, DrillKind, Option<NaiveDate>)> = major_source_drills::table
            .filter(major_source_drills::source_id.eq_any(chunk))
            .group_by((major_source_drills::source_id, major_source_drills::kind))
            .select((
                major_source_drills::source_id,
                major_source_drills::kind,
                max(major_source_drills::held_on),
            ))
            .load(conn)?;
        all.extend(
            rows.into_iter()
                .filter_map(|(s, k, d)| d.map(|d| (s, k, d))),
        );
    }
    Ok(all)
}

/// A safety assessment of a source, with its report's bytes named by
/// their SHA-256 in the evidence store.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = major_source_assessments)]
pub struct AssessmentRow {
    pub id: Id,
    pub source_id: Id,
    pub enterprise_id: Id,
    pub assessed_on: NaiveDate,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Id,
    pub uploaded_at: NaiveDateTime,
}

/// The most assessments one source lists: one every three years.
pub const MAX_ASSESSMENTS: i64 = 200;

/// Records an assessment and moves the source's last assessment day to
/// it when it is later.
pub fn insert_assessment(
    conn: &mut DbConnection,
    row: &AssessmentRow,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(major_source_assessments::table)
        .values(row)
        .execute(conn)?;
    let last: Option<NaiveDate> = major_sources::table
        .find(row.source_id)
        .select(major_sources::assessed_on)
        .first(conn)?;
    if last.is_none_or(|last| last < row.assessed_on) {
        diesel::update(major_sources::table.find(row.source_id))
            .set((
                major_sources::assessed_on.eq(row.assessed_on),
                major_sources::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A source's assessments, latest first.
pub fn assessments_of(conn: &mut DbConnection, source: Id) -> Result<Vec<AssessmentRow>, AppError> {
    Ok(major_source_assessments::table
        .filter(major_source_assessments::source_id.eq(source))
        .order((
            major_source_assessments::assessed_on.desc(),
            major_source_assessments::id.desc(),
        ))
        .limit(MAX_ASSESSMENTS)
        .select(AssessmentRow::as_select())
        .load(conn)?)
}

pub fn find_assessment(conn: &mut DbConnection, id: Id) -> Result<Option<AssessmentRow>, AppError> {
    Ok(major_source_assessments::table
        .find(id)
        .select(AssessmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether an assessment names these bytes.
pub fn names_blob(conn: &mut DbConnection, sha256: &str) -> Result<bool, AppError> {
    let found: Option<Id> = major_source_assessments::table
        .filter(major_source_assessments::sha256.eq(sha256))
        .select(major_source_assessments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The bytes a source's assessment reports hold together.
pub fn bytes_of_source(conn: &mut DbConnection, source: Id) -> Result<u64, AppError> {
    let sizes: Vec<i64> = major_source_assessments::table
        .filter(major_source_assessments::source_id.eq(source))
        .select(major_source_assessments::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|size| u64::try_from(size).unwrap_or(0))
        .sum())
}
