//! Inspection templates (检查表): the built-in 121号 template, the park's
//! own, running one in an inspection item by item, failed items becoming
//! hazards, photos of any item's result, and the inspection's coverage.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::evidence::{attach, download_from, jpeg, pdf, sha256, upload_to, Part};
use crate::helpers::{days_from_today, general_hazard, id_of, TestApp};

backend_tests!(
    an_inspection_runs_a_checklist_and_failed_items_become_hazards,
    templates_are_checked_and_listed_with_the_built_in_first,
    any_result_carries_photos_that_share_blobs_with_evidence,
);

const BUILT_IN: &str = "01950000-0121-7000-8000-000000000000";

async fn inspection(app: &TestApp, token: &str, enterprise: uuid::Uuid, source: &str) -> String {
    id_of(
        &app.post("/api/v1/inspections")
            .token(token)
            .json(&json!({
                "source": source,
                "enterprise_id": enterprise,
                "inspected_on": days_from_today(0),
                "inspectors": ["张工"],
            }))
            .send()
            .await
            .expect(201)
            .json,
    )
}

fn item(checklist: &Value, position: usize) -> String {
    checklist["items"][position - 1]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn an_inspection_runs_a_checklist_and_failed_items_become_hazards(app: TestApp) {
    let park = app.park().await;
    let built_in = app
        .get(&format!("/api/v1/checklists/{BUILT_IN}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(built_in["name"], "重大事故隐患判定");
    assert_eq!(built_in["items"].as_array().unwrap().len(), 20);
    assert_eq!(built_in["items"][11]["major_basis_code"], 12);

    let id = inspection(&app, &park.expert, park.enterprise_a, "resident_expert").await;
    let path = format!("/api/v1/inspections/{id}/checklist-results");
    let empty = app
        .get(&path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(empty["checked"], 0);
    assert_eq!(empty["checklist_id"], Value::Null);

    // A failed item needs its hazard's details; a passed one has none.
    let incomplete = app
        .post(&path)
        .token(&park.expert)
        .json(&json!({
            "checklist_id": BUILT_IN,
            "results": [
                {"item_id": item(&built_in, 2), "outcome": "fail"},
                {"item_id": item(&built_in, 3), "outcome": "pass",
                 "hazard": {"location": "x", "category": "unsafe_condition", "deadline": days_from_today(5)}},
            ],
        }))
        .send()
        .await
        .expect_problem(422)
        .json;
    assert!(incomplete["errors"]["results[0].hazard"].is_string());
    assert!(incomplete["errors"]["results[1].hazard"].is_string());

    // A bad category in a failed item's hazard: nothing is written.
    let fail = |category: &str| {
        json!({
            "checklist_id": BUILT_IN,
            "results": [
                {"item_id": item(&built_in, 1), "outcome": "pass"},
                {"item_id": item(&built_in, 2), "outcome": "not_applicable", "note": "无特种作业"},
                {"item_id": item(&built_in, 12), "outcome": "fail", "note": "甲类车间照明非防爆",
                 "hazard": {"location": "甲类车间", "category": category, "deadline": days_from_today(30)}},
            ],
        })
    };
    let invalid = app
        .post(&path)
        .token(&park.expert)
        .json(&fail("no_such_category"))
        .send()
        .await
        .expect_problem(422)
        .json;
    assert!(
        invalid["errors"]["results[2].hazard.category"].is_string(),
        "{invalid}"
    );
    let still_empty = app
        .get(&path)
        .token(&park.expert)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(still_empty["checked"], 0);

    let recorded = app
        .post(&path)
        .token(&park.expert)
        .json(&fail("unsafe_condition"))
        .send()
        .await
        .expect(201)
        .json;
    assert_eq!(recorded["checked"], 3);
    assert_eq!(recorded["total"], 20);
    assert_eq!(recorded["coverage_percent"], 15.0);
    let failed = &recorded["results"][2];
    assert_eq!(failed["outcome"], "fail");
    let hazard_id = failed["hazard_id"].as_str().unwrap();
    let hazard = app
        .get(&format!("/api/v1/hazards/{hazard_id}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(hazard["level"], "major");
    assert_eq!(hazard["major_basis_code"], 12);
    assert_eq!(hazard["inspection_id"], json!(id));
    assert_eq!(hazard["source"], "resident_expert");
    assert_eq!(hazard["location"], "甲类车间");
    assert!(hazard["description"]
        .as_str()
        .unwrap()
        .contains("甲类车间照明非防爆"));

    // An item's result stands; another template is refused; an enterprise
    // records nothing in an expert's inspection.
    let again = json!({"checklist_id": BUILT_IN, "results": [{"item_id": item(&built_in, 1), "outcome": "fail",
        "hazard": {"location": "x", "category": "unsafe_condition", "deadline": days_from_today(5)}}]});
    app.post(&path)
        .token(&park.expert)
        .json(&again)
        .send()
        .await
        .expect_problem(409);
    let own = app
        .post("/api/v1/checklists")
        .token(&park.expert)
        .json(&json!({"name": "动火作业检查表", "items": [{"text": "动火证已审批", "basis": "GB 30871"}]}))
        .send()
        .await
        .expect(201)
        .json;
    let other = json!({"checklist_id": own["id"], "results": [{"item_id": item(&own, 1), "outcome": "pass"}]});
    app.post(&path)
        .token(&park.expert)
        .json(&other)
        .send()
        .await
        .expect_problem(409);
    let pass = json!({"checklist_id": BUILT_IN, "results": [{"item_id": item(&built_in, 4), "outcome": "pass"}]});
    app.post(&path)
        .token(&park.contact_a)
        .json(&pass)
        .send()
        .await
        .expect_problem(403);
    app.get(&path)
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);

    // The enterprise runs its own template in its own self-check: a failed
    // item there is a general hazard with the item's specialty.
    let self_check = inspection(&app, &park.contact_a, park.enterprise_a, "self_check").await;
    let own = app
        .post("/api/v1/checklists")
        .token(&park.expert)
        .json(&json!({"name": "仪表专业检查表", "items": [
            {"text": "可燃气体报警器在检定有效期内", "specialty": "instrumentation"},
            {"text": "联锁投用率100%"},
        ]}))
        .send()
        .await
        .expect(201)
        .json;
    let ran = app
        .post(&format!("/api/v1/inspections/{self_check}/checklist-results"))
        .token(&park.contact_a)
        .json(&json!({"checklist_id": own["id"], "results": [
            {"item_id": item(&own, 1), "outcome": "fail",
             "hazard": {"location": "2号储罐区", "category": "unsafe_condition", "deadline": days_from_today(7)}},
        ]}))
        .send()
        .await
        .expect(201)
        .json;
    assert_eq!(ran["coverage_percent"], 50.0);
    let general = app
        .get(&format!(
            "/api/v1/hazards/{}",
            ran["results"][0]["hazard_id"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(general["level"], "general");
    assert_eq!(general["specialty"], "instrumentation");
    assert_eq!(general["source"], "self_check");
    assert_eq!(general["title"], "可燃气体报警器在检定有效期内");
}

async fn templates_are_checked_and_listed_with_the_built_in_first(app: TestApp) {
    let park = app.park().await;
    app.post("/api/v1/checklists")
        .token(&park.contact_a)
        .json(&json!({"name": "x", "items": [{"text": "y"}]}))
        .send()
        .await
        .expect_problem(403);
    let invalid = app
        .post("/api/v1/checklists")
        .token(&park.expert)
        .json(
            &json!({"name": " ", "items": [{"text": "a"}, {"text": "", "specialty": "astrology"}]}),
        )
        .send()
        .await
        .expect_problem(422)
        .json;
    for field in ["name", "items[1].text", "items[1].specialty"] {
        assert!(invalid["errors"][field].is_string(), "{field}: {invalid}");
    }
    app.post("/api/v1/checklists")
        .token(&park.expert)
        .json(&json!({"name": "空表", "items": []}))
        .send()
        .await
        .expect_problem(422);
    for n in 0..3 {
        app.post("/api/v1/checklists")
            .token(&park.supervisor)
            .json(&json!({"name": format!("检查表{n}"), "items": [{"text": "项"}]}))
            .send()
            .await
            .expect(201);
    }
    let first = app
        .get("/api/v1/checklists?limit=2")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let names: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["重大事故隐患判定", "检查表2"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/api/v1/checklists?limit=5&cursor={cursor}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let names: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["检查表1", "检查表0"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    app.get("/api/v1/checklists")
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
}

async fn any_result_carries_photos_that_share_blobs_with_evidence(app: TestApp) {
    let park = app.park().await;
    let built_in = app
        .get(&format!("/api/v1/checklists/{BUILT_IN}"))
        .token(&park.expert)
        .send()
        .await
        .expect(200)
        .json;
    let id = inspection(&app, &park.expert, park.enterprise_a, "resident_expert").await;
    let results = format!("/api/v1/inspections/{id}/checklist-results");
    let photos_of = |position: usize| format!("{results}/{}/photos", item(&built_in, position));
    let photo = jpeg(7, 4000);
    let as_photo = |bytes: Vec<u8>| {
        [
            Part::text("caption", "消防通道畅通"),
            Part::file("通道.jpg", "image/jpeg", bytes),
        ]
    };

    // A photo says what a recorded result saw: none before the result.
    upload_to(&app, &park.expert, &photos_of(1), &as_photo(photo.clone()))
        .await
        .expect_problem(404);
    app.post(&results)
        .token(&park.expert)
        .json(&json!({
            "checklist_id": BUILT_IN,
            "results": [
                {"item_id": item(&built_in, 1), "outcome": "pass"},
                {"item_id": item(&built_in, 2), "outcome": "not_applicable", "note": "无特种作业"},
            ],
        }))
        .send()
        .await
        .expect(201);

    // Passed and not-applicable items alike take photos, once per key.
    let first = app
        .post(&photos_of(1))
        .token(&park.expert)
        .header("Idempotency-Key", "photo-1")
        .raw(
            &crate::helpers::evidence::multipart_content_type(),
            crate::helpers::evidence::multipart(&as_photo(photo.clone())),
        )
        .send()
        .await
        .expect(201);
    let again = app
        .post(&photos_of(1))
        .token(&park.expert)
        .header("Idempotency-Key", "photo-1")
        .raw(
            &crate::helpers::evidence::multipart_content_type(),
            crate::helpers::evidence::multipart(&as_photo(photo.clone())),
        )
        .send()
        .await
        .expect(201);
    assert_eq!(
        again.json["id"], first.json["id"],
        "the retry replays the first"
    );
    let view = first.json;
    assert_eq!(view["item_id"], item(&built_in, 1).as_str());
    assert_eq!(view["file_name"], "通道.jpg");
    assert_eq!(view["caption"], "消防通道畅通");
    assert_eq!(view["content_type"], "image/jpeg");
    assert_eq!(view["sha256"], sha256(&photo));
    let url = view["download_url"].as_str().unwrap().to_owned();
    assert_eq!(first.headers.get("location").unwrap(), url.as_str());
    let scan = upload_to(
        &app,
        &park.expert,
        &photos_of(2),
        &[Part::file("记录.pdf", "application/pdf", pdf(3))],
    )
    .await
    .expect(201)
    .json;

    // The inspection lists each result's photos.
    let listed = app
        .get(&results)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(listed["results"][0]["photos"][0]["id"], view["id"]);
    assert_eq!(listed["results"][0]["photos"].as_array().unwrap().len(), 1);
    assert_eq!(listed["results"][1]["photos"][0]["id"], scan["id"]);

    // Downloads: byte for byte to whoever sees the inspection; another
    // enterprise's contact is told nothing exists.
    let got = download_from(&app, &park.contact_a, &url, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, photo);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    let etag = got.header("etag").unwrap().to_owned();
    assert_eq!(
        download_from(&app, &park.expert, &url, Some(&etag))
            .await
            .status,
        304
    );
    assert_eq!(
        download_from(&app, &park.contact_b, &url, None)
            .await
            .status,
        404
    );

    // Bad forms are refused and leave nothing.
    let with_phase = upload_to(
        &app,
        &park.expert,
        &photos_of(1),
        &[
            Part::text("phase", "before"),
            Part::file("a.jpg", "image/jpeg", jpeg(8, 100)),
        ],
    )
    .await
    .expect_problem(422)
    .json;
    assert!(with_phase["errors"]["phase"].is_string(), "{with_phase}");
    upload_to(
        &app,
        &park.expert,
        &photos_of(1),
        &[Part::file(
            "a.txt",
            "text/plain",
            b"plain text, no photo".repeat(20),
        )],
    )
    .await
    .expect_problem(415);
    upload_to(
        &app,
        &park.contact_b,
        &photos_of(1),
        &as_photo(jpeg(9, 100)),
    )
    .await
    .expect_problem(404);
    let after = app
        .get(&results)
        .token(&park.expert)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(after["results"][0]["photos"].as_array().unwrap().len(), 1);

    // The same bytes as a hazard's evidence share the blob; removing that
    // file leaves the photo whole.
    let hazard = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let evidence = attach(&app, &park.expert, &hazard, "before", photo.clone()).await;
    app.call(
        awc::http::Method::DELETE,
        evidence["download_url"].as_str().unwrap(),
    )
    .token(&park.expert)
    .send()
    .await
    .expect(204);
    let kept = download_from(&app, &park.expert, &url, None).await;
    assert_eq!(kept.status, 200);
    assert_eq!(kept.bytes, photo);
}
