//! What an operator relies on: probes, the OpenAPI document and docs page,
//! request ids, migrations that revert and re-apply cleanly, and `503`
//! instead of a hang when no database connection can be had.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use hazard_tracker::db::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use hazard_tracker::error::AppError;
use serde_json::json;

use crate::helpers::{general_hazard, id_of, spawn_app_with, Backend, TestApp};
use crate::{backend_tests, configured_tests};

backend_tests!(
    probes_and_documents,
    openapi_document_matches_its_snapshot,
    migrations_revert_and_reapply,
    criteria_and_vocabularies
);

configured_tests!(
    pool_exhaustion_answers_503,
    bounded_reads_run_where_the_backend_serves_them_best
);

async fn probes_and_documents(app: TestApp) {
    let health = app.get("/healthz").send().await.expect(200);
    assert_eq!(health.json["status"], "ok");
    let ready = app.get("/readyz").send().await.expect(200);
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert_eq!(ready.json["database"], backend);
    assert!(
        ready
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty()),
        "every response names its request"
    );

    let openapi = app.get("/openapi.json").send().await.expect(200);
    assert!(openapi.json["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/hazards",
        "/api/v1/hazards/{id}/accept",
        "/api/v1/auth/token",
        "/api/v1/enterprises/{id}",
    ] {
        assert!(
            openapi.json["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    assert!(openapi.json["components"]["schemas"]["Problem"].is_object());

    let docs = app.get("/docs/").send().await.expect(200);
    assert!(
        docs.text.to_lowercase().contains("swagger"),
        "the docs page is served locally"
    );
    assert!(
        !docs.text.contains("cdn."),
        "no CDN: the docs page works offline"
    );
}

async fn criteria_and_vocabularies(app: TestApp) {
    let park = app.park().await;
    let criteria = app
        .get("/api/v1/reference/major-hazard-criteria")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    let items = criteria.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["code"], 1);
    let shipped: serde_json::Value =
        serde_json::from_str(include_str!("../../reference/major-hazard-criteria.json")).unwrap();
    assert_eq!(criteria.json["items"], shipped["items"]);

    let vocabularies = app
        .get("/api/v1/reference/vocabularies")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert!(vocabularies.json["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["label"] == "管理缺陷"));
    assert_eq!(vocabularies.json["sources"].as_array().unwrap().len(), 5);

    // A label is accepted where a code is, and stored as the code.
    let mut body = crate::helpers::general_hazard(park.enterprise_a);
    body["category"] = json!("人的不安全行为");
    body["specialty"] = json!("电气");
    let hazard = app.report(&park.expert, body).await;
    assert_eq!(hazard["category"], "unsafe_behavior");
    assert_eq!(hazard["specialty"], "electrical");
}

#[derive(QueryableByName, PartialEq, Eq, Debug)]
struct SchemaLine {
    #[diesel(sql_type = Text)]
    line: String,
}

fn schema(conn: &mut DbConnection) -> Vec<SchemaLine> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE tbl_name != '__diesel_schema_migrations' ORDER BY type, name"
        }
        DbConnection::Postgresql(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name NOT LIKE '__diesel%' ORDER BY table_name, ordinal_position"
        }
    };
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(query).load(c).unwrap(),
        DbConnection::Postgresql(c) => diesel::sql_query(query).load(c).unwrap(),
    }
}

async fn migrations_revert_and_reapply(app: TestApp) {
    let mut conn = app.state.db.get().unwrap();
    let before = schema(&mut conn);
    assert!(
        before.iter().any(|l| l.line.contains("hazard_events")),
        "{before:?}"
    );
    match &mut *conn {
        DbConnection::Sqlite(c) => {
            c.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
        }
        DbConnection::Postgresql(c) => {
            c.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
        }
    }
    let left = schema(&mut conn);
    assert!(left.is_empty(), "down.sql leaves nothing behind: {left:?}");
    hazard_tracker::db::run_migrations(&mut conn).unwrap();
    assert_eq!(
        schema(&mut conn),
        before,
        "re-applying gives the same schema"
    );
}

/// An app whose pool holds one connection, given up on after a second.
async fn one_connection_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |settings| {
        settings.database.pool_size = 1;
        settings.database.connect_timeout_secs = 1;
    })
    .await
}

async fn pool_exhaustion_answers_503(backend: Backend) {
    let app = one_connection_app(backend).await;
    let held = app.state.db.get().unwrap();
    let started = std::time::Instant::now();
    let reply = app.get("/readyz").send().await.expect_problem(503);
    assert!(reply.header("retry-after").is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no hang"
    );
    drop(held);
    app.get("/readyz").send().await.expect(200);
}

/// A read an index bounds runs on the calling worker on SQLite, where it is
/// shorter than the hand-off to the blocking pool, and on the blocking pool
/// on PostgreSQL, where it waits on a socket. With every connection busy it
/// waits on the blocking pool on both, and a request answers `503` rather
/// than hang.
async fn bounded_reads_run_where_the_backend_serves_them_best(backend: Backend) {
    let app = one_connection_app(backend).await;
    let park = app.park().await;
    let token = park.expert;
    let reported = app.report(&token, general_hazard(park.enterprise_a)).await;
    let one = format!("/api/v1/hazards/{}", id_of(&reported));

    let here = std::thread::current().id();
    let thread_of_a_read = || {
        app.state
            .db
            .read_bounded(|_| Ok(std::thread::current().id()))
    };
    let ran_on = thread_of_a_read().await.unwrap();
    assert_eq!(ran_on == here, backend == Backend::Sqlite, "{backend:?}");
    // A read that panics fails alone, wherever it ran, and the connection
    // serves the next one.
    let failed = app
        .state
        .db
        .read_bounded(|_| -> Result<(), AppError> { panic!("a bug in a read") })
        .await;
    assert!(matches!(failed, Err(AppError::Internal(_))), "{failed:?}");
    assert_eq!(
        thread_of_a_read().await.unwrap() == here,
        backend == Backend::Sqlite
    );

    // The only connection is taken: the read waits for it on the blocking
    // pool, and gets it once it is given back.
    let held = app.state.db.get().unwrap();
    let give_back = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let ran_on = thread_of_a_read().await.unwrap();
    assert_ne!(
        ran_on, here,
        "{backend:?}: a busy pool is waited on elsewhere"
    );
    give_back.join().unwrap();

    // Through HTTP, uncached: the hazard and a page, then `503` while the
    // connection is held past the wait.
    let uncached = |path| {
        app.get(path)
            .token(&token)
            .header("cache-control", "no-cache")
    };
    let paths = [one.as_str(), "/api/v1/hazards?limit=50"];
    let hazard = uncached(paths[0]).send().await.expect(200).json;
    assert_eq!(hazard["id"], reported["id"]);
    let page = uncached(paths[1]).send().await.expect(200).json;
    assert_eq!(page["items"][0]["id"], reported["id"]);
    let held = app.state.db.get().unwrap();
    for path in paths {
        let reply = uncached(path).send().await.expect_problem(503);
        assert!(reply.header("retry-after").is_some(), "{path}");
    }
    drop(held);
}

/// The served contract is compared with `tests/snapshots/openapi.json`, so
/// a refactoring cannot change it unnoticed and a deliberate change shows
/// in review. `HT_UPDATE_OPENAPI_SNAPSHOT=1 cargo test openapi_document`
/// rewrites the snapshot.
async fn openapi_document_matches_its_snapshot(app: TestApp) {
    let served = app.get("/openapi.json").send().await.expect(200).json;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    let rendered = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("HT_UPDATE_OPENAPI_SNAPSHOT").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("tests/snapshots/openapi.json");
    if expected != rendered {
        let first_difference = expected
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(rendered.lines().count()));
        panic!(
            "/openapi.json differs from tests/snapshots/openapi.json from line {}: \n  snapshot: {:?}\n  served:   {:?}\n\
             (HT_UPDATE_OPENAPI_SNAPSHOT=1 rewrites the snapshot when the change is deliberate)",
            first_difference + 1,
            expected.lines().nth(first_difference),
            rendered.lines().nth(first_difference),
        );
    }
}

#[derive(QueryableByName, Debug)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

/// SQLite is compiled into the binary in multi-thread mode
/// (`.cargo/config.toml`): the pool gives a connection to one thread at a
/// time, so SQLite's per-call connection locking would only cost time;
/// and without what re-prepares cached statements or locks per allocation.
/// (The concurrency tests elsewhere run many requests at once on SQLite.)
#[actix_web::test]
async fn sqlite_is_compiled_in_for_pooled_connections() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await;
    let mut conn = app.state.db.get().unwrap();
    let DbConnection::Sqlite(c) = &mut *conn else {
        panic!("a SQLite connection");
    };
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options").load(c).unwrap();
    let options: Vec<&str> = options.iter().map(|o| o.compile_options.as_str()).collect();
    assert!(options.contains(&"THREADSAFE=2"), "{options:?}");
    // Statements stay prepared whatever values are bound (without QPSG, or
    // with STAT4, SQLite re-plans them per value), and allocations take no
    // global lock.
    assert!(options.contains(&"ENABLE_QPSG"), "{options:?}");
    assert!(!options.contains(&"ENABLE_STAT4"), "{options:?}");
    assert!(options.contains(&"DEFAULT_MEMSTATUS=0"), "{options:?}");
    // Each connection keeps a page cache of its own: in one shared group,
    // a connection whose cache had grown kept its pages while idle and the
    // others' were freed as soon as a statement let go of them.
    assert!(
        !options.contains(&"ENABLE_MEMORY_MANAGEMENT"),
        "{options:?}"
    );
}
