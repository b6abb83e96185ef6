//! The risk register and its check tasks (双重预防), through HTTP on both
//! backends: a register kept by an enterprise with levels worked out from
//! their method; a daily check task whose occurrences are done, done late,
//! missed or paused; records made once, an abnormal one becoming a hazard;
//! the duty list; and every scoping and refusal on the way.

use chrono::Datelike;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{days_from_today, id_of, Park, TestApp};

backend_tests!(
    an_enterprise_keeps_its_register_with_levels_worked_out,
    a_daily_check_task_is_done_late_missed_paused_and_recorded_once_and_counted,
    a_monthly_check_stays_on_the_duty_list_until_done,
    a_missed_check_on_a_serious_unit_mails_the_enterprise_once,
    each_enterprise_is_evaluated_for_the_month_with_its_reasons,
    hazards_found_by_checks_are_counted_by_unit_event_and_measure,
    a_record_keeps_the_photos_of_what_was_checked,
    settled_months_are_counted_once_and_follow_late_records_and_pauses,
);

pub(crate) async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    app.post(path)
        .token(token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .json
}

/// The enterprise's register as `token` reads it.
pub(crate) async fn register(app: &TestApp, token: &str, enterprise: Uuid) -> Value {
    app.get(&format!("/api/v1/enterprises/{enterprise}/risk-register"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

/// An object, a unit, an event of the given assessment and a measure
/// watched by checks, of `enterprise`, kept by `token`: the measure's id.
pub(crate) async fn measure_of(
    app: &TestApp,
    token: &str,
    enterprise: Uuid,
    assessment: Value,
) -> (String, String) {
    let object = created(
        app,
        token,
        "/api/v1/risk-objects",
        json!({"enterprise_id": enterprise, "kind": "facility", "name": "1号罐区"}),
    )
    .await;
    let unit = created(
        app,
        token,
        "/api/v1/risk-units",
        json!({"object_id": id_of(&object), "name": "甲醇储罐", "department": "储运部", "responsible_person": "王工"}),
    )
    .await;
    let event = created(
        app,
        token,
        "/api/v1/risk-events",
        json!({"unit_id": id_of(&unit), "name": "储罐泄漏引发火灾", "consequence": "人员伤亡", "assessment": assessment}),
    )
    .await;
    let measure = created(
        app,
        token,
        "/api/v1/control-measures",
        json!({
            "event_id": id_of(&event),
            "description": "可燃气体检测报警器",
            "classification": "工程技术/安全仪表",
            "control_mode": "check",
            "check_content": "报警器投用正常，校验在有效期内",
        }),
    )
    .await;
    (id_of(&measure), id_of(&unit))
}

async fn an_enterprise_keeps_its_register_with_levels_worked_out(app: TestApp) {
    let park = app.park().await;
    let (_, unit) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 4, "s": 5}),
    )
    .await;
    // A second event of the same unit, low by LEC: the unit stays major.
    let event = created(
        &app,
        &park.contact_a,
        "/api/v1/risk-events",
        json!({"unit_id": unit, "name": "人员烫伤", "assessment": {"method": "lec", "l": 1, "e": 6, "c": 7}}),
    )
    .await;
    assert_eq!(event["score"], json!(42.0));
    assert_eq!(event["level"]["level"], "low");
    assert_eq!(event["level"]["label"], "低风险");

    let register = app
        .get(&format!(
            "/api/v1/enterprises/{}/risk-register",
            park.enterprise_a
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let unit_view = &register["objects"][0]["units"][0];
    assert_eq!(unit_view["level"]["level"], "major", "{register}");
    assert_eq!(unit_view["level"]["colour"], "red");
    assert_eq!(unit_view["events"][0]["score"], json!(20.0));
    assert_eq!(
        unit_view["events"][0]["measures"][0]["classification"],
        "engineering.safety_instrument"
    );
    assert_eq!(
        register["units_by_level"],
        json!({"major": 1, "serious": 0, "general": 0, "low": 0})
    );
    assert_eq!(
        register["events_by_level"],
        json!({"major": 1, "serious": 0, "general": 0, "low": 1})
    );
    assert_eq!(register["measures"], 1);
    // The same register as the sheet enterprises keep, one row per measure
    // (an event without one has its own row).
    let sheet = app
        .get(&format!(
            "/api/v1/enterprises/{}/risk-register?format=csv",
            park.enterprise_a
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .text;
    let lines: Vec<&str> = sheet.lines().collect();
    assert_eq!(lines.len(), 3, "{sheet}");
    assert!(lines[0].starts_with("风险分析对象,对象类型,"), "{sheet}");
    for cell in [
        "储罐泄漏引发火灾",
        "重大风险",
        "L=4，S=5",
        "工程技术／安全仪表",
        "人员烫伤",
        "低风险",
    ] {
        assert!(sheet.contains(cell), "{cell}: {sheet}");
    }
    let xlsx = app
        .get(&format!(
            "/api/v1/enterprises/{}/risk-register?format=xlsx",
            park.enterprise_a
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert!(xlsx.text.starts_with("PK"), "a zip package");
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );

    // Another enterprise's register does not exist for a contact, and its
    // units cannot be built on.
    app.get(&format!(
        "/api/v1/enterprises/{}/risk-register",
        park.enterprise_a
    ))
    .token(&park.contact_b)
    .send()
    .await
    .expect(404);
    let refused = app
        .post("/api/v1/risk-events")
        .token(&park.contact_b)
        .json(
            &json!({"unit_id": unit, "name": "x", "assessment": {"method": "ls", "l": 1, "s": 1}}),
        )
        .send()
        .await
        .expect(422)
        .json;
    assert!(refused["errors"]["unit_id"].is_string(), "{refused}");
    // Viewers keep no register.
    app.post("/api/v1/risk-objects")
        .token(&park.viewer)
        .json(&json!({"enterprise_id": park.enterprise_a, "kind": "place", "name": "装卸站"}))
        .send()
        .await
        .expect(403);
    // Every broken field is named at once, and a level is never typed in.
    let refused = app
        .post("/api/v1/control-measures")
        .token(&park.contact_a)
        .json(&json!({
            "event_id": id_of(&event),
            "description": " ",
            "classification": "安全仪表",
            "control_mode": "check",
        }))
        .send()
        .await
        .expect(422)
        .json;
    for field in ["description", "classification", "check_content"] {
        assert!(refused["errors"][field].is_string(), "{field}: {refused}");
    }
    // In Chinese when asked, each with its code.
    let refused = app
        .post("/api/v1/control-measures")
        .token(&park.contact_a)
        .header("Accept-Language", "zh-CN")
        .json(&json!({
            "event_id": id_of(&event),
            "description": "可燃气体报警器",
            "classification": "安全仪表",
            "control_mode": "check",
        }))
        .send()
        .await
        .expect(422)
        .json;
    let codes: Vec<&str> = refused["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["check_content_required", "measure_class"],
        "{refused}"
    );
    assert_eq!(
        refused["errors"]["check_content"],
        "由隐患排查管控的措施必填：写明排查内容"
    );
    let refused = app
        .post("/api/v1/risk-events")
        .token(&park.contact_a)
        .json(&json!({"unit_id": unit, "name": "", "assessment": {"method": "lec", "l": 2, "e": 6, "c": 7}}))
        .send()
        .await
        .expect(422)
        .json;
    assert!(refused["errors"]["name"].is_string(), "{refused}");
    assert!(refused["errors"]["assessment.l"].is_string(), "{refused}");
    app.post("/api/v1/risk-events")
        .token(&park.contact_a)
        .json(&json!({"unit_id": unit, "name": "x", "level": "low", "assessment": {"method": "ls", "l": 1, "s": 1}}))
        .send()
        .await
        .expect(422);
}

/// The park-local wall time `hours` from now, to the second.
pub(crate) fn local_in(hours: i64) -> String {
    (chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .naive_local()
        + chrono::Duration::hours(hours))
    .format("%Y-%m-%dT%H:%M:%S")
    .to_string()
}

/// A park-local wall time `hours` later.
fn shifted(wall_time: &str, hours: i64) -> String {
    (chrono::NaiveDateTime::parse_from_str(wall_time, "%Y-%m-%dT%H:%M:%S").unwrap()
        + chrono::Duration::hours(hours))
    .format("%Y-%m-%dT%H:%M:%S")
    .to_string()
}

/// The statuses of occurrences 0 to `last` in a list.
fn statuses_to(list: &[Value], last: u64) -> Vec<(u64, String)> {
    list.iter()
        .map(|o| {
            (
                o["occurrence"].as_u64().unwrap(),
                o["status"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(k, _)| *k <= last)
        .collect()
}

async fn duties(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/check-duties")
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn record(app: &TestApp, token: &str, task: &str, body: Value) -> crate::helpers::Reply {
    app.post(&format!("/api/v1/check-tasks/{task}/records"))
        .token(token)
        .json(&body)
        .send()
        .await
}

/// A daily task of the enterprise's contacts whose occurrences start six
/// hours before this time of day, three days back: its id, its unit's id
/// and its anchor.
async fn daily_task(app: &TestApp, park: &Park) -> (String, String, String) {
    daily_task_since(app, park, 3).await
}

/// [`daily_task`] with its first occurrence `days` days back.
async fn daily_task_since(app: &TestApp, park: &Park, days: i64) -> (String, String, String) {
    let (measure, unit) = measure_of(
        app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 3, "s": 5}),
    )
    .await;
    let starts = local_in(-days * 24 - 6);
    let task = created(
        app,
        &park.contact_a,
        "/api/v1/check-tasks",
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_role": "enterprise",
            // Each occurrence starts six hours before this time of day, so
            // none begins or ends near now whenever the test runs.
            "schedule": {"every": 1, "unit": "day", "starts": starts},
        }),
    )
    .await;
    assert_eq!(task["name"], "报警器投用正常，校验在有效期内");
    (id_of(&task), unit, starts)
}

async fn a_daily_check_task_is_done_late_missed_paused_and_recorded_once_and_counted(app: TestApp) {
    let park = app.park().await;
    let (task, unit, starts) = daily_task(&app, &park).await;

    // Three days of occurrences nobody recorded, and the current one (the
    // next may start later today: it is upcoming).
    let list = duties(&app, &park.contact_a).await;
    let owned = |pairs: &[(u64, &str)]| -> Vec<(u64, String)> {
        pairs.iter().map(|(k, s)| (*k, (*s).to_owned())).collect()
    };
    assert_eq!(
        statuses_to(&list, 3),
        owned(&[(0, "missed"), (1, "missed"), (2, "missed"), (3, "due")]),
        "{list:?}"
    );
    assert!(list.iter().all(|o| o["occurrence"].as_u64() <= Some(4)));
    assert!(duties(&app, &park.contact_b).await.is_empty());
    // The task is the enterprise's: the experts are not on duty for it.
    assert!(duties(&app, &park.expert).await.is_empty());

    // Today's, checked and nothing wrong: kept, once.
    let done = record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 3, "outcome": "normal"}),
    )
    .await
    .expect(201)
    .json;
    assert_eq!(done["entered_late"], false);
    assert!(done["hazard_id"].is_null());
    record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 3, "outcome": "normal"}),
    )
    .await
    .expect(409);
    // An abnormal record needs its hazard's details, then becomes one.
    let refused = record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 2, "outcome": "abnormal"}),
    )
    .await
    .expect(422)
    .json;
    assert!(refused["errors"]["hazard"].is_string(), "{refused}");
    let late = record(
        &app,
        &park.contact_a,
        &task,
        json!({
            "occurrence": 2,
            "outcome": "abnormal",
            "note": "报警器无显示",
            "hazard": {"location": "1号罐区", "category": "unsafe_condition", "deadline": days_from_today(7)},
        }),
    )
    .await
    .expect(201)
    .json;
    let hazard = app
        .get(&format!(
            "/api/v1/hazards/{}",
            late["hazard_id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(hazard["source"], "self_check");
    assert_eq!(hazard["enterprise_id"], json!(park.enterprise_a));
    assert!(
        hazard["description"]
            .as_str()
            .unwrap()
            .contains("可燃气体检测报警器"),
        "{hazard}"
    );
    // It names the measure that failed; a hazard found otherwise has no
    // origin in the register.
    let origin = app
        .get(&format!(
            "/api/v1/hazards/{}/check-origin",
            hazard["id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json["origin"]
        .clone();
    assert_eq!(origin["record"]["id"], late["id"], "{origin}");
    assert_eq!(origin["task"]["id"], json!(task), "{origin}");
    assert!(origin["major_source"].is_null(), "{origin}");
    let other = app
        .report(
            &park.expert,
            crate::helpers::general_hazard(park.enterprise_a),
        )
        .await;
    let none = app
        .get(&format!("/api/v1/hazards/{}/check-origin", id_of(&other)))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert!(none["origin"].is_null(), "{none}");

    // A contact may not date a check hours back (补录); nor record another
    // enterprise's task, nor may an expert record the enterprise's.
    let refused = record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 1, "outcome": "normal", "checked_at": (chrono::Utc::now() - chrono::Duration::hours(30)).to_rfc3339()}),
    )
    .await;
    assert_eq!(refused.status, 403, "{:?}", refused.json);
    record(
        &app,
        &park.contact_b,
        &task,
        json!({"occurrence": 1, "outcome": "normal"}),
    )
    .await
    .expect(404);
    record(
        &app,
        &park.expert,
        &task,
        json!({"occurrence": 1, "outcome": "normal"}),
    )
    .await
    .expect(403);
    // Not yet started, and not an occurrence at all.
    record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 4, "outcome": "normal"}),
    )
    .await
    .expect(422);

    // The unit was down the whole first day: that occurrence is paused.
    created(
        &app,
        &park.contact_a,
        &format!("/api/v1/risk-units/{unit}/pauses"),
        json!({"from": starts, "until": shifted(&starts, 24), "reason": "停车检修"}),
    )
    .await;
    let list = app
        .get(&format!(
            "/api/v1/check-tasks/{task}/occurrences?from={}&until={}",
            days_from_today(-5),
            days_from_today(3)
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        statuses_to(list["items"].as_array().unwrap(), 4),
        owned(&[
            (0, "paused"),
            (1, "missed"),
            (2, "done_late"),
            (3, "done"),
            (4, "upcoming")
        ]),
        "{list}"
    );
    // The duty list keeps what is still to do (occurrence 1, missed) and
    // what runs today: the current one, done, and occurrence 2 when it
    // ended today (six hours ago, on the park's clock, after 06:00).
    let list = duties(&app, &park.contact_a).await;
    let local_now = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .naive_local();
    let second_ended_today = (local_now - chrono::Duration::hours(6)).date() == local_now.date();
    let expected: &[(u64, &str)] = if second_ended_today {
        &[(1, "missed"), (2, "done_late"), (3, "done")]
    } else {
        &[(1, "missed"), (3, "done")]
    };
    assert_eq!(statuses_to(&list, 3), owned(expected), "{list:?}");

    // The figures of the period: four occurrences so far (the next has not
    // started), one paused, one on time, one late, one missed.
    app.report(
        &park.expert,
        crate::helpers::general_hazard(park.enterprise_a),
    )
    .await;
    let path = format!(
        "/api/v1/analytics/checks?from={}&to={}",
        days_from_today(-5),
        days_from_today(0)
    );
    let reply = app
        .get(&path)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let figures = reply.json;
    let occurrences = &figures["park"]["occurrences"];
    for (field, expected) in [
        ("planned", 4),
        ("paused", 1),
        ("done_on_time", 1),
        ("done_late", 1),
        ("missed", 1),
        ("due", 0),
    ] {
        assert_eq!(occurrences[field], expected, "{field}: {figures}");
    }
    let rate = occurrences["completion_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{figures}");
    let row = &figures["enterprises"][0];
    assert_eq!(row["enterprise_id"], json!(park.enterprise_a), "{figures}");
    assert_eq!(figures["enterprises"].as_array().unwrap().len(), 1);
    assert_eq!(row["hazards_from_tasks"], 1);
    assert_eq!(row["hazards_from_tasks_by_level"]["serious"], 1, "{row}");
    assert_eq!(
        row["hazards_other"], 2,
        "one reported besides, one without an origin"
    );
    assert_eq!(row["units_by_level"]["serious"], 1);
    assert_eq!(row["tasks"], 1);
    // The scorecard shows the month's checks beside the hazards, as the
    // figures of that month count them, with the month's evaluation; an
    // enterprise without tasks has none.
    let scorecard = app
        .get(&format!(
            "/api/v1/analytics/scorecard?from={}&to={}",
            days_from_today(-5),
            days_from_today(0)
        ))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(scorecard["checks_to"], json!(days_from_today(0)));
    let month = app
        .get(&format!(
            "/api/v1/analytics/checks?from={}&to={}",
            scorecard["checks_from"].as_str().unwrap(),
            days_from_today(0)
        ))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let card_of = |id: Uuid| {
        scorecard["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["enterprise_id"] == json!(id))
            .cloned()
            .unwrap_or_else(|| panic!("{scorecard}"))
    };
    let checks = &card_of(park.enterprise_a)["checks"];
    let counted = &month["enterprises"][0]["occurrences"];
    assert_eq!(checks["planned"], counted["planned"], "{scorecard} {month}");
    assert_eq!(
        checks["done"].as_u64(),
        Some(counted["done_on_time"].as_u64().unwrap() + counted["done_late"].as_u64().unwrap())
    );
    assert_eq!(checks["missed"], counted["missed"]);
    assert_eq!(checks["completion_rate"], counted["completion_rate"]);
    assert_eq!(
        checks["hazards_from_tasks"],
        month["enterprises"][0]["hazards_from_tasks"]
    );
    assert!(checks["planned"].as_u64().unwrap() >= 1, "{scorecard}");
    let e = checks["evaluation"].as_f64().expect("E of the month");
    assert!((0.0..=100.0).contains(&e), "{scorecard}");
    assert_eq!(card_of(park.enterprise_b)["checks"], Value::Null);
    // Two of three settled occurrences done in the last 30 days: below
    // the alert rate (90 %), the enterprise is due for a look.
    let due = app
        .get("/api/v1/enterprises/due")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let alpha = due["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["enterprise_id"] == json!(park.enterprise_a))
        .unwrap_or_else(|| panic!("{due}"));
    assert!(
        alpha["due"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["reason"] == "check_completion"),
        "{alpha}"
    );
    assert!(
        alpha["review_reasons"].to_string().contains("67%"),
        "{alpha}"
    );
    // Unchanged: 304; a record later, a new answer.
    let tag = reply
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = app
        .get(&path)
        .token(&park.supervisor)
        .header("If-None-Match", &tag)
        .send()
        .await;
    assert_eq!(again.status, 304);
    record(
        &app,
        &park.supervisor,
        &task,
        json!({"occurrence": 1, "outcome": "normal"}),
    )
    .await
    .expect(201);
    let changed = app
        .get(&path)
        .token(&park.supervisor)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(changed["park"]["occurrences"]["missed"], 0, "{changed}");
    assert_eq!(changed["park"]["occurrences"]["done_late"], 2, "{changed}");
    let due = app
        .get("/api/v1/enterprises/due")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert!(
        !due.to_string().contains("check_completion"),
        "every settled occurrence done: {due}"
    );
    // A contact reads its own enterprise's only; a table for the filings.
    app.get(&format!("{path}&enterprise_id={}", park.enterprise_a))
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);
    let csv = app
        .get(&format!("{path}&format=csv"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert!(csv.text.contains("全园区"), "{}", csv.text);
    assert!(csv.text.contains("Alpha Chemicals"), "{}", csv.text);
}

async fn a_monthly_check_stays_on_the_duty_list_until_done(app: TestApp) {
    let park = app.park().await;
    let (measure, _) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 1, "s": 2}),
    )
    .await;
    // Started twenty days ago, before the duty list's look-back: still
    // running, so still on today's list.
    let task = created(
        &app,
        &park.contact_a,
        "/api/v1/check-tasks",
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_user_id": me(&app, &park.contact_a).await,
            "schedule": {"every": 1, "unit": "month", "starts": local_in(-20 * 24)},
        }),
    )
    .await;
    let list = duties(&app, &park.contact_a).await;
    assert_eq!(statuses_to(&list, 9), [(0, "due".to_owned())], "{list:?}");
    // Given to one person: the other contacts of the enterprise are not
    // on duty for it, and a task needs a person of the enterprise.
    // Two taps at once: one record, the other a conflict, never an error.
    let task = id_of(&task);
    let body = json!({"occurrence": 0, "outcome": "normal"});
    let (first, second) = futures_util::join!(
        record(&app, &park.contact_a, &task, body.clone()),
        record(&app, &park.contact_a, &task, body.clone()),
    );
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{:?} {:?}", first.json, second.json);
    let list = duties(&app, &park.contact_a).await;
    assert_eq!(statuses_to(&list, 9), [(0, "done".to_owned())], "{list:?}");
    let task_for = |person: String, days: &str| {
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_user_id": person,
            "schedule": {"every": 1, "unit": "month", "starts": local_in(0), "days": days},
        })
    };
    let beta = me(&app, &park.contact_b).await;
    let refused = app
        .post("/api/v1/check-tasks")
        .token(&park.contact_a)
        .json(&task_for(beta.clone(), "every_day"))
        .send()
        .await
        .expect(422)
        .json;
    assert!(
        refused["errors"]["assignee_user_id"].is_string(),
        "{refused}"
    );
    // A monthly check is never skipped for a holiday: no day rule.
    let refused = app
        .post("/api/v1/check-tasks")
        .token(&park.contact_a)
        .json(&task_for(beta, "working_days"))
        .send()
        .await
        .expect(422)
        .json;
    assert!(refused["errors"]["schedule"].is_string(), "{refused}");
}

async fn me(app: &TestApp, token: &str) -> String {
    id_of(
        &app.get("/api/v1/auth/me")
            .token(token)
            .send()
            .await
            .expect(200)
            .json,
    )
}

/// Missed occurrences of a task on a 较大 unit are mailed to the
/// enterprise's contacts, each once however often the scanner runs; a low
/// unit's are not. The scanner looks back two days.
async fn a_missed_check_on_a_serious_unit_mails_the_enterprise_once(app: TestApp) {
    let park = app.park().await;
    let task_on = |assessment: Value, name: &'static str| {
        let app = &app;
        let park = &park;
        async move {
            let (measure, _) =
                measure_of(app, &park.contact_a, park.enterprise_a, assessment).await;
            created(
                app,
                &park.contact_a,
                "/api/v1/check-tasks",
                json!({
                    "measure_id": measure,
                    "name": name,
                    "kind": "post_check",
                    "assignee_role": "enterprise",
                    "schedule": {"every": 1, "unit": "day", "starts": local_in(-3 * 24 - 6)},
                }),
            )
            .await
        }
    };
    task_on(json!({"method": "ls", "l": 3, "s": 5}), "较大风险单元巡检").await;
    task_on(json!({"method": "ls", "l": 1, "s": 2}), "低风险单元巡检").await;
    let scan = || {
        let escalation = app.state.escalation.clone();
        let at = chrono::Utc::now().naive_utc();
        app.state.db.run(move |conn| escalation.scan(conn, at))
    };
    // Occurrences 1 and 2 fell due unrecorded within the last two days;
    // occurrence 0 longer ago.
    assert_eq!(scan().await.unwrap(), 2);
    assert_eq!(scan().await.unwrap(), 0, "each once");
    let mails = app
        .get("/api/v1/notifications?limit=500")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["rule"] == "check_missed")
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(mails.len(), 2, "{mails:?}");
    for mail in &mails {
        let text = mail.to_string();
        assert!(text.contains("较大风险单元巡检"), "{text}");
        assert!(text.contains("contact@alpha.example.cn"), "{text}");
    }
}

/// E = (A + B) × α for the month: Alpha has a task (nothing settled yet:
/// A in full) and a hazard due today still open (B nought); Beta has no
/// task (vetoed) and found nothing (B less ten).
async fn each_enterprise_is_evaluated_for_the_month_with_its_reasons(app: TestApp) {
    let park = app.park().await;
    let (measure, _) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 2, "s": 2}),
    )
    .await;
    created(
        &app,
        &park.contact_a,
        "/api/v1/check-tasks",
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_role": "enterprise",
            "schedule": {"every": 1, "unit": "day", "starts": local_in(-1)},
        }),
    )
    .await;
    let mut hazard = crate::helpers::general_hazard(park.enterprise_a);
    hazard["deadline"] = json!(days_from_today(0));
    app.report(&park.expert, hazard).await;

    let evaluation = app
        .get("/api/v1/analytics/evaluation")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let items = evaluation["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{evaluation}");
    let (beta, alpha) = (&items[0], &items[1]);
    assert_eq!(
        beta["enterprise_id"],
        json!(park.enterprise_b),
        "lowest first"
    );
    assert_eq!(
        (beta["alpha"].as_u64(), beta["e"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(beta["b"], 40.0);
    let codes: Vec<&str> = beta["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["few_hazards", "no_check_tasks"], "{beta}");
    assert_eq!(
        (
            alpha["a"].as_f64(),
            alpha["b"].as_f64(),
            alpha["e"].as_f64()
        ),
        (Some(50.0), Some(0.0), Some(50.0)),
        "{alpha}"
    );
    assert_eq!(alpha["inputs"]["to_rectify"], 1);
    assert_eq!(alpha["inputs"]["found"], 1);
    assert_eq!(alpha["inputs"]["check_tasks"], 1);

    // A contact sees its own; a table says why.
    let own = app
        .get("/api/v1/analytics/evaluation")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    let csv = app
        .get("/api/v1/analytics/evaluation?format=csv")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    assert!(csv.contains("未建立隐患排查任务（否决）"), "{csv}");
    app.get("/api/v1/analytics/evaluation?month=2026-13")
        .token(&park.supervisor)
        .send()
        .await
        .expect(422);
}

async fn hazards_found_by_checks_are_counted_by_unit_event_and_measure(app: TestApp) {
    let park = app.park().await;
    let (task, unit, _) = daily_task(&app, &park).await;
    let mut raised = Vec::new();
    for occurrence in [1, 2] {
        let made = record(
            &app,
            &park.contact_a,
            &task,
            json!({
                "occurrence": occurrence,
                "outcome": "abnormal",
                "note": "报警器无显示",
                "hazard": {"location": "1号罐区", "category": "unsafe_condition", "deadline": days_from_today(7)},
            }),
        )
        .await
        .expect(201)
        .json;
        raised.push(made["hazard_id"].as_str().unwrap().to_owned());
    }
    record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 3, "outcome": "normal"}),
    )
    .await
    .expect(201);
    // Found otherwise: not a check's.
    app.report(
        &park.expert,
        crate::helpers::general_hazard(park.enterprise_a),
    )
    .await;

    let path = format!(
        "/api/v1/analytics/checks/hazards?from={}&to={}",
        days_from_today(-5),
        days_from_today(0)
    );
    let by_unit = app
        .get(&path)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(by_unit["by"], "unit", "{by_unit}");
    assert_eq!(by_unit["total"]["found"], 2, "{by_unit}");
    assert_eq!(by_unit["total"]["open"], 2, "{by_unit}");
    assert_eq!(by_unit["nodes"], 1, "{by_unit}");
    let row = &by_unit["rows"][0];
    assert_eq!(row["unit_id"], json!(unit), "{row}");
    assert_eq!(row["unit_name"], "甲醇储罐");
    assert_eq!(row["object_name"], "1号罐区");
    assert_eq!(row["enterprise_name"], "Alpha Chemicals");
    assert_eq!(row["level"], "serious", "L3 × S5 = 15: {row}");
    assert!(
        row["event_id"].is_null() && row["measure"].is_null(),
        "{row}"
    );

    // Closed ones count as closed; a voided one not at all.
    app.post(&format!("/api/v1/hazards/{}/void", raised[1]))
        .token(&park.supervisor)
        .json(&json!({"reason": "重复登记"}))
        .send()
        .await
        .expect(200);
    let by_measure = app
        .get(&format!("{path}&by=measure"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(by_measure["total"]["found"], 1, "{by_measure}");
    let row = &by_measure["rows"][0];
    assert_eq!(row["measure"], "可燃气体检测报警器", "{row}");
    assert_eq!(row["event_name"], "储罐泄漏引发火灾", "{row}");
    assert_eq!(row["hazards"]["found"], 1, "{row}");
    assert_eq!(row["retired"], false);

    // Scoped as the other figures; a table for the park's analysis.
    app.get(&format!("{path}&enterprise_id={}", park.enterprise_a))
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);
    let own = app
        .get(&format!("{path}&by=event"))
        .token(&park.contact_b)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(own["total"]["found"], 0, "{own}");
    assert_eq!(own["rows"], json!([]), "{own}");
    let csv = app
        .get(&format!("{path}&by=event&format=csv"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert!(csv.text.contains("储罐泄漏引发火灾"), "{}", csv.text);
    assert!(csv.text.contains("合计"), "{}", csv.text);
    let refused = app
        .get(&format!("{path}&limit=0"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(422)
        .json;
    assert!(refused["errors"]["limit"].is_string(), "{refused}");
}

async fn a_record_keeps_the_photos_of_what_was_checked(app: TestApp) {
    use crate::helpers::evidence::{jpeg, upload_to, Part};
    let park = app.park().await;
    let (task, _, _) = daily_task(&app, &park).await;
    // Checked, nothing found: the photo is the evidence.
    let made = record(
        &app,
        &park.contact_a,
        &task,
        json!({"occurrence": 3, "outcome": "normal"}),
    )
    .await
    .expect(201)
    .json;
    let path = format!("/api/v1/check-records/{}/photos", id_of(&made));
    let bytes = jpeg(7, 2000);
    let photo = upload_to(
        &app,
        &park.contact_a,
        &path,
        &[
            Part::file("../罐区/报警器.jpg", "image/jpeg", bytes.clone()),
            Part::text("caption", "报警器显示正常"),
        ],
    )
    .await
    .expect(201)
    .json;
    assert_eq!(photo["file_name"], "报警器.jpg", "{photo}");
    assert_eq!(photo["caption"], "报警器显示正常");
    assert_eq!(photo["content_type"], "image/jpeg");
    // A supervisor may add one on the person's behalf; another person on
    // duty may not, nor another enterprise; and what is not a photo is
    // judged by its bytes.
    for (token, bytes, status) in [
        (&park.supervisor, jpeg(8, 1000), 201),
        (&park.expert, jpeg(9, 1000), 403),
        (&park.contact_b, jpeg(10, 1000), 404),
        (&park.contact_a, b"#!/bin/sh\necho".to_vec(), 415),
    ] {
        let parts = [Part::file("b.jpg", "image/jpeg", bytes)];
        upload_to(&app, token, &path, &parts).await.expect(status);
    }

    let list = app
        .get(&path)
        .token(&park.expert)
        .send()
        .await
        .expect(200)
        .json;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["id"], photo["id"], "oldest first");
    let download = crate::helpers::evidence::download_from(
        &app,
        &park.contact_a,
        photo["download_url"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.bytes, bytes);
    assert_eq!(
        download.header("etag"),
        Some(format!("\"{}\"", photo["sha256"].as_str().unwrap()).as_str())
    );
    app.get(photo["download_url"].as_str().unwrap())
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);
    app.get(&path)
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);
}

/// The park's occurrence counts of a period, as the figures give them.
async fn counts(app: &TestApp, token: &str, query: &str) -> Value {
    app.get(&format!("/api/v1/analytics/checks?{query}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json["park"]["occurrences"]
        .clone()
}

async fn settled_months_are_counted_once_and_follow_late_records_and_pauses(app: TestApp) {
    let park = app.park().await;
    // Daily since fifty days back (six hours before this time of day):
    // last month and the one before are whole months of the period, all
    // settled, nobody having recorded anything.
    let (task, unit, starts) = daily_task_since(&app, &park, 50).await;
    let first_day = chrono::NaiveDate::parse_from_str(&starts[..10], "%Y-%m-%d").unwrap();
    let today = chrono::NaiveDate::parse_from_str(&days_from_today(0), "%Y-%m-%d").unwrap();
    let this_month = today.with_day(1).unwrap();
    let from = first_day.with_day(1).unwrap();
    let to = this_month.pred_opt().unwrap();
    let period = format!("from={from}&to={to}");
    let planned = u64::try_from((to - first_day).num_days() + 1).unwrap();

    let before = counts(&app, &park.supervisor, &period).await;
    assert_eq!(before["planned"], planned, "{before}");
    assert_eq!(before["missed"], planned, "{before}");
    // The settled months were kept, one row per month with occurrences.
    let kept = app.execute_sql("UPDATE check_tallies SET missed = missed WHERE basis IS NOT NULL");
    let months = if first_day.month() == to.month() {
        1
    } else {
        2
    };
    assert_eq!(kept, months);
    // ... and are what later figures read (another key of the answer
    // cache: the enterprise's own row).
    app.execute_sql("UPDATE check_tallies SET missed = missed + 1000 WHERE basis IS NOT NULL");
    let own = format!("{period}&enterprise_id={}", park.enterprise_a);
    let read = counts(&app, &park.supervisor, &own).await;
    assert_eq!(read["missed"], planned + 1000 * kept as u64, "{read}");
    app.execute_sql("UPDATE check_tallies SET missed = missed - 1000 WHERE basis IS NOT NULL");

    // A late record of a kept month counts at once.
    record(
        &app,
        &park.supervisor,
        &task,
        json!({"occurrence": 5, "outcome": "normal"}),
    )
    .await
    .expect(201);
    let after = counts(&app, &park.supervisor, &period).await;
    assert_eq!(after["missed"], planned - 1, "{after}");
    assert_eq!(after["done_late"], 1, "{after}");
    assert_eq!(after["planned"], planned, "{after}");

    // So does a shutdown over two whole days of it.
    created(
        &app,
        &park.contact_a,
        &format!("/api/v1/risk-units/{unit}/pauses"),
        json!({"from": shifted(&starts, 24 * 10), "until": shifted(&starts, 24 * 12), "reason": "停车检修"}),
    )
    .await;
    let paused = counts(&app, &park.supervisor, &period).await;
    assert_eq!(paused["paused"], 2, "{paused}");
    assert_eq!(paused["missed"], planned - 3, "{paused}");
    assert_eq!(paused["done_late"], 1, "{paused}");

    // A period starting mid-month walks its head and reads the rest kept:
    // the same counts as its parts asked separately.
    let mid = first_day + chrono::Duration::days(3);
    let whole = counts(&app, &park.supervisor, &format!("from={mid}&to={to}")).await;
    let head_end = (mid.with_day(1).unwrap() + chrono::Months::new(1))
        .pred_opt()
        .unwrap()
        .min(to);
    let head = counts(&app, &park.supervisor, &format!("from={mid}&to={head_end}")).await;
    let rest = if head_end < to {
        counts(
            &app,
            &park.supervisor,
            &format!("from={}&to={to}", head_end.succ_opt().unwrap()),
        )
        .await
    } else {
        json!({"planned": 0, "missed": 0, "paused": 0, "done_late": 0})
    };
    for field in ["planned", "missed", "paused", "done_late"] {
        assert_eq!(
            whole[field].as_u64().unwrap(),
            head[field].as_u64().unwrap() + rest[field].as_u64().unwrap(),
            "{field}: {whole} {head} {rest}"
        );
    }
    assert_eq!(whole["planned"], planned - 3, "{whole}");

    // The overview carries today's and this month's checks as the figures
    // count them; a record moves its tag.
    let overview = app
        .get("/api/v1/stats/overview")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let checks = &overview.json["checks"];
    let month = counts(
        &app,
        &park.supervisor,
        &format!("from={this_month}&to={today}"),
    )
    .await;
    let day = counts(&app, &park.supervisor, &format!("from={today}&to={today}")).await;
    for field in ["planned", "done_on_time", "missed", "due"] {
        assert_eq!(
            checks["month"][field], month[field],
            "{field}: {checks} {month}"
        );
        assert_eq!(
            checks["today"][field], day[field],
            "{field}: {checks} {day}"
        );
    }
    assert!(
        checks["month"]["planned"].as_u64().unwrap() >= 1,
        "{checks}"
    );
    let tag = overview.header("etag").unwrap().to_owned();
    let open = duties(&app, &park.contact_a)
        .await
        .into_iter()
        .find(|o| o["task_id"] == json!(task) && o["record"].is_null())
        .expect("an open occurrence on the duty list");
    record(
        &app,
        &park.supervisor,
        &task,
        json!({"occurrence": open["occurrence"], "outcome": "normal"}),
    )
    .await
    .expect(201);
    let again = app
        .get("/api/v1/stats/overview")
        .token(&park.supervisor)
        .header("If-None-Match", &tag)
        .send()
        .await;
    assert_eq!(again.status, 200, "a record changes the overview");
}
