//! Major hazard sources and their three 包保责任人, through HTTP on both
//! backends: a source graded from its chemicals, refusals named at once,
//! persons appointed and replaced with their history, their duty checks
//! recorded through the register's engine, and the 三类包保责任人分类统计
//! counting each kind's checks and hazards.

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{id_of, TestApp};
use crate::risk::{created, local_in};

backend_tests!(
    a_major_source_is_graded_and_its_three_persons_duty_checks_are_counted_by_kind,
    a_missed_duty_check_mails_the_person_and_two_in_a_row_the_supervisors,
    a_sources_assessment_report_is_kept_and_its_due_days_are_mailed,
);

/// Rewrites a duty task's schedule in the database: a duty that has run
/// for weeks, as time cannot be waited for in a test.
async fn reschedule(app: &TestApp, task: &Value, schedule: Value) {
    let task = task.as_str().unwrap().to_owned();
    let schedule = schedule.to_string();
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use hazard_tracker::db::schema::check_tasks;
            diesel::update(check_tasks::table.filter(check_tasks::id.eq(task)))
                .set(check_tasks::schedule.eq(schedule))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

fn codes(reply: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = reply["violations"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|v| {
            (
                v["field"].as_str().unwrap_or_default().to_owned(),
                v["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

async fn a_major_source_is_graded_and_its_three_persons_duty_checks_are_counted_by_kind(
    app: TestApp,
) {
    let park = app.park().await;
    let ammonia = |q: f64| json!({"name": "液氨", "cas": "7664-41-7", "quantity_t": q, "critical_t": 10.0, "beta": 2.0});
    let body = |code: &str, q: f64| {
        json!({
            "enterprise_id": park.enterprise_a,
            "code": code,
            "name": "液氨罐区",
            "unit_kind": "storage",
            "alpha": 2.0,
            "chemicals": [ammonia(q)],
            "assessed_on": "2024-03-01",
        })
    };
    // S = 100/10 = 10; R = 2.0 × 2 × 10 = 40: 三级, a 较大 risk.
    let source = created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        body("320500001", 100.0),
    )
    .await;
    assert_eq!(source["s"], json!(10.0));
    assert_eq!(source["r"], json!(40.0));
    assert_eq!(source["grade"], 3);
    assert_eq!(source["grade_label"], "三级");
    assert_eq!(source["risk_level"]["level"], "serious");
    assert_eq!(source["next_assessment_due"], "2027-03-01");
    assert_eq!(
        source["missing"],
        json!(["principal", "technical", "operational"])
    );
    let id = id_of(&source);

    // Refusals: below S = 1; every bad input at once; a code taken.
    let below = app
        .post("/api/v1/major-sources")
        .token(&park.contact_a)
        .json(&body("320500002", 5.0))
        .send()
        .await
        .expect(422)
        .json;
    assert_eq!(
        codes(&below),
        vec![("chemicals".into(), "not_major_source".into())]
    );
    let mut bad = body("", 100.0);
    bad["alpha"] = json!(0.7);
    bad["chemicals"][0]["beta"] = json!(30);
    bad["chemicals"][0]["critical_t"] = json!(0);
    let bad = app
        .post("/api/v1/major-sources")
        .token(&park.contact_a)
        .header("Accept-Language", "zh-CN")
        .json(&bad)
        .send()
        .await
        .expect(422)
        .json;
    let fields: Vec<String> = codes(&bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        vec![
            "alpha",
            "chemicals[0].beta",
            "chemicals[0].critical_t",
            "code"
        ],
        "{bad}"
    );
    app.post("/api/v1/major-sources")
        .token(&park.contact_a)
        .json(&body("320500001", 100.0))
        .send()
        .await
        .expect(422);
    // Another enterprise's contact does not see it; nobody types its
    // register level in.
    app.get(&format!("/api/v1/major-sources/{id}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);
    let forged = app
        .post("/api/v1/risk-events")
        .token(&park.contact_a)
        .json(&json!({"unit_id": source["unit_id"], "name": "x", "assessment": {"method": "major_source", "grade": 1, "r_centi": 20000}}))
        .send()
        .await
        .expect(422)
        .json;
    assert_eq!(codes(&forged)[0].1, "registry_only", "{forged}");

    // Persons: the principal without an account, the operations person
    // with one (contact A); the technical person is missing.
    let me = id_of(
        &app.get("/api/v1/auth/me")
            .token(&park.contact_a)
            .send()
            .await
            .expect(200)
            .json,
    );
    let persons = format!("/api/v1/major-sources/{id}/persons");
    let principal = created(
        &app,
        &park.contact_a,
        &persons,
        json!({"kind": "principal", "name": "张总", "post": "总经理", "phone": "0512-66880001"}),
    )
    .await;
    created(&app, &park.contact_a, &persons, json!({"kind": "operational", "name": "李班长", "post": "储运班长", "phone": "13800000001", "user_id": me})).await;
    let refused = app
        .post(&persons)
        .token(&park.contact_a)
        .json(&json!({"kind": "technical", "name": "王工", "post": "技术部长", "phone": "138", "user_id": uuid::Uuid::new_v4()}))
        .send()
        .await
        .expect(422)
        .json;
    assert_eq!(
        codes(&refused),
        vec![("phone".into(), "not_phone".into())],
        "a bad phone is named before the account is looked up"
    );
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
        .find(|d| d["enterprise_id"] == json!(park.enterprise_a))
        .expect("listed");
    assert!(
        alpha["due"].to_string().contains("major_source_persons"),
        "{alpha}"
    );
    assert!(alpha["review_reasons"].to_string().contains("技术负责人"));
    assert!(
        alpha["due"].to_string().contains("major_source_drill"),
        "no drill recorded: due today: {alpha}"
    );

    // Drills: one held a month ago; the next falls due a year after it.
    let drills = format!("/api/v1/major-sources/{id}/drills");
    let month_ago = crate::helpers::days_from_today(-30);
    created(
        &app,
        &park.contact_a,
        &drills,
        json!({"kind": "special_plan", "held_on": month_ago, "note": "液氨泄漏专项演练"}),
    )
    .await;
    app.post(&drills)
        .token(&park.contact_a)
        .json(&json!({"kind": "onsite_plan", "held_on": crate::helpers::days_from_today(2)}))
        .send()
        .await
        .expect(422);
    let drilled = app
        .get(&format!("/api/v1/major-sources/{id}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let special = &drilled["drills"][0];
    assert_eq!(special["kind"], "special_plan");
    assert_eq!(special["last_held_on"], json!(month_ago));
    let held: chrono::NaiveDate = month_ago.parse().unwrap();
    assert_eq!(
        special["next_due"],
        json!(held
            .checked_add_months(chrono::Months::new(12))
            .unwrap()
            .to_string())
    );
    assert!(drilled["drills"][1]["last_held_on"].is_null());

    // The operations person's weekly duty check is on their list; an
    // abnormal one names the failed duties and becomes a hazard.
    let duty = app
        .get("/api/v1/check-duties")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["task_name"].as_str().unwrap_or("").contains("操作负责人"))
        .cloned()
        .expect("on the duty list");
    let task = duty["task_id"].as_str().unwrap().to_owned();
    let records = format!("/api/v1/check-tasks/{task}/records");
    let hazard = json!({"location": "液氨罐区", "category": "unsafe_condition", "deadline": crate::helpers::days_from_today(10)});
    let no_items = app
        .post(&records)
        .token(&park.contact_a)
        .json(&json!({"occurrence": duty["occurrence"], "outcome": "abnormal", "hazard": hazard}))
        .send()
        .await
        .expect(422)
        .json;
    assert_eq!(codes(&no_items)[0].0, "failed_items");
    let record = created(&app, &park.contact_a, &records, json!({"occurrence": duty["occurrence"], "outcome": "abnormal", "failed_items": [2], "hazard": hazard})).await;
    let found = app
        .get(&format!(
            "/api/v1/hazards/{}",
            record["hazard_id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let description = found["description"].as_str().unwrap();
    assert!(
        description.contains("（二）对涉及重大危险源的特殊作业"),
        "{description}"
    );
    assert!(
        description.contains("液氨罐区（320500001）"),
        "{description}"
    );

    // The principal's duty has run weekly for two and a half weeks
    // (rewritten here, as time cannot be waited for): two missed, one due.
    let starts = local_in(-(17 * 24 + 12));
    let schedule = json!({"every": 7, "unit": "day", "starts": starts});
    reschedule(&app, &principal["task_id"], schedule).await;

    // The operations person is replaced: the history keeps both, the old
    // task's recorded check still counts, the new one's week is due.
    created(&app, &park.contact_a, &persons, json!({"kind": "operational", "name": "赵班长", "post": "储运班长", "phone": "13800000002"})).await;
    let after = app
        .get(&format!("/api/v1/major-sources/{id}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(after["history"].as_array().unwrap().len(), 3);
    assert_eq!(after["persons"][1]["name"], "赵班长");
    assert!(after["history"][1]["replaced_at"].is_string(), "{after}");
    assert_eq!(after["missing"], json!(["technical"]));
    assert_eq!(after["hazards"][0]["id"], record["hazard_id"], "{after}");
    assert_eq!(after["hazards"][0]["state"], "reported");
    // The hazard names where it comes from: the source, the duty task and
    // the failed duty measure; another enterprise's contact learns nothing.
    let origin_of = |hazard: &str, token: &str| {
        app.get(&format!("/api/v1/hazards/{hazard}/check-origin"))
            .token(token)
    };
    let hazard_id = record["hazard_id"].as_str().unwrap().to_owned();
    let origin = origin_of(&hazard_id, &park.supervisor)
        .send()
        .await
        .expect(200)
        .json["origin"]
        .clone();
    assert_eq!(origin["major_source"]["code"], "320500001", "{origin}");
    assert_eq!(origin["task"]["kind"], "duty_operational", "{origin}");
    assert_eq!(origin["record"]["failed_items"], json!([2]));
    assert_eq!(origin["unit"]["id"], source["unit_id"]);
    origin_of(&hazard_id, &park.contact_b)
        .send()
        .await
        .expect(404);

    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let from = today - Duration::days(20);
    let path = format!("/api/v1/analytics/major-sources?from={from}&to={today}");
    let figures = app.get(&path).token(&park.viewer).send().await.expect(200);
    let json = &figures.json;
    let kinds = &json["sources"][0]["kinds"];
    let counts = |k: usize| {
        let o = &kinds[k]["occurrences"];
        (
            o["planned"].as_u64().unwrap(),
            o["done_on_time"].as_u64().unwrap(),
            o["missed"].as_u64().unwrap(),
            o["due"].as_u64().unwrap(),
        )
    };
    // Principal: started 17½ days ago, weekly — but only the part of the
    // first week within the period counts if it started before `from`.
    let first_start = NaiveDateTime::parse_from_str(&starts, "%Y-%m-%dT%H:%M:%S").unwrap();
    assert!(first_start.date() >= from, "the period covers the duty");
    assert_eq!(counts(0), (3, 0, 2, 1), "{json}");
    assert_eq!(kinds[0]["occurrences"]["completion_rate"], json!(0.0));
    assert_eq!(counts(1), (0, 0, 0, 0), "no technical person, no checks");
    assert_eq!(counts(2), (2, 1, 0, 1), "{json}");
    assert_eq!(record["failed_items"], json!([2]));
    assert_eq!(kinds[2]["hazards_found"], 1);
    assert_eq!(kinds[2]["hazards_rectified"], 0);
    assert_eq!(json["sources"][0]["missing"], json!(["technical"]));
    assert_eq!(json["sources"][0]["behind"], json!(["principal"]));
    assert_eq!(json["park"]["sources_behind"], 1);
    assert_eq!(json["park"]["sources_by_grade"], json!([0, 0, 1, 0]));
    assert_eq!(json["park"]["kinds"][0]["occurrences"]["missed"], 2);
    assert!(
        !figures.text.contains("张总") && !figures.text.contains("13800000001"),
        "no person's name or phone in the figures"
    );
    let tag = figures.header("etag").unwrap().to_owned();
    app.get(&path)
        .token(&park.viewer)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect(304);
    let csv = app
        .get(&format!("{path}&format=csv"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    assert!(csv.contains("包保责任人类别"), "{csv}");
    assert!(csv.contains("主要负责人"), "{csv}");
    // Enterprise B's contact sees only its own: no source.
    let theirs = app
        .get(&path)
        .token(&park.contact_b)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(theirs["sources"], json!([]));
    // The viewer sees aggregates, not the registry with names and phones.
    app.get("/api/v1/major-sources")
        .token(&park.viewer)
        .send()
        .await
        .expect(403);

    // New inputs regrade the source and its duties' level; the change is an
    // event of the enterprise.
    let regraded = app
        .call(
            awc::http::Method::PUT,
            &format!("/api/v1/major-sources/{id}/inputs"),
        )
        .token(&park.contact_a)
        .json(&json!({"alpha": 2.0, "chemicals": [ammonia(300.0)]}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(regraded["grade"], 1);
    assert_eq!(regraded["risk_level"]["level"], "major");
    assert_eq!(regraded["assessed_on"], "2024-03-01");
    let events = app
        .get(&format!("/api/v1/enterprises/{}/events", park.enterprise_a))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    for action in [
        "major_source_registered",
        "major_source_person_appointed",
        "major_source_inputs_changed",
    ] {
        assert!(events.contains(action), "{action}: {events}");
    }

    // The yearly report carries the mechanism's figures and the sources'.
    let year = chrono::Datelike::year(&today);
    let report = app
        .get(&format!("/api/v1/reports/yearly/{year}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let dual = &report["dual_prevention"];
    assert_eq!(dual["major_sources"], 1, "{dual}");
    assert_eq!(dual["sources_by_grade"], json!([1, 0, 0, 0]));
    assert_eq!(dual["sources_missing_persons"], 1);
    assert_eq!(dual["duties"][2]["hazards_found"], 1, "{dual}");
    let md = app
        .get(&format!("/api/v1/reports/yearly/{year}?format=md"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    assert!(md.contains("## 双重预防机制运行"), "{md}");
    assert!(md.contains("重大危险源 1 处（一级 1 处"), "{md}");
    assert!(md.contains("尚有 1 处重大危险源包保责任人未配齐"), "{md}");
    let past = app
        .get(&format!("/api/v1/reports/yearly/{year}?as_of={today}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert!(
        past["dual_prevention"].is_null(),
        "as of a day: hazards only"
    );

    // The Art. 14 filings carry the figures: as prepared for this quarter,
    // and frozen in a version filed for the last one.
    let quarter = (chrono::Datelike::month(&today) - 1) / 3 + 1;
    let filings = |year: i32, quarter: u32| {
        app.get(&format!(
            "/api/v1/filings?year={year}&quarter={quarter}&enterprise_id={}",
            park.enterprise_a
        ))
        .token(&park.contact_a)
    };
    let now = filings(year, quarter).send().await.expect(200).json;
    let prepared = &now["items"][0]["figures"]["major_sources"];
    assert_eq!(prepared["sources"], 1, "{now}");
    assert_eq!(prepared["kinds"][2]["hazards_found"], 1, "{prepared}");
    assert_eq!(prepared["sources_missing_persons"], 1, "{prepared}");
    // And the check tasks' (the duty checks run on the register's engine).
    let checks = &now["items"][0]["figures"]["checks"];
    assert!(checks["tasks"].as_u64() >= Some(1), "{checks}");
    assert_eq!(checks["hazards_from_tasks"], 1, "{checks}");
    assert_eq!(
        checks["units_by_level"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum::<u64>(),
        1,
        "the source's unit: {checks}"
    );
    let (last_year, last_quarter) = if quarter == 1 {
        (year - 1, 4)
    } else {
        (year, quarter - 1)
    };
    // The enterprise registered a year ago (rewritten): it owes that filing.
    let enterprise = park.enterprise_a.to_string();
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use hazard_tracker::db::schema::enterprises;
            let year_ago = chrono::Utc::now().naive_utc() - Duration::days(400);
            diesel::update(enterprises::table.filter(enterprises::id.eq(enterprise)))
                .set(enterprises::created_at.eq(year_ago))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let before = filings(last_year, last_quarter)
        .send()
        .await
        .expect(200)
        .json;
    let filing = before["items"][0]["id"].as_str().unwrap().to_owned();
    let filed = app
        .post(&format!("/api/v1/filings/{filing}/file"))
        .token(&park.contact_a)
        .json(&json!({"principal_name": "王总"}))
        .send()
        .await
        .expect(201)
        .json;
    let frozen = &filed["figures"]["major_sources"];
    assert_eq!(frozen["sources"], 1, "{filed}");
    assert_eq!(frozen["kinds"][2]["occurrences"]["planned"], 0, "{frozen}");
    assert_eq!(
        filed["figures"]["checks"]["occurrences"]["planned"], 0,
        "{filed}"
    );
    let other = app
        .get(&format!("/api/v1/filings?year={year}&quarter={quarter}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect(200)
        .json;
    assert!(
        other["items"][0]["figures"].get("major_sources").is_none(),
        "an enterprise without sources files none: {other}"
    );
    assert!(
        other["items"][0]["figures"].get("checks").is_none(),
        "nor check figures without a register: {other}"
    );

    // The placard names the persons in office and the one not appointed.
    let placard = app
        .get(&format!("/api/v1/major-sources/{id}/placard"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .text;
    assert!(placard.contains("重大危险源安全包保责任公示牌"));
    assert!(placard.contains("张总") && placard.contains("赵班长"));
    assert!(placard.contains("未明确"));
    assert!(placard.contains("一级"));
}

/// A duty check missed mails its person and the enterprise's contacts
/// (rule `duty_missed`); one missed after another missed also the park's
/// supervisors (`duty_missed_twice`); the general `check_missed` rule
/// leaves duty checks to these two. The scanner looks back two days.
async fn a_missed_duty_check_mails_the_person_and_two_in_a_row_the_supervisors(app: TestApp) {
    let park = app.park().await;
    let person = app.add_user(
        "duty.person@alpha.example.cn",
        "enterprise",
        Some(park.enterprise_a),
    );
    let source = created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        json!({
            "enterprise_id": park.enterprise_a,
            "code": "320500009",
            "name": "甲醇罐区",
            "unit_kind": "storage",
            "alpha": 1.0,
            "chemicals": [{"name": "甲醇", "quantity_t": 1000.0, "critical_t": 500.0, "beta": 1.0}],
        }),
    )
    .await;
    let appointed = created(
        &app,
        &park.contact_a,
        &format!("/api/v1/major-sources/{}/persons", id_of(&source)),
        json!({"kind": "operational", "name": "钱班长", "post": "班长", "phone": "13900000000", "user_id": person}),
    )
    .await;
    // Daily for three days and a quarter (rewritten, as time cannot be
    // waited for): occurrences 1 and 2 fell due unrecorded within the last
    // two days, each after one missed before it.
    let schedule = json!({"every": 1, "unit": "day", "starts": local_in(-3 * 24 - 6)});
    reschedule(&app, &appointed["task_id"], schedule).await;
    let scan = || {
        let escalation = app.state.escalation.clone();
        let at = chrono::Utc::now().naive_utc();
        app.state.db.run(move |conn| escalation.scan(conn, at))
    };
    // Four duty mails, and the reminders of the two drills never held
    // (due since the source was registered today).
    assert_eq!(scan().await.unwrap(), 6);
    assert_eq!(scan().await.unwrap(), 0, "each once");
    let mails: Vec<Value> = app
        .get("/api/v1/notifications?limit=500")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone();
    let of = |rule: &str| -> Vec<String> {
        mails
            .iter()
            .filter(|n| n["rule"] == rule)
            .map(|n| n.to_string())
            .collect()
    };
    assert!(
        of("check_missed").is_empty(),
        "duty checks have their own rules"
    );
    let once = of("duty_missed");
    assert_eq!(once.len(), 2, "{mails:?}");
    for mail in &once {
        assert!(mail.contains("duty.person@alpha.example.cn"), "{mail}");
        assert!(mail.contains("contact@alpha.example.cn"), "{mail}");
        assert!(mail.contains("甲醇罐区·操作负责人包保履职排查"), "{mail}");
    }
    assert_eq!(of("major_source_due_reminder").len(), 2, "{mails:?}");
    let twice = of("duty_missed_twice");
    assert_eq!(twice.len(), 2, "{mails:?}");
    assert!(twice[0].contains("supervisor@"), "{}", twice[0]);
    assert!(!twice[0].contains("duty.person@"), "{}", twice[0]);
}

/// The mails of one rule, as the outbox lists them.
async fn mails_of(app: &TestApp, token: &str, rule: &str) -> Vec<String> {
    app.get("/api/v1/notifications?limit=500")
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["rule"] == rule)
        .map(|n| n.to_string())
        .collect()
}

/// A safety assessment is recorded with its report as a file; the next
/// falls due three years on, or soon after a change of inputs that moves
/// R (Art. 11 of the 暂行规定), and 90 days after registering a source
/// never assessed. Assessments and drills are reminded before their day
/// and, once it has passed, the supervisors are told too.
async fn a_sources_assessment_report_is_kept_and_its_due_days_are_mailed(app: TestApp) {
    use crate::helpers::days_from_today;
    use crate::helpers::evidence::{download_from, pdf, upload_to, Part};
    let park = app.park().await;
    let chemicals =
        |q: f64| json!([{"name": "甲醇", "quantity_t": q, "critical_t": 500.0, "beta": 1.0}]);
    let source = created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        json!({
            "enterprise_id": park.enterprise_a,
            "code": "320500021",
            "name": "甲醇储罐区",
            "unit_kind": "storage",
            "alpha": 1.0,
            "chemicals": chemicals(1000.0),
        }),
    )
    .await;
    let id = id_of(&source);
    assert_eq!(source["assessment_cause"], "never_assessed");
    assert_eq!(source["next_assessment_due"], json!(days_from_today(90)));
    assert_eq!(source["drills"][0]["next_due"], json!(days_from_today(0)));
    assert_eq!(source["drills"][0]["due"], true);

    let scan = || {
        let escalation = app.state.escalation.clone();
        let at = chrono::Utc::now().naive_utc();
        app.state.db.run(move |conn| escalation.scan(conn, at))
    };
    assert_eq!(scan().await.unwrap(), 2, "the two drills never held");
    assert_eq!(scan().await.unwrap(), 0, "each once");
    let reminders = mails_of(&app, &park.admin, "major_source_due_reminder").await;
    assert!(
        reminders.iter().any(|m| m.contains("专项应急预案演练")
            && m.contains("甲醇储罐区")
            && m.contains("contact@alpha.example.cn")),
        "{reminders:?}"
    );

    // The report: refused in the future, without its day, to others.
    let path = format!("/api/v1/major-sources/{id}/assessments");
    let report = pdf(7);
    let form = |day: &str| {
        vec![
            Part::file(
                "重大危险源安全评估报告.pdf",
                "application/pdf",
                report.clone(),
            ),
            Part::text("assessed_on", day),
            Part::text("caption", "某某安全评价有限公司 2026-118号"),
        ]
    };
    let future = upload_to(&app, &park.contact_a, &path, &form(&days_from_today(3)))
        .await
        .expect(422)
        .json;
    assert_eq!(
        codes(&future),
        vec![("assessed_on".into(), "date_in_future".into())]
    );
    let without = upload_to(
        &app,
        &park.contact_a,
        &path,
        &[Part::file("r.pdf", "application/pdf", report.clone())],
    )
    .await
    .expect(422)
    .json;
    assert_eq!(
        codes(&without),
        vec![("assessed_on".into(), "required".into())]
    );
    upload_to(&app, &park.contact_b, &path, &form(&days_from_today(-10)))
        .await
        .expect(404);
    let assessed_on = days_from_today(-10);
    let stored = upload_to(&app, &park.contact_a, &path, &form(&assessed_on))
        .await
        .expect(201)
        .json;
    assert_eq!(stored["content_type"], "application/pdf");
    assert_eq!(stored["assessed_on"], json!(assessed_on));

    let read = app
        .get(&format!("/api/v1/major-sources/{id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let day: chrono::NaiveDate = assessed_on.parse().unwrap();
    assert_eq!(read["assessed_on"], json!(assessed_on));
    assert_eq!(read["assessment_cause"], "periodic");
    assert_eq!(
        read["next_assessment_due"],
        json!(day
            .checked_add_months(chrono::Months::new(36))
            .unwrap()
            .to_string())
    );
    assert_eq!(read["assessments"][0]["id"], stored["id"]);
    let url = read["assessments"][0]["download_url"].as_str().unwrap();
    let file = download_from(&app, &park.supervisor, url, None).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.bytes, report);
    assert_eq!(
        download_from(&app, &park.contact_b, url, None).await.status,
        404
    );
    let events = app
        .get(&format!("/api/v1/enterprises/{}/events", park.enterprise_a))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    assert!(events.contains("major_source_assessed"), "{events}");

    // More methanol moves R: a new assessment falls due within 90 days.
    let changed = app
        .call(
            awc::http::Method::PUT,
            &format!("/api/v1/major-sources/{id}/inputs"),
        )
        .token(&park.contact_a)
        .json(&json!({"alpha": 1.0, "chemicals": chemicals(1500.0)}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(changed["assessment_cause"], "inputs_changed");
    assert_eq!(changed["next_assessment_due"], json!(days_from_today(90)));
    // Inputs that come from an assessment (its day given) are covered by it.
    let assessed = app
        .call(
            awc::http::Method::PUT,
            &format!("/api/v1/major-sources/{id}/inputs"),
        )
        .token(&park.contact_a)
        .json(&json!({"alpha": 1.0, "chemicals": chemicals(1200.0), "assessed_on": days_from_today(-2)}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(assessed["assessment_cause"], "periodic", "{assessed}");
    // Then more methanol again, with no assessment: due within 90 days.
    app.call(
        awc::http::Method::PUT,
        &format!("/api/v1/major-sources/{id}/inputs"),
    )
    .token(&park.contact_a)
    .json(&json!({"alpha": 1.0, "chemicals": chemicals(1500.0)}))
    .send()
    .await
    .expect(200);

    // A special-plan drill last held thirteen months ago is a month late:
    // the supervisors are told.
    created(
        &app,
        &park.contact_a,
        &format!("/api/v1/major-sources/{id}/drills"),
        json!({"kind": "special_plan", "held_on": days_from_today(-396)}),
    )
    .await;
    assert_eq!(scan().await.unwrap(), 1);
    let overdue = mails_of(&app, &park.admin, "major_source_overdue").await;
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert!(overdue[0].contains("专项应急预案演练"), "{}", overdue[0]);
    assert!(overdue[0].contains("supervisor@"), "{}", overdue[0]);
}
