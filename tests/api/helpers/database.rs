//! Test databases. Each PostgreSQL test gets a database of its own, cloned
//! from a template that was migrated once (`CREATE DATABASE … TEMPLATE`,
//! as crates.io's test harness does) instead of migrating every one; the
//! test drops it when it ends. SQLite tests get a fresh file each.

use std::sync::OnceLock;

use diesel::{Connection, RunQueryDsl};
use hazard_tracker::db::{run_migrations, DbConnection};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The PostgreSQL server the tests create their databases on. Unreachable
/// means the PostgreSQL tests fail: they never skip.
pub fn postgres_admin_url() -> String {
    std::env::var("HT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `db` on the tests' server.
pub fn postgres_url_for(db: &str) -> String {
    let admin = postgres_admin_url();
    let (base, _) = admin
        .rsplit_once('/')
        .expect("HT_TEST_POSTGRES_URL must end in /DATABASE");
    format!("{base}/{db}")
}

fn admin() -> diesel::PgConnection {
    diesel::PgConnection::establish(&postgres_admin_url())
        .expect("PostgreSQL must be reachable for the PostgreSQL tests (HT_TEST_POSTGRES_URL)")
}

/// A name for the migrated template that changes whenever a migration
/// does, so a template left by an earlier run is reused only while it is
/// still what the migrations make.
fn template_name() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgresql");
    let mut files: Vec<_> = walk(&root);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).unwrap());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("ht_template_{hex}")
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The migrated template, made once per test run (and kept between runs
/// while the migrations stay the same). It is built under a temporary name
/// and renamed when complete, so a half-migrated template is never cloned.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut admin = admin();
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let found: Found = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .get_result(&mut admin)
        .unwrap();
        if found.n == 1 {
            return name;
        }
        let building = format!("ht_building_{}", Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .expect("creating the template database");
        {
            let conn = diesel::PgConnection::establish(&postgres_url_for(&building)).unwrap();
            let mut conn = DbConnection::Postgresql(conn);
            run_migrations(&mut conn).expect("migrating the template database");
        }
        let renamed = diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut admin);
        if renamed.is_err() {
            // Another test run finished the same template first.
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut admin);
        }
        name
    })
}

/// Creates a fresh, migrated database for one test and returns its name.
pub fn create_test_database(run_id: &str) -> String {
    let template = template();
    let name = format!("ht_test_{run_id}");
    let mut admin = admin();
    // Cloning waits for no one, but fails while anyone is connected to the
    // template; only the moment of its making connects to it.
    let mut last_error = None;
    for _ in 0..50 {
        match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
        {
            Ok(_) => return name,
            Err(e) => {
                last_error = Some(e);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    panic!("creating the test database from {template}: {last_error:?}");
}

/// Drops a test's database, whoever is still connected to it.
pub fn drop_test_database(name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(&postgres_admin_url()) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}
