//! A hazard through its whole life, by the roles PRODUCT.md names.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{full_plan, general_hazard, major_hazard, TestApp};

backend_tests!(
    general_hazard_from_report_to_closure,
    major_hazard_needs_basis_plan_and_supervisor,
    only_supervision_moves_a_deadline_later_by_plan,
    a_major_hazard_has_a_printable_dossier,
    a_hazard_sent_back_is_listed_as_rejected_until_submitted_again,
);

async fn general_hazard_from_report_to_closure(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let year = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y")
        .to_string();
    assert_eq!(hazard["number"], json!(format!("YH-{year}-000001")));
    assert_eq!(hazard["state"], "reported");
    assert_eq!(hazard["version"], 1);
    assert_eq!(hazard["overdue"], false);

    let planned = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换报警器", "responsible_person": "李四"}))
        .send()
        .await
        .expect(200);
    assert_eq!(planned.json["state"], "rectifying");
    assert_eq!(planned.json["plan"]["measures"], "更换报警器");
    assert_eq!(planned.header("etag"), Some("\"2\""));

    let submitted = app
        .post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({"notes": "已更换并校验"}))
        .send()
        .await
        .expect(200);
    assert_eq!(submitted.json["state"], "pending_acceptance");
    assert!(submitted.json["submitted_at"].is_string());

    let closed = app
        .post(&format!("/api/v1/hazards/{id}/accept"))
        .token(&park.expert)
        .json(&json!({"notes": "现场验收合格"}))
        .send()
        .await
        .expect(200);
    assert_eq!(closed.json["state"], "closed");
    assert_eq!(closed.json["version"], 4);
    assert!(closed.json["closed_at"].is_string());
    assert_eq!(
        closed.json["allowed_actions"],
        json!([]),
        "an expert can do nothing more with a closed hazard"
    );

    let events = app
        .get(&format!("/api/v1/hazards/{id}/events"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let items = events.json["items"].as_array().unwrap();
    let steps: Vec<(String, String)> = items
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["to_state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("report".to_owned(), "reported".to_owned()),
            ("plan".to_owned(), "rectifying".to_owned()),
            ("submit".to_owned(), "pending_acceptance".to_owned()),
            ("accept".to_owned(), "closed".to_owned()),
        ]
    );
    assert_eq!(items[0]["from_state"], json!(null));
    assert_eq!(items[3]["from_state"], "pending_acceptance");
    assert_eq!(items[3]["note"], "现场验收合格");
    assert_eq!(items[1]["actor_role"], "enterprise");
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);

    // A supervisor reopens it: the history goes on, nothing is rewritten.
    let reopened = app
        .post(&format!("/api/v1/hazards/{id}/reopen"))
        .token(&park.supervisor)
        .json(&json!({"reason": "复查发现报警器再次失效"}))
        .send()
        .await
        .expect(200);
    assert_eq!(reopened.json["state"], "rectifying");
    assert_eq!(reopened.json["closed_at"], json!(null));
    let events = app
        .get(&format!("/api/v1/hazards/{id}/events"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(events.json["items"].as_array().unwrap().len(), 5);
}

async fn major_hazard_needs_basis_plan_and_supervisor(app: TestApp) {
    let park = app.park().await;
    let mut without_basis = major_hazard(park.enterprise_a);
    without_basis
        .as_object_mut()
        .unwrap()
        .remove("major_basis_code");
    let refused = app
        .post("/api/v1/hazards")
        .token(&park.expert)
        .json(&without_basis)
        .send()
        .await
        .expect_problem(422);
    assert!(
        refused.json["errors"]["major_basis_code"].is_string(),
        "{}",
        refused.text
    );

    let mut out_of_range = major_hazard(park.enterprise_a);
    out_of_range["major_basis_code"] = json!(21);
    app.post("/api/v1/hazards")
        .token(&park.expert)
        .json(&out_of_range)
        .send()
        .await
        .expect_problem(422);

    let hazard = app
        .report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    assert_eq!(hazard["major_basis_code"], 12);

    // 五到位: a plan missing funds and the contingency plan is refused.
    let partial = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&json!({"measures": "更换", "responsible_person": "张工", "deadline": crate::helpers::days_from_today(5)}))
        .send()
        .await
        .expect_problem(422);
    assert!(
        partial.json["errors"]["funds"].is_string(),
        "{}",
        partial.text
    );
    assert!(
        partial.json["errors"]["contingency_plan"].is_string(),
        "{}",
        partial.text
    );
    let unchanged = app
        .get(&format!("/api/v1/hazards/{id}"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(unchanged.json["state"], "reported");
    assert_eq!(unchanged.json["version"], 1);

    let planned = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    assert_eq!(planned.json["plan"]["funds"], 12500.5);
    // A major hazard is submitted with proof of its rectification.
    crate::helpers::evidence::attach(
        &app,
        &park.contact_a,
        &id,
        "after",
        crate::helpers::evidence::jpeg(1, 1000),
    )
    .await;
    app.post(&format!("/api/v1/hazards/{id}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect(200);

    // Neither the expert nor the enterprise may accept a major hazard.
    for token in [&park.expert, &park.contact_a] {
        app.post(&format!("/api/v1/hazards/{id}/accept"))
            .token(token)
            .json(&json!({}))
            .send()
            .await
            .expect_problem(403);
    }
    let closed = app
        .post(&format!("/api/v1/hazards/{id}/accept"))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(closed.json["state"], "closed");
}

/// A later deadline is an extension, decided by a supervisor: neither the
/// enterprise nor an expert can grant one by re-planning.
async fn only_supervision_moves_a_deadline_later_by_plan(app: TestApp) {
    let park = app.park().await;
    let body = general_hazard(park.enterprise_a);
    let deadline =
        chrono::NaiveDate::parse_from_str(body["deadline"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let later = (deadline + chrono::Duration::days(30)).to_string();
    let earlier = (deadline - chrono::Duration::days(1)).to_string();
    let hazard = app.report(&park.expert, body).await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    for token in [&park.contact_a, &park.expert] {
        let refused = app
            .post(&format!("/api/v1/hazards/{id}/plan"))
            .token(token)
            .json(&json!({"measures": "更换报警器", "deadline": later}))
            .send()
            .await
            .expect_problem(422);
        assert!(
            refused.json["errors"]["deadline"]
                .as_str()
                .unwrap()
                .contains("request an extension"),
            "{}",
            refused.text
        );
    }
    let shortened = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.expert)
        .json(&json!({"measures": "更换报警器", "deadline": earlier}))
        .send()
        .await
        .expect(200);
    assert_eq!(shortened.json["plan"]["deadline"], json!(earlier));
    let extended = app
        .post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.supervisor)
        .json(&json!({"measures": "更换报警器", "deadline": later}))
        .send()
        .await
        .expect(200);
    assert_eq!(extended.json["plan"]["deadline"], json!(later));
}

/// The 重大事故隐患报告: Art. 14 contents and the Art. 15 plan's six parts
/// from the record (a part not recorded says so), as Markdown and as an
/// escaped HTML page; none for a general hazard, none for another
/// enterprise's contact.
async fn a_major_hazard_has_a_printable_dossier(app: TestApp) {
    let park = app.park().await;
    let mut body = major_hazard(park.enterprise_a);
    body["title"] = json!("防爆电气<b>缺失</b>");
    let hazard = app.report(&park.expert, body).await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/hazards/{id}/dossier");
    let before_plan = app
        .get(&path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert!(before_plan
        .text
        .contains("(三)经费和物资的落实**\n\n(未记录)"));

    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.contact_a)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    let md = app
        .get(&path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(
        md.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    for expected in [
        "# 重大事故隐患报告",
        hazard["number"].as_str().unwrap(),
        "安监总管三〔2017〕121号 第12项",
        "(二)采取的方法和措施**\n\n更换为防爆型报警器并校验",
        "12500.50 元",
        "责任人:张工",
        "更换期间安排专人巡检",
        "| 制定整改方案 | 企业 |",
    ] {
        assert!(
            md.text.contains(expected),
            "{expected} missing from:\n{}",
            md.text
        );
    }
    let html = app
        .get(&format!("{path}?format=html"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(html.text.contains("<h1>重大事故隐患报告</h1>"));
    assert!(html.text.contains("防爆电气&lt;b&gt;缺失&lt;"));
    assert!(!html.text.contains("<b>缺失"));
    // Its own stylesheet applies (by hash); nothing else may load or run.
    let policy = html.header("content-security-policy").unwrap();
    let style = html
        .text
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .unwrap()
        .0;
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    assert!(
        policy.contains(&format!("style-src 'sha256-{hash}'")),
        "{policy}"
    );
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // The Markdown shows user HTML as text too.
    assert!(
        md.text.contains("防爆电气&lt;b&gt;缺失&lt;/b&gt;"),
        "{}",
        md.text
    );
    assert!(!md.text.contains("<b>"), "{}", md.text);

    app.get(&path)
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    let general = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    app.get(&format!(
        "/api/v1/hazards/{}/dossier",
        general["id"].as_str().unwrap()
    ))
    .token(&park.expert)
    .send()
    .await
    .expect_problem(409);
}

/// Whether `id` is among the hazards listed with `rejected=<flag>`.
async fn listed_rejected(app: &TestApp, token: &str, id: &str, flag: bool) -> bool {
    app.get(&format!("/api/v1/hazards?rejected={flag}&limit=500"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["id"] == id)
}

async fn a_hazard_sent_back_is_listed_as_rejected_until_submitted_again(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = hazard["id"].as_str().unwrap().to_owned();
    let step = |action: &'static str, token: String, body: serde_json::Value| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post(&format!("/api/v1/hazards/{id}/{action}"))
                .token(&token)
                .json(&body)
                .send()
                .await
                .expect(200);
        }
    };
    let contact = park.contact_a.clone();
    let expert = park.expert.clone();
    step("plan", contact.clone(), json!({"measures": "更换报警器"})).await;
    step("submit", contact.clone(), json!({"notes": "已更换"})).await;
    assert!(listed_rejected(&app, &contact, &id, false).await);
    step("reject", expert.clone(), json!({"reason": "报警器未校验"})).await;
    assert!(listed_rejected(&app, &contact, &id, true).await);
    assert!(!listed_rejected(&app, &contact, &id, false).await);
    // Submitted again, it is no longer sent back; accepted and then
    // reopened, its old rejection is history.
    step("submit", contact.clone(), json!({"notes": "已校验"})).await;
    assert!(!listed_rejected(&app, &contact, &id, true).await);
    step("accept", expert.clone(), json!({"notes": "合格"})).await;
    step(
        "reopen",
        park.supervisor.clone(),
        json!({"reason": "复查再次失效"}),
    )
    .await;
    assert!(!listed_rejected(&app, &contact, &id, true).await);
    // Sent back after the reopening: rejected again.
    step("submit", contact.clone(), json!({"notes": "再次更换"})).await;
    step("reject", expert, json!({"reason": "仍未校验"})).await;
    assert!(listed_rejected(&app, &contact, &id, true).await);
    // Another enterprise's contact never sees it.
    assert!(!listed_rejected(&app, &park.contact_b, &id, true).await);
}
