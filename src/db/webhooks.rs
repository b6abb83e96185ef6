//! Webhook endpoints and their deliveries: one delivery per (event,
//! endpoint), claimed under a lease like the mail outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::columns::Id;
use super::schema::{webhook_deliveries, webhooks};
use super::{write_transaction, DbConnection};
use crate::domain::delivery::DeliveryState;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhooks, treat_none_as_null = true)]
pub struct Webhook {
    pub id: Id,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event type names.
    pub event_types: String,
    /// The signing secret, sealed (`domain::webhook::SecretSealer`); a
    /// value from before sealing is the secret in clear.
    pub secret: String,
    pub active: bool,
    pub version: i64,
    pub created_by: Id,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: Id,
    pub webhook_id: Id,
    /// The `webhook-id` receivers drop duplicates by: the same for every
    /// attempt of this delivery.
    pub event_id: Id,
    pub event_type: String,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, hook: &Webhook) -> Result<(), AppError> {
    diesel::insert_into(webhooks::table)
        .values(hook)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: Id) -> Result<Option<Webhook>, AppError> {
    Ok(webhooks::table
        .find(id)
        .select(Webhook::as_select())
        .first(conn)
        .optional()?)
}

/// The endpoints with these ids.
pub fn by_ids(conn: &mut DbConnection, ids: &[Id]) -> Result<Vec<Webhook>, AppError> {
    Ok(webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select(Webhook::as_select())
        .load(conn)?)
}

/// Writes a changed endpoint if it is still at `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    hook: &Webhook,
    expected_version: i64,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        webhooks::table
            .find(hook.id)
            .filter(webhooks::version.eq(expected_version)),
    )
    .set(hook)
    .execute(conn)?;
    Ok(changed == 1)
}

/// Newest first.
pub fn list(
    conn: &mut DbConnection,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<Webhook>, AppError> {
    let mut query = webhooks::table
        .select(Webhook::as_select())
        .order(webhooks::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhooks::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// The endpoints whose secret is still kept in clear (from before secrets
/// were sealed): `(id, secret)`.
pub fn clear_secrets(
    conn: &mut DbConnection,
    sealed_prefix: &str,
) -> Result<Vec<(Id, String)>, AppError> {
    Ok(webhooks::table
        .filter(webhooks::secret.not_like(format!("{sealed_prefix}%")))
        .select((webhooks::id, webhooks::secret))
        .load(conn)?)
}

/// Replaces an endpoint's stored secret if it still is `expected`; the
/// endpoint's version stays (the secret is the same, only kept otherwise).
pub fn replace_secret(
    conn: &mut DbConnection,
    id: Id,
    expected: &str,
    stored: &str,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::secret.eq(expected)),
    )
    .set(webhooks::secret.eq(stored))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn active(conn: &mut DbConnection) -> Result<Vec<Webhook>, AppError> {
    Ok(webhooks::table
        .filter(webhooks::active.eq(true))
        .select(Webhook::as_select())
        .load(conn)?)
}

pub fn insert_delivery(conn: &mut DbConnection, delivery: &Delivery) -> Result<(), AppError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(delivery)
        .execute(conn)?;
    Ok(())
}

/// An endpoint's deliveries, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: Id,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<Delivery>, AppError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Claims up to `limit` due deliveries not leased by a live worker.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Delivery>, AppError> {
    write_transaction(conn, |conn| {
        let due = webhook_deliveries::table
            .filter(webhook_deliveries::state.eq_any(DeliveryState::waiting()))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .filter(
                webhook_deliveries::lease_until
                    .is_null()
                    .or(webhook_deliveries::lease_until.lt(now)),
            )
            .order(webhook_deliveries::next_attempt_at.asc())
            .limit(limit)
            .select(webhook_deliveries::id);
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set((
                webhook_deliveries::lease_owner.eq(worker),
                webhook_deliveries::lease_until.eq(lease_until),
            ))
            .execute(conn)?;
        Ok(webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&ids))
            .select(Delivery::as_select())
            .order(webhook_deliveries::next_attempt_at.asc())
            .load(conn)?)
    })
}

/// How one attempt ended: the state it leaves, the answer's status, the
/// error, and when to try again.
pub struct Attempt {
    pub state: DeliveryState,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub retry_at: NaiveDateTime,
}

/// Records an attempt if `worker` still holds the lease.
pub fn record_attempt(
    conn: &mut DbConnection,
    id: Id,
    worker: &str,
    attempt: &Attempt,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::lease_owner.eq(worker)),
    )
    .set((
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::lease_owner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::state.eq(attempt.state),
        webhook_deliveries::last_status.eq(attempt.status),
        webhook_deliveries::last_error.eq(attempt.error.as_deref()),
        webhook_deliveries::next_attempt_at.eq(attempt.retry_at),
        webhook_deliveries::delivered_at.eq((attempt.state == DeliveryState::Sent).then_some(now)),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Gives back every lease `worker` holds (at shutdown).
pub fn release_leases(conn: &mut DbConnection, worker: &str) -> Result<usize, AppError> {
    Ok(
        diesel::update(
            webhook_deliveries::table.filter(webhook_deliveries::lease_owner.eq(worker)),
        )
        .set((
            webhook_deliveries::lease_owner.eq(None::<String>),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?,
    )
}
