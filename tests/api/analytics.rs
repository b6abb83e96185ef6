//! `/api/v1/analytics/…` on a small park whose answers are known: one
//! hazard closed in ten days, one found again after it and overdue, one
//! in another enterprise; each analysis, its scoping, its formats and its
//! `304`; and a change made by hand in SQL, with no event in the change
//! feed, still reaches them.

use serde_json::{json, Value};

use crate::backend_tests;
use std::time::Duration;

use crate::helpers::{days_from_today, eventually, general_hazard, id_of, TestApp};

backend_tests!(
    analytics_answer_the_committees_questions,
    analytics_see_a_change_made_by_hand_in_sql,
    recurring_hazards_are_counted_and_the_latest_listed,
);

/// `days` from now (so never in the future, whatever the time of day: a
/// fixed hour of the park's today is still ahead around midnight).
fn moment(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days) - chrono::Duration::seconds(1)).to_rfc3339()
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, days: i64) {
    let mut body = json!({"occurred_at": moment(days)});
    if action == "plan" {
        body["measures"] = json!("更换报警器");
    }
    app.post(&format!("/api/v1/hazards/{id}/{action}"))
        .token(token)
        .json(&body)
        .send()
        .await
        .expect(200);
}

async fn analysis(app: &TestApp, token: &str, path: &str) -> Value {
    app.get(&format!("/api/v1/analytics/{path}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

async fn analytics_answer_the_committees_questions(app: TestApp) {
    let park = app.park().await;
    let hazard = |enterprise, found: i64, deadline: i64, category: &str, location: &str| {
        let mut body = general_hazard(enterprise);
        body["found_at"] = json!(moment(found));
        body["deadline"] = json!(days_from_today(deadline));
        body["category"] = json!(category);
        body["location"] = json!(location);
        body
    };
    let first = app
        .report(
            &park.expert,
            hazard(park.enterprise_a, -20, -5, "unsafe_condition", "1号罐区"),
        )
        .await;
    let first_id = id_of(&first);
    act(&app, &park.expert, &first_id, "plan", -19).await;
    act(&app, &park.expert, &first_id, "submit", -10).await;
    act(&app, &park.expert, &first_id, "accept", -10).await;
    let again = app
        .report(
            &park.expert,
            hazard(park.enterprise_a, -5, -2, "unsafe_condition", "2号罐区"),
        )
        .await;
    app.report(
        &park.expert,
        hazard(park.enterprise_b, 0, 10, "unsafe_behavior", " 1号罐区"),
    )
    .await;

    let time = analysis(&app, &park.supervisor, "rectification-time?group_by=level").await;
    assert_eq!(time["overall"]["closed"], 1);
    assert_eq!(time["overall"]["median_days"], 10.0);
    assert_eq!(time["overall"]["p90_days"], 10.0);
    assert_eq!(time["groups"][0]["key"], "general");
    assert_eq!(time["groups"][0]["label"], "一般隐患");

    let ageing = analysis(&app, &park.supervisor, "ageing").await;
    assert_eq!(ageing["open"], 2);
    assert_eq!(ageing["age"]["days_0_7"], 2);
    assert_eq!(ageing["overdue"]["days_1_7"], 1);
    assert_eq!(ageing["by_enterprise"].as_array().unwrap().len(), 2);

    let scorecard = analysis(&app, &park.supervisor, "scorecard?sort=found").await;
    let a = &scorecard["rows"][0];
    assert_eq!(a["enterprise_id"], json!(park.enterprise_a));
    assert_eq!(
        (a["found"].clone(), a["closed"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(a["on_time_rate"], 1.0);
    assert_eq!(a["overdue_now"], 1);
    let late = a["entered_late_share"].as_f64().unwrap();
    assert!(late > 0.0 && late <= 1.0, "{late}");

    let recurring = analysis(&app, &park.supervisor, "recurring").await;
    assert_eq!(recurring["count"], 1);
    assert_eq!(recurring["items"][0]["hazard_id"], again["id"]);
    assert_eq!(recurring["items"][0]["earlier_hazard_id"], first["id"]);
    let same_place = analysis(&app, &park.supervisor, "recurring?match_location=true").await;
    assert_eq!(same_place["count"], 0);

    let trends = analysis(&app, &park.supervisor, "trends").await;
    let months = trends["months"].as_array().unwrap();
    assert_eq!(months.len(), 24);
    assert_eq!(months[23]["month"], json!(days_from_today(0)[..7]));
    let found: i64 = months.iter().map(|m| m["found"].as_i64().unwrap()).sum();
    assert_eq!(found, 3);

    let places = analysis(&app, &park.supervisor, "locations?limit=1").await;
    assert_eq!(
        places["items"],
        json!([{"location": "1号罐区", "found": 2, "open": 1, "major": 0, "enterprises": 2}])
    );

    // A viewer gets the counts, never a hazard, an enterprise or a place,
    // in JSON or as a table, and not from the supervisor's cached answer.
    let to_viewer = analysis(&app, &park.viewer, "recurring").await;
    assert_eq!(to_viewer["count"], 1);
    assert_eq!(to_viewer["items"], json!([]));
    assert_eq!(to_viewer["items_withheld"], true);
    assert_eq!(recurring["items_withheld"], false);
    let places_to_viewer = analysis(&app, &park.viewer, "locations?limit=1").await;
    assert_eq!(places_to_viewer["items"], json!([]));
    assert_eq!(places_to_viewer["items_withheld"], true);
    for path in ["recurring?format=csv", "locations?limit=1&format=csv"] {
        let table = app
            .get(&format!("/api/v1/analytics/{path}"))
            .token(&park.viewer)
            .send()
            .await
            .expect(200)
            .text;
        assert!(!table.contains("1号罐区"), "{path}: {table}");
        assert!(
            !table.contains(again["id"].as_str().unwrap()),
            "{path}: {table}"
        );
    }

    // Cut by enterprise, period and source; a contact sees its own only.
    let b_only = analysis(
        &app,
        &park.supervisor,
        &format!("ageing?enterprise_id={}", park.enterprise_b),
    )
    .await;
    assert_eq!(b_only["open"], 1);
    let recent = analysis(
        &app,
        &park.supervisor,
        &format!("locations?from={}", days_from_today(-7)),
    )
    .await;
    assert_eq!(recent["items"].as_array().unwrap().len(), 2);
    let none = analysis(&app, &park.supervisor, "ageing?source=self_check").await;
    assert_eq!(none["open"], 0);
    let own = analysis(&app, &park.contact_a, "scorecard").await;
    assert_eq!(own["rows"].as_array().unwrap().len(), 1);
    app.get(&format!(
        "/api/v1/analytics/scorecard?enterprise_id={}",
        park.enterprise_b
    ))
    .token(&park.contact_a)
    .send()
    .await
    .expect_problem(404);
    app.get("/api/v1/analytics/ageing?from=2026-02-01&to=2026-01-01")
        .token(&park.supervisor)
        .send()
        .await
        .expect_problem(422);

    // Tables, and a poll that finds nothing new.
    let csv = app
        .get("/api/v1/analytics/scorecard?format=csv")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .text
        .starts_with("enterprise_id,name,grade,found,closed"));
    let xlsx = app
        .get("/api/v1/analytics/trends?format=xlsx")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert!(xlsx.text.starts_with("PK"));
    let tag = xlsx.header("etag").unwrap().to_owned();
    app.get("/api/v1/analytics/trends?format=xlsx")
        .token(&park.supervisor)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect(304);
}

async fn analytics_see_a_change_made_by_hand_in_sql(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    assert_eq!(analysis(&app, &park.supervisor, "ageing").await["open"], 1);
    let sql = format!(
        "UPDATE hazards SET state = 'voided', updated_at = {} WHERE id = '{}'",
        match app.backend {
            crate::helpers::Backend::Postgres => "updated_at + INTERVAL '1 second'",
            crate::helpers::Backend::Sqlite => "datetime(updated_at, '+1 second')",
        },
        id_of(&hazard)
    );
    assert_eq!(app.execute_sql(&sql), 1);
    // Once the figures' change marker moves, the facts are read again.
    eventually(
        "the ageing to count nothing open",
        Duration::from_secs(10),
        || async {
            let ageing = analysis(&app, &park.supervisor, "ageing").await;
            (ageing["open"] == 0).then_some(())
        },
    )
    .await;
}

async fn recurring_hazards_are_counted_and_the_latest_listed(app: TestApp) {
    let park = app.park().await;
    let found = |days: i64| {
        let mut body = general_hazard(park.enterprise_a);
        body["found_at"] = json!(moment(days));
        body["deadline"] = json!(days_from_today(days + 10));
        body
    };
    let first = id_of(&app.report(&park.expert, found(-30)).await);
    act(&app, &park.expert, &first, "plan", -29).await;
    act(&app, &park.expert, &first, "submit", -20).await;
    act(&app, &park.expert, &first, "accept", -20).await;
    let again = id_of(&app.report(&park.expert, found(-10)).await);
    let latest = id_of(&app.report(&park.expert, found(-2)).await);

    let all = analysis(&app, &park.supervisor, "recurring").await;
    assert_eq!(all["count"], 2);
    let listed: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["hazard_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [latest.as_str(), again.as_str()], "latest first");
    let one = analysis(&app, &park.supervisor, "recurring?limit=1").await;
    assert_eq!(one["count"], 2, "the count is of them all");
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["hazard_id"], json!(latest));
    let csv = app
        .get("/api/v1/analytics/recurring?limit=1&format=csv")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(csv.text.lines().count(), 2, "{}", csv.text);
    app.get("/api/v1/analytics/recurring?limit=1001")
        .token(&park.supervisor)
        .send()
        .await
        .expect_problem(422);
}
