//! Wall screens' display keys: issuing one (the key shown once, only its
//! SHA-256 kept), listing and revoking them, and confirming a key sent as
//! a bearer token into a caller of the `display` role, whose only
//! capabilities are the dashboard's aggregate figures.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::display_keys::{self as store, DisplayKey};
use crate::db::{Db, DbConnection, Id};
use crate::domain::access::{Caller, Role};
use crate::domain::text::{required_text, MAX_LINE};
use crate::error::AppError;
use crate::messages::Rule;

/// Every display key starts so, which tells it from a signed token.
pub const KEY_PREFIX: &str = "htdk_";

/// The longest a key may live.
pub const MAX_LIFETIME_DAYS: i64 = 731;

/// How long a confirmed key is trusted before the database is asked again:
/// a revoked key stops working on every instance within this.
const KEY_RECHECK: Duration = Duration::from_secs(10);

/// A key as asked for.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDisplayKey {
    /// Where the screen hangs (`中控室大屏`).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// After now, and at most two years ahead.
    pub expires_at: DateTime<Utc>,
}

/// Whether a bearer token is a display key rather than a signed token.
pub fn is_display_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

fn sha256_hex(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    crate::domain::hex::hex(&digest)
}

/// Issues a key: the row kept, and the key itself, which is never stored.
pub fn issue(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &CreateDisplayKey,
    now: NaiveDateTime,
) -> Result<(DisplayKey, String), AppError> {
    let name = required_text("name", &request.name, MAX_LINE)?;
    let expires_at = request.expires_at.naive_utc();
    if expires_at <= now {
        return Err(AppError::invalid("expires_at", Rule::NotFuture));
    }
    if expires_at > now + chrono::Duration::days(MAX_LIFETIME_DAYS) {
        return Err(AppError::invalid("expires_at", Rule::ExpiresTooFar));
    }
    let secret = format!(
        "{KEY_PREFIX}{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    );
    let row = DisplayKey {
        id: Uuid::now_v7().into(),
        name,
        key_sha256: sha256_hex(&secret),
        key_prefix: secret.chars().take(KEY_PREFIX.len() + 6).collect(),
        expires_at,
        created_by: caller.user_id.into(),
        created_at: now,
        revoked_at: None,
    };
    store::insert(conn, &row)?;
    Ok((row, secret))
}

/// Revokes a key (`404` if there is none, or it is revoked already).
pub fn revoke(
    conn: &mut DbConnection,
    id: Uuid,
    now: NaiveDateTime,
) -> Result<DisplayKey, AppError> {
    if !store::revoke(conn, id.into(), now)? {
        return Err(AppError::NotFound("display key"));
    }
    store::find(conn, id.into())?.ok_or(AppError::NotFound("display key"))
}

/// Confirms display keys, remembering answers briefly so a screen polling
/// every few seconds does not cost a query per request.
#[derive(Default)]
pub struct DisplayKeyCheck {
    confirmed: Mutex<HashMap<String, (Instant, DisplayKey)>>,
}

impl DisplayKeyCheck {
    /// The caller a key stands for, if it is known, unrevoked and unexpired.
    pub async fn confirm(&self, db: &Db, key: &str) -> Result<Caller, AppError> {
        let hash = sha256_hex(key);
        if let Some(answer) = self.remembered_by_hash(&hash) {
            return answer;
        }
        let lookup = hash.clone();
        let row = db.run(move |conn| store::by_hash(conn, &lookup)).await?;
        if let (Some(row), Ok(mut map)) = (&row, self.confirmed.lock()) {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (Instant::now(), row.clone()));
        }
        judge(row)
    }

    /// [`DisplayKeyCheck::confirm`]'s answer if the key was looked up
    /// within [`KEY_RECHECK`], without waiting; `None` when the database
    /// must be asked.
    pub fn remembered(&self, key: &str) -> Option<Result<Caller, AppError>> {
        self.remembered_by_hash(&sha256_hex(key))
    }

    fn remembered_by_hash(&self, hash: &str) -> Option<Result<Caller, AppError>> {
        let (at, row) = self.confirmed.lock().ok()?.get(hash).cloned()?;
        (at.elapsed() < KEY_RECHECK).then(|| judge(Some(row)))
    }

    /// Forgets every remembered answer about key `id` (after revoking it).
    pub fn forget(&self, id: Id) {
        if let Ok(mut map) = self.confirmed.lock() {
            map.retain(|_, (_, row)| row.id != id);
        }
    }
}

/// The caller a key's row stands for, now (`None`: no such key).
fn judge(row: Option<DisplayKey>) -> Result<Caller, AppError> {
    let now = crate::clock::now_utc();
    match row {
        Some(row) if row.revoked_at.is_none() && row.expires_at > now => Ok(Caller {
            user_id: row.id.uuid(),
            role: Role::Display,
            enterprise_id: None,
        }),
        Some(row) if row.revoked_at.is_some() => {
            Err(AppError::Unauthorized("this display key was revoked"))
        }
        Some(_) => Err(AppError::Unauthorized("this display key has expired")),
        None => Err(AppError::Unauthorized("no such display key")),
    }
}
