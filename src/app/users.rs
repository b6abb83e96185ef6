//! User accounts: creating them (from the API and the command line alike)
//! and changing them, each in one transaction, with the rule that an
//! enterprise contact belongs to exactly one registered enterprise and no
//! other role belongs to any.

use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::app::auth::{check_password_strength, hash_password};
use crate::db::users::{self, NewUser, User, UserChanges};
use crate::db::Id;
use crate::db::{enterprises, write_transaction, DbConnection};
use crate::domain::access::{Caller, Role};
use crate::domain::email::Email;
use crate::domain::version::{check_version, ExpectedVersion};
use crate::error::AppError;
use crate::messages::{Detail, Rule};

/// A checked request for a new account; the password is already hashed.
pub struct NewAccount {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub enterprise_id: Option<Uuid>,
    pub password_hash: String,
}

/// What an admin may change on an account; absent fields stay.
pub struct AccountChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub enterprise_id: Option<Uuid>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
}

/// Checks a new password's strength and hashes it (argon2id, deliberately
/// slow, so off the async workers).
pub async fn hash_new_password(password: SecretString) -> Result<String, AppError> {
    check_password_strength(password.expose_secret())?;
    actix_web::web::block(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))?
}

/// Checks that the role and enterprise fit together and that the
/// enterprise exists; gives the enterprise to store.
fn enterprise_for_role(
    conn: &mut DbConnection,
    role: Role,
    enterprise_id: Option<Uuid>,
) -> Result<Option<Id>, AppError> {
    match (role, enterprise_id) {
        (Role::Display, _) => Err(AppError::invalid("role", Rule::RoleNotForUsers)),
        (Role::Enterprise, None) => Err(AppError::invalid(
            "enterprise_id",
            Rule::RequiredForEnterpriseRole,
        )),
        (Role::Enterprise, Some(id)) => {
            if !enterprises::exists(conn, id.into())? {
                return Err(AppError::invalid("enterprise_id", Rule::UnknownEnterprise));
            }
            Ok(Some(id.into()))
        }
        (_, Some(_)) => Err(AppError::invalid(
            "enterprise_id",
            Rule::OnlyForEnterpriseRole,
        )),
        (_, None) => Ok(None),
    }
}

/// Creates an active account.
pub fn create_user(
    conn: &mut DbConnection,
    account: NewAccount,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    write_transaction(conn, |conn| {
        let enterprise_id = enterprise_for_role(conn, account.role, account.enterprise_id)?;
        let id = Id::from(Uuid::now_v7());
        users::insert(
            conn,
            &NewUser {
                id,
                email: account.email.as_str(),
                name: &account.name,
                role: account.role,
                enterprise_id,
                password_hash: &account.password_hash,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        users::find(conn, id)?.ok_or(AppError::NotFound("user"))
    })
}

/// Changes an account (`412` on a stale `if_match`). Changing only other
/// fields keeps the enterprise of an enterprise contact.
pub fn update_user(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    if_match: Option<ExpectedVersion>,
    change: AccountChanges,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    // The last admin must not lock everyone out by accident.
    if caller.user_id == id
        && (change.active == Some(false) || change.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(AppError::conflict(Detail::OwnAccount));
    }
    let id = Id::from(id);
    write_transaction(conn, |conn| {
        let current = users::find(conn, id)?.ok_or(AppError::NotFound("user"))?;
        check_version(if_match.as_ref(), current.version)?;
        let new_role = change.role.unwrap_or(current.role);
        let requested_enterprise = change.enterprise_id.or_else(|| {
            (change.role.is_none() || new_role == current.role)
                .then_some(current.enterprise_id.map(Id::uuid))
                .flatten()
        });
        let enterprise = enterprise_for_role(conn, new_role, requested_enterprise)?;
        // A new password, a disabled account, or another role or enterprise
        // ends every token issued so far: re-promoting a demoted account
        // does not revive the tokens it had.
        let ends_tokens = change.password_hash.is_some()
            || change.active == Some(false)
            || new_role != current.role
            || enterprise != current.enterprise_id;
        let changes = UserChanges {
            name: change.name,
            role: change.role,
            enterprise_id: Some(enterprise),
            password_hash: change.password_hash,
            active: change.active,
            tokens_valid_after: ends_tokens.then_some(now),
            token_version: ends_tokens.then_some(current.token_version + 1),
        };
        if !users::update(conn, id, current.version, &changes, now)? {
            return Err(AppError::conflict(Detail::UserChanged));
        }
        users::find(conn, id)?.ok_or(AppError::NotFound("user"))
    })
}

/// Signs an account out everywhere: every token issued before now stops
/// working, on every instance within the account-check interval.
pub fn revoke_tokens(
    conn: &mut DbConnection,
    id: Uuid,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let id = Id::from(id);
    write_transaction(conn, |conn| {
        let current = users::find(conn, id)?.ok_or(AppError::NotFound("user"))?;
        let changes = UserChanges {
            tokens_valid_after: Some(now),
            token_version: Some(current.token_version + 1),
            ..UserChanges::default()
        };
        if !users::update(conn, id, current.version, &changes, now)? {
            return Err(AppError::conflict(Detail::UserChangedRetry));
        }
        Ok(())
    })
}
