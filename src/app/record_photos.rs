//! Photos of check records: what the person on duty saw, kept also when
//! nothing was wrong. Added by whoever made the record (or a supervisor or
//! admin on their behalf) within the per-record byte limit, never removed;
//! read by whoever may see the record's enterprise. Storing the bytes is
//! the caller's part, inside the same transaction.

use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::app::checklists::NewPhoto;
use crate::db::record_photos::{self as store, RecordPhotoRow};
use crate::db::{write_transaction, DbConnection};
use crate::domain::access::{Caller, Role};
use crate::error::AppError;
use crate::messages::Detail;

/// The record a photo is to join, made by the caller (or a supervisor or
/// admin): the bytes its photos already hold.
pub fn room_for_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    record: Uuid,
) -> Result<u64, AppError> {
    let (_, _, made_by) = visible_record(conn, caller, record)?;
    if made_by.uuid() != caller.user_id && !matches!(caller.role, Role::Admin | Role::Supervisor) {
        return Err(AppError::forbidden(Detail::RecordPhotoMaker));
    }
    store::bytes_of_record(conn, record.into())
}

/// Adds a photo to a record, within the per-record byte limit.
pub fn add_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    record: Uuid,
    new: NewPhoto,
    max_record_bytes: u64,
    now: NaiveDateTime,
) -> Result<RecordPhotoRow, AppError> {
    write_transaction(conn, |conn| {
        let held = room_for_photo(conn, caller, record)?;
        if held.saturating_add(new.size_bytes) > max_record_bytes {
            return Err(AppError::payload_too_large(
                Detail::RecordPhotosFull
                    .with("held", held)
                    .with("max_bytes", max_record_bytes),
            ));
        }
        let (_, enterprise, _) = visible_record(conn, caller, record)?;
        let photo = RecordPhotoRow {
            id: Uuid::now_v7().into(),
            record_id: record.into(),
            enterprise_id: enterprise,
            sha256: new.sha256,
            size_bytes: i64::try_from(new.size_bytes)
                .map_err(|_| AppError::payload_too_large(Detail::FileSizeOverflow))?,
            content_type: new.content_type,
            file_name: new.file_name,
            caption: new.caption,
            uploaded_by: caller.user_id.into(),
            uploaded_at: now,
        };
        store::insert(conn, &photo)?;
        Ok(photo)
    })
}

/// A record's photos, oldest first.
pub fn photos_of(
    conn: &mut DbConnection,
    caller: &Caller,
    record: Uuid,
) -> Result<Vec<RecordPhotoRow>, AppError> {
    visible_record(conn, caller, record)?;
    store::of_record(conn, record.into())
}

/// A photo whose record the caller may see; any other is not found.
pub fn visible_photo(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<RecordPhotoRow, AppError> {
    store::find(conn, id.into())?
        .filter(|p| caller.can_see_enterprise(p.enterprise_id.uuid()))
        .ok_or(AppError::NotFound("check record photo"))
}

/// The record's task, enterprise and maker, when the caller may see it.
fn visible_record(
    conn: &mut DbConnection,
    caller: &Caller,
    record: Uuid,
) -> Result<(crate::db::Id, crate::db::Id, crate::db::Id), AppError> {
    store::record_owner(conn, record.into())?
        .filter(|(_, enterprise, _)| caller.can_see_enterprise(enterprise.uuid()))
        .ok_or(AppError::NotFound("check record"))
}
