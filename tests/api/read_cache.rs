//! The read cache: repeated reads are answered from memory, a change made
//! through the same instance shows at once, a change made by another process
//! shows within the watcher's poll, and an enterprise contact is
//! never served another enterprise's hazard from memory.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use hazard_tracker::db::DbConnection;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::eventually;
use crate::helpers::sample;
use crate::helpers::{general_hazard, Reply, TestApp};

backend_tests!(
    repeated_reads_come_from_memory_and_own_writes_show_at_once,
    changes_made_elsewhere_show_within_the_poll
);

async fn live(app: &TestApp) {
    eventually(
        "the read cache is live",
        Duration::from_secs(10),
        || async { app.state.reads.is_live().then_some(()) },
    )
    .await;
}

async fn hits(app: &TestApp) -> f64 {
    let text = app.get("/metrics").send().await.expect(200).text;
    sample(
        &text,
        "hazard_tracker_read_cache_lookups_total{outcome=\"hit\"}",
    )
}

/// A successful read, answered from memory when the cache may.
async fn reply(app: &TestApp, token: &str, path: &str) -> Reply {
    app.get(path).token(token).send().await.expect(200)
}

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    reply(app, token, path).await.json
}

/// A successful read from the database, whatever memory holds.
async fn fresh(app: &TestApp, token: &str, path: &str) -> Value {
    app.get(path)
        .token(token)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200)
        .json
}

async fn repeated_reads_come_from_memory_and_own_writes_show_at_once(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/hazards/{id}");
    let page = "/api/v1/hazards?limit=10";
    live(&app).await;

    let before = hits(&app).await;
    for _ in 0..3 {
        let one = reply(&app, &park.supervisor, &path).await;
        assert_eq!(one.header("etag"), Some("\"1\""));
        assert_eq!(one.json["state"], "reported");
        assert_eq!(
            read(&app, &park.supervisor, page).await["items"][0]["id"],
            id
        );
    }
    // Two of each three reads, unless a late change notice intervened.
    assert!(hits(&app).await - before >= 2.0);

    // A change through this instance is seen by the very next read.
    app.post(&format!("{path}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器", "responsible_person": "李四"}))
        .send()
        .await
        .expect(200);
    let one = reply(&app, &park.supervisor, &path).await;
    assert_eq!(one.header("etag"), Some("\"2\""));
    assert_eq!(one.json["state"], "rectifying");
    assert_eq!(
        read(&app, &park.supervisor, page).await["items"][0]["state"],
        "rectifying"
    );

    // Answers are per role (`allowed_actions`): from memory, each role gets
    // exactly what the database gives it.
    let mut actions = Vec::new();
    for token in [&park.supervisor, &park.expert, &park.contact_a, &park.admin] {
        read(&app, token, &path).await;
        let remembered = read(&app, token, &path).await;
        let from_database = fresh(&app, token, &path).await;
        assert_eq!(remembered, from_database);
        actions.push(from_database["allowed_actions"].clone());
    }
    actions.dedup();
    assert!(
        actions.len() > 1,
        "roles are offered different actions: {actions:?}"
    );

    // An enterprise contact's answer is in memory now; another
    // enterprise's contact asking for it still gets 404, and only its own
    // hazards in its pages.
    read(&app, &park.contact_a, &path).await;
    read(&app, &park.contact_a, &path).await;
    app.get(&path)
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    read(&app, &park.contact_a, page).await;
    let theirs = read(&app, &park.contact_b, page).await;
    assert_eq!(theirs["items"], json!([]));
}

/// What another process writes (another instance, the command line, an
/// operator's SQL) is not among the commits this application counts; the
/// watcher sees it. A direct `UPDATE` stands in for that process here.
async fn changes_made_elsewhere_show_within_the_poll(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/hazards/{id}");
    live(&app).await;
    let before = hits(&app).await;
    for _ in 0..5 {
        assert_eq!(read(&app, &park.supervisor, &path).await["version"], 1);
    }
    assert!(hits(&app).await > before);

    elsewhere(&app, &id, "在别处改过的标题", 2);
    let started = Instant::now();
    eventually(
        "the change made elsewhere shows",
        Duration::from_secs(3),
        || async { (read(&app, &park.supervisor, &path).await["version"] == 2).then_some(()) },
    )
    .await;
    let took = started.elapsed();
    let page = read(&app, &park.supervisor, "/api/v1/hazards?limit=5").await;
    assert_eq!(
        page["items"][0]["title"], "在别处改过的标题",
        "seen {took:?} after"
    );

    // `Cache-Control: no-cache` reads the database whatever memory holds.
    read(&app, &park.supervisor, &path).await;
    elsewhere(&app, &id, "又改了一次", 3);
    let from_database = fresh(&app, &park.supervisor, &path).await;
    assert_eq!(from_database["version"], 3);
    assert_eq!(from_database["title"], "又改了一次");
}

fn elsewhere(app: &TestApp, id: &str, title: &str, version: i64) {
    let mut conn = app.state.db.open_dedicated().unwrap();
    let sql =
        format!("UPDATE hazards SET title = '{title}', version = {version} WHERE id = '{id}'");
    let changed = match &mut conn {
        DbConnection::Sqlite(c) => diesel::sql_query(&sql).execute(c).unwrap(),
        DbConnection::Postgresql(c) => diesel::sql_query(&sql).execute(c).unwrap(),
    };
    assert_eq!(changed, 1);
}
