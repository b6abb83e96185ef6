//! What the read cache watches: whether the data changed since it last
//! looked, whoever changed it. On PostgreSQL a trigger on `hazards` sends
//! `NOTIFY` on [`CHANNEL`] (delivered only once the change is visible) and
//! a dedicated connection `LISTEN`s; on SQLite the file's
//! `PRAGMA data_version` moves with every commit of another connection.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::{Db, DbConnection};

/// The channel the PostgreSQL trigger on `hazards` notifies.
pub const CHANNEL: &str = "hazard_tracker_changes";

/// How often the PostgreSQL feed proves its connection with a query.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

/// A dedicated connection that reports changes.
pub struct ChangeFeed {
    conn: DbConnection,
    data_version: Option<i64>,
    confirmed_at: Option<Instant>,
}

impl ChangeFeed {
    /// Opens a connection of its own, outside the pool, and starts listening.
    pub fn open(db: &Db) -> anyhow::Result<ChangeFeed> {
        let mut conn = db.open_dedicated()?;
        if let DbConnection::Postgresql(pg) = &mut conn {
            diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(pg)?;
        }
        Ok(ChangeFeed {
            conn,
            data_version: None,
            confirmed_at: None,
        })
    }

    /// Whether anything changed since the last poll (never on the first);
    /// `Err` when the connection failed.
    pub fn poll(&mut self) -> anyhow::Result<bool> {
        match &mut self.conn {
            DbConnection::Postgresql(pg) => {
                if self.confirmed_at.is_none_or(|at| at.elapsed() >= HEARTBEAT) {
                    diesel::sql_query("SELECT 1").execute(pg)?;
                    self.confirmed_at = Some(Instant::now());
                }
                let mut any = false;
                for notification in pg.notifications_iter() {
                    notification?;
                    any = true;
                }
                Ok(any)
            }
            DbConnection::Sqlite(lite) => {
                let now = diesel::sql_query("PRAGMA data_version")
                    .get_result::<DataVersion>(lite)?
                    .data_version;
                let moved = self.data_version.is_some_and(|seen| seen != now);
                self.data_version = Some(now);
                self.confirmed_at = Some(Instant::now());
                Ok(moved)
            }
        }
    }

    /// When the connection was last proven alive.
    pub fn confirmed_at(&self) -> Option<Instant> {
        self.confirmed_at
    }
}
