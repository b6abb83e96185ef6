//! Display keys: a wall screen reads the dashboard's figures and nothing
//! else, and stops when its key is revoked or expires.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{general_hazard, TestApp};

backend_tests!(
    a_display_key_reads_the_dashboard_only_until_revoked,
    a_replayed_issue_answers_no_key,
);

async fn a_display_key_reads_the_dashboard_only_until_revoked(app: TestApp) {
    let park = app.park().await;
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let in_days = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let create = |body: serde_json::Value, token: &str| {
        app.post("/api/v1/display-keys")
            .token(token)
            .json(&body)
            .send()
    };
    create(
        json!({"name": "中控室", "expires_at": in_days(30)}),
        &park.supervisor,
    )
    .await
    .expect_problem(403);
    let past = create(
        json!({"name": "中控室", "expires_at": in_days(-1)}),
        &park.admin,
    )
    .await
    .expect_problem(422)
    .json;
    assert!(past["errors"]["expires_at"].is_string());
    create(
        json!({"name": "中控室", "expires_at": in_days(1000)}),
        &park.admin,
    )
    .await
    .expect_problem(422);

    let issued = create(
        json!({"name": "中控室大屏", "expires_at": in_days(30)}),
        &park.admin,
    )
    .await
    .expect(201)
    .json;
    let key = issued["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("htdk_") && key.len() > 60);
    assert!(key.starts_with(issued["key_prefix"].as_str().unwrap()));

    let overview = app
        .get("/api/v1/stats/overview")
        .token(&key)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(overview["open"], 1, "{overview}");
    app.get("/api/v1/enterprises/grade-counts")
        .token(&key)
        .send()
        .await
        .expect(200);
    for refused in [
        "/api/v1/hazards",
        "/api/v1/enterprises",
        "/api/v1/analytics/recurring",
        "/api/v1/auth/me",
        "/api/v1/users",
        "/api/v1/display-keys",
        "/api/v1/changes",
    ] {
        app.get(refused)
            .token(&key)
            .send()
            .await
            .expect_problem(403);
    }
    app.post("/api/v1/hazards")
        .token(&key)
        .json(&general_hazard(park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    let mut forged = key.clone();
    forged.pop();
    forged.push('x');
    app.get("/api/v1/stats/overview")
        .token(&forged)
        .send()
        .await
        .expect_problem(401);

    // Listed without the key; a user cannot be given the display role.
    let listed = app
        .get("/api/v1/display-keys")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(listed["items"][0]["name"], "中控室大屏");
    assert!(listed["items"][0].get("key").is_none());
    app.post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({"email": "screen@park.example.cn", "name": "大屏", "role": "display", "password": "correct horse battery"}))
        .send()
        .await
        .expect_problem(422);

    let id = issued["id"].as_str().unwrap();
    let path = format!("/api/v1/display-keys/{id}");
    let revoked = app
        .call(awc::http::Method::DELETE, &path)
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert!(revoked["revoked_at"].is_string());
    let blank = app
        .get("/api/v1/stats/overview")
        .token(&key)
        .send()
        .await
        .expect_problem(401)
        .json;
    assert!(blank["detail"].as_str().unwrap().contains("revoked"));
    app.call(awc::http::Method::DELETE, &path)
        .token(&park.admin)
        .send()
        .await
        .expect_problem(404);
}

/// A retried issue (same `Idempotency-Key`) answers the same key's record
/// without the key itself, which was shown once and is kept nowhere, not
/// even for the replay.
async fn a_replayed_issue_answers_no_key(app: TestApp) {
    let park = app.park().await;
    let body = json!({
        "name": "中控室大屏",
        "expires_at": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
    });
    let issue = || {
        app.post("/api/v1/display-keys")
            .token(&park.admin)
            .header("Idempotency-Key", "screen-1")
            .json(&body)
            .send()
    };
    let first = issue().await.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let key = first.json["key"].as_str().unwrap().to_owned();
    assert!(first.json.get("key_shown_once").is_none());

    let replay = issue().await.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(replay.json["id"], first.json["id"]);
    assert!(replay.json["key"].is_null(), "{}", replay.text);
    assert_eq!(replay.json["key_shown_once"], true);
    assert!(!replay.text.contains(&key));

    let kept = app.idempotency_bodies("screen-1").await;
    assert_eq!(kept.len(), 1);
    assert!(
        !kept[0].contains(&key),
        "the key kept for replays: {}",
        kept[0]
    );
    // The key issued first still works.
    app.get("/api/v1/stats/overview")
        .token(&key)
        .send()
        .await
        .expect(200);
}
