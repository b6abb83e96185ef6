//! Stored responses of creating requests, keyed by the caller's
//! `Idempotency-Key`, so a retried request replays instead of creating twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::idempotency_keys;
use super::DbConnection;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredResponse {
    pub user_id: Id,
    pub idempotency_key: String,
    /// Method, path and a hash of the request body.
    pub request_fingerprint: String,
    pub response_status: i32,
    pub response_body: String,
    pub location: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: Id,
    key: &str,
) -> Result<Option<StoredResponse>, AppError> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .select(StoredResponse::as_select())
        .first(conn)
        .optional()?)
}

/// Records a response; `Ok(false)` when another request with the same key
/// got there first.
pub fn insert(conn: &mut DbConnection, stored: &StoredResponse) -> Result<bool, AppError> {
    use diesel::result::{DatabaseErrorKind, Error};
    match diesel::insert_into(idempotency_keys::table)
        .values(stored)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// Forgets every stored response created before `cutoff`; how many.
pub fn forget_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<usize, AppError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
            .execute(conn)?,
    )
}
