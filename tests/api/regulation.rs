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

backend_tests!(a_listed_hazard_closes_only_after_assessment_resumption_and_delisting);
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
