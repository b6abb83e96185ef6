//! Who may see and do what: enterprise isolation (BOLA), the role matrix of
//! PRODUCT.md §1, strict token validation, user administration and the
//! credit-code check on enterprise registration.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::id_of;
use crate::helpers::ids;
use crate::helpers::{
    credit_code, days_from_today, full_plan, general_hazard, major_hazard, Reply, TestApp,
    JWT_SECRET,
};

backend_tests!(
    another_enterprise_cannot_reach_a_hazard,
    another_enterprise_cannot_see_enterprises_or_inspections,
    contact_records_only_self_checks_of_its_own_enterprise,
    viewer_reads_no_hazards_or_inspections,
    viewer_reads_the_directory_without_personal_data,
    tokens_end_with_their_credentials,
    an_enterprise_cannot_rewrite_its_own_punctuality,
    expert_may_not_void_approve_extensions_or_add_users,
    contact_signs_off_only_its_own_general_self_checks,
    supervisor_voids_with_a_reason_but_not_a_closed_hazard,
    submit_from_reported_is_an_invalid_transition,
    missing_or_malformed_credentials_are_refused,
    forged_and_tampered_tokens_are_refused,
    tokens_outside_their_validity_or_audience_are_refused,
    a_valid_token_identifies_the_caller,
    admin_manages_users,
    a_disabled_user_can_no_longer_sign_in,
    only_admin_manages_users,
    credit_codes_are_checked_and_normalised,
    tokens_stop_working_when_the_account_changes,
);

const ISSUER: &str = "hazard-tracker";
const AUDIENCE: &str = "hazard-tracker-api";
/// More than the configured 30 s leeway.
const BEYOND_LEEWAY: i64 = 120;

/// A general hazard the enterprise found in its own self-check.
fn self_check_hazard(enterprise: Uuid) -> Value {
    let mut body = general_hazard(enterprise);
    body["source"] = json!("self_check");
    body["title"] = json!("配电室门口灭火器压力不足");
    body["specialty"] = json!("fire");
    body
}

fn inspection(source: &str, enterprise: Uuid) -> Value {
    json!({
        "source": source,
        "enterprise_id": enterprise,
        "inspected_on": days_from_today(0),
        "inspectors": ["王工"],
        "notes": "季度检查",
    })
}

/// A 401 as the contract wants it: problem+json with a Bearer challenge.
#[track_caller]
fn assert_unauthorized(reply: Reply, what: &str) -> Reply {
    assert_eq!(
        reply.status.as_u16(),
        401,
        "{what}: expected 401; body: {}",
        reply.text
    );
    let reply = reply.expect_problem(401);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "{what}: a 401 must carry WWW-Authenticate: Bearer, got {challenge:?}"
    );
    reply
}

async fn me(app: &TestApp, token: &str) -> Reply {
    app.get("/api/v1/auth/me").token(token).send().await
}

fn items(value: &Value) -> &Vec<Value> {
    value["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {value}"))
}

fn allows(hazard: &Value, action: &str) -> bool {
    hazard["allowed_actions"]
        .as_array()
        .is_some_and(|actions| actions.contains(&json!(action)))
}

fn access_token(reply: &Reply) -> String {
    reply.json["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("an access token: {}", reply.text))
        .to_owned()
}

/// The JSON in one base64url part of a compact JWS.
fn decode_part(part: &str) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("a base64url part");
    serde_json::from_slice(&bytes).expect("a JSON part")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing a test token")
}

/// Claims the service would issue itself, valid for ten minutes.
fn good_claims(sub: &str, role: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": sub,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": 0,
    })
}

/// Plans and submits a hazard as `token`: reported → pending_acceptance.
async fn plan_and_submit(app: &TestApp, id: &str, token: &str, plan: Value) {
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(token)
        .json(&plan)
        .send()
        .await
        .expect(200);
    let submitted = app
        .post(&format!("/api/v1/hazards/{id}/submit"))
        .token(token)
        .json(&json!({"notes": "已整改"}))
        .send()
        .await
        .expect(200);
    assert_eq!(submitted.json["state"], "pending_acceptance");
}

async fn hazard_as(app: &TestApp, id: &str, token: &str) -> Value {
    app.get(&format!("/api/v1/hazards/{id}"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json
}

// ---------------------------------------------------------------------------
// 1. Enterprise isolation
// ---------------------------------------------------------------------------

async fn another_enterprise_cannot_reach_a_hazard(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);
    let number = hazard["number"].as_str().expect("a number").to_owned();
    let extension = app
        .post(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": days_from_today(30), "reason": "备件到货延迟"}))
        .send()
        .await
        .expect(201);
    let extension_id = id_of(&extension.json);
    let own = app
        .report(&park.contact_b, self_check_hazard(park.enterprise_b))
        .await;
    let own_id = id_of(&own);

    // Contact A sees its hazard, its history and its extension requests.
    let seen = hazard_as(&app, &id, &park.contact_a).await;
    assert_eq!(seen["enterprise_id"], json!(park.enterprise_a));
    let version = seen["version"].clone();
    let events = app
        .get(&format!("/api/v1/hazards/{id}/events"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(items(&events.json).len(), 2);
    let extensions = app
        .get(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&extensions), vec![extension_id.clone()]);

    // To contact B it does not exist: the same 404 as a hazard that never did.
    let unknown = app
        .get(&format!("/api/v1/hazards/{}", Uuid::new_v4()))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    let hidden = app
        .get(&format!("/api/v1/hazards/{id}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    assert_eq!(
        hidden.json["detail"], unknown.json["detail"],
        "another enterprise's hazard must look exactly like a missing one"
    );
    assert!(
        !hidden.text.contains(&number) && !hidden.text.contains("储罐区"),
        "the 404 leaks the hazard: {}",
        hidden.text
    );
    for sub in ["events", "extensions"] {
        app.get(&format!("/api/v1/hazards/{id}/{sub}"))
            .token(&park.contact_b)
            .send()
            .await
            .expect_problem(404);
    }

    // Nor can B change it.
    let approve = format!("extensions/{extension_id}/approve");
    let writes = [
        ("plan", full_plan()),
        ("submit", json!({"notes": "已整改"})),
        (
            "extensions",
            json!({"requested_deadline": days_from_today(40), "reason": "想多要几天"}),
        ),
        ("accept", json!({})),
        ("reject", json!({"reason": "不合格"})),
        (approve.as_str(), json!({"note": "同意"})),
    ];
    for (action, body) in &writes {
        app.post(&format!("/api/v1/hazards/{id}/{action}"))
            .token(&park.contact_b)
            .json(body)
            .send()
            .await
            .expect_problem(404);
    }
    let after = hazard_as(&app, &id, &park.supervisor).await;
    assert_eq!(after["state"], "reported");
    assert_eq!(after["version"], version, "B's attempts changed A's hazard");
    assert_eq!(after["plan"], json!(null));
    let events = app
        .get(&format!("/api/v1/hazards/{id}/events"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(items(&events.json).len(), 2);
    let extensions = app
        .get(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(extensions.json["items"][0]["state"], "pending");

    // B's lists hold only B's hazard, whatever it asks for.
    let listed = app
        .get("/api/v1/hazards")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![own_id.clone()]);
    for query in [
        format!("enterprise_id={}", park.enterprise_a),
        format!("q={number}"),
        format!("enterprise_id={}&state=reported", park.enterprise_a),
    ] {
        let listed = app
            .get(&format!("/api/v1/hazards?{query}"))
            .token(&park.contact_b)
            .send()
            .await
            .expect(200);
        assert_eq!(ids(&listed), Vec::<String>::new(), "?{query}");
    }
    // And A's list holds A's hazard, not B's.
    let listed = app
        .get("/api/v1/hazards")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![id]);
}

async fn another_enterprise_cannot_see_enterprises_or_inspections(app: TestApp) {
    let park = app.park().await;

    let unknown = app
        .get(&format!("/api/v1/enterprises/{}", Uuid::new_v4()))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    let hidden = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_a))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    assert_eq!(hidden.json["detail"], unknown.json["detail"]);
    assert!(!hidden.text.contains("Alpha"), "{}", hidden.text);
    let own = app
        .get(&format!("/api/v1/enterprises/{}", park.enterprise_b))
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(own.json["name"], "Beta Materials");
    let listed = app
        .get("/api/v1/enterprises")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![park.enterprise_b.to_string()]);
    let listed = app
        .get("/api/v1/enterprises?status=producing")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![park.enterprise_b.to_string()]);
    // The park's own roles see both.
    let listed = app
        .get("/api/v1/enterprises")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed).len(), 2);

    let of_a = app
        .post("/api/v1/inspections")
        .token(&park.expert)
        .json(&inspection("resident_expert", park.enterprise_a))
        .send()
        .await
        .expect(201);
    let of_a = id_of(&of_a.json);
    let of_b = app
        .post("/api/v1/inspections")
        .token(&park.contact_b)
        .json(&inspection("self_check", park.enterprise_b))
        .send()
        .await
        .expect(201);
    let of_b = id_of(&of_b.json);

    app.get(&format!("/api/v1/inspections/{of_a}"))
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    app.get(&format!("/api/v1/inspections/{of_a}"))
        .token(&park.contact_b)
        .send()
        .await
        .expect_problem(404);
    let listed = app
        .get("/api/v1/inspections")
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![of_b.clone()]);
    let listed = app
        .get(&format!(
            "/api/v1/inspections?enterprise_id={}",
            park.enterprise_a
        ))
        .token(&park.contact_b)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), Vec::<String>::new());
    let listed = app
        .get("/api/v1/inspections")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![of_a.clone()]);

    // B cannot record an inspection of A, nor hang a hazard on A's.
    app.post("/api/v1/inspections")
        .token(&park.contact_b)
        .json(&inspection("self_check", park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    let mut body = self_check_hazard(park.enterprise_b);
    body["inspection_id"] = json!(of_a);
    app.post("/api/v1/hazards")
        .token(&park.contact_b)
        .json(&body)
        .send()
        .await
        .expect_problem(422);
    let listed = app
        .get("/api/v1/inspections")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed).len(), 2);
}

async fn contact_records_only_self_checks_of_its_own_enterprise(app: TestApp) {
    let park = app.park().await;

    // For another enterprise: refused, whatever the source.
    app.post("/api/v1/hazards")
        .token(&park.contact_b)
        .json(&self_check_hazard(park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    app.post("/api/v1/hazards")
        .token(&park.contact_b)
        .json(&general_hazard(park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    // For its own enterprise, only self-checks.
    for source in [
        "resident_expert",
        "national_expert",
        "park_supervision",
        "mutual_check",
    ] {
        let mut body = general_hazard(park.enterprise_b);
        body["source"] = json!(source);
        if source == "mutual_check" {
            body["checking_enterprise_id"] = json!(park.enterprise_a);
        }
        app.post("/api/v1/hazards")
            .token(&park.contact_b)
            .json(&body)
            .send()
            .await
            .expect_problem(403);
    }
    let listed = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(
        ids(&listed),
        Vec::<String>::new(),
        "a refused report was stored"
    );

    // Its own self-check is fine.
    let own = app
        .report(&park.contact_b, self_check_hazard(park.enterprise_b))
        .await;
    assert_eq!(own["enterprise_id"], json!(park.enterprise_b));
    assert_eq!(own["source"], "self_check");

    // Idempotency keys are per user: B reusing A's key neither replays A's
    // hazard nor gets around the ownership check.
    let key = "report-2024-0001";
    let of_a = app
        .post("/api/v1/hazards")
        .token(&park.contact_a)
        .header("Idempotency-Key", key)
        .json(&self_check_hazard(park.enterprise_a))
        .send()
        .await
        .expect(201);
    app.post("/api/v1/hazards")
        .token(&park.contact_b)
        .header("Idempotency-Key", key)
        .json(&self_check_hazard(park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    let of_b = app
        .post("/api/v1/hazards")
        .token(&park.contact_b)
        .header("Idempotency-Key", key)
        .json(&self_check_hazard(park.enterprise_b))
        .send()
        .await
        .expect(201);
    assert_eq!(of_b.header("idempotent-replayed"), None);
    assert_ne!(id_of(&of_b.json), id_of(&of_a.json));
    assert_eq!(of_b.json["enterprise_id"], json!(park.enterprise_b));
}

// ---------------------------------------------------------------------------
// 2. Roles
// ---------------------------------------------------------------------------

async fn viewer_reads_no_hazards_or_inspections(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);

    for path in [
        "/api/v1/hazards".to_owned(),
        format!("/api/v1/hazards/{id}"),
        format!("/api/v1/hazards/{id}/events"),
        "/api/v1/inspections".to_owned(),
        "/api/v1/users".to_owned(),
    ] {
        let reply = app.get(&path).token(&park.viewer).send().await;
        assert_eq!(reply.status.as_u16(), 403, "GET {path}: {}", reply.text);
        reply.expect_problem(403);
    }
    app.post("/api/v1/hazards")
        .token(&park.viewer)
        .json(&general_hazard(park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    app.post("/api/v1/inspections")
        .token(&park.viewer)
        .json(&inspection("park_supervision", park.enterprise_a))
        .send()
        .await
        .expect_problem(403);
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.viewer)
        .json(&full_plan())
        .send()
        .await
        .expect_problem(403);
    let listed = app
        .get("/api/v1/hazards")
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![id.clone()]);
    assert_eq!(hazard_as(&app, &id, &park.supervisor).await["version"], 1);
    // The token itself is good: a viewer may read the enterprise register.
    app.get("/api/v1/enterprises")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
}

async fn expert_may_not_void_approve_extensions_or_add_users(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);

    app.post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.expert)
        .json(&json!({"reason": "重复登记"}))
        .send()
        .await
        .expect_problem(403);
    assert_eq!(
        hazard_as(&app, &id, &park.expert).await["state"],
        "reported"
    );

    let requested = days_from_today(30);
    let extension = app
        .post(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.contact_a)
        .json(&json!({"requested_deadline": requested, "reason": "备件到货延迟"}))
        .send()
        .await
        .expect(201);
    let ext = id_of(&extension.json);
    for token in [&park.expert, &park.contact_a] {
        for decision in ["approve", "refuse"] {
            app.post(&format!("/api/v1/hazards/{id}/extensions/{ext}/{decision}"))
                .token(token)
                .json(&json!({"note": "同意"}))
                .send()
                .await
                .expect_problem(403);
        }
    }
    // An expert may not ask for one either: that is the enterprise's.
    app.post(&format!("/api/v1/hazards/{id}/extensions"))
        .token(&park.expert)
        .json(&json!({"requested_deadline": days_from_today(31), "reason": "代为申请"}))
        .send()
        .await
        .expect_problem(403);
    let unchanged = hazard_as(&app, &id, &park.expert).await;
    assert_eq!(unchanged["deadline"], hazard["deadline"]);
    let approved = app
        .post(&format!("/api/v1/hazards/{id}/extensions/{ext}/approve"))
        .token(&park.supervisor)
        .json(&json!({"note": "同意延期"}))
        .send()
        .await
        .expect(200);
    assert_eq!(approved.json["deadline"], json!(requested));

    app.post("/api/v1/users")
        .token(&park.expert)
        .json(&json!({
            "email": "mole@park.example.cn",
            "name": "Mole",
            "role": "admin",
            "password": "a long enough password",
        }))
        .send()
        .await
        .expect_problem(403);
    app.post("/api/v1/auth/token")
        .json(&json!({"email": "mole@park.example.cn", "password": "a long enough password"}))
        .send()
        .await
        .expect_problem(401);
}

async fn contact_signs_off_only_its_own_general_self_checks(app: TestApp) {
    let park = app.park().await;

    // Its own general self-check: the enterprise closes it itself (自行验收).
    let own = app
        .report(&park.contact_a, self_check_hazard(park.enterprise_a))
        .await;
    let own_id = id_of(&own);
    assert_eq!(own["source"], "self_check");
    plan_and_submit(
        &app,
        &own_id,
        &park.contact_a,
        json!({"measures": "更换灭火器"}),
    )
    .await;
    let pending = hazard_as(&app, &own_id, &park.contact_a).await;
    assert!(allows(&pending, "accept"), "{pending}");
    app.post(&format!("/api/v1/hazards/{own_id}/accept"))
        .token(&park.contact_b)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(404);
    let closed = app
        .post(&format!("/api/v1/hazards/{own_id}/accept"))
        .token(&park.contact_a)
        .json(&json!({"notes": "自查自改,已验收"}))
        .send()
        .await
        .expect(200);
    assert_eq!(closed.json["state"], "closed");

    // A hazard the resident experts found: never the enterprise's to close.
    let found = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let found_id = id_of(&found);
    plan_and_submit(
        &app,
        &found_id,
        &park.contact_a,
        json!({"measures": "更换报警器"}),
    )
    .await;
    let pending = hazard_as(&app, &found_id, &park.contact_a).await;
    assert!(!allows(&pending, "accept"), "{pending}");
    app.post(&format!("/api/v1/hazards/{found_id}/accept"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(403);
    app.post(&format!("/api/v1/hazards/{found_id}/reject"))
        .token(&park.contact_a)
        .json(&json!({"reason": "再改改"}))
        .send()
        .await
        .expect_problem(403);
    assert_eq!(
        hazard_as(&app, &found_id, &park.supervisor).await["state"],
        "pending_acceptance"
    );
    app.post(&format!("/api/v1/hazards/{found_id}/accept"))
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await
        .expect(200);

    // Nor a major hazard, even from its own self-check.
    let mut body = major_hazard(park.enterprise_a);
    body["source"] = json!("self_check");
    let major = app.report(&park.contact_a, body).await;
    let major_id = id_of(&major);
    // A major hazard is submitted with proof of its rectification.
    crate::helpers::evidence::attach(
        &app,
        &park.contact_a,
        &major_id,
        "after",
        crate::helpers::evidence::jpeg(2, 1000),
    )
    .await;
    plan_and_submit(&app, &major_id, &park.contact_a, full_plan()).await;
    app.post(&format!("/api/v1/hazards/{major_id}/accept"))
        .token(&park.contact_a)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(403);
    app.post(&format!("/api/v1/hazards/{major_id}/accept"))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
}

async fn supervisor_voids_with_a_reason_but_not_a_closed_hazard(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);

    let blank = app
        .post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.supervisor)
        .json(&json!({"reason": "   "}))
        .send()
        .await
        .expect_problem(422);
    assert!(blank.json["errors"]["reason"].is_string(), "{}", blank.text);
    app.post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.supervisor)
        .json(&json!({}))
        .send()
        .await
        .expect_problem(422);
    assert_eq!(hazard_as(&app, &id, &park.supervisor).await["version"], 1);

    let voided = app
        .post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.supervisor)
        .json(&json!({"reason": "与 YH 重复登记"}))
        .send()
        .await
        .expect(200);
    assert_eq!(voided.json["state"], "voided");
    assert!(voided.json["voided_at"].is_string());
    let events = app
        .get(&format!("/api/v1/hazards/{id}/events"))
        .token(&park.supervisor)
        .send()
        .await
        .expect(200);
    let last = items(&events.json).last().cloned();
    let last = last.expect("events");
    assert_eq!(last["action"], "void");
    assert_eq!(last["note"], "与 YH 重复登记");
    assert_eq!(last["actor_role"], "supervisor");
    // Voided is final.
    app.post(&format!("/api/v1/hazards/{id}/void"))
        .token(&park.supervisor)
        .json(&json!({"reason": "再作废一次"}))
        .send()
        .await
        .expect_problem(409);

    // A closed hazard is reopened, never voided.
    let closed = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let closed_id = id_of(&closed);
    plan_and_submit(
        &app,
        &closed_id,
        &park.contact_a,
        json!({"measures": "更换报警器"}),
    )
    .await;
    app.post(&format!("/api/v1/hazards/{closed_id}/accept"))
        .token(&park.expert)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    for token in [&park.supervisor, &park.admin] {
        let refused = app
            .post(&format!("/api/v1/hazards/{closed_id}/void"))
            .token(token)
            .json(&json!({"reason": "误报"}))
            .send()
            .await
            .expect_problem(409);
        assert_eq!(
            refused.json["code"], "invalid_transition",
            "{}",
            refused.text
        );
    }
    assert_eq!(
        hazard_as(&app, &closed_id, &park.supervisor).await["state"],
        "closed"
    );

    // The admin holds the supervisor's power to void.
    let third = app
        .report(&park.expert, general_hazard(park.enterprise_b))
        .await;
    let voided = app
        .post(&format!("/api/v1/hazards/{}/void", id_of(&third)))
        .token(&park.admin)
        .json(&json!({"reason": "录入错误"}))
        .send()
        .await
        .expect(200);
    assert_eq!(voided.json["state"], "voided");
}

async fn submit_from_reported_is_an_invalid_transition(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = id_of(&hazard);
    for token in [&park.contact_a, &park.expert, &park.supervisor] {
        let refused = app
            .post(&format!("/api/v1/hazards/{id}/submit"))
            .token(token)
            .json(&json!({"notes": "已整改"}))
            .send()
            .await
            .expect_problem(409);
        assert_eq!(
            refused.json["code"], "invalid_transition",
            "{}",
            refused.text
        );
        assert_eq!(refused.json["type"], "/problems/invalid_transition");
    }
    let unchanged = hazard_as(&app, &id, &park.supervisor).await;
    assert_eq!(unchanged["state"], "reported");
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["submitted_at"], json!(null));
}

// ---------------------------------------------------------------------------
// 3. Tokens
// ---------------------------------------------------------------------------

/// A user and a token the service issued for them.
async fn signed_in(app: &TestApp) -> (String, String) {
    app.add_user("token.test@park.example.cn", "expert", None);
    let token = app.login("token.test@park.example.cn").await;
    let who = me(app, &token).await.expect(200);
    (id_of(&who.json), token)
}

async fn missing_or_malformed_credentials_are_refused(app: TestApp) {
    let (_, token) = signed_in(&app).await;
    assert_unauthorized(
        app.get("/api/v1/auth/me").send().await,
        "no Authorization header",
    );
    for (what, value) in [
        ("empty bearer", "Bearer ".to_owned()),
        ("basic auth", format!("Basic {}", b64(b"admin:admin"))),
        ("token without scheme", token.clone()),
        ("garbage token", "Bearer not.a.jwt".to_owned()),
        ("two parts", "Bearer abc.def".to_owned()),
    ] {
        let reply = app
            .get("/api/v1/auth/me")
            .header("Authorization", &value)
            .send()
            .await;
        assert_unauthorized(reply, what);
    }
    // Protected lists too, not just /auth/me.
    assert_unauthorized(
        app.get("/api/v1/hazards").send().await,
        "GET /hazards without a token",
    );
    assert_unauthorized(
        app.post("/api/v1/users")
            .json(&json!({
                "email": "x@park.example.cn",
                "name": "X",
                "role": "admin",
                "password": "a long enough password",
            }))
            .send()
            .await,
        "POST /users without a token",
    );
}

async fn forged_and_tampered_tokens_are_refused(app: TestApp) {
    let (sub, token) = signed_in(&app).await;

    // Control: a token we sign the way the service does is accepted, so
    // every refusal below is down to the one thing that is wrong with it.
    let control = sign(Algorithm::HS256, &good_claims(&sub, "expert"), JWT_SECRET);
    me(&app, &control).await.expect(200);

    let other_secret = sign(
        Algorithm::HS256,
        &good_claims(&sub, "admin"),
        "another-secret-that-is-also-long-enough-0123456789",
    );
    assert_unauthorized(me(&app, &other_secret).await, "signed with another secret");
    assert_unauthorized(
        app.get("/api/v1/users").token(&other_secret).send().await,
        "signed with another secret, admin-only list",
    );

    let header = b64(br#"{"alg":"none"}"#);
    let header_typ = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(good_claims(&sub, "admin").to_string().as_bytes());
    for (what, forged) in [
        ("alg none, empty signature", format!("{header}.{payload}.")),
        ("alg none, no signature part", format!("{header}.{payload}")),
        ("alg none with typ", format!("{header_typ}.{payload}.")),
    ] {
        assert_unauthorized(me(&app, &forged).await, what);
        assert_unauthorized(app.get("/api/v1/users").token(&forged).send().await, what);
    }

    let other_alg = sign(Algorithm::HS512, &good_claims(&sub, "expert"), JWT_SECRET);
    assert_unauthorized(me(&app, &other_alg).await, "HS512 instead of HS256");

    // The service's own token with the payload swapped for one claiming admin.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token: {token}");
    let mut claims = decode_part(parts[1]);
    assert_eq!(claims["role"], "expert");
    claims["role"] = json!("admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_unauthorized(me(&app, &tampered).await, "payload swapped to admin");
    assert_unauthorized(
        app.get("/api/v1/users").token(&tampered).send().await,
        "payload swapped to admin, admin-only list",
    );
    // The untouched token still works.
    me(&app, &token).await.expect(200);

    // Correctly signed but inconsistent or unknown: still refused.
    let mut enterprise_without_enterprise = good_claims(&sub, "enterprise");
    enterprise_without_enterprise
        .as_object_mut()
        .expect("an object")
        .remove("enterprise_id");
    let mut expert_with_enterprise = good_claims(&sub, "expert");
    expert_with_enterprise["enterprise_id"] = json!(Uuid::new_v4());
    for (what, claims) in [
        (
            "enterprise role without enterprise_id",
            enterprise_without_enterprise,
        ),
        ("park role with an enterprise_id", expert_with_enterprise),
        ("unknown role", good_claims(&sub, "root")),
        (
            "no such user",
            good_claims(&Uuid::new_v4().to_string(), "expert"),
        ),
    ] {
        let forged = sign(Algorithm::HS256, &claims, JWT_SECRET);
        assert_unauthorized(me(&app, &forged).await, what);
    }
}

async fn tokens_outside_their_validity_or_audience_are_refused(app: TestApp) {
    let (sub, _) = signed_in(&app).await;
    let now = chrono::Utc::now().timestamp();

    let mut expired = good_claims(&sub, "expert");
    expired["iat"] = json!(now - 3600);
    expired["nbf"] = json!(now - 3600);
    expired["exp"] = json!(now - BEYOND_LEEWAY);

    let mut not_yet = good_claims(&sub, "expert");
    not_yet["nbf"] = json!(now + 600);
    not_yet["exp"] = json!(now + 3600);

    let mut wrong_issuer = good_claims(&sub, "expert");
    wrong_issuer["iss"] = json!("someone-else");

    let mut wrong_audience = good_claims(&sub, "expert");
    wrong_audience["aud"] = json!("another-api");

    let mut no_exp = good_claims(&sub, "expert");
    no_exp.as_object_mut().expect("an object").remove("exp");

    let mut no_aud = good_claims(&sub, "expert");
    no_aud.as_object_mut().expect("an object").remove("aud");

    for (what, claims) in [
        ("expired beyond the leeway", expired),
        ("nbf in the future", not_yet),
        ("wrong issuer", wrong_issuer),
        ("wrong audience", wrong_audience),
        ("no exp", no_exp),
        ("no aud", no_aud),
    ] {
        let token = sign(Algorithm::HS256, &claims, JWT_SECRET);
        assert_unauthorized(me(&app, &token).await, what);
        assert_unauthorized(app.get("/api/v1/hazards").token(&token).send().await, what);
    }

    // Within the leeway, both ways, it is still good.
    let mut just_expired = good_claims(&sub, "expert");
    just_expired["exp"] = json!(now - 5);
    just_expired["nbf"] = json!(now - 600);
    let mut nearly_valid = good_claims(&sub, "expert");
    nearly_valid["nbf"] = json!(now + 5);
    for claims in [just_expired, nearly_valid] {
        let token = sign(Algorithm::HS256, &claims, JWT_SECRET);
        me(&app, &token).await.expect(200);
    }
}

async fn a_valid_token_identifies_the_caller(app: TestApp) {
    let park = app.park().await;
    for (token, email, role) in [
        (&park.admin, "admin@park.example.cn", "admin"),
        (&park.expert, "expert@park.example.cn", "expert"),
        (&park.viewer, "viewer@park.example.cn", "viewer"),
        (&park.contact_b, "contact@beta.example.cn", "enterprise"),
    ] {
        let who = me(&app, token).await.expect(200);
        assert_eq!(who.json["email"], email);
        assert_eq!(who.json["role"], role);
        assert!(who.json.get("password_hash").is_none(), "{}", who.text);
    }
    let who = me(&app, &park.contact_b).await.expect(200);
    assert_eq!(who.json["enterprise_id"], json!(park.enterprise_b));
    // The "bearer" scheme is case-insensitive (RFC 7235).
    let who = app
        .get("/api/v1/auth/me")
        .header("Authorization", &format!("bearer {}", park.expert))
        .send()
        .await
        .expect(200);
    assert_eq!(who.json["role"], "expert");

    let issued = app
        .post("/api/v1/auth/token")
        .json(&json!({"email": "expert@park.example.cn", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .expect(200);
    assert_eq!(issued.json["token_type"], "Bearer");
    assert!(issued.json["expires_in"].as_u64().unwrap_or(0) > 0);
    let token = access_token(&issued);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token: {token}");
    assert_eq!(decode_part(parts[0])["alg"], "HS256");
    let claims = decode_part(parts[1]);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["role"], "expert");
    assert!(claims["exp"].as_i64() > claims["nbf"].as_i64(), "{claims}");
}

// ---------------------------------------------------------------------------
// 4. Users
// ---------------------------------------------------------------------------

async fn admin_manages_users(app: TestApp) {
    let park = app.park().await;
    let password = "a long enough password";
    let created = app
        .post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({
            "email": "new.expert@park.example.cn",
            "name": "新专家",
            "role": "expert",
            "password": password,
        }))
        .send()
        .await
        .expect(201);
    let id = id_of(&created.json);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(created.json["email"], "new.expert@park.example.cn");
    assert_eq!(created.json["role"], "expert");
    assert_eq!(created.json["active"], true);
    assert!(
        created.json.get("password").is_none() && created.json.get("password_hash").is_none(),
        "a user view must not carry the password: {}",
        created.text
    );
    assert!(!created.text.contains(password));
    assert!(!created.text.contains("$argon2"));

    // The same email again, in any case, is a conflict.
    for email in ["new.expert@park.example.cn", "New.Expert@Park.Example.CN"] {
        app.post("/api/v1/users")
            .token(&park.admin)
            .json(&json!({
                "email": email,
                "name": "重复",
                "role": "viewer",
                "password": "another long password",
            }))
            .send()
            .await
            .expect_problem(409);
    }

    let no_enterprise = app
        .post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({
            "email": "contact2@alpha.example.cn",
            "name": "联系人",
            "role": "enterprise",
            "password": password,
        }))
        .send()
        .await
        .expect_problem(422);
    assert!(
        no_enterprise.json["errors"]["enterprise_id"].is_string(),
        "{}",
        no_enterprise.text
    );
    let short = app
        .post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({
            "email": "short@park.example.cn",
            "name": "短密码",
            "role": "viewer",
            "password": "123456789",
        }))
        .send()
        .await
        .expect_problem(422);
    assert!(
        short.json["errors"]["password"].is_string(),
        "{}",
        short.text
    );
    // Neither refused user exists.
    for email in ["contact2@alpha.example.cn", "short@park.example.cn"] {
        app.post("/api/v1/auth/token")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect_problem(401);
    }
    // Ten characters is enough.
    app.post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({
            "email": "ten@park.example.cn",
            "name": "十位",
            "role": "viewer",
            "password": "0123456789",
        }))
        .send()
        .await
        .expect(201);

    // The new user signs in and is who the admin said.
    let issued = app
        .post("/api/v1/auth/token")
        .json(&json!({"email": "new.expert@park.example.cn", "password": password}))
        .send()
        .await
        .expect(200);
    let token = access_token(&issued);
    let who = me(&app, &token).await.expect(200);
    assert_eq!(who.json["id"], json!(id));
    assert_eq!(who.json["role"], "expert");

    let listed = app
        .get("/api/v1/users?limit=500")
        .token(&park.admin)
        .send()
        .await
        .expect(200);
    assert!(ids(&listed).contains(&id));
    assert!(!listed.text.contains("$argon2"), "password hashes leak");
}

async fn a_disabled_user_can_no_longer_sign_in(app: TestApp) {
    let park = app.park().await;
    let password = "a long enough password";
    let created = app
        .post("/api/v1/users")
        .token(&park.admin)
        .json(&json!({
            "email": "leaving@alpha.example.cn",
            "name": "离职联系人",
            "role": "enterprise",
            "enterprise_id": park.enterprise_a,
            "password": password,
        }))
        .send()
        .await
        .expect(201);
    assert_eq!(created.json["enterprise_id"], json!(park.enterprise_a));
    let id = id_of(&created.json);
    let login = json!({"email": "leaving@alpha.example.cn", "password": password});
    let issued = app
        .post("/api/v1/auth/token")
        .json(&login)
        .send()
        .await
        .expect(200);
    let token = access_token(&issued);
    me(&app, &token).await.expect(200);

    let wrong = assert_unauthorized(
        app.post("/api/v1/auth/token")
            .json(&json!({"email": "leaving@alpha.example.cn", "password": "not the password"}))
            .send()
            .await,
        "wrong password",
    );
    let unknown = assert_unauthorized(
        app.post("/api/v1/auth/token")
            .json(&json!({"email": "nobody@alpha.example.cn", "password": password}))
            .send()
            .await,
        "unknown email",
    );
    assert_eq!(
        wrong.json["detail"], unknown.json["detail"],
        "the answer must not tell which emails exist"
    );

    let disabled = app
        .patch(&format!("/api/v1/users/{id}"))
        .token(&park.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    assert_eq!(disabled.json["active"], false);
    assert_eq!(disabled.json["enterprise_id"], json!(park.enterprise_a));
    let refused = assert_unauthorized(
        app.post("/api/v1/auth/token").json(&login).send().await,
        "disabled account",
    );
    assert_eq!(refused.json["detail"], wrong.json["detail"]);
    assert!(refused.json.get("access_token").is_none());
    assert_unauthorized(me(&app, &token).await, "token of a disabled account");

    // Re-enabled, the same password works again.
    app.patch(&format!("/api/v1/users/{id}"))
        .token(&park.admin)
        .json(&json!({"active": true}))
        .send()
        .await
        .expect(200);
    app.post("/api/v1/auth/token")
        .json(&login)
        .send()
        .await
        .expect(200);
}

async fn only_admin_manages_users(app: TestApp) {
    let park = app.park().await;
    for token in [
        &park.expert,
        &park.supervisor,
        &park.viewer,
        &park.contact_a,
    ] {
        app.get("/api/v1/users")
            .token(token)
            .send()
            .await
            .expect_problem(403);
        app.post("/api/v1/users")
            .token(token)
            .json(&json!({
                "email": "intruder@park.example.cn",
                "name": "Intruder",
                "role": "admin",
                "password": "a long enough password",
            }))
            .send()
            .await
            .expect_problem(403);
    }
    let listed = app
        .get("/api/v1/users?limit=500")
        .token(&park.admin)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed).len(), 6);
    assert!(!listed.text.contains("intruder@park.example.cn"));
    let expert = items(&listed.json)
        .iter()
        .find(|u| u["email"] == "expert@park.example.cn")
        .map(id_of)
        .expect("the expert");
    for token in [&park.expert, &park.supervisor] {
        app.patch(&format!("/api/v1/users/{expert}"))
            .token(token)
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .expect_problem(403);
    }
    let who = me(&app, &park.expert).await.expect(200);
    assert_eq!(who.json["role"], "expert");
}

// ---------------------------------------------------------------------------
// 5. Credit codes
// ---------------------------------------------------------------------------

async fn credit_codes_are_checked_and_normalised(app: TestApp) {
    app.add_user("admin@park.example.cn", "admin", None);
    let admin = app.login("admin@park.example.cn").await;
    let register = |name: &str, code: &str| {
        json!({
            "name": name,
            "credit_code": code,
            "status": "producing",
            "contact_emails": ["safety@gamma.example.cn"],
        })
    };

    // A code whose check character ends in a letter, so case matters.
    let valid = (0..1000)
        .map(|i| credit_code(&format!("Gamma Chemicals {i}")))
        .find(|code| code.ends_with(|c: char| c.is_ascii_uppercase()))
        .expect("a code with a letter for its check character");
    let last = valid.chars().last().expect("18 characters");
    let wrong_check = if last == 'A' { 'B' } else { 'A' };
    let corrupt = format!("{}{wrong_check}", &valid[..17]);

    let refused = app
        .post("/api/v1/enterprises")
        .token(&admin)
        .json(&register("Gamma Chemicals", &corrupt))
        .send()
        .await
        .expect_problem(422);
    assert!(
        refused.json["errors"]["credit_code"].is_string(),
        "{}",
        refused.text
    );
    let listed = app
        .get("/api/v1/enterprises")
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), Vec::<String>::new());

    let lower = valid.to_lowercase();
    assert_ne!(lower, valid);
    let created = app
        .post("/api/v1/enterprises")
        .token(&admin)
        .json(&register("Gamma Chemicals", &lower))
        .send()
        .await
        .expect(201);
    assert_eq!(created.json["credit_code"], json!(valid));
    let id = id_of(&created.json);
    let read = app
        .get(&format!("/api/v1/enterprises/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(read.json["credit_code"], json!(valid));

    // The same code again, in either case, is a conflict.
    for code in [&valid, &lower] {
        app.post("/api/v1/enterprises")
            .token(&admin)
            .json(&register("Gamma Chemicals (dup)", code))
            .send()
            .await
            .expect_problem(409);
    }
    // A changed code is checked just the same.
    let patched = app
        .patch(&format!("/api/v1/enterprises/{id}"))
        .token(&admin)
        .json(&json!({"credit_code": corrupt}))
        .send()
        .await
        .expect_problem(422);
    assert!(
        patched.json["errors"]["credit_code"].is_string(),
        "{}",
        patched.text
    );
    let listed = app
        .get("/api/v1/enterprises")
        .token(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(ids(&listed), vec![id]);
    assert_eq!(listed.json["items"][0]["credit_code"], json!(valid));
}

/// A token is only as good as the account behind it: disabling the account,
/// or moving it to another enterprise or role, stops its tokens everywhere.
async fn tokens_stop_working_when_the_account_changes(app: TestApp) {
    let park = app.park().await;
    let hazard = app
        .report(
            &park.expert,
            crate::helpers::general_hazard(park.enterprise_a),
        )
        .await;
    let path = format!("/api/v1/hazards/{}", hazard["id"].as_str().unwrap());
    let contact_id = app
        .get("/api/v1/auth/me")
        .token(&park.contact_a)
        .send()
        .await
        .expect(200)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&path)
        .token(&park.contact_a)
        .send()
        .await
        .expect(200);

    // Moved to enterprise B: the old token, scoped to A, is refused.
    app.patch(&format!("/api/v1/users/{contact_id}"))
        .token(&park.admin)
        .json(&json!({"enterprise_id": park.enterprise_b}))
        .send()
        .await
        .expect(200);
    let moved = app
        .get(&path)
        .token(&park.contact_a)
        .send()
        .await
        .expect_problem(401);
    assert!(moved.header("www-authenticate").is_some());
    let fresh = app.login("contact@alpha.example.cn").await;
    app.get(&path)
        .token(&fresh)
        .send()
        .await
        .expect_problem(404);

    // Disabled: every request with its token is refused.
    app.patch(&format!("/api/v1/users/{contact_id}"))
        .token(&park.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    app.get("/api/v1/hazards")
        .token(&fresh)
        .send()
        .await
        .expect_problem(401);
}

/// PRODUCT.md §1: a viewer reads the enterprise directory (names, status,
/// grades) without personal data; the park's other roles see the contacts.
async fn viewer_reads_the_directory_without_personal_data(app: TestApp) {
    let park = app.park().await;
    let id = park.enterprise_a;
    let list = app
        .get("/api/v1/enterprises")
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    let items = list.json["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        assert!(item["name"].is_string() && item["grade_status"].is_string());
        assert!(item.get("contact_emails").is_none(), "{item}");
    }
    let one = app
        .get(&format!("/api/v1/enterprises/{id}"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert!(one.json.get("contact_emails").is_none(), "{}", one.text);
    for token in [&park.supervisor, &park.expert, &park.contact_a] {
        let seen = app
            .get(&format!("/api/v1/enterprises/{id}"))
            .token(token)
            .send()
            .await
            .expect(200);
        assert!(seen.json["contact_emails"].is_array(), "{}", seen.text);
    }
}

/// A password change, a disable and "sign out everywhere" end every token
/// issued before them. Tokens carry whole seconds, so the test lets a
/// second pass between issuing a token and ending it.
async fn tokens_end_with_their_credentials(app: TestApp) {
    let park = app.park().await;
    let email = "revoked.expert@park.example.cn";
    let id = app.add_user(email, "expert", None);
    let me = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/auth/me").token(&token).send().await }
    };
    // No pause anywhere: each token is issued in the same second as the
    // change that must end it.
    let stolen = app.login(email).await;
    me(stolen.clone()).await.expect(200);
    app.patch(&format!("/api/v1/users/{id}"))
        .token(&park.admin)
        .json(&json!({"password": crate::helpers::PASSWORD}))
        .send()
        .await
        .expect(200);
    me(stolen).await.expect_problem(401);

    let second = app.login(email).await;
    me(second.clone()).await.expect(200);
    app.post(&format!("/api/v1/users/{id}/revoke-tokens"))
        .token(&park.expert)
        .send()
        .await
        .expect_problem(403);
    let revoked = app
        .post(&format!("/api/v1/users/{id}/revoke-tokens"))
        .token(&park.admin)
        .send()
        .await;
    assert_eq!(revoked.status.as_u16(), 204, "{}", revoked.text);
    me(second).await.expect_problem(401);
    // A token signed in right after the revocation works.
    let after = app.login(email).await;
    me(after.clone()).await.expect(200);

    // Demoted and promoted back: the tokens of before stay ended.
    for role in ["viewer", "expert"] {
        app.patch(&format!("/api/v1/users/{id}"))
            .token(&park.admin)
            .json(&json!({ "role": role }))
            .send()
            .await
            .expect(200);
    }
    me(after).await.expect_problem(401);

    let third = app.login(email).await;
    me(third.clone()).await.expect(200);
    app.post(&format!("/api/v1/users/{}/revoke-tokens", Uuid::new_v4()))
        .token(&park.admin)
        .send()
        .await
        .expect_problem(404);
    // A change of name alone ends nothing.
    app.patch(&format!("/api/v1/users/{id}"))
        .token(&park.admin)
        .json(&json!({"name": "王工"}))
        .send()
        .await
        .expect(200);
    me(third.clone()).await.expect(200);
    app.patch(&format!("/api/v1/users/{id}"))
        .token(&park.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    me(third).await.expect_problem(401);
}

/// The exploit of a graded party bending the figure that grades it: an
/// overdue hazard, then the contact dates its plan and submission back to
/// just after the find. Refused; done honestly, the closure is late; and a
/// step the expert enters from the ledger is marked as entered late.
async fn an_enterprise_cannot_rewrite_its_own_punctuality(app: TestApp) {
    let park = app.park().await;
    let now = chrono::Utc::now();
    let found = now - chrono::Duration::days(20);
    let mut body = general_hazard(park.enterprise_a);
    body["found_at"] = json!(found.to_rfc3339());
    body["deadline"] = json!(days_from_today(-10));
    let hazard = app.report(&park.expert, body).await;
    assert_eq!(hazard["overdue"], true);
    let id = id_of(&hazard);
    let step = |token: &str, action: &str, payload: Value| {
        let app = &app;
        let (token, path) = (token.to_owned(), format!("/api/v1/hazards/{id}/{action}"));
        async move { app.post(&path).token(&token).json(&payload).send().await }
    };
    let back = |secs: i64| (found + chrono::Duration::seconds(secs)).to_rfc3339();
    let refused = step(
        &park.contact_a,
        "plan",
        json!({"measures": "更换报警器", "occurred_at": back(1)}),
    )
    .await
    .expect_problem(422);
    assert!(
        refused.json["errors"]["occurred_at"].is_string(),
        "{}",
        refused.text
    );

    // A self-check dated in a year gone by is refused to the contact too.
    let mut old = general_hazard(park.enterprise_a);
    old["source"] = json!("self_check");
    old["found_at"] = json!(found.to_rfc3339());
    old["deadline"] = json!(days_from_today(5));
    let refused = app
        .post("/api/v1/hazards")
        .token(&park.contact_a)
        .json(&old)
        .send()
        .await
        .expect_problem(422);
    assert!(
        refused.json["errors"]["found_at"].is_string(),
        "{}",
        refused.text
    );

    // Honestly: planned and submitted now, after the deadline.
    step(&park.contact_a, "plan", json!({"measures": "更换报警器"}))
        .await
        .expect(200);
    step(&park.contact_a, "submit", json!({})).await.expect(200);
    step(&park.expert, "accept", json!({})).await.expect(200);
    let events = crate::helpers::events(&app, &park.expert, &id).await;
    assert_eq!(
        events[0]["entered_late"], true,
        "the expert's report, dated back"
    );
    assert!(
        events[1..].iter().all(|e| e["entered_late"] == false),
        "the contact's steps, recorded as they happened"
    );

    let year = found
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y")
        .to_string();
    let report = app
        .get(&format!("/api/v1/reports/yearly/{year}"))
        .token(&park.viewer)
        .send()
        .await
        .expect(200);
    assert_eq!(report.json["closed"], 1, "{}", report.text);
    assert_eq!(report.json["closed_on_time"], 0, "{}", report.text);
    assert_eq!(report.json["entered_late_closures"], 0, "{}", report.text);

    // The expert entering the ledger may date a step back; it is marked.
    let hazard = app
        .report(&park.expert, {
            let mut body = general_hazard(park.enterprise_a);
            body["found_at"] = json!(found.to_rfc3339());
            body
        })
        .await;
    let id = id_of(&hazard);
    app.post(&format!("/api/v1/hazards/{id}/plan"))
        .token(&park.expert)
        .json(&json!({"measures": "更换报警器", "occurred_at": back(60)}))
        .send()
        .await
        .expect(200);
    let events = crate::helpers::events(&app, &park.expert, &id).await;
    assert_eq!(
        events[0]["entered_late"], true,
        "the report dated 20 days back"
    );
    assert_eq!(events[1]["entered_late"], true, "the plan dated back");
}
