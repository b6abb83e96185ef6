//! The park's calendar of statutory holidays, through HTTP on both
//! backends: the shipped years listed; a year loaded by an admin takes
//! over at once for a schedule on working days (and the figures' tag
//! moves); a file in error or for another year is refused whole; only an
//! admin loads one.

use chrono::Datelike;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{days_from_today, id_of, TestApp};
use crate::risk::{created, measure_of};

backend_tests!(a_year_loaded_by_the_park_takes_over_its_schedules_at_once);

async fn today_listed(app: &TestApp, token: &str, task: &str) -> bool {
    let list = app
        .get(&format!(
            "/api/v1/check-tasks/{task}/occurrences?from={}&until={}",
            days_from_today(-3),
            days_from_today(1)
        ))
        .token(token)
        .send()
        .await
        .expect(200)
        .json;
    let today = days_from_today(0);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["start"].as_str().unwrap().starts_with(&today))
}

async fn a_year_loaded_by_the_park_takes_over_its_schedules_at_once(app: TestApp) {
    let park = app.park().await;
    let shipped = app
        .get("/api/v1/reference/calendar")
        .token(&park.viewer)
        .send()
        .await
        .expect(200)
        .json;
    let first = &shipped[0];
    assert_eq!(first["year"], 2025, "{shipped}");
    assert_eq!(first["origin"], "shipped");
    assert_eq!(first["document_number"], "国办发明电〔2024〕12号");
    assert!(first["holidays"].as_u64() > Some(20), "{first}");

    // A daily check on statutory working days from three days back.
    let (measure, _) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 2, "s": 2}),
    )
    .await;
    let task = id_of(
        &created(
            &app,
            &park.contact_a,
            "/api/v1/check-tasks",
            json!({
                "measure_id": measure,
                "kind": "post_check",
                "assignee_role": "enterprise",
                "schedule": {"every": 1, "unit": "day", "starts": format!("{}T00:00:00", days_from_today(-3)), "days": "working_days"},
            }),
        )
        .await,
    );
    let before = today_listed(&app, &park.contact_a, &task).await;
    let figures = "/api/v1/analytics/checks";
    let marker = || app.state.db.run(hazard_tracker::db::risk::check_marker);
    let marked = marker().await.unwrap();
    let tag = app
        .get(figures)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .header("etag")
        .unwrap()
        .to_owned();

    // This year's notice, as the park loads it: today the other way round
    // (a weekday off, or a weekend day worked).
    let today: chrono::NaiveDate = days_from_today(0).parse().unwrap();
    let weekend = matches!(today.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
    let file = |year: i32, kind: &str| -> Value {
        json!({
            "year": year,
            "source": {"title": format!("国务院办公厅关于{year}年部分节假日安排的通知"), "issued_on": "2025-11-04"},
            "verified": false,
            "days": [{"date": today.to_string(), "kind": kind, "name": "调整"}],
        })
    };
    let kind = if weekend { "working_day" } else { "holiday" };
    let load = |year: i32, body: Value, token: String| {
        let app = &app;
        async move {
            app.call(
                awc::http::Method::PUT,
                &format!("/api/v1/reference/calendar/{year}"),
            )
            .token(&token)
            .json(&body)
            .send()
            .await
        }
    };
    load(
        today.year(),
        file(today.year(), kind),
        park.supervisor.clone(),
    )
    .await
    .expect(403);
    // Refused whole: another year's file, a make-up day on a weekday.
    load(
        today.year() + 1,
        file(today.year(), kind),
        park.admin.clone(),
    )
    .await
    .expect(422);
    let wrong = if weekend { "holiday" } else { "working_day" };
    if !weekend {
        let refused = load(today.year(), file(today.year(), wrong), park.admin.clone())
            .await
            .expect(422)
            .json;
        assert!(refused["errors"]["file"].is_string(), "{refused}");
    }
    // A make-up working day on a Wednesday, named by its own code, in
    // Chinese for a Chinese caller.
    let wednesday = (1..=7)
        .filter_map(|d| chrono::NaiveDate::from_ymd_opt(today.year(), 1, d))
        .find(|d| d.weekday() == chrono::Weekday::Wed)
        .unwrap();
    // The first fault of a file refused to a Chinese caller, and its
    // Chinese message (no English word in it).
    let refused_in_chinese = |body: Value| {
        let call = app
            .call(
                awc::http::Method::PUT,
                &format!("/api/v1/reference/calendar/{}", today.year()),
            )
            .token(&park.admin)
            .header("Accept-Language", "zh-CN")
            .json(&body)
            .send();
        async move {
            let refused = call.await.expect(422).json;
            let violation = refused["violations"][0].clone();
            let message = violation["message"].as_str().unwrap_or_default().to_owned();
            assert!(
                !message.chars().any(|c| c.is_ascii_alphabetic()),
                "{refused}"
            );
            (violation, message)
        }
    };
    let mut body = file(today.year(), "working_day");
    body["days"][0]["date"] = json!(wednesday.to_string());
    let (violation, message) = refused_in_chinese(body).await;
    assert_eq!(violation["code"], "calendar_working_day_on_weekday");
    assert!(message.starts_with(&wednesday.to_string()), "{message}");
    // A file of the wrong shape: the field named, in Chinese too.
    let mut body = file(today.year(), "working_day");
    body["days"] = json!("none");
    let (violation, message) = refused_in_chinese(body).await;
    assert_eq!(violation["code"], "not_a_list", "{violation}");
    assert_eq!(violation["field"], "days", "{violation}");
    assert_eq!(message, "应为列表");
    assert_eq!(today_listed(&app, &park.contact_a, &task).await, before);

    let years = load(today.year(), file(today.year(), kind), park.admin.clone())
        .await
        .expect(200)
        .json;
    let loaded = years
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == today.year())
        .unwrap_or_else(|| panic!("{years}"));
    assert_eq!(loaded["origin"], "loaded", "{loaded}");
    assert_eq!(loaded["versions"], 1);
    assert_eq!(loaded["verified"], false);
    assert_eq!(
        today_listed(&app, &park.contact_a, &task).await,
        !before,
        "today turned the other way round"
    );
    assert_eq!(before, !weekend, "the week decided before");
    let again = app
        .get(figures)
        .token(&park.supervisor)
        .header("If-None-Match", &tag)
        .send()
        .await;
    assert_eq!(
        again.status, 200,
        "the figures' tag moved with the calendar"
    );
    assert_ne!(
        marker().await.unwrap(),
        marked,
        "the figures' change marker moved with the calendar, not only the minute"
    );
}
