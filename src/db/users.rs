//! Local user accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::users;
use super::DbConnection;
use crate::domain::access::Role;
use crate::error::AppError;
use crate::messages::Detail;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Id,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<Id>,
    pub password_hash: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When tokens were last ended (revocation, password change, disabling).
    pub tokens_valid_after: Option<NaiveDateTime>,
    /// Tokens issued under an earlier version no longer count.
    pub token_version: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Id,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub enterprise_id: Option<Id>,
    pub password_hash: &'a str,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub enterprise_id: Option<Option<Id>>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    pub tokens_valid_after: Option<NaiveDateTime>,
    pub token_version: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, user: &NewUser) -> Result<(), AppError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map_err(|e| unique_email(e, user.email))?;
    Ok(())
}

fn unique_email(error: diesel::result::Error, email: &str) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict(Detail::EmailTaken.with("email", email))
        }
        other => other.into(),
    }
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<User>, AppError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The names of these users.
pub fn names_of(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<(Id, String)>, AppError> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        rows.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .select((users::id, users::name))
                .load::<(Id, String)>(conn)?,
        );
    }
    Ok(rows)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, AppError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// One page of users in id order, after `after` if given.
pub fn list(conn: &mut DbConnection, after: Option<Id>, limit: i64) -> Result<Vec<User>, AppError> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    Ok(query.limit(limit).load(conn)?)
}

/// Applies `changes` when the row is still at `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    id: Id,
    expected_version: i64,
    changes: &UserChanges,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let updated = diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::version.eq(expected_version)),
    )
    .set((
        changes,
        users::version.eq(expected_version + 1),
        users::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The addresses of the active accounts with `role`.
pub fn active_emails_with_role(
    conn: &mut DbConnection,
    role: Role,
) -> Result<Vec<String>, AppError> {
    Ok(users::table
        .filter(users::role.eq(role))
        .filter(users::active.eq(true))
        .select(users::email)
        .load(conn)?)
}

/// The addresses of an enterprise's active contacts.
pub fn active_contact_emails(
    conn: &mut DbConnection,
    enterprise_id: Id,
) -> Result<Vec<String>, AppError> {
    Ok(users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .filter(users::role.eq(Role::Enterprise))
        .filter(users::active.eq(true))
        .select(users::email)
        .load(conn)?)
}
