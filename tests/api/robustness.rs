//! What must hold when clients misbehave, race, retry, or enter paper
//! records after the fact: problem+json errors, one winner per transition,
//! ETags, idempotent creation, the append-only history, `occurred_at`,
//! paging and filters, and extension requests.

use std::collections::HashSet;

use awc::http::Method;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use diesel::RunQueryDsl;
use futures_util::future::join_all;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::events;
use crate::helpers::id_of;
use crate::helpers::ids;
use crate::helpers::{
    days_from_today, full_plan, general_hazard, major_hazard, Backend, Park, Reply, TestApp,
};

backend_tests!(
    conditional_requests_follow_rfc_9110,
    bad_requests_are_problems_never_500,
    forged_or_truncated_cursor_is_refused,
    only_one_concurrent_accept_wins,
    concurrent_reports_get_distinct_consecutive_numbers,
    stale_if_match_is_refused_and_changes_nothing,
    idempotency_key_replays_hazard_creation,
    idempotency_key_replays_enterprise_creation,
    events_table_refuses_update_and_delete,
    occurred_at_is_checked_and_paper_records_keep_their_dates,
    lists_page_without_duplicates_and_filter,
    extension_requests_and_decisions,
    timestamps_written_by_hand_read_back,
);

// ---------------------------------------------------------------- helpers

/// Asserts a problem+json reply with `status`, and first that it is no 5xx.
#[track_caller]
fn problem(reply: Reply, status: u16, what: &str) -> Reply {
    assert!(
        !reply.status.is_server_error(),
        "{what}: the service answered {} for bad input; body: {}",
        reply.status,
        reply.text
    );
    reply.expect_problem(status)
}

/// This year in the park's time zone.
fn park_year() -> i32 {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).year()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an RFC 3339 time: {value}"))
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A general resident-expert hazard of `enterprise` with this title.
fn titled(enterprise: Uuid, title: &str) -> Value {
    let mut body = general_hazard(enterprise);
    body["title"] = json!(title);
    body
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().expect("an action").to_owned())
        .collect()
}

async fn hazard(app: &TestApp, token: &str, id: &str) -> Reply {
    app.get(&format!("/api/v1/hazards/{id}"))
        .token(token)
        .send()
        .await
        .expect(200)
}

/// Reports a general hazard in A and takes it to `pending_acceptance`
/// (version 3).
async fn pending_hazard(app: &TestApp, park: &Park) -> String {
    let h = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&h);
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    let submitted = app
        .post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({"notes": "已更换"}))
        .send()
        .await
        .expect(200);
    assert_eq!(submitted.json["state"], "pending_acceptance");
    assert_eq!(submitted.json["version"], 3);
    id
}

// ------------------------------------------------------------------ tests

async fn bad_requests_are_problems_never_500(app: TestApp) {
    let park = app.park().await;
    let existing = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let existing = id_of(&existing);

    // A field the schema does not have (a client trying to set the state).
    let mut with_state = general_hazard(park.enterprise_a);
    with_state["state"] = json!("closed");
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .json(&with_state)
        .send()
        .await;
    let reply = problem(reply, 422, "unknown field");
    assert!(
        reply.json["detail"]
            .as_str()
            .expect("present")
            .contains("state"),
        "the problem names the unknown field: {}",
        reply.text
    );

    // Malformed JSON.
    for body in [&b"{\"title\": "[..], b"{\"title\": \"x\",}", b"not json"] {
        let reply = app
            .post("/api/v1/hazards")
            .token(&park.expert)
            .raw("application/json", body.to_vec())
            .send()
            .await;
        problem(reply, 400, "malformed JSON");
    }

    // A 2 MiB body, well-formed, above the 1 MiB default limit.
    let mut huge = general_hazard(park.enterprise_a);
    huge["description"] = json!("x".repeat(2 * 1024 * 1024));
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .raw(
            "application/json",
            serde_json::to_vec(&huge).expect("serialising"),
        )
        .send()
        .await;
    problem(reply, 413, "2 MiB body");

    // JSON sent as text/plain.
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .raw(
            "text/plain",
            serde_json::to_vec(&general_hazard(park.enterprise_a)).expect("serialising"),
        )
        .send()
        .await;
    problem(reply, 415, "text/plain body");

    // Nothing of the above created a hazard.
    let list = app
        .get("/api/v1/hazards")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&list), vec![existing.clone()], "{}", list.text);

    // Unknown routes, with and without a token.
    let reply = app
        .get("/api/v1/no-such-thing")
        .token(&park.expert)
        .send()
        .await;
    problem(reply, 404, "unknown route");
    let reply = app.get("/no/such/page").send().await;
    problem(reply, 404, "unknown route outside the API");

    // Wrong methods: 405 with Allow.
    let reply = app
        .call(Method::DELETE, "/api/v1/hazards")
        .token(&park.expert)
        .send()
        .await;
    let reply = problem(reply, 405, "DELETE /hazards");
    let allow = reply.header("allow").expect("405 carries Allow").to_owned();
    let allowed: HashSet<&str> = allow.split(',').map(str::trim).collect();
    assert_eq!(allowed, HashSet::from(["GET", "POST"]), "Allow: {allow}");
    let reply = app
        .call(Method::PUT, &format!("/api/v1/hazards/{existing}"))
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await;
    let reply = problem(reply, 405, "PUT /hazards/{id}");
    assert_eq!(reply.header("allow"), Some("GET"));

    // A path id that is no UUID is simply not found.
    let reply = app
        .get("/api/v1/hazards/not-a-uuid")
        .token(&park.expert)
        .send()
        .await;
    problem(reply, 404, "non-UUID id");
    let reply = app
        .post("/api/v1/hazards/12345/plan")
        .token(&park.expert)
        .json(&json!({"measures": "x"}))
        .send()
        .await;
    problem(reply, 404, "non-UUID id in an action");
    let reply = app
        .get(&format!(
            "/api/v1/hazards/{existing}/extensions/xyz/approve"
        ))
        .token(&park.expert)
        .send()
        .await;
    problem(reply, 405, "GET on an action");
    // An unknown but well-formed id is 404 too.
    let reply = app
        .get(&format!("/api/v1/hazards/{}", Uuid::new_v4()))
        .token(&park.expert)
        .send()
        .await;
    problem(reply, 404, "unknown id");

    // Query values of the wrong type: 400.
    for query in [
        "level=huge",
        "state=open",
        "limit=abc",
        "limit=-1",
        "overdue=maybe",
    ] {
        let reply = app
            .get(&format!("/api/v1/hazards?{query}"))
            .token(&park.expert)
            .send()
            .await;
        problem(reply, 400, query);
    }
    // Out-of-range page sizes and garbage cursors: 422.
    for query in [
        "limit=0",
        "limit=501",
        "cursor=!!garbage!!",
        "cursor=%25%25%25",
    ] {
        let reply = app
            .get(&format!("/api/v1/hazards?{query}"))
            .token(&park.expert)
            .send()
            .await;
        let reply = problem(reply, 422, query);
        let field = query.split('=').next().expect("present");
        assert!(
            reply.json["errors"][field].is_string(),
            "{query}: the problem names the field: {}",
            reply.text
        );
    }
    for query in ["limit=0", "limit=501", "cursor=!!garbage!!", "cursor=YWJj"] {
        let reply = app
            .get(&format!("/api/v1/hazards/{existing}/events?{query}"))
            .token(&park.expert)
            .send()
            .await;
        problem(reply, 422, &format!("events?{query}"));
    }
    // The bounds themselves are fine.
    for query in ["limit=1", "limit=500"] {
        app.get(&format!("/api/v1/hazards?{query}"))
            .token(&park.expert)
            .send()
            .await
            .expect(200);
    }
}

/// A cursor is opaque: one the service did not issue (well-formed base64 of
/// something else, or an issued one cut short) must be refused, not quietly
/// used as a position in the list.
async fn forged_or_truncated_cursor_is_refused(app: TestApp) {
    let park = app.park().await;
    for n in 0..3 {
        app.report(
            &park.expert,
            titled(park.enterprise_a, &format!("hazard {n}")),
        )
        .await;
    }
    let first = app
        .get("/api/v1/hazards?limit=1")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    let cursor = first.json["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    // The issued cursor works.
    app.get(&format!("/api/v1/hazards?limit=1&cursor={cursor}"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    // base64url("garbage") and the issued cursor without its last 4 chars
    // both decode cleanly but are no position this service hands out.
    // An events cursor ("Mw" is base64url of seq "3") is no hazards cursor
    // either.
    let truncated = &cursor[..cursor.len() - 4];
    let mut accepted = Vec::new();
    for forged in ["Z2FyYmFnZQ", truncated, "Mw"] {
        let reply = app
            .get(&format!("/api/v1/hazards?cursor={forged}"))
            .token(&park.expert)
            .send()
            .await;
        assert!(!reply.status.is_server_error(), "{}", reply.text);
        if reply.status.as_u16() != 422 {
            let listed = reply.json["items"].as_array().map_or(0, Vec::len);
            accepted.push(format!("{forged} -> {} ({listed} items)", reply.status));
        } else {
            problem(reply, 422, &format!("cursor={forged}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "cursors the service never issued were accepted: {accepted:?}"
    );
}

async fn only_one_concurrent_accept_wins(app: TestApp) {
    let park = app.park().await;
    let id = pending_hazard(&app, &park).await;
    let path = format!("/api/v1/hazards/{id}/accept");

    // Half of them state the version they read, half do not.
    let replies = join_all((0..8).map(|i| {
        let mut call = app.post(&path).token(&park.expert);
        if i % 2 == 0 {
            call = call.header("If-Match", "\"3\"");
        }
        call.json(&json!({"notes": format!("验收 {i}")})).send()
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one accept wins: {statuses:?}"
    );
    for reply in replies {
        if reply.status.as_u16() != 200 {
            let status = reply.status.as_u16();
            assert!(
                status == 409 || status == 412,
                "a loser gets 409 or 412, not {status}: {}",
                reply.text
            );
            problem(reply, status, "losing accept");
        }
    }

    let now = hazard(&app, &park.supervisor, &id).await;
    assert_eq!(now.json["state"], "closed");
    assert_eq!(now.json["version"], 4);
    assert_eq!(now.header("etag"), Some("\"4\""));
    let history = events(&app, &park.supervisor, &id).await;
    assert_eq!(
        actions(&history),
        ["report", "plan", "submit", "accept"],
        "exactly one accept event"
    );
    let seqs: Vec<i64> = history
        .iter()
        .map(|e| e["seq"].as_i64().expect("present"))
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

async fn concurrent_reports_get_distinct_consecutive_numbers(app: TestApp) {
    let park = app.park().await;
    let replies = join_all((0..10).map(|i| {
        app.post("/api/v1/hazards")
            .token(&park.expert)
            .json(&titled(park.enterprise_a, &format!("并发上报 {i}")))
            .send()
    }))
    .await;
    let mut numbers = Vec::new();
    let mut created = HashSet::new();
    for reply in replies {
        let reply = reply.expect(201);
        numbers.push(reply.json["number"].as_str().expect("present").to_owned());
        created.insert(id_of(&reply.json));
    }
    assert_eq!(created.len(), 10, "ten distinct hazards");
    let year = park_year();
    let expected: Vec<String> = (1..=10).map(|n| format!("YH-{year}-{n:06}")).collect();
    assert_eq!(sorted(numbers), expected);

    let list = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(
        ids(&list).into_iter().collect::<HashSet<_>>(),
        created,
        "the list shows exactly the ten"
    );
    // The next one continues the sequence.
    let next = app
        .report(&park.expert, general_hazard(park.enterprise_b))
        .await;
    assert_eq!(next["number"], json!(format!("YH-{year}-000011")));
}

async fn stale_if_match_is_refused_and_changes_nothing(app: TestApp) {
    let park = app.park().await;
    let h = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&h);
    let read = hazard(&app, &park.expert, &id).await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    let plan_path = format!("/api/v1/hazards/{id}/plan");

    for stale in ["\"0\"", "\"2\"", "\"abc\""] {
        let reply = app
            .post(&plan_path)
            .token(&park.contact_a)
            .header("If-Match", stale)
            .json(&json!({"measures": "更换报警器"}))
            .send()
            .await;
        problem(reply, 412, &format!("If-Match: {stale}"));
    }
    let unchanged = hazard(&app, &park.expert, &id).await;
    assert_eq!(unchanged.json["version"], 1);
    assert_eq!(unchanged.json["state"], "reported");
    assert_eq!(unchanged.json["plan"], json!(null));
    assert_eq!(unchanged.header("etag"), Some("\"1\""));
    assert_eq!(actions(&events(&app, &park.expert, &id).await), ["report"]);

    let planned = app
        .post(&plan_path)
        .token(&park.contact_a)
        .header("If-Match", "\"1\"")
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    assert_eq!(planned.header("etag"), Some("\"2\""));
    assert_eq!(planned.json["version"], 2);
    assert_eq!(planned.json["state"], "rectifying");

    // The ETag just used is now stale in its turn.
    let reply = app
        .post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .header("If-Match", "\"1\"")
        .json(&json!({}))
        .send()
        .await;
    problem(reply, 412, "If-Match of the previous version");
    let after = hazard(&app, &park.expert, &id).await;
    assert_eq!(after.json["state"], "rectifying");
    assert_eq!(after.header("etag"), Some("\"2\""));
    assert_eq!(
        actions(&events(&app, &park.expert, &id).await),
        ["report", "plan"]
    );
}

async fn idempotency_key_replays_hazard_creation(app: TestApp) {
    let park = app.park().await;
    let body = general_hazard(park.enterprise_a);
    let key = "3f1c2a9e-retry-me";

    let first = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.json["id"], first.json["id"]);
    assert_eq!(second.json["number"], first.json["number"]);
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.header("etag"), first.header("etag"));

    let list = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&list), vec![id_of(&first.json)], "one hazard only");

    // Same key, another body.
    let mut other = body.clone();
    other["title"] = json!("另一条隐患");
    let reply = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .header("Idempotency-Key", key)
        .json(&other)
        .send()
        .await;
    problem(reply, 422, "same key, other body");

    // Another user's key space is their own.
    let theirs = app
        .post("/api/v1/hazards")
        .token(&park.supervisor)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json["id"], first.json["id"]);

    // Concurrent retries with one new key create one hazard.
    let replies = join_all((0..4).map(|_| {
        app.post("/api/v1/hazards")
            .token(&park.expert)
            .header("Idempotency-Key", "burst-key")
            .json(&other)
            .send()
    }))
    .await;
    let mut burst_ids = HashSet::new();
    for reply in replies {
        burst_ids.insert(id_of(&reply.expect(201).json));
    }
    assert_eq!(burst_ids.len(), 1, "one hazard for one key: {burst_ids:?}");

    let list = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&list).len(), 3, "{}", list.text);

    // A key that breaks the documented pattern is refused, wherever read.
    for bad in ["two words", "tab\tkey"] {
        let reply = app
            .post("/api/v1/hazards")
            .token(&park.expert)
            .header("Idempotency-Key", bad)
            .json(&body)
            .send()
            .await;
        problem(reply, 400, bad);
    }
    let reply = app
        .post("/api/v1/checklists")
        .token(&park.expert)
        .header("Idempotency-Key", "has space")
        .json(&json!({"name": "动火作业检查表", "items": [{"text": "动火证已审批"}]}))
        .send()
        .await;
    problem(reply, 400, "checklists");

    // A stored response past its retention is forgotten: the key creates
    // afresh, and nothing of the old answer stays.
    app.execute_sql("UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00'");
    let fresh = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(fresh.header("idempotent-replayed"), None);
    assert_ne!(fresh.json["id"], first.json["id"]);
}

async fn idempotency_key_replays_enterprise_creation(app: TestApp) {
    let park = app.park().await;
    let body = json!({
        "name": "Gamma Solvents",
        "credit_code": crate::helpers::credit_code("Gamma Solvents"),
        "status": "trial",
        "contact_emails": ["safety@gamma.example.cn"],
    });
    let key = "enterprise-key-1";
    let first = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    let second = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.json["id"], first.json["id"]);

    let mut other = body.clone();
    other["status"] = json!("producing");
    let reply = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .header("Idempotency-Key", key)
        .json(&other)
        .send()
        .await;
    problem(reply, 422, "same key, other enterprise body");

    let delta = json!({
        "name": "Delta Gases",
        "credit_code": crate::helpers::credit_code("Delta Gases"),
        "status": "producing",
        "contact_emails": ["safety@delta.example.cn"],
    });
    let theirs = app
        .post("/api/v1/enterprises")
        .token(&park.supervisor)
        .header("Idempotency-Key", key)
        .json(&delta)
        .send()
        .await
        .expect(201);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json["id"], first.json["id"]);

    let list = app
        .get("/api/v1/enterprises")
        .token(&park.admin)
        .send()
        .await
        .expect(200);
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .expect("present")
        .iter()
        .map(|e| e["name"].as_str().expect("present"))
        .collect();
    assert_eq!(names.len(), 4, "A, B, Gamma once, Delta: {names:?}");
    assert_eq!(names.iter().filter(|n| **n == "Gamma Solvents").count(), 1);
}

async fn events_table_refuses_update_and_delete(app: TestApp) {
    let park = app.park().await;
    let id = pending_hazard(&app, &park).await;
    let other = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_b))
            .await,
    );
    let before = events(&app, &park.supervisor, &id).await;
    let before_other = events(&app, &park.supervisor, &other).await;
    assert_eq!(before.len(), 3);

    {
        let mut conn = app.state.db.get().expect("a database connection");
        let statements = [
            "UPDATE hazard_events SET note = 'x'".to_owned(),
            format!("UPDATE hazard_events SET action = 'accept' WHERE hazard_id = '{id}'"),
            "DELETE FROM hazard_events".to_owned(),
            format!("DELETE FROM hazard_events WHERE hazard_id = '{other}'"),
        ];
        for sql in &statements {
            let outcome = diesel::sql_query(sql.as_str()).execute(&mut *conn);
            assert!(
                outcome.is_err(),
                "the database must refuse {sql:?}, it answered {outcome:?}"
            );
        }
        if app.backend == Backend::Postgres {
            let outcome = diesel::sql_query("TRUNCATE hazard_events").execute(&mut *conn);
            assert!(outcome.is_err(), "TRUNCATE must be refused: {outcome:?}");
        }
        // The connection is still usable afterwards.
        let ping = diesel::sql_query("SELECT 1 AS one").execute(&mut *conn);
        assert!(ping.is_ok(), "{ping:?}");
    }

    assert_eq!(events(&app, &park.supervisor, &id).await, before);
    assert_eq!(events(&app, &park.supervisor, &other).await, before_other);
    // And the service still appends.
    app.post(&format!("/api/v1/hazards/{id}/accept"))
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let after = events(&app, &park.supervisor, &id).await;
    assert_eq!(&after[..3], &before[..]);
    assert_eq!(actions(&after), ["report", "plan", "submit", "accept"]);
}

async fn occurred_at_is_checked_and_paper_records_keep_their_dates(app: TestApp) {
    let park = app.park().await;
    let fresh = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let plan_path = format!("/api/v1/hazards/{fresh}/plan");

    // In the future.
    let reply = app
        .post(&plan_path)
        .token(&park.expert)
        .json(&json!({"measures": "更换", "occurred_at": rfc3339(Utc::now() + Duration::hours(1))}))
        .send()
        .await;
    let reply = problem(reply, 422, "occurred_at in the future");
    assert!(
        reply.json["errors"]["occurred_at"].is_string(),
        "{}",
        reply.text
    );
    // Before the report (which happened now).
    let reply = app
        .post(&plan_path)
        .token(&park.expert)
        .json(&json!({"measures": "更换", "occurred_at": rfc3339(Utc::now() - Duration::days(1))}))
        .send()
        .await;
    let reply = problem(reply, 422, "occurred_at before the previous event");
    assert!(
        reply.json["errors"]["occurred_at"].is_string(),
        "{}",
        reply.text
    );
    let unchanged = hazard(&app, &park.expert, &fresh).await;
    assert_eq!(unchanged.json["version"], 1);
    assert_eq!(
        actions(&events(&app, &park.expert, &fresh).await),
        ["report"]
    );

    // A paper record: found 40 days ago, due 30 days ago.
    let found_at = Utc::now() - Duration::days(40);
    let mut paper = titled(park.enterprise_a, "纸质台账补录");
    paper["found_at"] = json!(rfc3339(found_at));
    paper["deadline"] = json!(days_from_today(-30));
    let paper = app.report(&park.expert, paper).await;
    let paper_id = id_of(&paper);
    assert_eq!(time(&paper["found_at"]).timestamp(), found_at.timestamp());
    assert_eq!(paper["overdue"], true);
    let history = events(&app, &park.expert, &paper_id).await;
    assert_eq!(
        time(&history[0]["occurred_at"]).timestamp(),
        found_at.timestamp(),
        "the report event happens at found_at"
    );

    let overdue = app
        .get("/api/v1/hazards?overdue=true")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&overdue), vec![paper_id.clone()]);
    assert_eq!(overdue.json["items"][0]["overdue"], true);
    let not_overdue = app
        .get("/api/v1/hazards?overdue=false")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&not_overdue), vec![fresh.clone()]);

    // Planned 35 days ago, entered today.
    let planned_at = Utc::now() - Duration::days(35);
    let before_call = Utc::now();
    let planned = app
        .post(&format!("/api/v1/hazards/{paper_id}/plan"))
        .token(&park.expert)
        .json(&json!({"measures": "补录: 已制定整改措施", "occurred_at": rfc3339(planned_at)}))
        .send()
        .await
        .expect(200);
    let after_call = Utc::now();
    assert_eq!(planned.json["state"], "rectifying");
    assert_eq!(
        planned.json["overdue"], true,
        "rectifying past the deadline"
    );
    assert_eq!(
        time(&planned.json["plan"]["planned_at"]).timestamp(),
        planned_at.timestamp()
    );
    let history = events(&app, &park.expert, &paper_id).await;
    assert_eq!(actions(&history), ["report", "plan"]);
    assert_eq!(
        time(&history[1]["occurred_at"]).timestamp(),
        planned_at.timestamp()
    );
    let recorded = time(&history[1]["recorded_at"]);
    assert!(
        recorded >= before_call - Duration::seconds(1)
            && recorded <= after_call + Duration::seconds(1),
        "recorded_at is the server's now: {recorded}"
    );

    let overdue = app
        .get("/api/v1/hazards?overdue=true")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&overdue), vec![paper_id.clone()]);
    let not_overdue = app
        .get("/api/v1/hazards?overdue=false")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert!(!ids(&not_overdue).contains(&paper_id));

    // The next event may not go back before the plan.
    let reply = app
        .post(&format!("/api/v1/hazards/{paper_id}/submit"))
        .token(&park.expert)
        .json(&json!({"occurred_at": rfc3339(planned_at - Duration::days(1))}))
        .send()
        .await;
    problem(reply, 422, "submit before the plan");
    // A submission recorded after the fact ends the overdue state.
    let submitted = app
        .post(&format!("/api/v1/hazards/{paper_id}/submit"))
        .token(&park.expert)
        .json(&json!({"occurred_at": rfc3339(planned_at + Duration::days(2))}))
        .send()
        .await
        .expect(200);
    assert_eq!(submitted.json["overdue"], false);
    let overdue = app
        .get("/api/v1/hazards?overdue=true")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&overdue), Vec::<String>::new());
}

async fn lists_page_without_duplicates_and_filter(app: TestApp) {
    let park = app.park().await;
    let year = park_year();
    let last_year = year - 1;

    let leaking = id_of(
        &app.report(
            &park.expert,
            titled(park.enterprise_a, "Pump seal LEAKING at flange"),
        )
        .await,
    );
    let mut major = major_hazard(park.enterprise_a);
    major["source"] = json!("national_expert");
    major["title"] = json!("Load at 50% of rated capacity");
    let major = id_of(&app.report(&park.expert, major).await);
    let mut own = titled(park.enterprise_a, "Valve 500 kg weight missing tag");
    own["source"] = json!("self_check");
    let own = id_of(&app.report(&park.contact_a, own).await);
    let mut old = titled(park.enterprise_b, "Old ladder rusted");
    old["source"] = json!("park_supervision");
    old["found_at"] = json!(format!("{last_year}-06-15T04:00:00Z"));
    old["deadline"] = json!(format!("{last_year}-07-15"));
    let old = id_of(&app.report(&park.expert, old).await);
    let planned = id_of(
        &app.report(
            &park.expert,
            titled(park.enterprise_a, "Fire extinguisher expired"),
        )
        .await,
    );
    app.post(&format!("/api/v1/hazards/{planned}/plan"))
        .token(&park.expert)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    let all = [&leaking, &major, &own, &old, &planned];

    // Paging: 2 + 2 + 1, newest first, following next_cursor.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let path = match &cursor {
            None => "/api/v1/hazards?limit=2".to_owned(),
            Some(c) => format!("/api/v1/hazards?limit=2&cursor={c}"),
        };
        let page = app
            .get(&path)
            .token(&park.supervisor)
            .send()
            .await
            .expect(200);
        let page_ids = ids(&page);
        pages.push(page_ids.len());
        seen.extend(page_ids);
        match &page.json["next_cursor"] {
            Value::Null => break,
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("next_cursor must be a string or null: {other}"),
        }
        assert!(pages.len() < 10, "paging does not end");
    }
    assert_eq!(pages, [2, 2, 1]);
    let expected_order: Vec<String> = all.iter().rev().map(|s| (*s).clone()).collect();
    assert_eq!(
        seen, expected_order,
        "newest first, no duplicates, none lost"
    );

    let query = |q: &'static str| {
        let app = &app;
        let token = park.supervisor.clone();
        async move {
            let reply = app
                .get(&format!("/api/v1/hazards?{q}"))
                .token(&token)
                .send()
                .await
                .expect(200);
            sorted(ids(&reply))
        }
    };
    let set = |v: &[&String]| sorted(v.iter().map(|s| (*s).clone()).collect());

    assert_eq!(query("state=rectifying").await, set(&[&planned]));
    assert_eq!(
        query("state=reported").await,
        set(&[&leaking, &major, &own, &old])
    );
    assert_eq!(query("state=closed").await, set(&[]));
    assert_eq!(query("level=major").await, set(&[&major]));
    assert_eq!(
        query("level=general").await,
        set(&[&leaking, &own, &old, &planned])
    );
    assert_eq!(query("source=self_check").await, set(&[&own]));
    assert_eq!(query("source=national_expert").await, set(&[&major]));
    assert_eq!(query("source=park_supervision").await, set(&[&old]));
    assert_eq!(
        query("source=resident_expert").await,
        set(&[&leaking, &planned])
    );
    let found_last_year = app
        .get(&format!("/api/v1/hazards?found_year={last_year}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&found_last_year), vec![old.clone()]);
    let found_this_year = app
        .get(&format!("/api/v1/hazards?found_year={year}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(
        sorted(ids(&found_this_year)),
        set(&[&leaking, &major, &own, &planned])
    );
    assert_eq!(
        query("level=general&state=reported").await,
        set(&[&leaking, &own, &old])
    );

    // Text search: part of a title, ASCII case-insensitive.
    for q in ["q=leaking", "q=LEAKING", "q=Seal%20Leak", "q=pump"] {
        assert_eq!(query(q).await, set(&[&leaking]), "{q}");
    }
    // `%` and `_` match themselves, they are not wildcards.
    assert_eq!(query("q=50%25").await, set(&[&major]), "q=50%");
    assert_eq!(query("q=0%25%20k").await, set(&[]), "q=0% k");
    assert_eq!(query("q=0_k").await, set(&[]), "q=0_k");
    assert_eq!(query("q=%25").await, set(&[&major]), "q=%");
    assert_eq!(query("q=nothing-like-this").await, set(&[]));

    // An enterprise contact's list is confined to its own enterprise.
    let own_list = app
        .get("/api/v1/hazards")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(
        sorted(ids(&own_list)),
        set(&[&leaking, &major, &own, &planned])
    );
    let b_list = app
        .get("/api/v1/hazards?q=ladder")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&b_list), vec![old.clone()]);
}

async fn extension_requests_and_decisions(app: TestApp) {
    let park = app.park().await;
    let h = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&h);
    let deadline = days_from_today(14);
    assert_eq!(h["deadline"], json!(deadline));
    let ext_path = format!("/api/v1/hazards/{id}/extensions");

    // Not later than the current deadline.
    for not_later in [days_from_today(14), days_from_today(3)] {
        let reply = app
            .post(&ext_path)
            .token(&park.contact_a)
            .json(&json!({"requested_deadline": not_later, "reason": "设备到货延迟"}))
            .send()
            .await;
        let reply = problem(reply, 422, "requested_deadline not later");
        assert!(
            reply.json["errors"]["requested_deadline"].is_string(),
            "{}",
            reply.text
        );
    }
    // Only the enterprise asks; another enterprise does not see the hazard.
    let reply = app
        .post(&ext_path)
        .token(&park.expert)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "x"}))
        .send()
        .await;
    problem(reply, 403, "expert requesting an extension");
    let reply = app
        .post(&ext_path)
        .token(&park.contact_b)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "x"}))
        .send()
        .await;
    problem(reply, 404, "another enterprise's contact");

    let requested = app
        .post(&ext_path)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "设备到货延迟"}))
        .send()
        .await
        .expect(201);
    let ext = id_of(&requested.json);
    assert_eq!(requested.json["state"], "pending");
    assert_eq!(requested.json["previous_deadline"], json!(deadline));
    assert_eq!(
        requested.json["requested_deadline"],
        json!(days_from_today(30))
    );

    // One pending request at a time.
    let reply = app
        .post(&ext_path)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(40), "reason": "再延期"}))
        .send()
        .await;
    problem(reply, 409, "second pending request");

    // Only supervision decides.
    for token in [&park.expert, &park.contact_a] {
        let reply = app
            .post(&format!("{ext_path}/{ext}/approve"))
            .token(token)
            .json(&json!({}))
            .send()
            .await;
        problem(reply, 403, "approval by a non-supervisor");
    }
    assert_eq!(
        hazard(&app, &park.expert, &id).await.json["deadline"],
        json!(deadline)
    );

    let approved = app
        .post(&format!("{ext_path}/{ext}/approve"))
        .token(&park.supervisor)
        .json(&json!({"note": "同意延期"}))
        .send()
        .await
        .expect(200);
    assert_eq!(approved.json["deadline"], json!(days_from_today(30)));
    assert_eq!(approved.json["state"], "reported");
    let reread = hazard(&app, &park.contact_a, &id).await;
    assert_eq!(reread.json["deadline"], json!(days_from_today(30)));
    // Decided once.
    let reply = app
        .post(&format!("{ext_path}/{ext}/approve"))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await;
    problem(reply, 409, "approving twice");
    let reply = app
        .post(&format!("{ext_path}/{}/approve", Uuid::new_v4()))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await;
    problem(reply, 404, "an unknown extension");

    let history = events(&app, &park.supervisor, &id).await;
    assert_eq!(
        actions(&history),
        ["report", "extension_requested", "extension_approved"]
    );

    // A refused request leaves the deadline.
    let second = app
        .post(&ext_path)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(45), "reason": "再次延期"}))
        .send()
        .await
        .expect(201);
    let second = id_of(&second.json);
    let refused = app
        .post(&format!("{ext_path}/{second}/refuse"))
        .token(&park.supervisor)
        .json(&json!({"note": "理由不充分"}))
        .send()
        .await
        .expect(200);
    assert_eq!(refused.json["deadline"], json!(days_from_today(30)));
    assert_eq!(
        hazard(&app, &park.expert, &id).await.json["deadline"],
        json!(days_from_today(30))
    );

    // A request still pending when the hazard closes is withdrawn.
    let third = app
        .post(&ext_path)
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(50), "reason": "第三次"}))
        .send()
        .await
        .expect(201);
    let third = id_of(&third.json);
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器"}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    let closed = app
        .post(&format!("/api/v1/hazards/{id}/accept"))
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(closed.json["state"], "closed");
    assert_eq!(closed.json["deadline"], json!(days_from_today(30)));

    let list = app
        .get(&ext_path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    let states: Vec<(String, String)> = list.json["items"]
        .as_array()
        .expect("present")
        .iter()
        .map(|e| (id_of(e), e["state"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        states,
        vec![
            (ext, "approved".to_owned()),
            (second, "refused".to_owned()),
            (third.clone(), "withdrawn".to_owned()),
        ],
        "{}",
        list.text
    );
    let approved_one = &list.json["items"][0];
    assert_eq!(approved_one["granted_deadline"], json!(days_from_today(30)));
    // A withdrawn request can no longer be decided.
    let reply = app
        .post(&format!("{ext_path}/{third}/approve"))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await;
    problem(reply, 409, "deciding on a closed hazard");

    let history = events(&app, &park.supervisor, &id).await;
    assert_eq!(
        actions(&history),
        [
            "report",
            "extension_requested",
            "extension_approved",
            "extension_requested",
            "extension_refused",
            "extension_requested",
            "plan",
            "submit",
            "accept",
        ]
    );
}

/// If-Match is compared strongly (a weak tag never matches), a list is
/// honoured, and a malformed header is `400` before the body is looked at.
async fn conditional_requests_follow_rfc_9110(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);
    let plan = |if_match: &str, body: serde_json::Value| {
        app.post(&format!("/api/v1/hazards/{id}/plan"))
            .token(&park.expert)
            .header("If-Match", if_match)
            .json(&body)
            .send()
    };
    let good = json!({"measures": "更换报警器"});
    plan("W/\"1\"", good.clone()).await.expect_problem(412);
    for malformed in ["", "1", "\"1", "\"1\" \"2\""] {
        // The body is invalid too: the header is judged first.
        plan(malformed, json!({"measures": 7}))
            .await
            .expect_problem(400);
    }
    let planned = plan("\"7\", \"1\"", good).await.expect(200);
    assert_eq!(planned.header("etag"), Some("\"2\""));
}

/// Times written around the service (by hand, by an older version, by
/// another program) read back as the database holds them, in the text
/// the service writes and in others SQLite accepts, in one hazard and in
/// a page read from the database.
async fn timestamps_written_by_hand_read_back(app: TestApp) {
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let (found_at, created_at) = match app.backend {
        // SQLite keeps text: the first is not as the service writes it.
        Backend::Sqlite => ("2024-05-06T07:08:09.5", "2024-05-06 07:08:09.25"),
        Backend::Postgres => ("2024-05-06 07:08:09.5", "2024-05-06 07:08:09.25"),
    };
    let sql = format!(
        "UPDATE hazards SET found_at = '{found_at}', created_at = '{created_at}', \
         deadline = '2024-06-01' WHERE id = '{id}'"
    );
    assert_eq!(app.execute_sql(&sql), 1);
    let one = app
        .get(&format!("/api/v1/hazards/{id}"))
        .token(&park.supervisor)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200);
    let page = app
        .get("/api/v1/hazards?limit=5")
        .token(&park.supervisor)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200);
    let listed = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == json!(id))
        .cloned()
        .unwrap();
    for hazard in [&one.json, &listed] {
        assert_eq!(hazard["found_at"], json!("2024-05-06T07:08:09.500Z"));
        assert_eq!(hazard["created_at"], json!("2024-05-06T07:08:09.250Z"));
        assert_eq!(hazard["deadline"], json!("2024-06-01"));
        assert_eq!(hazard["overdue"], json!(true));
    }
}
