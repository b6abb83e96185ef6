//! Storage: the one connection type that speaks SQLite or PostgreSQL, the
//! pool, embedded migrations, and the helpers every query goes through
//! (`Db::run` off the async workers, `write_transaction` for changes).
//! Backend-specific SQL is confined to a few `match` blocks in this folder.

pub mod analytics;
pub mod attachments;
pub mod bulk;
pub mod calendar;
pub mod change_feed;
pub mod changes;
pub mod checklists;
pub mod columns;
pub mod display_keys;
pub mod enterprises;
pub mod exchange;
pub mod filings;
pub mod grading;
pub mod hazards;
pub mod idempotency;
pub mod imports;
pub mod inspections;
pub mod major_sources;
pub mod outbox;
pub mod record_photos;
pub mod regulation;
pub mod risk;
pub mod schema;
pub mod stats;
pub mod tallies;
pub mod users;
pub mod webhooks;
pub mod wire_time;

pub use columns::Id;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::AppError;
use crate::settings::DatabaseSettings;
pub use crate::settings::DatabaseUrl;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgresql");

/// Runs `$body` with `$inner` bound to the backend's own connection
/// (`PgConnection` or `SqliteConnection`), for the hot reads. Through the
/// multi-backend connection diesel serialises a query's SQL anew on every
/// run, even when its prepared statement is cached; on the backend's own
/// connection a query of static shape is looked up by its type. The
/// query is written once and compiled for each backend.
macro_rules! on_backend {
    ($conn:expr, |$inner:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($inner) => $body,
            $crate::db::DbConnection::Sqlite($inner) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Opens connections for the pool, with the per-backend session settings.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_wal: bool,
    sqlite_busy_timeout_ms: u32,
    connect_timeout_secs: u64,
}

impl ConnectionManager {
    fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                let journal = if self.sqlite_wal { "WAL" } else { "DELETE" };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = {journal}; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.sqlite_busy_timeout_ms
                ))
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let url = with_connect_timeout(url, self.connect_timeout_secs);
                let mut conn = diesel::PgConnection::establish(&url)?;
                // No JIT: the service's queries are short, and compiling one
                // whose estimate looks large (as after a bulk load, before
                // statistics catch up) took 10–60 ms where running it took
                // a tenth of a millisecond.
                conn.batch_execute("SET TIME ZONE 'UTC'; SET jit = off")
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Postgresql(conn))
            }
        }
    }
}

/// libpq waits forever for an unreachable server unless told otherwise.
fn with_connect_timeout(url: &str, secs: u64) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", secs.max(1))
}

/// How long after a connection last did a request's work without an
/// error it is handed out again without a `SELECT 1` first (HikariCP's
/// bypass window; PgBouncer's `server_check_delay` is 30 s).
pub const TRUSTED_AFTER_WORK: Duration = Duration::from_millis(500);

/// A connection in the pool, and when it last did a request's work
/// without an error ([`Db::run`] records it).
pub struct PooledConn {
    conn: DbConnection,
    worked_at: Option<Instant>,
}

/// A connection checked out of the pool; it goes back when dropped.
pub struct Conn(diesel::r2d2::PooledConnection<ConnectionManager>);

impl std::ops::Deref for Conn {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0.conn
    }
}

impl diesel::r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PooledConn, Self::Error> {
        self.establish()
            .map(|conn| PooledConn {
                conn,
                worked_at: None,
            })
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    /// A PostgreSQL connection cut while idle in the pool (a server
    /// restart, a failover) is only found out by using it, so one is
    /// checked out with a `SELECT 1`, one round trip: a third of the time
    /// of reading one hazard. One that did a request's work without an
    /// error within [`TRUSTED_AFTER_WORK`] is handed out as it is. One cut
    /// in that window fails the next request made on it (`503`, retry;
    /// nothing is written, as the first statement fails), and is checked
    /// from then on, as a failed use clears its record.
    fn is_valid(&self, conn: &mut PooledConn) -> Result<(), Self::Error> {
        if conn
            .worked_at
            .is_some_and(|at| at.elapsed() < TRUSTED_AFTER_WORK)
        {
            return Ok(());
        }
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PooledConn) -> bool {
        use diesel::connection::TransactionManagerStatus;
        let conn = &mut conn.conn;
        match <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        {
            TransactionManagerStatus::InError => true,
            TransactionManagerStatus::Valid(_) => in_transaction(conn),
        }
    }
}

pub type Pool = diesel::r2d2::Pool<ConnectionManager>;

/// The pool's occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// The application's handle on the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: DatabaseUrl,
    manager: ConnectionManager,
    /// Moves after every [`Db::write`], for the read cache: this
    /// application's own changes invalidate it at once.
    commits: Arc<AtomicU64>,
}

/// Creates the SQLite file readable by this account alone (0600), or makes
/// an existing one so; SQLite gives its journal, WAL and shared-memory
/// files the database file's permissions.
fn private_file(path: &std::path::Path) -> anyhow::Result<()> {
    if path.as_os_str() == ":memory:" || path.to_string_lossy().starts_with("file:") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", path.display()))?;
    }
    Ok(())
}

impl Db {
    /// Builds the pool. Connections are opened lazily, so a database that is
    /// down at start shows up in `/readyz`, not as a crash loop.
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        let url = DatabaseUrl::parse(&settings.url)?;
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating the folder {}", parent.display()))?;
            }
            private_file(path)?;
        }
        let manager = ConnectionManager {
            url: url.clone(),
            sqlite_wal: settings.sqlite_wal,
            sqlite_busy_timeout_ms: settings.sqlite_busy_timeout_ms,
            connect_timeout_secs: settings.connect_timeout_secs,
        };
        let pool = diesel::r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_secs.max(1)))
            .idle_timeout(Some(Duration::from_secs(settings.idle_timeout_secs.max(1))))
            // See `ConnectionManager::is_valid`. A SQLite file cannot go
            // away under its connection.
            .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
            .build_unchecked(manager.clone());
        Ok(Db {
            pool,
            url,
            manager,
            commits: Arc::default(),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// How many connections the pool holds and how many of them are idle.
    pub fn pool_status(&self) -> PoolStatus {
        let state = self.pool.state();
        PoolStatus {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.pool.max_size(),
        }
    }

    /// How many [`Db::write`]s have finished; only grows.
    pub fn commit_counter(&self) -> Arc<AtomicU64> {
        self.commits.clone()
    }

    /// Opens a connection of its own, outside the pool, for a long-lived
    /// task (the read cache's watcher).
    pub fn open_dedicated(&self) -> Result<DbConnection, diesel::ConnectionError> {
        self.manager.establish()
    }

    /// Takes a connection, blocking the calling thread. For the command line
    /// and start-up; request handlers use [`Db::run`].
    pub fn get(&self) -> Result<Conn, AppError> {
        self.pool.get().map(Conn).map_err(|e| {
            tracing::warn!(error = %e, "no database connection available");
            AppError::Unavailable
        })
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so no
    /// diesel call ever stalls an async worker. For reads: work that may
    /// change data goes through [`Db::write`].
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let mut conn = db.get()?;
            let outcome = f(&mut conn);
            conn.0.worked_at = outcome.is_ok().then(Instant::now);
            outcome
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// [`Db::run`] for a read whose cost an index bounds (a row by its key,
    /// a keyset page on an index). On SQLite, with a connection idle in the
    /// pool, it runs on the calling worker: the read is shorter than the
    /// hand-off to the blocking pool and back (one hazard 113 → 79 µs of
    /// CPU, medians). When every connection is busy it is [`Db::run`], so
    /// a worker never waits for a connection.
    ///
    /// PostgreSQL reads always go to the blocking pool: there the read waits
    /// on the server's socket, and a worker that waits answers nobody else
    /// (a page of 50 at 8 connections fell from 1,524–1,904 to 895 per
    /// second). So do SQLite reads without WAL, which may wait out a
    /// writer's lock.
    pub async fn read_bounded<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let idle = match self.url {
            DatabaseUrl::Sqlite(_) if self.manager.sqlite_wal => self.pool.try_get(),
            _ => None,
        };
        match idle {
            Some(conn) => {
                let mut conn = Conn(conn);
                // As on the blocking pool, a panic fails this request only,
                // not the worker and every connection it serves.
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut conn)))
                    .unwrap_or_else(|_| {
                        Err(AppError::Internal(anyhow::anyhow!(
                            "a database read panicked"
                        )))
                    });
                conn.0.worked_at = outcome.is_ok().then(Instant::now);
                outcome
            }
            None => self.run(f).await,
        }
    }

    /// [`Db::run`] for work that may change data (in transactions of its
    /// own, see [`write_transaction`]). Once it is done the commit counter
    /// moves, whatever the outcome, so the read cache answers this
    /// application's next read from the database and a client always reads
    /// its own writes.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let commits = self.commits.clone();
        let outcome = self.run(f).await;
        commits.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    /// Applies every pending migration of the backend in use.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.get().map_err(|_| {
            anyhow::anyhow!("cannot reach the {} database", self.url.backend_name())
        })?;
        run_migrations(&mut conn)
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Runs `f` in a transaction that takes the write lock up front. On SQLite a
/// deferred transaction that reads and then writes can fail with "database
/// is locked" without waiting; `BEGIN IMMEDIATE` queues behind the
/// `busy_timeout` instead.
pub fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    in_new_transaction(conn, "BEGIN IMMEDIATE", "BEGIN", f)
}

/// Runs `f`, which only reads, against one snapshot of the database: every
/// query sees the same moment (PostgreSQL `REPEATABLE READ READ ONLY`; on
/// SQLite a deferred transaction, which in WAL mode does not hold up
/// writers).
pub fn snapshot_transaction<T, F>(conn: &mut DbConnection, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    in_new_transaction(
        conn,
        "BEGIN DEFERRED",
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        f,
    )
}

/// Runs `f` in a transaction begun by the backend's statement, committed
/// when `f` succeeds and rolled back when it fails; inside a transaction
/// already, `f` joins it.
fn in_new_transaction<T, F>(
    conn: &mut DbConnection,
    begin_sqlite: &str,
    begin_postgres: &str,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    // Called inside a transaction already: join it.
    if in_transaction(conn) {
        return f(conn);
    }
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, begin_sqlite)?,
        DbConnection::Postgresql(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, begin_postgres)?
        }
    }
    match f(conn) {
        Ok(value) => {
            if let Err(e) =
                <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
            {
                // diesel leaves the transaction open when COMMIT itself fails.
                let _ =
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback_error) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::error!(error = %rollback_error, "rollback failed");
            }
            Err(error)
        }
    }
}

pub(crate) fn in_transaction(conn: &mut DbConnection) -> bool {
    use diesel::connection::TransactionManagerStatus;
    match <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn) {
        TransactionManagerStatus::Valid(status) => status.transaction_depth().is_some(),
        TransactionManagerStatus::InError => false,
    }
}

/// True when the database answers a trivial query.
pub fn ping(conn: &mut DbConnection) -> Result<(), AppError> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Portable SQL pieces.
pub mod sql {
    use diesel::backend::Backend;
    use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
    use diesel::{QueryResult, RunQueryDsl};

    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

    /// A query (without a limit of its own) whose `LIMIT` is written into
    /// its text as a number, not bound as a parameter. PostgreSQL plans a
    /// prepared statement with a bound `LIMIT` afresh on every run, because
    /// the generic plan, made for any limit, looks dearer than each custom
    /// one; with the number in the text the generic plan is reused, which
    /// is right only where the plan does not depend on the values bound (a
    /// keyset page an index bounds). Each limit is a statement of its own
    /// in the connection's statement cache, so keep the limits few.
    #[derive(Debug, Clone, Copy)]
    pub struct LiteralLimit<Q> {
        query: Q,
        limit: u32,
    }

    impl<Q> LiteralLimit<Q> {
        /// `query` limited to `limit` rows (a negative limit reads none).
        pub fn new(query: Q, limit: i64) -> Self {
            LiteralLimit {
                query,
                limit: u32::try_from(limit.max(0)).unwrap_or(u32::MAX),
            }
        }
    }

    impl<Q: Query> Query for LiteralLimit<Q> {
        type SqlType = Q::SqlType;
    }

    impl<Q, DB> QueryFragment<DB> for LiteralLimit<Q>
    where
        DB: Backend,
        Q: QueryFragment<DB>,
    {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            self.query.walk_ast(out.reborrow())?;
            out.push_sql(" LIMIT ");
            out.push_sql(&self.limit.to_string());
            Ok(())
        }
    }

    /// No static id: the statement cache keys it by its text, which holds
    /// the limit.
    impl<Q> QueryId for LiteralLimit<Q> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }

    impl<Q, Conn> RunQueryDsl<Conn> for LiteralLimit<Q> {}
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
pub fn like_pattern(needle: &str) -> String {
    let mut escaped = String::with_capacity(needle.len() + 2);
    escaped.push('%');
    for ch in needle.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    escaped
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn urls_pick_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.sqlite3").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.sqlite3"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/ht/x.sqlite3").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/ht/x.sqlite3"))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h:5432/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("data/x.sqlite3").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(
            with_connect_timeout("postgres://h/db", 3),
            "postgres://h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable", 3),
            "postgres://h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=9", 3),
            "postgres://h/db?connect_timeout=9"
        );
    }

    #[test]
    fn a_stored_id_that_is_no_uuid_is_an_error_not_nil() {
        use diesel::dsl::sql;
        use diesel::sql_types::Text;
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let id = uuid::Uuid::now_v7();
        let read: Id = diesel::select(sql::<Text>(&format!("'{id}'")))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(read, id);
        assert_eq!(read.as_str(), id.to_string());
        for corrupt in ["''", "'hz-1'"] {
            let read = diesel::select(sql::<Text>(corrupt)).get_result::<Id>(&mut conn);
            assert!(read.is_err(), "{corrupt} was read as an id");
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
