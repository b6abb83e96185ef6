//! Evidence file metadata (one row per file attached to a hazard; the bytes
//! live in the storage backend under their SHA-256), and the lock that
//! serialises everything deciding whether a stored blob exists (checklist
//! photos share the blobs).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::attachments;
use super::DbConnection;
use crate::domain::evidence::EvidencePhase;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: Id,
    pub hazard_id: Id,
    /// `before` or `after`.
    pub phase: EvidencePhase,
    /// Lower-case hex SHA-256 of the bytes: also their key in the store.
    pub sha256: String,
    pub size_bytes: i64,
    /// Detected from the bytes, never taken from the client.
    pub content_type: String,
    /// As the client named it, cleaned.
    pub file_name: String,
    pub caption: Option<String>,
    pub uploaded_by: Id,
    pub uploaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, attachment: &Attachment) -> Result<(), AppError> {
    diesel::insert_into(attachments::table)
        .values(attachment)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<Attachment>, AppError> {
    Ok(attachments::table
        .find(id)
        .select(Attachment::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConnection, id: Id) -> Result<bool, AppError> {
    let deleted = diesel::delete(attachments::table.find(id)).execute(conn)?;
    Ok(deleted == 1)
}

/// A hazard's files, oldest first (ids are UUIDv7), after the cursor id.
pub fn list(
    conn: &mut DbConnection,
    hazard_id: Id,
    phase: Option<EvidencePhase>,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Attachment>, AppError> {
    let mut query = attachments::table
        .filter(attachments::hazard_id.eq(hazard_id))
        .select(Attachment::as_select())
        .order(attachments::id.asc())
        .into_boxed();
    if let Some(phase) = phase {
        query = query.filter(attachments::phase.eq(phase));
    }
    if let Some(after) = after {
        query = query.filter(attachments::id.gt(after));
    }
    Ok(query.limit(limit).load(conn)?)
}

/// Bytes of evidence the hazard holds (a blob shared with another row still
/// counts here: the limit is about what one hazard asks to keep).
pub fn bytes_of_hazard(conn: &mut DbConnection, hazard_id: Id) -> Result<u64, AppError> {
    let sizes: Vec<i64> = attachments::table
        .filter(attachments::hazard_id.eq(hazard_id))
        .select(attachments::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|size| u64::try_from(size).unwrap_or(0))
        .sum())
}

/// Bytes of evidence all of one enterprise's hazards hold.
pub fn bytes_of_enterprise(conn: &mut DbConnection, enterprise_id: Id) -> Result<u64, AppError> {
    use super::schema::hazards;
    let sizes: Vec<i64> = attachments::table
        .filter(
            attachments::hazard_id.eq_any(
                hazards::table
                    .filter(hazards::enterprise_id.eq(enterprise_id))
                    .select(hazards::id),
            ),
        )
        .select(attachments::size_bytes)
        .load(conn)?;
    Ok(sizes
        .into_iter()
        .map(|size| u64::try_from(size).unwrap_or(0))
        .sum())
}

/// Whether any row still names these bytes: a hazard's evidence file, a
/// checklist item's or a check record's photo, or a major hazard source's
/// assessment report.
pub fn is_referenced(conn: &mut DbConnection, sha256: &str) -> Result<bool, AppError> {
    let found: Option<String> = attachments::table
        .filter(attachments::sha256.eq(sha256))
        .select(attachments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some()
        || super::checklists::names_blob(conn, sha256)?
        || super::major_sources::names_blob(conn, sha256)?
        || super::record_photos::names_blob(conn, sha256)?)
}

/// Namespaces this service's advisory locks on PostgreSQL ("HTev").
const CONTENT_LOCK_NAMESPACE: i32 = 0x4854_6576;

/// Locks the content `sha256` until the transaction ends. Whoever makes a
/// blob appear (an upload) or disappear (the last row naming it went) holds
/// it, and decides from committed rows only: so a blob is never removed
/// under an upload that found it present, and never stored twice. SQLite's
/// immediate transaction already serialises every writer; PostgreSQL takes
/// a transaction-scoped advisory lock, which also covers several instances.
pub fn lock_content(conn: &mut DbConnection, sha256: &str) -> Result<(), AppError> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgresql(c) => {
            let key = sha256
                .get(..8)
                .and_then(|prefix| u32::from_str_radix(prefix, 16).ok())
                .map_or(0, |bits| bits as i32);
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind::<diesel::sql_types::Integer, _>(CONTENT_LOCK_NAMESPACE)
                .bind::<diesel::sql_types::Integer, _>(key)
                .execute(c)?;
            Ok(())
        }
    }
}
