//! Webhooks against a real HTTP receiver on loopback that verifies the
//! Standard Webhooks signature, goes down for a while and comes back: each
//! event arrives once it can, under one `webhook-id` however often it is
//! tried; a dead endpoint gives up after the limit; targets are checked.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::configured_tests;
use crate::helpers::{general_hazard, id_of, major_hazard, spawn_app_with, Backend, TestApp};

configured_tests!(
    events_reach_a_receiver_signed_and_once,
    slow_endpoints_hold_back_no_mail_and_sign_as_they_send,
    a_send_reaches_only_addresses_it_may,
    secrets_are_kept_sealed,
    a_replayed_registration_answers_no_secret,
);

/// What the receiver saw: each request's `webhook-id`, whether its
/// signature verified, and its body; and whether it is up.
#[derive(Default)]
struct Receiver {
    up: bool,
    seen: Vec<(String, bool, Value)>,
    /// The endpoints' secrets: a signature verifies with one of them.
    secrets: Vec<String>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Mutex<Receiver>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let mut receiver = state.lock().unwrap();
    let verified = receiver.secrets.iter().any(|secret| {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap_or_default();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(&body);
        let expected = format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        signature.split(' ').any(|s| s == expected)
    });
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    receiver.seen.push((id, verified, body));
    if receiver.up {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::ServiceUnavailable().finish()
    }
}

fn start_receiver(state: Arc<Mutex<Receiver>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    format!("http://127.0.0.1:{port}/hook")
}

async fn deliver(app: &TestApp, minutes: i64) -> hazard_tracker::app::webhooks::Sent {
    let at = hazard_tracker::clock::now_utc() + chrono::Duration::minutes(minutes);
    app.state
        .webhooks
        .deliver_due(&app.state.db, "w", at)
        .await
        .unwrap()
}

async fn events_reach_a_receiver_signed_and_once(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.webhooks.allow_private_targets = true;
        settings.webhooks.max_attempts = 2;
        settings.webhooks.timeout_secs = 5;
    })
    .await;
    let park = app.park().await;
    let receiver = Arc::new(Mutex::new(Receiver::default()));
    let url = start_receiver(receiver.clone());

    let register = |url: String, types: Value, token: String| {
        let app = &app;
        async move {
            app.post("/api/v1/webhooks")
                .token(&token)
                .json(&json!({"url": url, "event_types": types, "description": "省风险平台"}))
                .send()
                .await
        }
    };
    register(
        url.clone(),
        json!(["hazard.reported"]),
        park.supervisor.clone(),
    )
    .await
    .expect_problem(403);
    register(
        "ftp://127.0.0.1/hook".into(),
        json!(["hazard.reported"]),
        park.admin.clone(),
    )
    .await
    .expect_problem(422);
    let types = json!([
        "hazard.reported",
        "hazard.major_reported",
        "hazard.state_changed"
    ]);
    let hook = register(url.clone(), types, park.admin.clone())
        .await
        .expect(201)
        .json;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    receiver.lock().unwrap().secrets.push(secret.clone());
    let listed = app
        .get("/api/v1/webhooks")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert!(
        listed["items"][0]["secret"].is_null(),
        "a listed endpoint hides its secret"
    );

    // A major hazard: two events. The receiver is down at first.
    let hazard = id_of(
        &app.report(&park.expert, major_hazard(park.enterprise_a))
            .await,
    );
    assert_eq!(deliver(&app, 0).await.failed, 2);
    receiver.lock().unwrap().up = true;
    assert_eq!(
        deliver(&app, 0).await,
        Default::default(),
        "not before the retry is due"
    );
    assert_eq!(deliver(&app, 60).await.sent, 2);
    assert_eq!(deliver(&app, 120).await, Default::default(), "each once");
    {
        let seen = &receiver.lock().unwrap().seen;
        assert_eq!(seen.len(), 4);
        assert!(
            seen.iter().all(|(_, verified, _)| *verified),
            "every signature verifies"
        );
        let ids: std::collections::HashSet<&str> =
            seen.iter().map(|(id, ..)| id.as_str()).collect();
        assert_eq!(
            ids.len(),
            2,
            "a retry carries the first attempt's webhook-id"
        );
        let types: Vec<&str> = seen[2..]
            .iter()
            .map(|(.., b)| b["type"].as_str().unwrap())
            .collect();
        assert!(types.contains(&"hazard.reported") && types.contains(&"hazard.major_reported"));
        assert_eq!(seen[3].2["data"]["hazard_id"], json!(hazard));
    }

    app.post(&format!("/api/v1/hazards/{hazard}/plan"))
        .token(&park.contact_a)
        .json(&crate::helpers::full_plan())
        .send()
        .await
        .expect(200);
    assert_eq!(deliver(&app, 180).await.sent, 1);
    let last = receiver.lock().unwrap().seen.last().unwrap().2.clone();
    assert_eq!(last["type"], "hazard.state_changed");
    assert_eq!(last["data"]["from_state"], "reported");
    assert_eq!(last["data"]["state"], "rectifying");

    let id = hook["id"].as_str().unwrap();
    let log = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries"))
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    let log = log["items"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d["state"] == "sent"));
    assert!(log.iter().any(|d| d["attempts"] == 2));

    // A grade that changes and a hazard gone overdue reach an endpoint
    // that asked for them.
    let types = json!(["enterprise.grade_changed", "hazard.overdue"]);
    let watcher = register(url.clone(), types, park.admin.clone())
        .await
        .expect(201)
        .json;
    app.post(&format!(
        "/api/v1/enterprises/{}/assessments",
        park.enterprise_a
    ))
    .token(&park.supervisor)
    .json(&json!({"score": 55, "assessed_on": crate::helpers::days_from_today(0)}))
    .send()
    .await
    .expect(201);
    let mut late = general_hazard(park.enterprise_a);
    late["found_at"] = json!((chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339());
    late["deadline"] = json!(crate::helpers::days_from_today(-5));
    app.report(&park.expert, late).await;
    let escalation = app.state.escalation.clone();
    let now = hazard_tracker::clock::now_utc();
    app.state
        .db
        .run(move |conn| escalation.scan(conn, now))
        .await
        .unwrap();
    receiver
        .lock()
        .unwrap()
        .secrets
        .push(watcher["secret"].as_str().unwrap().to_owned());
    // The late hazard's report goes to the first endpoint too.
    assert_eq!(deliver(&app, 200).await.sent, 3);
    {
        let seen = &receiver.lock().unwrap().seen;
        let latest: Vec<&Value> = seen.iter().rev().take(3).map(|(.., b)| b).collect();
        let grade = latest
            .iter()
            .find(|b| b["type"] == "enterprise.grade_changed")
            .unwrap();
        assert_eq!(grade["data"]["to_grade"], "red");
        assert_eq!(grade["data"]["from_grade"], Value::Null);
        let overdue = latest
            .iter()
            .find(|b| b["type"] == "hazard.overdue")
            .unwrap();
        assert_eq!(overdue["data"]["days_overdue"], 5);
        assert!(seen.iter().rev().take(3).all(|(_, verified, _)| *verified));
    }

    // An endpoint that never answers is dead after the limit.
    let nobody = TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}/hook", nobody.local_addr().unwrap());
    drop(nobody);
    let dead = register(gone, json!(["hazard.reported"]), park.admin.clone())
        .await
        .expect(201)
        .json;
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    deliver(&app, 240).await;
    assert_eq!(deliver(&app, 300).await.dead, 1);
    let dead_log = app
        .get(&format!(
            "/api/v1/webhooks/{}/deliveries",
            dead["id"].as_str().unwrap()
        ))
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(dead_log["items"][0]["state"], "dead");

    // Disabled: nothing more is queued. Rotated: a new secret, once.
    let path = format!("/api/v1/webhooks/{id}");
    let off = app
        .patch(&path)
        .token(&park.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(off["active"], false);
    assert!(off["secret"].is_null());
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let before = receiver.lock().unwrap().seen.len();
    deliver(&app, 400).await;
    assert_eq!(receiver.lock().unwrap().seen.len(), before);
    let rotated = app
        .patch(&path)
        .token(&park.admin)
        .json(&json!({"rotate_secret": true}))
        .send()
        .await
        .expect(200)
        .json;
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);

    // Without the park's leave, loopback targets are refused.
    let strict = spawn_app_with(backend, |_| {}).await;
    let strict_park = strict.park().await;
    strict
        .post("/api/v1/webhooks")
        .token(&strict_park.admin)
        .json(&json!({"url": url, "event_types": ["hazard.reported"]}))
        .send()
        .await
        .expect_problem(422);
}

/// What a slow receiver saw: when each request arrived (Unix seconds), its
/// `webhook-timestamp`, and its body.
#[derive(Default)]
struct SlowReceiver {
    seen: Mutex<Vec<(f64, i64, Value)>>,
    /// How long it keeps each request.
    hold: std::time::Duration,
}

async fn receive_slowly(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SlowReceiver>,
) -> HttpResponse {
    let arrived = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let timestamp = req
        .headers()
        .get("webhook-timestamp")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.seen.lock().unwrap().push((arrived, timestamp, body));
    actix_web::rt::time::sleep(state.hold).await;
    HttpResponse::NoContent().finish()
}

/// Twenty endpoints that each keep a delivery for the whole webhook
/// timeout, behind the real workers of `serve`: a major hazard's mail still
/// leaves at once, and every delivery, sent a few at a time, is signed when
/// it is sent rather than when its batch was claimed.
async fn slow_endpoints_hold_back_no_mail_and_sign_as_they_send(backend: Backend) {
    const ENDPOINTS: usize = 20;
    let smtp = crate::smtp::SmtpServer::start().await;
    let smtp_url = smtp.url();
    let app = spawn_app_with(backend, move |settings| {
        settings.smtp.url = secrecy::SecretString::from(smtp_url);
        settings.smtp.timeout_secs = 5;
        settings.escalation.enabled = true;
        settings.escalation.interval_secs = 1;
        settings.webhooks.allow_private_targets = true;
        settings.webhooks.timeout_secs = 2;
        settings.webhooks.max_attempts = 1;
        // Five rounds of four: the last is sent 8 s after its batch was
        // claimed.
        settings.webhooks.max_concurrency = 4;
    })
    .await;
    let park = app.park().await;

    let receiver = web::Data::new(SlowReceiver {
        hold: std::time::Duration::from_secs(2),
        ..SlowReceiver::default()
    });
    let listeners: Vec<TcpListener> = (0..ENDPOINTS)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let urls: Vec<String> = listeners
        .iter()
        .map(|l| format!("http://{}/hook", l.local_addr().unwrap()))
        .collect();
    let data = receiver.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive_slowly))
    })
    .workers(2);
    for listener in listeners {
        server = server.listen(listener).unwrap();
    }
    actix_web::rt::spawn(server.run());
    for url in &urls {
        app.post("/api/v1/webhooks")
            .token(&park.admin)
            .json(&json!({"url": url, "event_types": ["hazard.reported"]}))
            .send()
            .await
            .expect(201);
    }

    // Twenty deliveries; the webhook worker is busy with them for 10 s.
    let first = id_of(
        &app.report(&park.expert, general_hazard(park.enterprise_a))
            .await,
    );
    let seen = &receiver.seen;
    crate::helpers::eventually(
        "the first deliveries arrived",
        std::time::Duration::from_secs(10),
        || async move { (!seen.lock().unwrap().is_empty()).then_some(()) },
    )
    .await;

    let reported = std::time::Instant::now();
    app.report(&park.expert, major_hazard(park.enterprise_a))
        .await;
    let smtp = &smtp;
    let mail = crate::helpers::eventually(
        "the major-hazard mail",
        std::time::Duration::from_secs(15),
        || async move { smtp.received().pop() },
    )
    .await;
    let waited = reported.elapsed();
    assert!(
        mail.recipients
            .contains(&"supervisor@park.example.cn".to_owned()),
        "{mail:?}"
    );
    assert!(
        waited < std::time::Duration::from_secs(5),
        "the major-hazard mail waited {waited:?} behind the webhooks"
    );

    let first = &first;
    let arrivals = crate::helpers::eventually(
        "every delivery of the first hazard arrived",
        std::time::Duration::from_secs(20),
        || async move {
            let seen = seen.lock().unwrap();
            let arrivals: Vec<(f64, i64)> = seen
                .iter()
                .filter(|(.., body)| body["data"]["hazard_id"] == json!(first))
                .map(|(arrived, timestamp, _)| (*arrived, *timestamp))
                .collect();
            (arrivals.len() == ENDPOINTS).then_some(arrivals)
        },
    )
    .await;
    let spread = arrivals.iter().map(|a| a.0).fold(f64::MIN, f64::max)
        - arrivals.iter().map(|a| a.0).fold(f64::MAX, f64::min);
    assert!(spread > 5.0, "sent a few at a time: {arrivals:?}");
    for (arrived, timestamp) in arrivals {
        let age = arrived - timestamp as f64;
        assert!(
            (-1.0..=5.0).contains(&age),
            "a delivery signed {age:.1} s before it arrived"
        );
    }
}

/// An endpoint registered while the park allowed its own network (or
/// while its name resolved elsewhere) is checked again at every send, on
/// the address connected to: a name that now resolves to loopback, or a
/// loopback address in the URL, reaches nothing.
async fn a_send_reaches_only_addresses_it_may(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.webhooks.allow_private_targets = true;
    })
    .await;
    let park = app.park().await;
    let receiver = Arc::new(Mutex::new(Receiver {
        up: true,
        ..Receiver::default()
    }));
    let url = start_receiver(receiver.clone());
    let by_name = url.replace("127.0.0.1", "localhost");
    for url in [&url, &by_name] {
        app.post("/api/v1/webhooks")
            .token(&park.admin)
            .json(&json!({"url": url, "event_types": ["hazard.reported"]}))
            .send()
            .await
            .expect(201);
    }
    app.report(&park.expert, general_hazard(park.enterprise_a))
        .await;

    // The same deliveries, sent by a sender that allows public targets only.
    let strict = hazard_tracker::app::webhooks::Sender::new(
        hazard_tracker::settings::WebhookSettings {
            allow_private_targets: false,
            ..app.state.settings.webhooks.clone()
        },
        app.state.webhooks.sealer(),
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let now = hazard_tracker::clock::now_utc();
    let sent = strict
        .deliver_due(&app.state.db, "strict", now)
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.failed), (0, 2), "{sent:?}");
    assert!(receiver.lock().unwrap().seen.is_empty(), "nothing arrived");
    let hooks = app
        .get("/api/v1/webhooks")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    for hook in hooks["items"].as_array().unwrap() {
        let log = app
            .get(&format!(
                "/api/v1/webhooks/{}/deliveries",
                hook["id"].as_str().unwrap()
            ))
            .token(&park.admin)
            .send()
            .await
            .expect(200)
            .json;
        let error = log["items"][0]["last_error"].as_str().unwrap();
        assert!(error.contains("refused"), "{}: {error}", hook["url"]);
    }

    // The park's own sender, which allows them, delivers both.
    assert_eq!(deliver(&app, 10).await.sent, 2);
    assert_eq!(receiver.lock().unwrap().seen.len(), 2);
}

/// An endpoint's secret as its row keeps it.
async fn stored_secret(app: &TestApp, id: &str) -> String {
    let id = hazard_tracker::db::Id::from(id.parse::<uuid::Uuid>().unwrap());
    app.state
        .db
        .run(move |conn| hazard_tracker::db::webhooks::find(conn, id))
        .await
        .unwrap()
        .unwrap()
        .secret
}

#[track_caller]
fn assert_sealed(stored: &str, secret: &str) {
    assert!(stored.starts_with("v1:"), "{stored}");
    assert!(
        !stored.contains(secret.trim_start_matches("whsec_")),
        "the secret in clear: {stored}"
    );
}

/// Signing secrets are kept sealed under the park's key: the row holds
/// neither the secret nor its key material, deliveries still verify with
/// the secret the client was given, a rotated secret is sealed too, and a
/// secret kept in clear by an earlier version still signs and is sealed
/// at the next start.
async fn secrets_are_kept_sealed(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.webhooks.allow_private_targets = true;
    })
    .await;
    let park = app.park().await;
    let receiver = Arc::new(Mutex::new(Receiver {
        up: true,
        ..Receiver::default()
    }));
    let url = start_receiver(receiver.clone());
    let hook = app
        .post("/api/v1/webhooks")
        .token(&park.admin)
        .json(&json!({"url": url, "event_types": ["hazard.reported"]}))
        .send()
        .await
        .expect(201)
        .json;
    let id = id_of(&hook);
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert_sealed(&stored_secret(&app, &id).await, &secret);

    let delivered_with = |secret: &str| {
        let (app, receiver, secret, park) = (&app, &receiver, secret.to_owned(), &park);
        async move {
            {
                let mut receiver = receiver.lock().unwrap();
                receiver.secrets = vec![secret];
                receiver.seen.clear();
            }
            app.report(&park.expert, general_hazard(park.enterprise_a))
                .await;
            assert_eq!(deliver(app, 0).await.sent, 1);
            let seen = &receiver.lock().unwrap().seen;
            assert_eq!(seen.len(), 1);
            seen[0].1
        }
    };
    assert!(
        delivered_with(&secret).await,
        "verifies with the secret answered"
    );

    let rotated = app
        .patch(&format!("/api/v1/webhooks/{id}"))
        .token(&park.admin)
        .json(&json!({"rotate_secret": true}))
        .send()
        .await
        .expect(200)
        .json["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_sealed(&stored_secret(&app, &id).await, &rotated);
    assert!(delivered_with(&rotated).await);
    assert!(!delivered_with(&secret).await, "the old secret stopped");

    // A secret an earlier version kept in clear.
    let legacy = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    app.execute_sql(&format!(
        "UPDATE webhooks SET secret = '{legacy}' WHERE id = '{id}'"
    ));
    assert!(delivered_with(legacy).await, "read as it is");
    let restarted = crate::helpers::spawn_app_sharing(&app, |settings| {
        settings.webhooks.allow_private_targets = true;
    })
    .await;
    assert_sealed(&stored_secret(&restarted, &id).await, legacy);
    assert!(delivered_with(legacy).await, "sealed, it signs as before");
}

/// A retried registration (same `Idempotency-Key`) answers the same
/// endpoint without its secret, which was shown once and is kept for the
/// replay nowhere.
async fn a_replayed_registration_answers_no_secret(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.webhooks.allow_private_targets = true;
    })
    .await;
    let park = app.park().await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["hazard.reported"]});
    let register = || {
        app.post("/api/v1/webhooks")
            .token(&park.admin)
            .header("Idempotency-Key", "hook-1")
            .json(&body)
            .send()
    };
    let first = register().await.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let secret = first.json["secret"].as_str().unwrap().to_owned();
    assert!(first.json.get("secret_shown_once").is_none());

    let replay = register().await.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(replay.json["id"], first.json["id"]);
    assert!(replay.json["secret"].is_null(), "{}", replay.text);
    assert_eq!(replay.json["secret_shown_once"], true);
    let key_material = secret.trim_start_matches("whsec_");
    assert!(!replay.text.contains(key_material));

    let kept = app.idempotency_bodies("hook-1").await;
    assert_eq!(kept.len(), 1);
    assert!(
        !kept[0].contains(key_material),
        "the secret kept for replays: {}",
        kept[0]
    );
    let listed = app
        .get("/api/v1/webhooks")
        .token(&park.admin)
        .send()
        .await
        .expect(200)
        .json;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "one endpoint");
}
