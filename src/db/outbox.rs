//! The mail outbox: enqueueing once per dedup key, claiming with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), and
//! recording each delivery attempt's outcome.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::columns::Id;
use super::schema::outbox;
use super::{write_transaction, DbConnection};
use crate::domain::delivery::DeliveryState;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: Id,
    pub dedup_key: String,
    pub hazard_id: Option<Id>,
    pub rule: String,
    pub deadline: Option<NaiveDate>,
    /// JSON array of addresses.
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Adds a message unless one with its dedup key exists; `true` if added.
pub fn enqueue(conn: &mut DbConnection, message: &OutboxMessage) -> Result<bool, AppError> {
    let insert = diesel::insert_into(outbox::table)
        .values(message)
        .on_conflict_do_nothing();
    let added = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(added == 1)
}

/// Cancels what is still waiting for a hazard (all of it, or only the
/// time-based messages of deadlines other than `keep_deadline`).
pub fn cancel_pending(
    conn: &mut DbConnection,
    hazard_id: Id,
    keep_deadline: Option<NaiveDate>,
    reason: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let waiting = outbox::table
        .filter(outbox::hazard_id.eq(hazard_id))
        .filter(outbox::state.eq_any(DeliveryState::waiting()));
    let changes = (
        outbox::state.eq(DeliveryState::Cancelled),
        outbox::last_error.eq(reason),
        outbox::lease_owner.eq(None::<String>),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(now),
    );
    let cancelled = match keep_deadline {
        None => diesel::update(waiting).set(changes).execute(conn)?,
        Some(deadline) => diesel::update(
            waiting
                .filter(outbox::deadline.is_not_null())
                .filter(outbox::deadline.ne(deadline)),
        )
        .set(changes)
        .execute(conn)?,
    };
    Ok(cancelled)
}

/// Claims up to `limit` messages that are due and not leased by a live
/// worker, leasing them to `worker` until `lease_until`.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxMessage>, AppError> {
    write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::state.eq_any(DeliveryState::waiting()))
            .filter(outbox::next_attempt_at.le(now))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            )
            .order(outbox::next_attempt_at.asc())
            .limit(limit)
            .select(outbox::id);
        let ids: Vec<String> = match conn {
            // Rows another instance is claiming right now are skipped, not
            // waited for: each row goes to exactly one claimer.
            DbConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
            // SQLite has one writer: the immediate transaction is the lock.
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::lease_owner.eq(worker),
                outbox::lease_until.eq(lease_until),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .select(OutboxMessage::as_select())
            .order(outbox::next_attempt_at.asc())
            .load(conn)?)
    })
}

/// How one delivery attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Sent,
    /// Try again at `retry_at`.
    Failed {
        error: String,
        retry_at: NaiveDateTime,
    },
    /// Give up.
    Dead {
        error: String,
    },
}

/// Records an attempt, if `worker` still holds the lease (a worker whose
/// lease ran out must not overwrite what the next one did).
pub fn record_attempt(
    conn: &mut DbConnection,
    id: Id,
    worker: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let mine = outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::lease_owner.eq(worker));
    let release = (
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::lease_owner.eq(None::<String>),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::updated_at.eq(now),
    );
    let updated = match outcome {
        Outcome::Sent => diesel::update(mine)
            .set((
                release,
                outbox::state.eq(DeliveryState::Sent),
                outbox::sent_at.eq(now),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Outcome::Failed { error, retry_at } => diesel::update(mine)
            .set((
                release,
                outbox::state.eq(DeliveryState::Failed),
                outbox::last_error.eq(error),
                outbox::next_attempt_at.eq(retry_at),
            ))
            .execute(conn)?,
        Outcome::Dead { error } => diesel::update(mine)
            .set((
                release,
                outbox::state.eq(DeliveryState::Dead),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(updated == 1)
}

/// Gives back every lease `worker` holds (at shutdown).
pub fn release_leases(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(
        diesel::update(outbox::table.filter(outbox::lease_owner.eq(worker)))
            .set((
                outbox::lease_owner.eq(None::<String>),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?,
    )
}

/// Which of `keys` are taken already (so the scanner skips them).
pub fn existing_keys(conn: &mut DbConnection, keys: &[String]) -> Result<Vec<String>, AppError> {
    Ok(outbox::table
        .filter(outbox::dedup_key.eq_any(keys))
        .select(outbox::dedup_key)
        .load(conn)?)
}

/// What waits in the outbox, for `/metrics`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OutboxBacklog {
    pub pending: i64,
    pub failed: i64,
    pub dead: i64,
    /// Seconds since the oldest message still to be sent (pending or
    /// failed) was enqueued; 0 when none waits. Failed ones count: when the
    /// mail server is down every message is failed, and that is exactly
    /// when this age must grow.
    pub oldest_waiting_age_secs: f64,
}

/// Counts per state and the oldest waiting message: two queries on the
/// `(state, next_attempt_at)` index.
pub fn backlog(conn: &mut DbConnection, now: NaiveDateTime) -> Result<OutboxBacklog, AppError> {
    use diesel::dsl::{count_star, min};
    let counts: Vec<(DeliveryState, i64)> = outbox::table
        .filter(outbox::state.eq_any([
            DeliveryState::Pending,
            DeliveryState::Failed,
            DeliveryState::Dead,
        ]))
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .load(conn)?;
    let oldest: Option<NaiveDateTime> = outbox::table
        .filter(outbox::state.eq_any(DeliveryState::waiting()))
        .select(min(outbox::created_at))
        .first(conn)?;
    let mut backlog = OutboxBacklog {
        oldest_waiting_age_secs: oldest
            .map(|t| ((now - t).num_milliseconds().max(0) as f64) / 1000.0)
            .unwrap_or(0.0),
        ..OutboxBacklog::default()
    };
    for (state, count) in counts {
        match state {
            DeliveryState::Pending => backlog.pending = count,
            DeliveryState::Failed => backlog.failed = count,
            DeliveryState::Dead => backlog.dead = count,
            DeliveryState::Sent | DeliveryState::Cancelled => {}
        }
    }
    Ok(backlog)
}

#[derive(Debug, Default, Clone)]
pub struct OutboxFilter {
    pub state: Option<DeliveryState>,
    pub hazard_id: Option<Id>,
}

/// Newest first: ids are time-ordered.
pub fn list(
    conn: &mut DbConnection,
    filter: &OutboxFilter,
    before: Option<Id>,
    limit: i64,
) -> Result<Vec<OutboxMessage>, AppError> {
    let mut query = outbox::table
        .select(OutboxMessage::as_select())
        .order(outbox::id.desc())
        .into_boxed();
    if let Some(state) = &filter.state {
        query = query.filter(outbox::state.eq(*state));
    }
    if let Some(hazard_id) = &filter.hazard_id {
        query = query.filter(outbox::hazard_id.eq(hazard_id));
    }
    if let Some(before) = before {
        query = query.filter(outbox::id.lt(before));
    }
    Ok(query.limit(limit).load(conn)?)
}
