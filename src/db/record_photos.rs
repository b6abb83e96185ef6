//! Check records' photos: rows naming bytes stored once by SHA-256.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{check_record_photos, check_records};
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = check_record_photos)]
pub struct RecordPhotoRow {
    pub id: Id,
    pub record_id: Id,
    pub enterprise_id: Id,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Id,
    pub uploaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, photo: &RecordPhotoRow) -> Result<(), AppError> {
    diesel::insert_into(check_record_photos::table)
        .values(photo)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<RecordPhotoRow>, AppError> {
    Ok(check_record_photos::table
        .find(id)
        .select(RecordPhotoRow::as_select())
        .first(conn)
        .optional()?)
}

/// A record's photos, oldest first (ids are UUIDv7).
pub fn of_record(conn: &mut DbConnection, record: Id) -> Result<Vec<RecordPhotoRow>, AppError> {
    Ok(check_record_photos::table
        .filter(check_record_photos::record_id.eq(record))
        .select(RecordPhotoRow::as_select())
        .order(check_record_photos::id.asc())
        .load(conn)?)
}

/// Bytes of photos one record holds.
pub fn bytes_of_record(conn: &mut DbConnection, record: Id) -> Result<u64, AppError> {
    let sizes: Vec<i64> = check_record_photos::table
        .filter(check_record_photos::record_id.eq(record))
        .select(check_record_photos::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|size| u64::try_from(size).unwrap_or(0))
        .sum())
}

/// Whether a record's photo names these bytes.
pub fn names_blob(conn: &mut DbConnection, sha256: &str) -> Result<bool, AppError> {
    let found: Option<String> = check_record_photos::table
        .filter(check_record_photos::sha256.eq(sha256))
        .select(check_record_photos::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The record a photo is for: its task, enterprise and who made it.
pub fn record_owner(conn: &mut DbConnection, record: Id) -> Result<Option<(Id, Id, Id)>, AppError> {
    Ok(check_records::table
        .find(record)
        .select((
            check_records::task_id,
            check_records::enterprise_id,
            check_records::recorded_by,
        ))
        .first(conn)
        .optional()?)
}
