//! Committed ledger imports and the keys of the rows they created.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{hazards, import_keys, imports};
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct ImportRow {
    pub id: Id,
    /// What was imported: `hazards`.
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    pub rows_total: i32,
    pub created: i32,
    pub unchanged: i32,
    pub skipped: i32,
    /// The row-by-row report, JSON.
    pub report: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_keys)]
pub struct ImportKey {
    pub key: String,
    pub hazard_id: Id,
    pub import_id: Id,
}

pub fn insert(conn: &mut DbConnection, row: &ImportRow) -> Result<(), AppError> {
    diesel::insert_into(imports::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn insert_keys(conn: &mut DbConnection, keys: &[ImportKey]) -> Result<(), AppError> {
    for part in keys.chunks(500) {
        match conn {
            DbConnection::Postgresql(c) => diesel::insert_into(import_keys::table)
                .values(part)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(import_keys::table)
                .values(part)
                .execute(c)?,
        };
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<ImportRow>, AppError> {
    Ok(imports::table
        .find(id)
        .select(ImportRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which of `keys` an earlier import created, or name a hazard by its own
/// number (a ledger exported from here), with the hazard's number.
pub fn known(conn: &mut DbConnection, keys: &[String]) -> Result<Vec<(String, String)>, AppError> {
    let mut found = Vec::new();
    for part in keys.chunks(500) {
        let imported: Vec<(String, String)> = import_keys::table
            .inner_join(hazards::table.on(hazards::id.eq(import_keys::hazard_id)))
            .filter(import_keys::key.eq_any(part))
            .select((import_keys::key, hazards::number))
            .load(conn)?;
        found.extend(imported);
        let own: Vec<String> = hazards::table
            .filter(hazards::number.eq_any(part))
            .select(hazards::number)
            .load(conn)?;
        found.extend(own.into_iter().map(|n| (n.clone(), n)));
    }
    Ok(found)
}
