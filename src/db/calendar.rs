//! The park's loaded calendar files: every version kept, the newest of a
//! year in force.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::calendar_files;
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_files)]
pub struct CalendarFileRow {
    pub id: Id,
    pub year: i32,
    /// The year file as loaded, JSON.
    pub file: String,
    pub loaded_by: Id,
    pub loaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &CalendarFileRow) -> Result<(), AppError> {
    diesel::insert_into(calendar_files::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The newest file of each year loaded, by year.
pub fn in_force(conn: &mut DbConnection) -> Result<Vec<CalendarFileRow>, AppError> {
    let all: Vec<CalendarFileRow> = calendar_files::table
        .order((calendar_files::year, calendar_files::id))
        .select(CalendarFileRow::as_select())
        .load(conn)?;
    let mut newest: Vec<CalendarFileRow> = Vec::new();
    for row in all {
        match newest.last_mut() {
            Some(last) if last.year == row.year => *last = row,
            _ => newest.push(row),
        }
    }
    Ok(newest)
}

/// Moves whenever a file is loaded (ids are time-ordered UUIDv7s).
pub fn marker(conn: &mut DbConnection) -> Result<Option<Id>, AppError> {
    Ok(calendar_files::table
        .select(diesel::dsl::max(calendar_files::id))
        .first(conn)?)
}

/// How many files of each year were loaded.
pub fn versions(conn: &mut DbConnection) -> Result<Vec<(i32, usize)>, AppError> {
    let rows: Vec<(i32, i64)> = calendar_files::table
        .group_by(calendar_files::year)
        .select((calendar_files::year, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(year, n)| (year, usize::try_from(n).unwrap_or(0)))
        .collect())
}
