//! Inspection templates, their items, the results inspections record
//! against them, and the photos of those results (metadata; the bytes are
//! in the evidence blob store under their SHA-256).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{checklist_items, checklist_photos, checklist_results, checklists};
use super::DbConnection;
use crate::domain::checklist::ItemOutcome;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklists)]
pub struct ChecklistRow {
    pub id: Id,
    pub name: String,
    pub description: Option<String>,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklist_items)]
pub struct ItemRow {
    pub id: Id,
    pub checklist_id: Id,
    pub position: i32,
    pub text: String,
    pub basis: Option<String>,
    pub specialty: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklist_results)]
pub struct ResultRow {
    pub inspection_id: Id,
    pub item_id: Id,
    pub checklist_id: Id,
    pub outcome: ItemOutcome,
    pub note: Option<String>,
    pub hazard_id: Option<Id>,
    pub recorded_by: Id,
    pub recorded_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    checklist: &ChecklistRow,
    items: &[ItemRow],
) -> Result<(), AppError> {
    diesel::insert_into(checklists::table)
        .values(checklist)
        .execute(conn)?;
    for item in items {
        diesel::insert_into(checklist_items::table)
            .values(item)
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<ChecklistRow>, AppError> {
    Ok(checklists::table
        .find(id)
        .select(ChecklistRow::as_select())
        .first(conn)
        .optional()?)
}

/// Newest first: ids are time-ordered (UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<ChecklistRow>, AppError> {
    let mut query = checklists::table
        .select(ChecklistRow::as_select())
        .order(checklists::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(checklists::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// The items of the given templates, in order.
pub fn items_of(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<ItemRow>, AppError> {
    Ok(checklist_items::table
        .filter(checklist_items::checklist_id.eq_any(ids))
        .select(ItemRow::as_select())
        .order((checklist_items::checklist_id, checklist_items::position))
        .load(conn)?)
}

pub fn results_of(conn: &mut DbConnection, inspection_id: Id) -> Result<Vec<ResultRow>, AppError> {
    Ok(checklist_results::table
        .filter(checklist_results::inspection_id.eq(inspection_id))
        .select(ResultRow::as_select())
        .load(conn)?)
}

pub fn insert_result(conn: &mut DbConnection, row: &ResultRow) -> Result<(), AppError> {
    diesel::insert_into(checklist_results::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// A photo of one item's result.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checklist_photos)]
pub struct PhotoRow {
    pub id: Id,
    pub inspection_id: Id,
    pub item_id: Id,
    /// Lower-case hex SHA-256 of the bytes: their key in the blob store.
    pub sha256: String,
    pub size_bytes: i64,
    /// Detected from the bytes, never taken from the client.
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Id,
    pub uploaded_at: NaiveDateTime,
}

pub fn find_result(
    conn: &mut DbConnection,
    inspection_id: Id,
    item_id: Id,
) -> Result<Option<ResultRow>, AppError> {
    Ok(checklist_results::table
        .find((inspection_id, item_id))
        .select(ResultRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_photo(conn: &mut DbConnection, photo: &PhotoRow) -> Result<(), AppError> {
    diesel::insert_into(checklist_photos::table)
        .values(photo)
        .execute(conn)?;
    Ok(())
}

pub fn find_photo(conn: &mut DbConnection, id: Id) -> Result<Option<PhotoRow>, AppError> {
    Ok(checklist_photos::table
        .find(id)
        .select(PhotoRow::as_select())
        .first(conn)
        .optional()?)
}

/// An inspection's photos, oldest first (ids are UUIDv7).
pub fn photos_of(conn: &mut DbConnection, inspection_id: Id) -> Result<Vec<PhotoRow>, AppError> {
    Ok(checklist_photos::table
        .filter(checklist_photos::inspection_id.eq(inspection_id))
        .select(PhotoRow::as_select())
        .order(checklist_photos::id.asc())
        .load(conn)?)
}

/// Bytes of photos one item's result holds.
pub fn bytes_of_result(
    conn: &mut DbConnection,
    inspection_id: Id,
    item_id: Id,
) -> Result<u64, AppError> {
    let sizes: Vec<i64> = checklist_photos::table
        .filter(checklist_photos::inspection_id.eq(inspection_id))
        .filter(checklist_photos::item_id.eq(item_id))
        .select(checklist_photos::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|size| u64::try_from(size).unwrap_or(0))
        .sum())
}

/// Whether a photo names these bytes.
pub fn names_blob(conn: &mut DbConnection, sha256: &str) -> Result<bool, AppError> {
    let found: Option<String> = checklist_photos::table
        .filter(checklist_photos::sha256.eq(sha256))
        .select(checklist_photos::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
