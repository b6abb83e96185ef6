//! The change feed: a consumer polling while two instances write sees every
//! event exactly once, in order; an enterprise contact sees its own.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{events, general_hazard, id_of, spawn_app_sharing, TestApp};

backend_tests!(
    a_consumer_sees_every_change_once_in_commit_order,
    the_register_and_its_check_records_are_in_the_feed_when_asked_for,
);

/// Reports `n` hazards through `app` and plans each.
async fn write(
    app: &TestApp,
    token: &str,
    contact: &str,
    enterprise: uuid::Uuid,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = id_of(&app.report(token, general_hazard(enterprise)).await);
        app.post(&format!("/api/v1/hazards/{id}/plan"))
            .token(contact)
            .json(&json!({"measures": "更换"}))
            .send()
            .await
            .expect(200);
        ids.push(id);
    }
    ids
}

async fn a_consumer_sees_every_change_once_in_commit_order(app: TestApp) {
    let park = app.park().await;
    let second = spawn_app_sharing(&app, |_| {}).await;
    let seen: RefCell<Vec<Value>> = RefCell::new(Vec::new());
    let done = Cell::new(false);
    let consumer = async {
        let mut cursor: Option<String> = None;
        loop {
            let finished = done.get();
            let query = cursor
                .as_ref()
                .map_or(String::new(), |c| format!("&after={c}"));
            let page = app
                .get(&format!("/api/v1/changes?limit=7{query}"))
                .token(&park.supervisor)
                .send()
                .await
                .expect(200)
                .json;
            let items = page["items"].as_array().unwrap().clone();
            if let Some(next) = page["next_cursor"].as_str() {
                cursor = Some(next.to_owned());
            }
            let empty = items.is_empty();
            seen.borrow_mut().extend(items);
            if finished && empty {
                break;
            }
            if empty {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let writers = async {
        let (a, b) = tokio::join!(
            write(&app, &park.expert, &park.contact_a, park.enterprise_a, 6),
            write(
                &second,
                &park.supervisor,
                &park.contact_b,
                park.enterprise_b,
                6
            ),
        );
        done.set(true);
        [a, b].concat()
    };
    let ((), hazards) = tokio::join!(consumer, writers);

    let seen = seen.into_inner();
    let seqs: Vec<i64> = seen.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "not in order: {seqs:?}"
    );
    let ids: Vec<&str> = seen.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a change was seen twice");
    for hazard in &hazards {
        for event in events(&app, &park.supervisor, hazard).await {
            let id = event["id"].as_str().unwrap();
            assert!(unique.contains(id), "event {id} of {hazard} was missed");
        }
    }
    let hazard_events = seen.iter().filter(|c| c["kind"] == "hazard_event").count();
    assert_eq!(hazard_events, hazards.len() * 2);
    assert!(seen.iter().any(|c| c["kind"] == "enterprise_event"));

    // A contact's feed is its own enterprise's; a viewer has none.
    let own = app
        .get("/api/v1/changes?limit=500")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json;
    let own = own["items"].as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own
        .iter()
        .all(|c| c["enterprise_id"] == json!(park.enterprise_a)));
    app.get("/api/v1/changes")
        .token(&park.viewer)
        .send()
        .await
        .expect_problem(403);
    app.get("/api/v1/changes?after=x")
        .token(&park.admin)
        .send()
        .await
        .expect_problem(422);
}

/// The actions of the changes of `kinds` `token` may see.
async fn actions(app: &TestApp, token: &str, kinds: &str) -> Vec<(String, String)> {
    let page = app
        .get(&format!("/api/v1/changes?limit=500&kinds={kinds}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn the_register_and_its_check_records_are_in_the_feed_when_asked_for(app: TestApp) {
    use crate::risk::{created, local_in, measure_of};
    let park = app.park().await;
    let (measure, unit) = measure_of(
        &app,
        &park.contact_a,
        park.enterprise_a,
        json!({"method": "ls", "l": 2, "s": 3}),
    )
    .await;
    let task = id_of(
        &created(
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
        .await,
    );
    app.post(&format!("/api/v1/check-tasks/{task}/records"))
        .token(&park.contact_a)
        .json(&json!({"occurrence": 1, "outcome": "normal"}))
        .send()
        .await
        .expect(201);
    app.patch(&format!("/api/v1/risk-units/{unit}"))
        .token(&park.contact_a)
        .json(&json!({"department": "生产部"}))
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/check-tasks/{task}/retire"))
        .token(&park.contact_a)
        .json(&json!({"reason": "改为每班检查"}))
        .send()
        .await
        .expect(200);

    // Not by default: a client written before them sees what it knew.
    let default = actions(
        &app,
        &park.supervisor,
        "hazard_event,enterprise_event,assessment",
    )
    .await;
    let unasked = app
        .get("/api/v1/changes?limit=500")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(unasked["items"].as_array().unwrap().len(), default.len());
    assert!(default.iter().all(|(kind, _)| kind != "register"));

    let register = actions(&app, &park.supervisor, "register,check_record").await;
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, a)| ((*k).to_owned(), (*a).to_owned()))
            .collect()
    };
    assert_eq!(
        register,
        owned(&[
            ("register", "object_added"),
            ("register", "unit_added"),
            ("register", "event_added"),
            ("register", "measure_added"),
            ("register", "task_added"),
            ("check_record", "normal"),
            ("register", "unit_edited"),
            ("register", "task_retired"),
        ]),
        "in the order they were made"
    );
    assert!(
        actions(&app, &park.contact_b, "register,check_record")
            .await
            .is_empty(),
        "another enterprise's register is not in a contact's feed"
    );
    app.get("/api/v1/changes?kinds=register,hazard")
        .token(&park.admin)
        .send()
        .await
        .expect_problem(422);
}
