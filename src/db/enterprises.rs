//! Enterprises of the park.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::enterprises;
use super::DbConnection;
use crate::domain::enterprise::EnterpriseStatus;
use crate::error::AppError;
use crate::messages::Detail;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = enterprises)]
pub struct Enterprise {
    pub id: Id,
    pub name: String,
    pub credit_code: String,
    pub status: EnterpriseStatus,
    /// JSON array of addresses.
    pub contact_emails: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = enterprises)]
pub struct NewEnterprise<'a> {
    pub id: Id,
    pub name: &'a str,
    pub credit_code: &'a str,
    pub status: EnterpriseStatus,
    pub contact_emails: &'a str,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = enterprises)]
pub struct EnterpriseChanges {
    pub name: Option<String>,
    pub credit_code: Option<String>,
    pub status: Option<EnterpriseStatus>,
    pub contact_emails: Option<String>,
}

fn unique_credit_code(error: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict(Detail::CreditCodeTaken)
        }
        other => other.into(),
    }
}

pub fn insert(conn: &mut DbConnection, enterprise: &NewEnterprise) -> Result<(), AppError> {
    diesel::insert_into(enterprises::table)
        .values(enterprise)
        .execute(conn)
        .map_err(unique_credit_code)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<Enterprise>, AppError> {
    Ok(enterprises::table
        .find(id)
        .select(Enterprise::as_select())
        .first(conn)
        .optional()?)
}

pub fn exists(conn: &mut DbConnection, id: Id) -> Result<bool, AppError> {
    Ok(diesel::select(diesel::dsl::exists(enterprises::table.find(id))).get_result(conn)?)
}

pub struct EnterpriseFilter {
    /// Confines the list to one enterprise (an enterprise contact's own).
    pub only: Option<Id>,
    pub status: Option<EnterpriseStatus>,
    /// Confines the list to these ids (a grade filter, worked out first).
    pub among: Option<Vec<Id>>,
}

pub fn list(
    conn: &mut DbConnection,
    filter: &EnterpriseFilter,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Enterprise>, AppError> {
    let mut query = enterprises::table
        .select(Enterprise::as_select())
        .order(enterprises::id.asc())
        .into_boxed();
    if let Some(only) = &filter.only {
        query = query.filter(enterprises::id.eq(only));
    }
    if let Some(status) = &filter.status {
        query = query.filter(enterprises::status.eq(*status));
    }
    if let Some(ids) = &filter.among {
        query = query.filter(enterprises::id.eq_any(ids.clone()));
    }
    if let Some(after) = after {
        query = query.filter(enterprises::id.gt(after));
    }
    Ok(query.limit(limit).load(conn)?)
}

pub fn update(
    conn: &mut DbConnection,
    id: Id,
    expected_version: i64,
    changes: &EnterpriseChanges,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let updated = diesel::update(
        enterprises::table
            .filter(enterprises::id.eq(id))
            .filter(enterprises::version.eq(expected_version)),
    )
    .set((
        changes,
        enterprises::version.eq(expected_version + 1),
        enterprises::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(unique_credit_code)?;
    Ok(updated == 1)
}

/// Ids of the enterprises registered on or before `day`.
pub fn registered_by(conn: &mut DbConnection, day: chrono::NaiveDate) -> Result<Vec<Id>, AppError> {
    let end = day
        .succ_opt()
        .unwrap_or(day)
        .and_time(chrono::NaiveTime::MIN);
    Ok(enterprises::table
        .filter(enterprises::created_at.lt(end))
        .select(enterprises::id)
        .load(conn)?)
}

/// Every enterprise, closed ones too.
pub fn all(conn: &mut DbConnection) -> Result<Vec<Enterprise>, AppError> {
    Ok(enterprises::table
        .select(Enterprise::as_select())
        .order(enterprises::id.asc())
        .load(conn)?)
}

/// Every enterprise that is not closed, by name.
pub fn all_active(conn: &mut DbConnection) -> Result<Vec<Enterprise>, AppError> {
    Ok(enterprises::table
        .filter(enterprises::status.ne(EnterpriseStatus::Closed))
        .select(Enterprise::as_select())
        .order(enterprises::name.asc())
        .load(conn)?)
}

/// An enterprise's name and its listed contact addresses (a JSON array).
pub fn name_and_contacts(conn: &mut DbConnection, id: Id) -> Result<(String, String), AppError> {
    Ok(enterprises::table
        .find(id)
        .select((enterprises::name, enterprises::contact_emails))
        .first(conn)?)
}
