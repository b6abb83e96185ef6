//! Dashboard stats and the yearly and quarterly reports (PRODUCT.md §6),
//! checked figure by figure on a hand-built park whose every number is
//! known, and on the demo park that reproduces the published 2024 figures.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{Park, TestApp};

backend_tests!(
    yearly_and_quarterly_figures,
    report_formats,
    as_of_reads_the_history,
    dashboard_overview_and_polling,
    demo_park_reproduces_2024,
    exports_are_inert,
    heavy_work_is_bounded,
);

/// A hand-built park (see the module notes in each step).
struct Known {
    park: Park,
    h3: String,
    h7: String,
}

fn at(day: &str) -> String {
    // 10:00 in the park (UTC+8).
    format!("{day}T02:00:00Z")
}

async fn hazard(app: &TestApp, token: &str, body: Value) -> String {
    app.report(token, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn body(
    enterprise: Uuid,
    source: &str,
    level: &str,
    category: &str,
    specialty: Option<&str>,
    found: &str,
    deadline: &str,
) -> Value {
    let mut body = json!({
        "enterprise_id": enterprise,
        "source": source,
        "title": "测试隐患",
        "description": "用于核对报表的数据",
        "location": "1号装置区",
        "category": category,
        "specialty": specialty,
        "level": level,
        "found_at": at(found),
        "deadline": deadline,
    });
    if level == "major" {
        body["major_basis_code"] = json!(5);
    }
    body
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, day: &str, extra: Value) {
    let mut payload = extra;
    payload["occurred_at"] = json!(at(day));
    app.post(&format!("/api/v1/hazards/{id}/{action}"))
        .token(token)
        .json(&payload)
        .send()
        .await
        .expect(200);
}

async fn attach_after(app: &TestApp, token: &str, id: &str) {
    let boundary = "----ht-report-test";
    let mut jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 2, 3,
    ];
    jpeg.extend([0xFF, 0xD9]);
    let mut data = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"phase\"\r\n\r\nafter\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"after.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    data.extend(jpeg);
    data.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    app.post(&format!("/api/v1/hazards/{id}/attachments"))
        .token(token)
        .raw(&format!("multipart/form-data; boundary={boundary}"), data)
        .send()
        .await
        .expect(201);
}

async fn known_park(app: &TestApp) -> Known {
    let park = app.park().await;
    let (a, b) = (park.enterprise_a, park.enterprise_b);
    let (expert, supervisor) = (park.expert.clone(), park.supervisor.clone());
    let plan = json!({"measures": "整改", "responsible_person": "张工"});

    // A, H1: closed on time in March.
    let h1 = hazard(
        app,
        &expert,
        body(
            a,
            "resident_expert",
            "general",
            "unsafe_condition",
            Some("electrical"),
            "2025-03-10",
            "2025-03-20",
        ),
    )
    .await;
    act(app, &expert, &h1, "plan", "2025-03-11", plan.clone()).await;
    act(app, &expert, &h1, "submit", "2025-03-15", json!({})).await;
    act(app, &expert, &h1, "accept", "2025-03-16", json!({})).await;
    // A, H2: a self-check, closed late (entered from the paper ledger by
    // the resident expert: an enterprise cannot date its own steps back).
    let h2 = hazard(
        app,
        &expert,
        body(
            a,
            "self_check",
            "general",
            "management_defect",
            None,
            "2025-03-20",
            "2025-03-25",
        ),
    )
    .await;
    act(app, &expert, &h2, "plan", "2025-03-21", plan.clone()).await;
    act(app, &expert, &h2, "submit", "2025-03-28", json!({})).await;
    act(app, &expert, &h2, "accept", "2025-03-29", json!({})).await;
    // A, H3: a major hazard still being rectified (and overdue).
    let h3 = hazard(
        app,
        &expert,
        body(
            a,
            "national_expert",
            "major",
            "unsafe_condition",
            Some("process"),
            "2025-05-05",
            "2025-07-05",
        ),
    )
    .await;
    let mut full = crate::helpers::full_plan();
    full["deadline"] = json!("2025-07-05");
    act(app, &expert, &h3, "plan", "2025-05-06", full.clone()).await;
    // A, H4: voided.
    let h4 = hazard(
        app,
        &expert,
        body(
            a,
            "park_supervision",
            "general",
            "unsafe_behavior",
            Some("fire"),
            "2025-06-01",
            "2025-06-10",
        ),
    )
    .await;
    act(
        app,
        &supervisor,
        &h4,
        "void",
        "2025-06-02",
        json!({"reason": "重复登记"}),
    )
    .await;
    // B, H5: found by A in a mutual check, accepted in December, submitted on time.
    let mut h5_body = body(
        b,
        "mutual_check",
        "general",
        "unsafe_condition",
        Some("equipment"),
        "2025-11-15",
        "2025-11-30",
    );
    h5_body["checking_enterprise_id"] = json!(a);
    let h5 = hazard(app, &expert, h5_body).await;
    act(app, &expert, &h5, "plan", "2025-11-16", plan.clone()).await;
    act(app, &expert, &h5, "submit", "2025-11-20", json!({})).await;
    act(app, &expert, &h5, "accept", "2025-12-02", json!({})).await;
    // B, H6: a major hazard closed on time by the supervisor.
    let h6 = hazard(
        app,
        &expert,
        body(
            b,
            "resident_expert",
            "major",
            "unsafe_condition",
            Some("hazmat_storage"),
            "2025-08-10",
            "2025-10-10",
        ),
    )
    .await;
    full["deadline"] = json!("2025-10-10");
    act(app, &expert, &h6, "plan", "2025-08-11", full).await;
    attach_after(app, &expert, &h6).await;
    act(app, &expert, &h6, "submit", "2025-09-30", json!({})).await;
    act(app, &supervisor, &h6, "accept", "2025-10-02", json!({})).await;
    // B, H7: found at the end of 2024, never planned (overdue).
    let h7 = hazard(
        app,
        &expert,
        body(
            b,
            "resident_expert",
            "general",
            "unsafe_condition",
            None,
            "2024-12-31",
            "2025-01-05",
        ),
    )
    .await;

    for (source, enterprise, day) in [
        ("resident_expert", a, "2025-03-10"),
        ("resident_expert", b, "2025-08-10"),
        ("park_supervision", a, "2025-06-01"),
        ("self_check", a, "2025-03-20"),
        ("resident_expert", b, "2024-12-31"),
    ] {
        app.post("/api/v1/inspections")
            .token(&expert)
            .json(&json!({"source": source, "enterprise_id": enterprise, "inspected_on": day}))
            .send()
            .await
            .expect(201);
    }
    for (enterprise, score, day) in [
        (a, 92.0, "2025-02-01"),
        (b, 70.0, "2025-04-01"),
        (b, 95.0, "2026-01-10"),
    ] {
        app.post(&format!("/api/v1/enterprises/{enterprise}/assessments"))
            .token(&supervisor)
            .json(&json!({"score": score, "assessed_on": day}))
            .send()
            .await
            .expect(201);
    }
    Known { park, h3, h7 }
}

fn slice<'a>(report: &'a Value, table: &str, key: &str) -> &'a Value {
    report[table]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("{table}.{key} missing"))
}

fn found(report: &Value, table: &str, key: &str) -> i64 {
    slice(report, table, key)["found"].as_i64().unwrap()
}

async fn yearly_and_quarterly_figures(app: TestApp) {
    let known = known_park(&app).await;
    let report = app
        .get("/api/v1/reports/yearly/2025")
        .token(&known.park.viewer)
        .send()
        .await
        .expect(200)
        .json;
    let headline: Vec<i64> = [
        "found",
        "closed",
        "closed_on_time",
        "still_open",
        "voided",
        "major_found",
        "major_closed",
    ]
    .iter()
    .map(|k| report[k].as_i64().unwrap())
    .collect();
    assert_eq!(headline, vec![5, 4, 3, 1, 1, 2, 1], "{report:#}");
    assert_eq!(report["rectification_rate"], 80.0);
    for (source, n) in [
        ("self_check", 1),
        ("mutual_check", 1),
        ("resident_expert", 2),
        ("national_expert", 1),
        ("park_supervision", 0),
    ] {
        assert_eq!(found(&report, "by_source", source), n, "{source}");
    }
    assert_eq!(
        (
            found(&report, "by_level", "general"),
            found(&report, "by_level", "major")
        ),
        (3, 2)
    );
    assert_eq!(found(&report, "by_category", "unsafe_condition"), 4);
    assert_eq!(found(&report, "by_category", "management_defect"), 1);
    assert_eq!(found(&report, "by_category", "unsafe_behavior"), 0);
    assert_eq!(found(&report, "by_specialty", "unspecified"), 1);
    assert_eq!(found(&report, "by_specialty", "electrical"), 1);
    let months: Vec<i64> = report["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["found"].as_i64().unwrap())
        .collect();
    assert_eq!(months, vec![0, 0, 2, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
    let a = slice(
        &report,
        "by_enterprise",
        &known.park.enterprise_a.to_string(),
    );
    assert_eq!(
        (
            a["found"].as_i64(),
            a["closed"].as_i64(),
            a["open"].as_i64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(a["label"], "Alpha Chemicals");
    let inspections: Vec<(String, i64)> = report["inspections_by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["source"].as_str().unwrap().to_owned(),
                i["inspections"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        inspections.contains(&("resident_expert".into(), 2)),
        "{inspections:?}"
    );
    assert!(
        inspections.contains(&("park_supervision".into(), 1))
            && inspections.contains(&("self_check".into(), 1))
    );
    assert_eq!(report["enterprises_by_grade"]["blue"], 1);
    assert_eq!(
        report["enterprises_by_grade"]["orange"], 1,
        "B was orange at the end of 2025"
    );
    assert_eq!(report["grades_on"], "2025-12-31");

    let q1 = app
        .get("/api/v1/reports/quarterly/2025/1")
        .token(&known.park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        (
            q1["found"].as_i64(),
            q1["closed"].as_i64(),
            q1["closed_on_time"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(q1["by_month"].as_array().unwrap().len(), 3);
    assert_eq!(q1["enterprises_by_grade"]["blue"], 1);
    assert_eq!(
        q1["enterprises_by_grade"]["orange"], 0,
        "B was assessed only in April"
    );
    let q2 = app
        .get("/api/v1/reports/quarterly/2025/2")
        .token(&known.park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        (
            q2["found"].as_i64(),
            q2["voided"].as_i64(),
            q2["still_open"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let y2024 = app
        .get("/api/v1/reports/yearly/2024")
        .token(&known.park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(y2024["found"], 1);

    app.get("/api/v1/reports/quarterly/2025/5")
        .token(&known.park.admin)
        .send()
        .await
        .expect_problem(422);
    app.get("/api/v1/reports/yearly/1999")
        .token(&known.park.admin)
        .send()
        .await
        .expect_problem(422);
    for token in [&known.park.expert, &known.park.contact_a] {
        app.get("/api/v1/reports/yearly/2025")
            .token(token)
            .send()
            .await
            .expect_problem(403);
    }
}

async fn report_formats(app: TestApp) {
    let known = known_park(&app).await;
    let get = |format: &'static str| {
        let app = &app;
        let token = known.park.viewer.clone();
        async move {
            app.get(&format!("/api/v1/reports/yearly/2025?format={format}"))
                .token(&token)
                .send()
                .await
                .expect(200)
        }
    };

    let csv_reply = get("csv").await;
    assert!(csv_reply
        .header("content-type")
        .unwrap()
        .starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv_reply.text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let value = |table: &str, key: &str| -> String {
        rows.iter()
            .find(|r| &r[0] == table && &r[1] == key)
            .map(|r| r[3].to_owned())
            .unwrap()
    };
    assert_eq!(value("summary", "found"), "5");
    assert_eq!(value("summary", "closed"), "4");
    assert_eq!(value("summary", "rectification_rate"), "80.00");
    assert_eq!(value("by_source", "resident_expert"), "2");
    assert_eq!(value("by_month", "3"), "2");
    assert_eq!(value("enterprises_by_grade", "orange"), "1");
    assert_eq!(value("inspections_by_source", "resident_expert"), "2");

    let xlsx = get("xlsx").await;
    assert!(xlsx
        .header("content-disposition")
        .unwrap()
        .contains("hazards-2025.xlsx"));
    let bytes = {
        let reply = app
            .client
            .get(format!(
                "{}/api/v1/reports/yearly/2025?format=xlsx",
                app.address
            ))
            .insert_header(("Authorization", format!("Bearer {}", known.park.viewer)))
            .send()
            .await
            .unwrap()
            .body()
            .limit(10 << 20)
            .await
            .unwrap();
        reply.to_vec()
    };
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let sheets = workbook.sheet_names();
    for name in [
        "概览",
        "按检查方式",
        "按等级",
        "按类别",
        "按专业",
        "按月份",
        "按企业",
        "检查次数",
        "企业分级",
    ] {
        assert!(
            sheets.iter().any(|s| s == name),
            "sheet {name} missing from {sheets:?}"
        );
    }
    let summary = workbook.worksheet_range("概览").unwrap();
    let found_row = summary.rows().find(|r| r[0] == "查出隐患(条)").unwrap();
    assert_eq!(found_row[1].to_string(), "5");
    let levels = workbook.worksheet_range("按等级").unwrap();
    let major = levels.rows().find(|r| r[0] == "重大隐患").unwrap();
    assert_eq!(
        (major[1].to_string(), major[2].to_string()),
        ("2".to_owned(), "1".to_owned())
    );

    let md = get("md").await.text;
    assert!(
        md.contains("全年组织专家团队共查出各类安全隐患 5 条,已整改 4 条,整改率 80%"),
        "{md}"
    );
    assert!(md.contains("查出重大事故隐患 2 条,已整改 1 条"), "{md}");
    assert!(
        md.contains("1家蓝色、1家橙色企业实施差异化、精细化分类监管"),
        "{md}"
    );
    assert!(md.contains("另有 1 条"), "voided are reported apart: {md}");
}

async fn as_of_reads_the_history(app: TestApp) {
    let known = known_park(&app).await;
    let on = |day: &'static str| {
        let app = &app;
        let token = known.park.admin.clone();
        async move {
            app.get(&format!("/api/v1/reports/yearly/2025?as_of={day}"))
                .token(&token)
                .send()
                .await
                .expect(200)
                .json
        }
    };
    let before = on("2025-03-15").await;
    assert_eq!(
        (
            before["found"].as_i64(),
            before["closed"].as_i64(),
            before["still_open"].as_i64()
        ),
        (Some(1), Some(0), Some(1))
    );
    let after = on("2025-03-16").await;
    assert_eq!(
        (after["found"].as_i64(), after["closed"].as_i64()),
        (Some(1), Some(1)),
        "H1 closed on 03-16"
    );
    let december = on("2025-12-01").await;
    assert_eq!(
        (
            december["found"].as_i64(),
            december["closed"].as_i64(),
            december["still_open"].as_i64()
        ),
        (Some(5), Some(3), Some(2))
    );
    assert_eq!(december["enterprises_by_grade"]["orange"], 1);
    assert_eq!(december["as_of"], "2025-12-01");
    // Reopening H... changes today's figures but not the past.
    let now = app
        .get("/api/v1/reports/yearly/2025")
        .token(&known.park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(now["closed"], 4);
    let _ = (&known.h3, &known.h7);
}

async fn dashboard_overview_and_polling(app: TestApp) {
    let known = known_park(&app).await;
    let park = &known.park;
    let reply = app
        .get("/api/v1/stats/overview")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    let o = &reply.json;
    let counts: Vec<i64> = [
        "reported",
        "rectifying",
        "pending_acceptance",
        "closed",
        "voided",
        "open",
        "overdue",
        "major_open",
    ]
    .iter()
    .map(|k| o[k].as_i64().unwrap())
    .collect();
    assert_eq!(counts, vec![1, 1, 0, 4, 1, 2, 2, 1], "{o:#}");
    assert_eq!(o["rectification_rate"], 66.67);
    assert_eq!(o["by_level"]["major"]["open"], 1);
    assert_eq!(o["by_source"]["resident_expert"]["closed"], 2);
    assert_eq!(
        o["by_grade"]["blue"]["closed"], 4,
        "both enterprises are blue today"
    );
    assert_eq!(o["enterprises_per_grade"]["blue"], 2);
    let b = o["by_enterprise"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Beta Materials")
        .unwrap();
    assert_eq!(
        (b["overdue"].as_i64(), b["closed"].as_i64()),
        (Some(1), Some(2))
    );

    let year = app
        .get("/api/v1/stats/overview?year=2025")
        .token(&park.viewer)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        (
            year["reported"].as_i64(),
            year["closed"].as_i64(),
            year["overdue"].as_i64()
        ),
        (Some(0), Some(4), Some(1))
    );

    // An enterprise contact gets its own figures only.
    let own = app
        .get("/api/v1/stats/overview")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        (
            own["closed"].as_i64(),
            own["open"].as_i64(),
            own["voided"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(own["by_enterprise"].as_array().unwrap().len(), 1);
    assert_eq!(own["enterprises_per_grade"], json!(null));
    app.get(&format!(
        "/api/v1/stats/overview?enterprise_id={}",
        park.enterprise_b
    ))
    .token(&park.contact_a)
    .send()
    .await
    .expect_problem(404);

    // Polling: the same ETag gets 304 with no body, until something changes.
    let tag = reply.header("etag").unwrap().to_owned();
    let again = app
        .get("/api/v1/stats/overview")
        .token(&park.viewer)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect(304);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(tag.as_str()));
    let other_scope = app
        .get("/api/v1/stats/overview?year=2025")
        .token(&park.viewer)
        .header("If-None-Match", &tag)
        .send()
        .await;
    assert_eq!(
        other_scope.status.as_u16(),
        200,
        "another view has another tag"
    );
    app.post(&format!("/api/v1/hazards/{}/plan", known.h7))
        .token(&park.expert)
        .json(&json!({"measures": "立即整改"}))
        .send()
        .await
        .expect(200);
    let changed = app
        .get("/api/v1/stats/overview")
        .token(&park.viewer)
        .header("If-None-Match", &tag)
        .send()
        .await
        .expect(200);
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
    assert_eq!(
        (
            changed.json["reported"].as_i64(),
            changed.json["rectifying"].as_i64()
        ),
        (Some(0), Some(2))
    );

    let report = app
        .get("/api/v1/reports/yearly/2025?format=md")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    let report_tag = report.header("etag").unwrap().to_owned();
    app.get("/api/v1/reports/yearly/2025?format=md")
        .token(&park.viewer)
        .header("If-None-Match", &report_tag)
        .send()
        .await
        .expect(304);
}

async fn demo_park_reproduces_2024(app: TestApp) {
    let settings = app.state.settings.clone();
    let loaded = app
        .state
        .db
        .run(move |conn| hazard_tracker::app::demo::load(conn, &settings))
        .await
        .unwrap();
    let published: Value =
        serde_json::from_str(include_str!("../../reference/park-2024.json")).unwrap();
    assert_eq!(
        loaded.enterprises as u64,
        published["enterprises"]["landed"].as_u64().unwrap()
    );
    app.add_user("viewer@park.example.cn", "viewer", None);
    let viewer = app.login("viewer@park.example.cn").await;
    let report = app
        .get("/api/v1/reports/yearly/2024")
        .token(&viewer)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        report["found"],
        published["hazards"]["found_by_expert_teams"]
    );
    assert_eq!(report["closed"], published["hazards"]["rectified"]);
    assert_eq!(report["still_open"], 0);
    assert_eq!(report["rectification_rate"], 100.0);
    for grade in ["blue", "yellow", "orange", "red"] {
        assert_eq!(
            report["enterprises_by_grade"][grade], published["enterprises"]["graded"][grade],
            "{grade}"
        );
    }
    // A plausible spread: every source, both levels and every month have hazards.
    for s in report["by_source"].as_array().unwrap() {
        assert!(s["found"].as_i64().unwrap() > 100, "{s}");
    }
    assert!(found(&report, "by_level", "major") > 0);
    assert!(report["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["found"].as_i64().unwrap() > 100));
    let md = app
        .get("/api/v1/reports/yearly/2024?format=md")
        .token(&viewer)
        .send()
        .await
        .expect(200)
        .text;
    assert!(
        md.contains("全年组织专家团队共查出各类安全隐患 6644 条,已整改 6644 条,整改率 100%"),
        "{md}"
    );
    assert!(
        md.contains("对57家蓝色、8家黄色、1家橙色企业实施差异化、精细化分类监管"),
        "{md}"
    );
    // Loading twice is refused rather than doubling the park.
    let settings = app.state.settings.clone();
    assert!(app
        .state
        .db
        .run(move |conn| hazard_tracker::app::demo::load(conn, &settings))
        .await
        .is_err());
}

/// An enterprise named like a spreadsheet formula comes out of the CSV
/// report as text a spreadsheet will not run, and the XLSX cell is a string.
async fn exports_are_inert(app: TestApp) {
    let park = app.park().await;
    let name = "=HYPERLINK(\"http://evil.example\",\"点击\")";
    let enterprise = app.create_enterprise(&park.admin, name).await;
    app.report(&park.expert, crate::helpers::general_hazard(enterprise))
        .await;
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y")
        .to_string();
    let csv_reply = app
        .get(&format!("/api/v1/reports/yearly/{year}?format=csv"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    let mut reader = csv::Reader::from_reader(csv_reply.text.as_bytes());
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "by_enterprise" && &r[1] == enterprise.to_string().as_str())
        .expect("the enterprise's row");
    assert_eq!(&row[2], format!("'{name}").as_str());

    let bytes = app
        .client
        .get(format!(
            "{}/api/v1/reports/yearly/{year}?format=xlsx",
            app.address
        ))
        .insert_header(("Authorization", format!("Bearer {}", park.viewer)))
        .send()
        .await
        .unwrap()
        .body()
        .limit(10 << 20)
        .await
        .unwrap();
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = workbook.worksheet_range("按企业").unwrap();
    let cell = sheet
        .rows()
        .map(|r| r[0].clone())
        .find(|c| c.to_string().contains("HYPERLINK"))
        .expect("the enterprise's row");
    assert_eq!(cell, calamine::Data::String(name.to_owned()));
}

/// 50 reports for distinct days at once, on the demo park's 6644 hazards:
/// at most two are computed at a time, the rest wait their turn or are
/// told `503` with `Retry-After`, and meanwhile reporting and reading a
/// hazard still answer within a second (the computations cannot take every
/// database connection).
async fn heavy_work_is_bounded(app: TestApp) {
    let settings = app.state.settings.clone();
    app.state
        .db
        .write(move |conn| hazard_tracker::app::demo::load(conn, &settings))
        .await
        .unwrap();
    let park = app.park().await;
    let reports = (0..50).map(|day| {
        let app = &app;
        let viewer = park.viewer.clone();
        async move {
            let as_of =
                chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap() + chrono::Duration::days(day);
            app.get(&format!("/api/v1/reports/yearly/2024?as_of={as_of}"))
                .token(&viewer)
                .send()
                .await
        }
    });
    let meanwhile = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let hazard = app
            .report(
                &park.expert,
                crate::helpers::general_hazard(park.enterprise_a),
            )
            .await;
        let reported = started.elapsed();
        let started = std::time::Instant::now();
        app.get(&format!(
            "/api/v1/hazards/{}",
            hazard["id"].as_str().unwrap()
        ))
        .token(&park.expert)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .expect(200);
        (reported, started.elapsed())
    };
    let (answers, (reported, read)) =
        futures_util::future::join(futures_util::future::join_all(reports), meanwhile).await;
    assert!(
        reported < std::time::Duration::from_secs(1),
        "report took {reported:?}"
    );
    assert!(
        read < std::time::Duration::from_secs(1),
        "read took {read:?}"
    );
    let mut ok = 0;
    for answer in answers {
        match answer.status.as_u16() {
            200 => ok += 1,
            503 => assert!(answer.header("retry-after").is_some(), "{}", answer.text),
            other => panic!("a report answered {other}: {}", answer.text),
        }
    }
    assert!(ok >= 2, "some reports are computed");
}
