//! Editing and retiring the risk register through HTTP on both backends:
//! an edit checked as a new node is (an event re-levelled), a measure that
//! cannot leave checks while checked, a task and a unit retired with a
//! reason and everything below them, each change kept as a revision with
//! the node as it was, what the major-source registry keeps left to it,
//! and another enterprise's register out of reach.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{id_of, TestApp};
use crate::risk::{created, local_in, measure_of, register};

backend_tests!(a_register_is_edited_and_retired_with_every_change_kept);

async fn a_register_is_edited_and_retired_with_every_change_kept(app: TestApp) {
    let park = app.park().await;
    let a = park.enterprise_a;
    let (measure, unit) = measure_of(
        &app,
        &park.contact_a,
        a,
        json!({"method": "ls", "l": 4, "s": 5}),
    )
    .await;
    let task = created(
        &app,
        &park.contact_a,
        "/api/v1/check-tasks",
        json!({
            "measure_id": measure,
            "kind": "post_check",
            "assignee_role": "enterprise",
            "schedule": {"every": 1, "unit": "day", "starts": local_in(-30)},
        }),
    )
    .await;
    let kept = register(&app, &park.contact_a, a).await;
    let event = kept["objects"][0]["units"][0]["events"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // An edit replaces what is sent; "" clears an optional text.
    let edited = app
        .patch(&format!("/api/v1/risk-units/{unit}"))
        .token(&park.contact_a)
        .json(&json!({"department": "生产部", "responsible_person": ""}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(edited["department"], "生产部");
    assert_eq!(edited["responsible_person"], Value::Null);
    assert_eq!(edited["name"], "甲醇储罐");
    // New inputs re-level the event, and the unit with it.
    let relevelled = app
        .patch(&format!("/api/v1/risk-events/{event}"))
        .token(&park.contact_a)
        .json(&json!({"assessment": {"method": "ls", "l": 1, "s": 2}}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(relevelled["level"]["level"], "low", "{relevelled}");
    assert_eq!(
        register(&app, &park.contact_a, a).await["units_by_level"],
        json!({"major": 0, "serious": 0, "general": 0, "low": 1})
    );
    // An edit breaking a rule is refused as a new node would be.
    let refused = app
        .patch(&format!("/api/v1/risk-events/{event}"))
        .token(&park.contact_a)
        .header("Accept-Language", "zh-CN")
        .json(&json!({"name": " ", "assessment": {"method": "ls", "l": 9, "s": 2}}))
        .send()
        .await
        .expect(422)
        .json;
    assert!(refused["errors"]["name"].is_string(), "{refused}");
    assert!(
        refused["errors"].as_object().unwrap().len() >= 2,
        "{refused}"
    );

    // A measure with an active task stays watched by checks.
    let monitoring = json!({"control_mode": "monitoring"});
    let conflict = app
        .patch(&format!("/api/v1/control-measures/{measure}"))
        .token(&park.contact_a)
        .header("Accept-Language", "zh-CN")
        .json(&monitoring)
        .send()
        .await
        .expect(409)
        .json;
    assert!(
        conflict["detail"].as_str().unwrap().contains("排查任务"),
        "{conflict}"
    );
    // Retiring needs a reason; a retired task is gone from then on.
    let task_retire = format!("/api/v1/check-tasks/{}/retire", id_of(&task));
    app.post(&task_retire)
        .token(&park.contact_a)
        .json(&json!({"reason": " "}))
        .send()
        .await
        .expect(422);
    let retired = app
        .post(&task_retire)
        .token(&park.contact_a)
        .json(&json!({"reason": "改为在线监测"}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(retired["tasks_retired"], 1);
    app.post(&task_retire)
        .token(&park.contact_a)
        .json(&json!({"reason": "again"}))
        .send()
        .await
        .expect(404);
    app.patch(&format!("/api/v1/control-measures/{measure}"))
        .token(&park.contact_a)
        .json(&monitoring)
        .send()
        .await
        .expect(200);

    // Another enterprise cannot touch or read it.
    app.patch(&format!("/api/v1/risk-units/{unit}"))
        .token(&park.contact_b)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect(404);
    app.get(&format!("/api/v1/enterprises/{a}/risk-register/revisions"))
        .token(&park.contact_b)
        .send()
        .await
        .expect(404);

    // A unit retired takes its events and measures out of the register
    // (and out of the figures, asked for just before); nothing is added
    // under it any more.
    let today = crate::helpers::days_from_today(0);
    let figures_path = format!("/api/v1/analytics/checks?from={today}&to={today}");
    let before = app
        .get(&figures_path)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(before["park"]["units_by_level"]["low"], 1, "{before}");
    let unit_retired = app
        .post(&format!("/api/v1/risk-units/{unit}/retire"))
        .token(&park.contact_a)
        .json(&json!({"reason": "装置拆除"}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(unit_retired["node_kind"], "unit");
    let after = register(&app, &park.contact_a, a).await;
    assert_eq!(after["objects"][0]["units"], json!([]), "{after}");
    assert_eq!(after["measures"], 0);
    app.post("/api/v1/risk-events")
        .token(&park.contact_a)
        .json(&json!({"unit_id": unit, "name": "泄漏", "assessment": {"method": "ls", "l": 1, "s": 1}}))
        .send()
        .await
        .expect(422);
    // The figures count what the register holds now.
    let figures = app
        .get(&figures_path)
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(
        figures["park"]["units_by_level"],
        json!({"major": 0, "serious": 0, "general": 0, "low": 0}),
        "{figures}"
    );

    // Every change is kept, newest first, with the node as it was.
    let revisions = app
        .get(&format!(
            "/api/v1/enterprises/{a}/risk-register/revisions?limit=3"
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let items = revisions["items"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|r| {
            (
                r["node_kind"].as_str().unwrap(),
                r["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("unit", "retired"),
            ("measure", "edited"),
            ("task", "retired")
        ],
        "{revisions}"
    );
    assert_eq!(items[0]["reason"], "装置拆除");
    let older = app
        .get(&format!(
            "/api/v1/enterprises/{a}/risk-register/revisions?before={}",
            revisions["next_before"].as_str().unwrap()
        ))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let older = older["items"].as_array().unwrap();
    assert_eq!(older.len(), 2, "{older:?}");
    assert_eq!(older[1]["node_kind"], "unit");
    assert_eq!(older[1]["before"]["department"], "储运部");
    assert_eq!(older[1]["after"]["department"], "生产部");
    assert_eq!(older[0]["before"]["level"], "major");

    // What the major-source registry keeps is changed through it.
    created(
        &app,
        &park.contact_a,
        "/api/v1/major-sources",
        json!({
            "enterprise_id": a,
            "code": "320500011",
            "name": "甲醇罐区",
            "unit_kind": "storage",
            "alpha": 1.0,
            "chemicals": [{"name": "甲醇", "quantity_t": 1000.0, "critical_t": 500.0, "beta": 1.0}],
        }),
    )
    .await;
    let with_source = register(&app, &park.contact_a, a).await;
    let source_object = with_source["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "major_hazard_source")
        .expect("the source's object");
    app.post(&format!(
        "/api/v1/risk-objects/{}/retire",
        id_of(source_object)
    ))
    .token(&park.contact_a)
    .json(&json!({"reason": "x"}))
    .send()
    .await
    .expect(409);
}
