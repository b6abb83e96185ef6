//! Filed versions of the Art. 14 statistical filings.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::filings;
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = filings)]
pub struct FilingRow {
    pub id: Id,
    pub period_id: Id,
    pub enterprise_id: Id,
    pub year: i32,
    pub quarter: Option<i32>,
    pub version: i32,
    /// The figures as filed (JSON), frozen.
    pub figures: String,
    pub principal_name: String,
    pub note: Option<String>,
    pub correction_reason: Option<String>,
    pub filed_by: Id,
    pub filed_at: NaiveDateTime,
    /// The park-local day it was filed.
    pub filed_on: NaiveDate,
}

/// Every version filed for periods of `year` (of one enterprise when
/// given), oldest version first.
pub fn of_year(
    conn: &mut DbConnection,
    year: i32,
    enterprise_id: Option<Id>,
) -> Result<Vec<FilingRow>, AppError> {
    let mut query = filings::table
        .filter(filings::year.eq(year))
        .select(FilingRow::as_select())
        .order((filings::period_id, filings::version))
        .into_boxed();
    if let Some(enterprise_id) = enterprise_id {
        query = query.filter(filings::enterprise_id.eq(enterprise_id));
    }
    Ok(query.load(conn)?)
}

/// The versions filed for one period, oldest first.
pub fn of_period(conn: &mut DbConnection, period_id: Id) -> Result<Vec<FilingRow>, AppError> {
    Ok(filings::table
        .filter(filings::period_id.eq(period_id))
        .select(FilingRow::as_select())
        .order(filings::version)
        .load(conn)?)
}

/// Records a version; `false` when that version of the period exists
/// already (a concurrent filing won).
pub fn insert(conn: &mut DbConnection, row: &FilingRow) -> Result<bool, AppError> {
    let insert = diesel::insert_into(filings::table)
        .values(row)
        .on_conflict_do_nothing();
    let added = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(added == 1)
}
