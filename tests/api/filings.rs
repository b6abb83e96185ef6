//! 16号令 Art. 14 statistical filings: due days, who has filed and who is
//! late, figures frozen as filed, corrections as new versions, and the
//! escalation of late filers.

use hazard_tracker::db::DbConnection;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{general_hazard, TestApp};

backend_tests!(filings_show_who_is_late_and_freeze_what_was_filed);

/// Registers every enterprise on 1 January 2025, as a park that has used
/// the tracker since then.
async fn registered_in_2025(app: &TestApp) {
    app.state
        .db
        .run(|conn| {
            let sql = "UPDATE enterprises SET created_at = '2025-01-01 00:00:00'";
            match conn {
                DbConnection::Postgresql(c) => {
                    diesel::RunQueryDsl::execute(diesel::sql_query(sql), c)
                }
                DbConnection::Sqlite(c) => diesel::RunQueryDsl::execute(diesel::sql_query(sql), c),
            }
            .map_err(hazard_tracker::error::AppError::from)
        })
        .await
        .unwrap();
}

async fn report_in(
    app: &TestApp,
    token: &str,
    enterprise: uuid::Uuid,
    found_at: &str,
    deadline: &str,
) {
    let mut body = general_hazard(enterprise);
    body["found_at"] = json!(found_at);
    body["deadline"] = json!(deadline);
    app.report(token, body).await;
}

async fn list(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/filings?{query}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn filings_show_who_is_late_and_freeze_what_was_filed(app: TestApp) {
    let park = app.park().await;
    registered_in_2025(&app).await;
    report_in(
        &app,
        &park.expert,
        park.enterprise_a,
        "2025-02-10T02:00:00Z",
        "2025-03-01",
    )
    .await;

    let q1 = list(&app, &park.supervisor, "year=2025&quarter=1").await;
    assert_eq!(q1.len(), 2, "{q1:?}");
    let ours = q1
        .iter()
        .find(|f| f["enterprise_id"] == json!(park.enterprise_a))
        .unwrap()
        .clone();
    assert_eq!(ours["status"], "late");
    assert_eq!(ours["due_on"], "2025-04-15");
    assert_eq!(ours["period_label"], "2025年第1季度");
    assert_eq!(ours["figures"]["found"], 1);
    let id = ours["id"].as_str().unwrap().to_owned();

    let own = list(&app, &park.contact_a, "year=2025").await;
    assert_eq!(own.len(), 5);
    assert_eq!(own[4]["kind"], "yearly");
    assert_eq!(own[4]["due_on"], "2026-01-31");
    app.get(&format!("/api/v1/filings/{id}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    app.get("/api/v1/filings")
        .token(&park.expert)
        .send()
        .await
        .expect_problem(403);

    let path = format!("/api/v1/filings/{id}/file");
    let sign = json!({"principal_name": "王总", "note": "一季度隐患全部整改"});
    app.post(&path)
        .token(&park.supervisor)
        .json(&sign)
        .send()
        .await
        .expect_problem(403);
    let filed = app
        .post(&path)
        .token(&park.contact_a)
        .json(&sign)
        .send()
        .await
        .expect(201)
        .json;
    assert_eq!(filed["status"], "filed_late");
    assert_eq!(filed["versions"].as_array().unwrap().len(), 1);
    assert_eq!(filed["versions"][0]["principal_name"], "王总");

    // A later find in the period does not change what was filed.
    report_in(
        &app,
        &park.expert,
        park.enterprise_a,
        "2025-03-20T02:00:00Z",
        "2025-04-01",
    )
    .await;
    let read = app
        .get(&format!("/api/v1/filings/{id}"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(read["figures"]["found"], 1);

    // A correction is a new version with its reason; the first is kept.
    let again = app
        .post(&path)
        .token(&park.contact_a)
        .json(&sign)
        .send()
        .await
        .expect_problem(422)
        .json;
    assert!(again["errors"]["correction_reason"].is_string());
    let correction =
        json!({"principal_name": "王总", "correction_reason": "补报3月排查发现的隐患"});
    let corrected = app
        .post(&path)
        .token(&park.contact_a)
        .json(&correction)
        .send()
        .await
        .expect(201)
        .json;
    let versions = corrected["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["figures"]["found"], 1);
    assert_eq!(versions[1]["figures"]["found"], 2);
    assert_eq!(corrected["figures"]["found"], 2);
    assert_eq!(
        corrected["status"], "filed_late",
        "the first version's day decides"
    );

    // A viewer reads the figures, never the people or their notes.
    let by_viewer = app
        .get(&format!("/api/v1/filings/{id}"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200)
        .json;
    let listed_to_viewer = list(&app, &park.viewer, "year=2025&quarter=1").await;
    let listed = listed_to_viewer
        .iter()
        .find(|f| f["id"] == json!(id))
        .unwrap();
    for seen in [&by_viewer, listed] {
        assert_eq!(seen["figures"]["found"], 2);
        for version in seen["versions"].as_array().unwrap() {
            for field in ["principal_name", "note", "correction_reason", "filed_by"] {
                assert!(version[field].is_null(), "{field} shown: {version}");
            }
        }
        assert!(!seen.to_string().contains("王总"), "{seen}");
    }
    let by_supervisor = app
        .get(&format!("/api/v1/filings/{id}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(by_supervisor["versions"][1]["principal_name"], "王总");
    assert!(by_supervisor["versions"][1]["filed_by"].is_string());

    let late: Vec<String> = list(&app, &park.supervisor, "year=2025&quarter=1&status=late")
        .await
        .iter()
        .map(|f| f["enterprise_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(late, vec![park.enterprise_b.to_string()]);

    // A period not yet over is upcoming and cannot be filed.
    let year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let upcoming = list(&app, &park.contact_a, &format!("year={year}&kind=yearly")).await;
    assert_eq!(upcoming[0]["status"], "upcoming");
    let next = upcoming[0]["id"].as_str().unwrap();
    app.post(&format!("/api/v1/filings/{next}/file"))
        .token(&park.contact_a)
        .json(&sign)
        .send()
        .await
        .expect_problem(409);

    // Late filers are chased once per period.
    let escalation = app.state.escalation.clone();
    let now = hazard_tracker::clock::now_utc();
    let scan = |escalation: std::sync::Arc<hazard_tracker::app::escalation::Escalation>| {
        app.state.db.run(move |conn| escalation.scan(conn, now))
    };
    let first = scan(escalation.clone()).await.unwrap();
    assert!(first > 0);
    assert_eq!(scan(escalation).await.unwrap(), 0);
    let mailed: Vec<Value> = app
        .get("/api/v1/notifications?limit=500")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["rule"] == "filing_overdue")
        .cloned()
        .collect();
    let mut late_now = 0;
    for year in 2025..=year {
        let query = format!("year={year}&status=late&limit=500");
        late_now += list(&app, &park.supervisor, &query).await.len();
    }
    assert_eq!(mailed.len(), late_now);
    assert!(mailed
        .iter()
        .all(|n| n["subject"].as_str().unwrap().contains("逾期未报送")));
    let filed_one = format!(
        "{} 2025年第1季度",
        ours["enterprise_name"].as_str().unwrap()
    );
    assert!(
        !mailed
            .iter()
            .any(|n| n["subject"].as_str().unwrap().contains(&filed_one)),
        "a filed period is not chased"
    );
}
