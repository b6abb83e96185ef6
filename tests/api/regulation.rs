//! 16号令 Art. 14–18 on a major hazard: the dossier's contents, 挂牌督办
//! from listing to 摘牌 with its order of steps and its gate on closing,
//! the reminders before and after the 督办期限, and the report's counts.

use serde_json::{json, Value};

use crate::helpers::evidence::{attach, jpeg};
use crate::helpers::{
    days_from_today, full_plan, general_hazard, id_of, major_hazard, spawn_app_with, Backend,
    TestApp,
};
use crate::{backend_tests, configured_tests};

backend_tests!(
    a_listed_hazard_closes_only_after_assessment_resumption_and_delisting,
    a_past_listed_hazard_is_entered_with_its_own_days,
    only_the_supervising_capability_lists_a_hazard_on_report,
);
configured_tests!(the_dossier_is_checked_and_can_be_required_before_planning);

fn listing(listed_on: i64, due_on: i64) -> Value {
    json!({
        "authority_level": "city",
        "authority_name": "市应急管理局",
        "document_number": "应急督〔2026〕7号",
        "listed_on": days_from_today(listed_on),
        "due_on": days_from_today(due_on),
        "responsible_leader": "王总",
    })
}

fn dossier(stop: Value) -> Value {
    json!({
        "state_and_cause": "甲类车间照明未采用防爆灯具,系改造时选型错误",
        "danger_and_difficulty": "可燃气体泄漏时可引发爆炸;需停产更换,难度中等",
        "goals_and_tasks": "全部更换为防爆灯具并通过检测",
        "materials": "防爆灯具 40 套",
        "production_stop": stop,
    })
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value, status: u16) -> Value {
    app.post(path)
        .token(token)
        .json(&body)
        .send()
        .await
        .expect(status)
        .json
}

async fn a_listed_hazard_closes_only_after_assessment_resumption_and_delisting(app: TestApp) {
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    let base = format!("/api/v1/hazards/{id}");
    let listing_path = format!("{base}/listing");

    // The listing is the authority's: a contact may not, and a general
    // hazard is never listed.
    post(&app, &park.contact_a, &listing_path, listing(0, 30), 403).await;
    let general = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let refused = post(
        &app,
        &park.supervisor,
        &format!("/api/v1/hazards/{general}/listing"),
        listing(0, 30),
        409,
    )
    .await;
    assert!(refused["detail"].as_str().unwrap().contains("major"));
    let mut backwards = listing(0, 30);
    backwards["due_on"] = json!(days_from_today(-1));
    let invalid = post(&app, &park.supervisor, &listing_path, backwards, 422).await;
    assert!(invalid["errors"]["due_on"].is_string());

    let listed = post(&app, &park.supervisor, &listing_path, listing(0, 30), 200).await;
    assert_eq!(
        listed["supervised_listing"]["ordering_body"],
        "市应急管理局"
    );
    assert_eq!(listed["state"], "reported");

    app.post(&format!("{base}/plan"))
        .token(&park.contact_a)
        .json(&full_plan())
        .send()
        .await
        .expect(200);
    let stop = json!({"scope": "full", "from": days_from_today(0)});
    app.call(awc::http::Method::PUT, &format!("{base}/dossier"))
        .token(&park.contact_a)
        .json(&dossier(stop))
        .send()
        .await
        .expect(200);
    attach(&app, &park.contact_a, &id, "after", jpeg(3, 800)).await;
    let report = id_of(&attach(&app, &park.contact_a, &id, "after", jpeg(4, 900)).await);
    app.post(&format!("{base}/submit"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect(200);

    // Closing waits for every step, in order.
    let blocked = post(
        &app,
        &park.supervisor,
        &format!("{base}/accept"),
        json!({}),
        409,
    )
    .await;
    assert!(
        blocked["detail"]
            .as_str()
            .unwrap()
            .contains("assessment, resumption, delisting"),
        "{blocked}"
    );
    let resumption = json!({"applicant": "王总", "applied_on": days_from_today(0)});
    post(
        &app,
        &park.contact_a,
        &format!("{listing_path}/resumption"),
        resumption.clone(),
        409,
    )
    .await;

    let other = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    let foreign = id_of(&attach(&app, &park.expert, &other, "before", jpeg(5, 700)).await);
    let mut assessment = json!({
        "assessor": "某安全评价有限公司",
        "assessor_kind": "assessment_body",
        "conclusion": "隐患已消除,具备恢复生产条件",
        "report_attachment_id": foreign,
        "assessed_on": days_from_today(0),
    });
    let wrong_file = post(
        &app,
        &park.contact_a,
        &format!("{listing_path}/assessment"),
        assessment.clone(),
        422,
    )
    .await;
    assert!(wrong_file["errors"]["report_attachment_id"].is_string());
    assessment["report_attachment_id"] = json!(report);
    post(
        &app,
        &park.contact_a,
        &format!("{listing_path}/assessment"),
        assessment,
        200,
    )
    .await;

    // The assessment report stays with the record.
    app.call(
        awc::http::Method::DELETE,
        &format!("/api/v1/attachments/{report}"),
    )
    .token(&park.supervisor)
    .send()
    .await
    .expect_problem(409);

    let delisting =
        json!({"document_number": "应急督〔2026〕9号", "delisted_on": days_from_today(0)});
    post(
        &app,
        &park.contact_a,
        &format!("{listing_path}/delisting"),
        delisting.clone(),
        403,
    )
    .await;
    let early = post(
        &app,
        &park.supervisor,
        &format!("{listing_path}/delisting"),
        delisting.clone(),
        409,
    )
    .await;
    assert!(early["detail"].as_str().unwrap().contains("resumption"));
    post(
        &app,
        &park.contact_a,
        &format!("{listing_path}/resumption"),
        resumption,
        200,
    )
    .await;

    let record = app
        .get(&listing_path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(record["steps_missing"], json!(["delisting"]));
    assert_eq!(record["production_stop"], "full");
    assert_eq!(record["assessment"]["assessor_kind"], "assessment_body");

    post(
        &app,
        &park.supervisor,
        &format!("{listing_path}/delisting"),
        delisting.clone(),
        200,
    )
    .await;
    post(
        &app,
        &park.supervisor,
        &format!("{listing_path}/delisting"),
        delisting,
        409,
    )
    .await;
    let record = app
        .get(&listing_path)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(record["steps_missing"], json!([]));
    assert_eq!(record["delisting"]["document_number"], "应急督〔2026〕9号");

    let closed = post(
        &app,
        &park.supervisor,
        &format!("{base}/accept"),
        json!({}),
        200,
    )
    .await;
    assert_eq!(closed["state"], "closed");

    // Another enterprise's contact does not see the listing.
    app.get(&listing_path)
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);

    let events = crate::helpers::events(&app, &park.supervisor, &id).await;
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for step in [
        "listed",
        "dossier_recorded",
        "listing_assessed",
        "resumption_applied",
        "delisted",
    ] {
        assert!(actions.contains(&step), "{step} missing from {actions:?}");
    }

    let md = app
        .get(&format!("{base}/dossier"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .text;
    for expected in [
        "市级市应急管理局",
        "全部停产停业",
        "甲类车间照明未采用防爆灯具",
        "全部更换为防爆灯具并通过检测",
        "防爆灯具 40 套",
        "某安全评价有限公司(安全评价机构)",
        "应急督〔2026〕9号",
        "| 摘牌 | 园区监管 |",
    ] {
        assert!(md.contains(expected), "{expected} missing from:\n{md}");
    }

    let year = &days_from_today(0)[..4];
    let report = app
        .get(&format!("/api/v1/reports/yearly/{year}"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        report["supervised_listings"],
        json!({"listed": 1, "delisted": 1, "still_listed": 0})
    );
}

async fn the_dossier_is_checked_and_can_be_required_before_planning(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.regulation.major_report_before_plan = true;
    })
    .await;
    let park = app.park().await;
    let id = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    let base = format!("/api/v1/hazards/{id}");
    let refused = post(
        &app,
        &park.contact_a,
        &format!("{base}/plan"),
        full_plan(),
        422,
    )
    .await;
    assert!(refused["errors"]["dossier"]
        .as_str()
        .unwrap()
        .contains("Art. 14"));

    let put = |body: Value| {
        let app = &app;
        let path = format!("{base}/dossier");
        let token = park.contact_a.clone();
        async move {
            app.call(awc::http::Method::PUT, &path)
                .token(&token)
                .json(&body)
                .send()
                .await
        }
    };
    let invalid = put(json!({
        "state_and_cause": "  ",
        "danger_and_difficulty": "x",
        "production_stop": {"scope": "partial"},
    }))
    .await
    .expect_problem(422)
    .json;
    assert!(invalid["errors"]["state_and_cause"].is_string());
    assert!(invalid["errors"]["production_stop.from"].is_string());
    put(json!({"danger_and_difficulty": "x"}))
        .await
        .expect_problem(422);

    let recorded = put(dossier(json!({"scope": "none"})))
        .await
        .expect(200)
        .json;
    assert_eq!(recorded["version"], 2);
    let planned = post(
        &app,
        &park.contact_a,
        &format!("{base}/plan"),
        full_plan(),
        200,
    )
    .await;
    assert_eq!(planned["state"], "rectifying");

    // A stop without a listing: no resumption to apply for, nothing gates
    // the closing, and a general hazard has no dossier.
    let general = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    app.call(
        awc::http::Method::PUT,
        &format!("/api/v1/hazards/{general}/dossier"),
    )
    .token(&park.contact_a)
    .json(&dossier(json!({"scope": "none"})))
    .send()
    .await
    .expect_problem(409);
    let unlisted = post(
        &app,
        &park.contact_a,
        &format!("{base}/listing/resumption"),
        json!({"applicant": "王总", "applied_on": days_from_today(0)}),
        409,
    )
    .await;
    assert!(unlisted["detail"].as_str().unwrap().contains("not listed"));
}

/// 补录 of last year's kind: a hazard found 40 days ago, listed on day 1,
/// planned on day 2, submitted on day 20, assessed on 22, delisted on 25 and
/// accepted on 26, entered today. Every step is dated its own day.
async fn a_past_listed_hazard_is_entered_with_its_own_days(app: TestApp) {
    let park = app.park().await;
    // Day `n` after the find, as a date and as a moment.
    let date = |n: i64| days_from_today(n - 40);
    let moment = |n: i64| (chrono::Utc::now() - chrono::Duration::days(40 - n)).to_rfc3339();
    let mut body = major_hazard(park.enterprise_a);
    body["found_at"] = json!(moment(0));
    let id = id_of(&app.report(&park.expert, body).await);
    let base = format!("/api/v1/hazards/{id}");
    let listing_path = format!("{base}/listing");

    // A listing dated before the find is refused by day.
    let mut early = listing(-41, 30);
    early["due_on"] = json!(days_from_today(30));
    let refused = post(&app, &park.supervisor, &listing_path, early, 422).await;
    assert!(refused["errors"]["listed_on"].is_string(), "{refused}");

    let mut listed = listing(0, 30);
    listed["listed_on"] = json!(date(1));
    post(&app, &park.supervisor, &listing_path, listed, 200).await;
    let mut plan = full_plan();
    plan["occurred_at"] = json!(moment(2));
    post(&app, &park.expert, &format!("{base}/plan"), plan, 200).await;
    attach(&app, &park.expert, &id, "after", jpeg(5, 900)).await;
    let report = id_of(&attach(&app, &park.expert, &id, "after", jpeg(6, 900)).await);
    let submit = json!({"occurred_at": moment(20)});
    post(&app, &park.expert, &format!("{base}/submit"), submit, 200).await;
    let assessment = json!({
        "assessor": "某安全评价有限公司",
        "assessor_kind": "assessment_body",
        "conclusion": "隐患已消除",
        "report_attachment_id": report,
        "assessed_on": date(22),
    });
    let assessment_path = format!("{listing_path}/assessment");
    post(&app, &park.supervisor, &assessment_path, assessment, 200).await;
    let delisting = json!({"document_number": "应急督〔2026〕11号", "delisted_on": date(25)});
    let delisting_path = format!("{listing_path}/delisting");
    post(&app, &park.supervisor, &delisting_path, delisting, 200).await;
    let accept = json!({"occurred_at": moment(26)});
    let closed = post(
        &app,
        &park.supervisor,
        &format!("{base}/accept"),
        accept,
        200,
    )
    .await;
    assert_eq!(closed["state"], "closed");
    assert_eq!(
        closed["closed_at"].as_str().unwrap()[..10],
        moment(26)[..10]
    );

    let events = crate::helpers::events(&app, &park.supervisor, &id).await;
    let days: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["action"] != "evidence_added")
        .map(|e| {
            let at = chrono::DateTime::parse_from_rfc3339(e["occurred_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono_tz::Asia::Shanghai);
            (
                e["action"].as_str().unwrap().to_owned(),
                at.date_naive().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("report", 0),
        ("listed", 1),
        ("plan", 2),
        ("submit", 20),
        ("listing_assessed", 22),
        ("delisted", 25),
        ("accept", 26),
    ]
    .iter()
    .map(|(action, n)| {
        let local = (chrono::Utc::now() - chrono::Duration::days(40 - n))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let day = if ["listed", "listing_assessed", "delisted"].contains(action) {
            date(*n)
        } else {
            local.to_string()
        };
        ((*action).to_owned(), day)
    })
    .collect();
    assert_eq!(days, expected);
    // The supervisor's late entries are marked as such.
    assert!(events
        .iter()
        .filter(|e| e["action"] != "evidence_added" && e["action"] != "report")
        .all(|e| e["entered_late"] == true));
}

/// 挂牌督办 given with a new hazard is the supervising capability's, as
/// `POST …/listing` is: an enterprise contact cannot list its own hazard.
async fn only_the_supervising_capability_lists_a_hazard_on_report(app: TestApp) {
    let park = app.park().await;
    let mut body = major_hazard(park.enterprise_a);
    body["source"] = json!("self_check");
    body["supervised_listing"] = json!({"ordering_body": "市应急管理局"});
    let refused = app
        .post("/api/v1/hazards")
        .token(&park.contact_a)
        .json(&body)
        .send()
        .await
        .expect_problem(403);
    assert!(refused.text.contains("supervision"), "{}", refused.text);
    body["source"] = json!("resident_expert");
    let made = app.report(&park.supervisor, body).await;
    assert_eq!(made["supervised_listing"]["ordering_body"], "市应急管理局");
    app.get(&format!("/api/v1/hazards/{}/listing", id_of(&made)))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
}
