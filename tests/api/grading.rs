//! Four-colour grading and differentiated supervision (PRODUCT.md §4).

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{spawn_app_sharing, TestApp};

backend_tests!(
    boundary_scores_and_triggers,
    grade_as_of_a_date_between_assessments,
    changed_thresholds_never_regrade_the_past,
    due_list_follows_each_grade,
    producing_enterprises_owe_a_self_check_each_quarter,
    review_flag_and_roles,
    assessments_are_history,
);

async fn assess(
    app: &TestApp,
    token: &str,
    enterprise: Uuid,
    score: f64,
    triggers: &[&str],
    on: &str,
) -> Value {
    app.post(&format!("/api/v1/enterprises/{enterprise}/assessments"))
        .token(token)
        .json(&json!({"score": score, "direct_red_triggers": triggers, "assessed_on": on, "assessor": "园区安全风险评估专家组"}))
        .send()
        .await
        .expect(201)
        .json
}

async fn boundary_scores_and_triggers(app: TestApp) {
    let park = app.park().await;
    let cases = [
        (59.99, "red"),
        (60.0, "orange"),
        (74.99, "orange"),
        (75.0, "yellow"),
        (89.99, "yellow"),
        (90.0, "blue"),
    ];
    for (score, grade) in cases {
        let assessment = assess(
            &app,
            &park.supervisor,
            park.enterprise_a,
            score,
            &[],
            "2024-05-01",
        )
        .await;
        assert_eq!(assessment["grade"], grade, "score {score}");
        assert_eq!(assessment["score"], score);
        assert_eq!(assessment["thresholds_version"], "2024-default");
    }
    let red = assess(
        &app,
        &park.admin,
        park.enterprise_b,
        98.5,
        &["no_emergency_shutoff"],
        "2024-05-02",
    )
    .await;
    assert_eq!(
        red["grade"], "red",
        "a direct-red trigger overrides a high score"
    );
    assert_eq!(red["direct_red_triggers"], json!(["no_emergency_shutoff"]));

    let unknown = app
        .post(&format!(
            "/api/v1/enterprises/{}/assessments",
            park.enterprise_b
        ))
        .token(&park.supervisor)
        .json(
            &json!({"score": 80, "direct_red_triggers": ["made_up"], "assessed_on": "2024-05-02"}),
        )
        .send()
        .await
        .expect_problem(422);
    assert!(unknown.json["errors"]["direct_red_triggers"].is_string());
    for bad_score in [json!(100.5), json!(-1), json!(59.999)] {
        app.post(&format!(
            "/api/v1/enterprises/{}/assessments",
            park.enterprise_b
        ))
        .token(&park.supervisor)
        .json(&json!({"score": bad_score, "assessed_on": "2024-05-02"}))
        .send()
        .await
        .expect_problem(422);
    }
    app.post(&format!(
        "/api/v1/enterprises/{}/assessments",
        park.enterprise_b
    ))
    .token(&park.supervisor)
    .json(&json!({"score": 80, "assessed_on": crate::helpers::days_from_today(2)}))
    .send()
    .await
    .expect_problem(422);
    let triggers = app
        .get("/api/v1/reference/direct-red-triggers")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert!(triggers
        .json
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "no_emergency_shutoff"));
}

async fn grade_as_of_a_date_between_assessments(app: TestApp) {
    let park = app.park().await;
    let a = park.enterprise_a;
    assess(&app, &park.supervisor, a, 70.0, &[], "2024-03-01").await;
    assess(&app, &park.supervisor, a, 92.0, &[], "2024-09-01").await;

    let grade_on = |day: &'static str| {
        let app = &app;
        let token = park.expert.clone();
        async move {
            let path = format!("/api/v1/enterprises/{a}?as_of={day}");
            app.get(&path).token(&token).send().await.expect(200).json
        }
    };
    let before = grade_on("2024-02-01").await;
    assert_eq!(before["grade"], json!(null));
    assert_eq!(before["grade_status"], "not_assessed");
    assert_eq!(grade_on("2024-03-01").await["grade"], "orange");
    assert_eq!(grade_on("2024-06-30").await["grade"], "orange");
    assert_eq!(grade_on("2024-09-01").await["grade"], "blue");
    let now = app
        .get(&format!("/api/v1/enterprises/{a}"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(now.json["grade"], "blue");
    assert_eq!(now.json["last_assessed_on"], "2024-09-01");

    let b = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_b))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(b.json["grade"], json!(null), "never assessed: no grade");

    let ids = |reply: Value| -> Vec<String> {
        reply["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let orange_mid = app
        .get("/api/v1/enterprises?grade=orange&as_of=2024-06-30")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(orange_mid.json), vec![a.to_string()]);
    let orange_end = app
        .get("/api/v1/enterprises?grade=orange&as_of=2024-12-31")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert!(ids(orange_end.json).is_empty());
    let blue_end = app
        .get("/api/v1/enterprises?grade=blue&as_of=2024-12-31")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(blue_end.json), vec![a.to_string()]);

    let counts = app
        .get("/api/v1/enterprises/grade-counts?as_of=2024-06-30")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (counts.json["orange"].as_i64(), counts.json["blue"].as_i64()),
        (Some(1), Some(0))
    );
    let counts = app
        .get("/api/v1/enterprises/grade-counts?as_of=2024-12-31")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert_eq!(
        (counts.json["orange"].as_i64(), counts.json["blue"].as_i64()),
        (Some(0), Some(1))
    );
}

async fn changed_thresholds_never_regrade_the_past(app: TestApp) {
    let park = app.park().await;
    let first = assess(
        &app,
        &park.supervisor,
        park.enterprise_a,
        70.0,
        &[],
        "2024-03-01",
    )
    .await;
    assert_eq!(first["grade"], "orange");

    let stricter = spawn_app_sharing(&app, |settings| {
        settings.grading.thresholds_version = "2025-strict".into();
        settings.grading.red_below = 72.0;
        settings.grading.orange_below = 80.0;
    })
    .await;
    let supervisor = stricter.login("supervisor@park.example.cn").await;
    let path = format!("/api/v1/enterprises/{}", park.enterprise_a);
    let still = stricter
        .get(&format!("{path}?as_of=2024-12-31"))
        .token(&supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(
        still.json["grade"], "orange",
        "the 2024 grade stands under the new thresholds"
    );

    let second = assess(
        &stricter,
        &supervisor,
        park.enterprise_a,
        70.0,
        &[],
        "2025-03-01",
    )
    .await;
    assert_eq!(second["grade"], "red");
    assert_eq!(second["thresholds_version"], "2025-strict");
    let history = stricter
        .get(&format!("{path}/assessments"))
        .token(&supervisor)
        .send()
        .await
        .expect(200);
    let grades: Vec<(&str, &str)> = history.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["grade"].as_str().unwrap(),
                a["thresholds_version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        grades,
        vec![("red", "2025-strict"), ("orange", "2024-default")]
    );
}

async fn due_list_follows_each_grade(app: TestApp) {
    let park = app.park().await;
    let mut graded = Vec::new();
    for (name, score) in [
        ("Red Co", 50.0),
        ("Orange Co", 65.0),
        ("Yellow Co", 80.0),
        ("Blue Co", 95.0),
    ] {
        let id = app.create_enterprise(&park.admin, name).await;
        assess(&app, &park.supervisor, id, score, &[], "2024-01-01").await;
        graded.push(id);
    }
    let due_on = |day: &'static str| {
        let app = &app;
        let token = park.expert.clone();
        async move {
            app.get(&format!("/api/v1/enterprises/due?as_of={day}"))
                .token(&token)
                .send()
                .await
                .expect(200)
                .json
        }
    };
    let names = |reply: &Value| -> Vec<String> {
        reply["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Graded but never visited: the first supervision visit is due at once.
    let first_day = due_on("2024-01-01").await;
    assert_eq!(names(&first_day).len(), 4, "{first_day}");
    assert_eq!(
        first_day["items"][0]["due"][0]["reason"],
        "supervision_inspection"
    );

    for id in &graded {
        app.post("/api/v1/inspections")
            .token(&park.expert)
            .json(&json!({"source": "park_supervision", "enterprise_id": id, "inspected_on": "2024-01-01"}))
            .send()
            .await
            .expect(201);
    }
    assert!(names(&due_on("2024-01-30").await).is_empty());
    assert_eq!(names(&due_on("2024-01-31").await), vec!["Red Co"]);
    assert_eq!(
        names(&due_on("2024-03-01").await),
        vec!["Red Co", "Orange Co"]
    );
    assert_eq!(
        names(&due_on("2024-03-31").await),
        vec!["Red Co", "Orange Co", "Yellow Co"]
    );
    let summer = due_on("2024-06-29").await;
    assert_eq!(
        names(&summer),
        vec!["Red Co", "Orange Co", "Yellow Co", "Blue Co"]
    );
    let red = &summer["items"][0];
    assert_eq!(
        red["due"][0],
        json!({"reason": "supervision_inspection", "due_on": "2024-01-31", "days_overdue": 150})
    );
    assert_eq!(
        red["due"][1],
        json!({"reason": "reassessment", "due_on": "2024-06-29", "days_overdue": 0})
    );
    assert_eq!(red["grade"], "red");

    // A window ahead shows what is coming.
    assert_eq!(
        names(
            &app.get("/api/v1/enterprises/due?as_of=2024-01-20&within_days=11")
                .token(&park.supervisor)
                .send()
                .await
                .expect(200)
                .json
        ),
        vec!["Red Co"]
    );

    // The never-assessed enterprises of the park are due for a first assessment today.
    let today = app
        .get("/api/v1/enterprises/due")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let first = today.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Alpha Chemicals")
        .unwrap()
        .clone();
    assert_eq!(first["due"][0]["reason"], "first_assessment");
    assert_eq!(first["grade"], json!(null));
}

async fn review_flag_and_roles(app: TestApp) {
    let park = app.park().await;
    assess(
        &app,
        &park.supervisor,
        park.enterprise_a,
        95.0,
        &[],
        "2024-01-01",
    )
    .await;
    let a = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(a.json["grade"], "blue");
    assert_eq!(a.json["review_suggested"], false);

    app.report(
        &park.expert,
        crate::helpers::major_hazard(park.enterprise_a),
    )
    .await;
    let a = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(a.json["review_suggested"], true);
    assert_eq!(
        a.json["grade"], "blue",
        "only an assessment changes the grade"
    );
    assert!(a.json["review_reasons"][0]
        .as_str()
        .unwrap()
        .contains("major"));
    let due = app
        .get("/api/v1/enterprises/due?within_days=366")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let listed = due.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["enterprise_id"] == json!(park.enterprise_a))
        .unwrap()
        .clone();
    assert_eq!(listed["review_suggested"], true);

    // An enterprise contact reads its own grade and assessments, nothing else.
    let own = app
        .get(&format!(
            "/api/v1/enterprises/{}/assessments",
            park.enterprise_a
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(own.json["items"].as_array().unwrap().len(), 1);
    app.get(&format!(
        "/api/v1/enterprises/{}/assessments",
        park.enterprise_b
    ))
    .token(&park.contact_a)
    .send()
    .await
    .expect_problem(404);
    app.get("/api/v1/enterprises/due")
        .token(&park.contact_a)
        .send()
        .await
        .expect_problem(403);
    app.get("/api/v1/enterprises/grade-counts")
        .token(&park.contact_a)
        .send()
        .await
        .expect_problem(403);
    for token in [&park.contact_a, &park.expert, &park.viewer] {
        app.post(&format!(
            "/api/v1/enterprises/{}/assessments",
            park.enterprise_a
        ))
        .token(token)
        .json(&json!({"score": 50, "assessed_on": "2024-02-01"}))
        .send()
        .await
        .expect_problem(403);
    }
    app.get("/api/v1/enterprises/due")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
}

async fn assessments_are_history(app: TestApp) {
    let park = app.park().await;
    assess(
        &app,
        &park.supervisor,
        park.enterprise_a,
        81.0,
        &[],
        "2024-01-01",
    )
    .await;
    app.patch(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(&park.supervisor)
        .json(&json!({"status": "trial"}))
        .send()
        .await
        .expect(200);
    let events = app
        .get(&format!("/api/v1/enterprises/{}/events", park.enterprise_a))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let actions: Vec<&str> = events.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["registered", "assessed", "updated"]);
    assert_eq!(events.json["items"][1]["details"]["grade"], "yellow");

    let mut conn = app.state.db.get().unwrap();
    use diesel::RunQueryDsl;
    assert!(
        diesel::sql_query("UPDATE enterprise_assessments SET score_centi = 10000")
            .execute(&mut *conn)
            .is_err()
    );
    assert!(diesel::sql_query("DELETE FROM enterprise_assessments")
        .execute(&mut *conn)
        .is_err());
    assert!(diesel::sql_query("DELETE FROM enterprise_events")
        .execute(&mut *conn)
        .is_err());
    drop(conn);
    let history = app
        .get(&format!(
            "/api/v1/enterprises/{}/assessments",
            park.enterprise_a
        ))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(history.json["items"][0]["score"], 81.0);
}

/// A producing enterprise with no self-check inspection for a quarter
/// (`grading.self_check_interval_days`, 92) is due one; one under
/// construction is not; recording a self-check clears it.
async fn producing_enterprises_owe_a_self_check_each_quarter(app: TestApp) {
    let park = app.park().await;
    let producing = app.create_enterprise(&park.admin, "Producing Co").await;
    let site = app
        .post("/api/v1/enterprises")
        .token(&park.admin)
        .json(&json!({"name": "Site Co", "credit_code": crate::helpers::credit_code("site"), "status": "construction"}))
        .send()
        .await
        .expect(201);
    let registered = chrono::Utc::now().naive_utc() - chrono::Duration::days(100);
    {
        use diesel::RunQueryDsl;
        let mut conn = app.state.db.get().unwrap();
        diesel::sql_query(format!(
            "UPDATE enterprises SET created_at = '{}' WHERE id IN ('{producing}', '{}')",
            registered.format("%Y-%m-%d %H:%M:%S"),
            site.json["id"].as_str().unwrap()
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    let self_check_of = |reply: &Value, name: &str| -> Option<Value> {
        reply["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| {
                e["due"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| d["reason"] == "self_check")
                    .cloned()
            })
    };
    let due = app
        .get("/api/v1/enterprises/due")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    let owed = self_check_of(&due, "Producing Co").expect("a self-check is due");
    let due_on = registered.date() + chrono::Days::new(92);
    assert_eq!(owed["due_on"], json!(due_on.to_string()));
    assert_eq!(self_check_of(&due, "Site Co"), None);

    app.post("/api/v1/inspections")
        .token(&park.expert)
        .json(&json!({"source": "self_check", "enterprise_id": producing, "inspected_on": crate::helpers::days_from_today(0)}))
        .send()
        .await
        .expect(201);
    let due = app
        .get("/api/v1/enterprises/due")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(self_check_of(&due, "Producing Co"), None);
}
