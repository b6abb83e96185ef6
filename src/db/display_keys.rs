//! Display keys: only their SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::display_keys;
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = display_keys)]
pub struct DisplayKey {
    pub id: Id,
    pub name: String,
    pub key_sha256: String,
    /// The key's first characters, to tell keys apart in a list.
    pub key_prefix: String,
    pub expires_at: NaiveDateTime,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, key: &DisplayKey) -> Result<(), AppError> {
    diesel::insert_into(display_keys::table)
        .values(key)
        .execute(conn)?;
    Ok(())
}

pub fn by_hash(conn: &mut DbConnection, sha256: &str) -> Result<Option<DisplayKey>, AppError> {
    Ok(display_keys::table
        .filter(display_keys::key_sha256.eq(sha256))
        .select(DisplayKey::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<DisplayKey>, AppError> {
    Ok(display_keys::table
        .find(id)
        .select(DisplayKey::as_select())
        .first(conn)
        .optional()?)
}

/// Newest first: ids are time-ordered (UUIDv7).
pub fn list(
    conn: &mut DbConnection,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<DisplayKey>, AppError> {
    let mut query = display_keys::table
        .select(DisplayKey::as_select())
        .order(display_keys::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(display_keys::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Revokes a key not yet revoked; `false` if there was none such.
pub fn revoke(conn: &mut DbConnection, id: Id, at: NaiveDateTime) -> Result<bool, AppError> {
    let changed = diesel::update(
        display_keys::table
            .find(id)
            .filter(display_keys::revoked_at.is_null()),
    )
    .set(display_keys::revoked_at.eq(Some(at)))
    .execute(conn)?;
    Ok(changed == 1)
}
