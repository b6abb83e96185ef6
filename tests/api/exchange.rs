//! The province's exchange documents, through HTTP on both backends: each
//! table of the register, tasks, records and hazards in the interface's
//! field names and codes; read along the change feed, a cursor taken
//! brings only what changed since, a retirement marks everything below
//! the node deleted; pages; and an enterprise contact gets its own only.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{days_from_today, id_of, TestApp};
use crate::risk::{created, local_in, measure_of};

backend_tests!(the_register_records_and_hazards_go_out_in_the_interfaces_terms);

async fn document(app: &TestApp, token: &str, table: &str, query: &str) -> Value {
    app.get(&format!("/api/v1/exchange/{table}?{query}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

/// The rows of `doc` with `field` equal to `value`.
fn rows_with<'a>(doc: &'a Value, field: &str, value: &str) -> Vec<&'a Value> {
    doc["datas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row[field] == value)
        .collect()
}

fn is_time(text: &Value) -> bool {
    let text = text.as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").is_ok()
}

async fn the_register_records_and_hazards_go_out_in_the_interfaces_terms(app: TestApp) {
    let park = app.park().await;
    let contact = &park.contact_a;
    let (measure, unit) = measure_of(
        &app,
        contact,
        park.enterprise_a,
        json!({"method": "ls", "l": 5, "s": 5}),
    )
    .await;
    let task = id_of(
        &created(
            &app,
            contact,
            "/api/v1/check-tasks",
            json!({
                "measure_id": measure,
                "kind": "post_check",
                "assignee_role": "enterprise",
                "schedule": {"every": 1, "unit": "day", "starts": local_in(-2 * 24 - 6)},
            }),
        )
        .await,
    );
    let records = format!("/api/v1/check-tasks/{task}/records");
    let normal = created(
        &app,
        contact,
        &records,
        json!({"occurrence": 0, "outcome": "normal"}),
    )
    .await;
    let abnormal = created(
        &app,
        contact,
        &records,
        json!({
            "occurrence": 1,
            "outcome": "abnormal",
            "hazard": {"location": "1号罐区", "category": "unsafe_condition", "deadline": days_from_today(7)},
        }),
    )
    .await;
    let credit = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(contact)
        .send()
        .await
        .expect(200)
        .json["credit_code"]
        .as_str()
        .unwrap()
        .to_owned();

    // The unit, as the interface names it.
    let units = document(&app, contact, "risk_unit", "").await;
    assert_eq!(units["table_name"], "sec_security_risk_unit");
    let row = rows_with(&units, "id", &unit)[0];
    assert_eq!(row["riskUnitName"], "甲醇储罐");
    assert_eq!(row["hazardDep"], "储运部");
    assert_eq!(row["hazardLiablePerson"], "王工");
    assert_eq!(row["riskClass"], 1, "L 5 × S 5 is 重大: {row}");
    assert_eq!(row["deleted"], 0);
    assert_eq!(row["companyCode"], credit[8..17]);
    assert_eq!(row["tyshxydm"], credit);
    assert!(is_time(&row["createDate"]), "{row}");

    let events = document(&app, contact, "risk_event", "").await;
    let event = rows_with(&events, "riskUnitId", &unit)[0].clone();
    assert_eq!(event["riskEventName"], "储罐泄漏引发火灾");
    assert_eq!(event["riskClass"], 1);

    let measures = document(&app, contact, "control_measure", "").await;
    let row = rows_with(&measures, "id", &measure)[0];
    assert_eq!(row["riskEventId"], event["id"]);
    assert_eq!(
        (row["classify1"].clone(), row["classify2"].clone()),
        (json!(1), json!("1-4"))
    );
    assert_eq!(row["dataSrc"], 2);
    assert_eq!(row["troubleshootContent"], "报警器投用正常，校验在有效期内");

    let tasks = document(&app, contact, "check_task", "").await;
    let row = rows_with(&tasks, "id", &task)[0];
    assert_eq!(row["riskMeasureId"], measure.as_str());
    assert_eq!(row["checkCycle"], 1);
    assert_eq!(row["checkCycleUnit"], "天");
    assert_eq!(row["workDayType"], 0);
    assert_eq!(row["workType"], 0);
    assert!(is_time(&row["taskStartTime"]), "{row}");

    // A unit's stop (停用/检修) goes as a stop record.
    let from = local_in(24);
    created(
        &app,
        contact,
        &format!("/api/v1/risk-units/{unit}/pauses"),
        json!({"from": from, "reason": "停车检修"}),
    )
    .await;
    let stops = document(&app, contact, "stop_record", "").await;
    assert_eq!(stops["table_name"], "sec_deactivated_maintenance_record");
    let row = rows_with(&stops, "riskUnitId", &unit)[0];
    assert_eq!(row["stopReason"], "停车检修");
    assert_eq!(row["stopEndTime"], Value::Null, "still down: {row}");
    assert_eq!(
        row["stopStartTime"],
        from.replace('T', " "),
        "park-local, in the interface's form"
    );

    // The records, a page at a time.
    let first = document(&app, contact, "check_record", "limit=1").await;
    assert_eq!(first["datas"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["more"], true);
    let cursor = first["cursor"].as_str().unwrap();
    let second = document(
        &app,
        contact,
        "check_record",
        &format!("limit=1&after={cursor}"),
    )
    .await;
    let statuses: Vec<(Value, Value)> = [&first, &second]
        .iter()
        .map(|doc| {
            (
                doc["datas"][0]["id"].clone(),
                doc["datas"][0]["checkStatus"].clone(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (normal["id"].clone(), json!(0)),
            (abnormal["id"].clone(), json!(1))
        ]
    );
    assert_eq!(second["datas"][0]["checkTaskId"], task.as_str());
    assert!(is_time(&second["datas"][0]["checkTime"]));

    // The hazard the abnormal record raised, bound to its measure.
    let hazards = document(&app, contact, "hazard", "limit=500").await;
    let row = rows_with(&hazards, "checkRecordId", abnormal["id"].as_str().unwrap())[0];
    assert_eq!(row["id"], abnormal["hazard_id"]);
    assert_eq!(row["riskMeasureId"], measure.as_str());
    assert_eq!(row["dangerSrc"], 1, "a task's finding is 日常排查");
    assert_eq!(row["dangerLevel"], 0);
    assert_eq!(row["dangerState"], 0);
    assert_eq!(row["dangerManageType"], 1);
    assert_eq!(row["managementClassification"], 2);
    assert_eq!(row["hazardCategory"], 0);
    assert!(
        row["registrant"].as_str().is_some_and(|n| !n.is_empty()),
        "{row}"
    );
    assert!(is_time(&row["dangerManageDeadline"]));
    assert_eq!(row["checkAcceptPerson"], Value::Null);

    // Rectified and accepted: the next document brings it back, 已验收,
    // with who accepted it and when.
    let hazard = abnormal["hazard_id"].as_str().unwrap();
    for (step, token, body) in [
        (
            "plan",
            contact,
            json!({"measures": "更换报警器", "responsible_person": "李四", "funds": 1200.5}),
        ),
        ("submit", contact, json!({"notes": "已更换"})),
        ("accept", &park.expert, json!({"notes": "现场验收合格"})),
    ] {
        app.post(&format!("/api/v1/hazards/{hazard}/{step}"))
            .token(token)
            .json(&body)
            .send()
            .await
            .expect(200);
    }
    let cursor = hazards["cursor"].as_str().unwrap();
    let changed = document(&app, contact, "hazard", &format!("after={cursor}")).await;
    let rows = changed["datas"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "three steps of one hazard, sent once: {changed}"
    );
    assert_eq!(rows[0]["dangerState"], 9);
    assert_eq!(rows[0]["controlMeasures"], "更换报警器");
    assert_eq!(rows[0]["liablePerson"], "李四");
    assert_eq!(rows[0]["cost"], 1200.5);
    assert!(rows[0]["checkAcceptPerson"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
    assert!(is_time(&rows[0]["checkAcceptTime"]));

    // Taken up to now, nothing more; a unit retired brings its event,
    // measure and task back, deleted.
    let cursors: Vec<(&str, String)> = [
        ("risk_event", &events),
        ("control_measure", &measures),
        ("check_task", &tasks),
    ]
    .into_iter()
    .map(|(table, doc)| (table, doc["cursor"].as_str().unwrap().to_owned()))
    .collect();
    for (table, cursor) in &cursors {
        let again = document(&app, contact, table, &format!("after={cursor}")).await;
        assert_eq!(again["datas"], json!([]), "{table}: {again}");
        assert_eq!(again["cursor"], cursor.as_str());
        assert_eq!(again["more"], false);
    }
    app.post(&format!("/api/v1/risk-units/{unit}/retire"))
        .token(contact)
        .json(&json!({"reason": "装置拆除"}))
        .send()
        .await
        .expect(200);
    for (table, cursor) in &cursors {
        let changed = document(&app, contact, table, &format!("after={cursor}")).await;
        let rows = changed["datas"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{table}: {changed}");
        assert_eq!(rows[0]["deleted"], 1, "{table}: {changed}");
    }

    // Another enterprise's contact sees none of it and may not ask.
    let theirs = document(&app, &park.contact_b, "risk_unit", "").await;
    assert!(rows_with(&theirs, "id", &unit).is_empty(), "{theirs}");
    app.get(&format!(
        "/api/v1/exchange/risk_unit?enterprise_id={}",
        park.enterprise_a
    ))
    .token(&park.contact_b)
    .send()
    .await
    .expect(404);
    // The park sees every enterprise's.
    let park_wide = document(&app, &park.supervisor, "risk_unit", "limit=500").await;
    assert_eq!(rows_with(&park_wide, "id", &unit).len(), 1);

    app.get("/api/v1/exchange/nothing_such")
        .token(contact)
        .send()
        .await
        .expect(404);
    app.get("/api/v1/exchange/hazard?limit=0")
        .token(contact)
        .send()
        .await
        .expect(422);
}
