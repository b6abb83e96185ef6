//! Production limits and what an operator watches: `/metrics` and its
//! token, login throttling per account and per address, CORS, the security
//! headers, and one structured log line per request.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use diesel::RunQueryDsl;
use hazard_tracker::db::DbConnection;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::sample;
use crate::helpers::{general_hazard, major_hazard, spawn_app_with, Backend, TestApp, PASSWORD};

backend_tests!(metrics_expose_traffic_pool_outbox_and_hazards);

async fn metrics_expose_traffic_pool_outbox_and_hazards(app: TestApp) {
    let park = app.park().await;
    let general = app
        .report(&park.expert, general_hazard(park.enterprise_a))
        .await;
    let id = general["id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/hazards/{id}"))
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    app.get("/api/v1/hazards/0190a7c4-0000-7000-8000-000000000000")
        .token(&park.expert)
        .send()
        .await
        .expect_problem(404);
    app.get("/no/such/page").send().await.expect_problem(404);

    let scrape = app.get("/metrics").send().await.expect(200);
    assert!(
        scrape
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        scrape.headers
    );
    let text = &scrape.text;
    assert_eq!(sample(text, "hazard_tracker_hazards_open"), 1.0);
    assert_eq!(sample(text, "hazard_tracker_hazards_overdue"), 0.0);
    assert_eq!(sample(text, "hazard_tracker_database_up"), 1.0);

    // Requests are counted under the route pattern, never the raw path.
    let by_id = "hazard_tracker_http_requests_total{method=\"GET\",route=\"/api/v1/hazards/{id}\"";
    assert_eq!(sample(text, &format!("{by_id},status=\"200\"}}")), 1.0);
    assert_eq!(sample(text, &format!("{by_id},status=\"404\"}}")), 1.0);
    assert!(!text.contains(&id), "a raw id became a label value");
    assert!(!text.contains("/no/such/page"));
    assert_eq!(
        sample(
            text,
            "hazard_tracker_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        1.0
    );
    assert!(
        sample(
            text,
            "hazard_tracker_http_requests_total{method=\"POST\",route=\"/api/v1/auth/token\",status=\"200\"}"
        ) >= 5.0,
        "the park's sign-ins"
    );
    assert!(
        sample(
            text,
            "hazard_tracker_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/hazards\"}"
        ) >= 1.0
    );

    // The pool: the harness configures six connections.
    assert_eq!(sample(text, "hazard_tracker_db_pool_max_connections"), 6.0);
    let connections = sample(text, "hazard_tracker_db_pool_connections");
    let idle = sample(text, "hazard_tracker_db_pool_idle_connections");
    assert!(
        connections >= 1.0 && idle <= connections,
        "{connections} {idle}"
    );

    // Nothing in the outbox yet; a major hazard mails the supervisors.
    assert_eq!(
        sample(text, "hazard_tracker_outbox_messages{state=\"pending\"}"),
        0.0
    );
    assert_eq!(
        sample(text, "hazard_tracker_outbox_oldest_pending_age_seconds"),
        0.0
    );
    app.report(&park.expert, major_hazard(park.enterprise_b))
        .await;
    // The general hazard's deadline passes (three park days ago).
    let past = crate::helpers::days_from_today(-3);
    let mut conn = app.state.db.get().unwrap();
    let sql = match &*conn {
        DbConnection::Sqlite(_) => {
            format!("UPDATE hazards SET deadline = '{past}' WHERE id = '{id}'")
        }
        DbConnection::Postgresql(_) => {
            format!("UPDATE hazards SET deadline = DATE '{past}' WHERE id = '{id}'")
        }
    };
    match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(&sql).execute(c).unwrap(),
        DbConnection::Postgresql(c) => diesel::sql_query(&sql).execute(c).unwrap(),
    };
    drop(conn);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let text = app.get("/metrics").send().await.expect(200).text;
    assert_eq!(sample(&text, "hazard_tracker_hazards_open"), 2.0);
    assert_eq!(sample(&text, "hazard_tracker_hazards_overdue"), 1.0);
    assert_eq!(
        sample(&text, "hazard_tracker_outbox_messages{state=\"pending\"}"),
        1.0
    );
    for state in ["failed", "dead"] {
        assert_eq!(
            sample(
                &text,
                &format!("hazard_tracker_outbox_messages{{state=\"{state}\"}}")
            ),
            0.0
        );
    }
    let age = sample(&text, "hazard_tracker_outbox_oldest_pending_age_seconds");
    assert!((1.0..120.0).contains(&age), "{age}");
    assert_eq!(
        sample(
            &text,
            "hazard_tracker_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ),
        1.0,
        "the first scrape is counted too"
    );
}

async fn metrics_token_is_required_when_configured(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.metrics.token = SecretString::from("scrape-me-0123456789");
    })
    .await;
    let refused = app.get("/metrics").send().await.expect_problem(401);
    assert!(!refused.text.contains("hazard_tracker_"));
    app.get("/metrics")
        .token("not-the-token")
        .send()
        .await
        .expect_problem(401);
    // An account's token is not the scraper's.
    app.add_user("admin@park.example.cn", "admin", None);
    let admin = app.login("admin@park.example.cn").await;
    app.get("/metrics")
        .token(&admin)
        .send()
        .await
        .expect_problem(401);
    let scrape = app
        .get("/metrics")
        .token("scrape-me-0123456789")
        .send()
        .await
        .expect(200);
    assert!(scrape.text.contains("hazard_tracker_database_up 1"));
}

#[actix_web::test]
async fn metrics_token_is_required_when_configured_on_sqlite() {
    metrics_token_is_required_when_configured(Backend::Sqlite).await;
}

#[actix_web::test]
async fn metrics_token_is_required_when_configured_on_postgres() {
    metrics_token_is_required_when_configured(Backend::Postgres).await;
}

#[track_caller]
fn assert_throttled(reply: crate::helpers::Reply) {
    let reply = reply.expect_problem(429);
    assert_eq!(reply.json["code"], "too_many_requests");
    let wait: u64 = reply
        .header("retry-after")
        .expect("Retry-After on a 429")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
}

async fn sign_in_attempts_are_limited(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.auth.login_attempts_per_minute_per_account = 10;
        settings.auth.login_attempts_per_minute_per_address = 15;
        settings.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    app.add_user("target@park.example.cn", "expert", None);
    app.add_user("other@park.example.cn", "viewer", None);
    let from = |client: &'static str, email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/token")
                .header("X-Forwarded-For", client)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
        }
    };
    const GUESSER: &str = "203.0.113.7";

    // Ten guesses at one account from one address within the minute are
    // answered...
    for _ in 0..10 {
        from(GUESSER, "target@park.example.cn", "guess guess guess")
            .await
            .expect_problem(401);
    }
    // ...the eleventh from there is not, not even with the right password,
    // and the email's spelling does not matter.
    assert_throttled(from(GUESSER, "target@park.example.cn", "guess guess guess").await);
    assert_throttled(from(GUESSER, " Target@Park.example.cn", PASSWORD).await);

    // The account's owner, from anywhere else, still signs in: slowed, not
    // locked out.
    let started = std::time::Instant::now();
    from("198.51.100.20", "target@park.example.cn", PASSWORD)
        .await
        .expect(200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));

    // Another account from the guessing address has the address's five
    // remaining attempts, then the per-address limit stops it.
    for _ in 0..5 {
        from(GUESSER, "other@park.example.cn", PASSWORD)
            .await
            .expect(200);
    }
    assert_throttled(from(GUESSER, "other@park.example.cn", PASSWORD).await);
    assert_throttled(from(GUESSER, "nobody@park.example.cn", PASSWORD).await);
}

#[actix_web::test]
async fn sign_in_attempts_are_limited_on_sqlite() {
    sign_in_attempts_are_limited(Backend::Sqlite).await;
}

#[actix_web::test]
async fn sign_in_attempts_are_limited_on_postgres() {
    sign_in_attempts_are_limited(Backend::Postgres).await;
}

/// Behind the park's own proxy the limit counts each client's address, not
/// the proxy's; a forwarding header from anyone else changes nothing.
async fn sign_in_limits_count_clients_behind_trusted_proxies(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.auth.login_attempts_per_minute_per_account = 0;
        settings.auth.login_attempts_per_minute_per_address = 3;
        settings.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    let from = |client: &'static str| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/token")
                .header("X-Forwarded-For", client)
                .json(&json!({"email": "nobody@park.example.cn", "password": "guess guess guess"}))
                .send()
                .await
        }
    };
    for _ in 0..3 {
        from("203.0.113.7").await.expect_problem(401);
    }
    assert_throttled(from("203.0.113.7").await);
    // Another client behind the same proxy keeps its own attempts.
    from("203.0.113.8").await.expect_problem(401);

    // Without trusted proxies the header is the client's own say-so.
    let direct = spawn_app_with(backend, |settings| {
        settings.auth.login_attempts_per_minute_per_account = 0;
        settings.auth.login_attempts_per_minute_per_address = 3;
    })
    .await;
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        direct
            .post("/api/v1/auth/token")
            .header("X-Forwarded-For", client)
            .json(&json!({"email": "nobody@park.example.cn", "password": "guess guess guess"}))
            .send()
            .await
            .expect_problem(401);
    }
    assert_throttled(
        direct
            .post("/api/v1/auth/token")
            .header("X-Forwarded-For", "203.0.113.4")
            .json(&json!({"email": "nobody@park.example.cn", "password": "guess guess guess"}))
            .send()
            .await,
    );
}

#[actix_web::test]
async fn sign_in_limits_count_clients_behind_trusted_proxies_on_sqlite() {
    sign_in_limits_count_clients_behind_trusted_proxies(Backend::Sqlite).await;
}

#[actix_web::test]
async fn sign_in_limits_count_clients_behind_trusted_proxies_on_postgres() {
    sign_in_limits_count_clients_behind_trusted_proxies(Backend::Postgres).await;
}

const WEB_CLIENT: &str = "https://hazards.park.example.cn";

async fn preflight(app: &TestApp, origin: &str) -> crate::helpers::Reply {
    app.call(Method::OPTIONS, "/api/v1/hazards")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
}

async fn cors_answers_only_the_configured_origins(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.server.cors_allowed_origins = vec![WEB_CLIENT.to_owned()];
    })
    .await;
    let allowed = preflight(&app, WEB_CLIENT).await.expect(200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some(WEB_CLIENT)
    );
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("idempotency-key"),
        "{headers}"
    );
    assert!(allowed.header("access-control-allow-credentials").is_none());

    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(refused.header("access-control-allow-origin").is_none());
    assert!(refused.header("access-control-allow-methods").is_none());

    // Actual requests: the allowed origin may read the answer (and the
    // request id); another origin gets no CORS header, its browser blocks.
    let read = app
        .get("/api/v1/auth/me")
        .header("Origin", WEB_CLIENT)
        .send()
        .await
        .expect_problem(401);
    assert_eq!(read.header("access-control-allow-origin"), Some(WEB_CLIENT));
    assert!(read
        .header("access-control-expose-headers")
        .is_some_and(|h| h.to_lowercase().contains("x-request-id")));
    let other = app
        .get("/healthz")
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .expect(200);
    assert!(other.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn cors_answers_only_the_configured_origins_on_sqlite() {
    cors_answers_only_the_configured_origins(Backend::Sqlite).await;
}

#[actix_web::test]
async fn cors_answers_only_the_configured_origins_on_postgres() {
    cors_answers_only_the_configured_origins(Backend::Postgres).await;
}

backend_tests!(
    no_cors_headers_by_default,
    security_headers_on_every_response
);

async fn no_cors_headers_by_default(app: TestApp) {
    assert!(app.state.settings.server.cors_allowed_origins.is_empty());
    for origin in [WEB_CLIENT, "https://evil.example.com", "null"] {
        let reply = preflight(&app, origin).await;
        for (name, _) in reply.headers.iter() {
            assert!(
                !name.as_str().starts_with("access-control-"),
                "{name} sent without any CORS configuration"
            );
        }
    }
}

#[track_caller]
fn assert_security_headers(reply: &crate::helpers::Reply) {
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert!(
        reply
            .header("content-security-policy")
            .is_some_and(|p| p.contains("frame-ancestors 'none'")),
        "{:?}",
        reply.headers
    );
}

async fn security_headers_on_every_response(app: TestApp) {
    let park = app.park().await;
    let list = app
        .get("/api/v1/hazards")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    assert_security_headers(&list);
    assert_eq!(list.header("cache-control"), Some("no-store"));
    assert_eq!(
        list.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    );

    // Errors, whoever shaped them, carry them too.
    let refused = app.get("/api/v1/hazards").send().await.expect_problem(401);
    assert_security_headers(&refused);
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    let unknown = app
        .get("/api/v1/no-such-thing")
        .send()
        .await
        .expect_problem(404);
    assert_security_headers(&unknown);
    assert_eq!(unknown.header("cache-control"), Some("no-store"));
    let health = app.get("/healthz").send().await.expect(200);
    assert_security_headers(&health);

    // The docs page keeps working: its own scripts and styles are allowed,
    // nothing from elsewhere.
    let docs = app.get("/docs/").send().await.expect(200);
    assert_security_headers(&docs);
    let policy = docs.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("unsafe-eval"));
    assert!(
        !docs.text.contains("<script>") && !docs.text.contains("<style>"),
        "script-src 'self' would block an inline script on the docs page"
    );
    let bundle = app
        .get("/docs/swagger-ui-bundle.js")
        .send()
        .await
        .expect(200);
    assert_security_headers(&bundle);
}

/// A server process of this test, stopped and cleaned up however the test
/// ends (a failed assertion included).
struct Served {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// With `log.format = "json"`, the real binary writes one JSON line per
/// request carrying its method, route pattern, status, latency and id.
#[test]
fn each_request_is_one_json_log_line() {
    let dir = std::env::temp_dir().join(format!("ht-log-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Command::new(env!("CARGO_BIN_EXE_hazard-tracker"))
        .arg("serve")
        .env(
            "HT_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env_remove("HT_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("HT__LOG__FORMAT", "json")
        .env("HT__LOG__LEVEL", "info")
        .env("HT__SERVER__BIND", "127.0.0.1:0")
        .env("HT__SERVER__WORKERS", "1")
        .env("HT__ESCALATION__ENABLED", "false")
        .env("HT__AUTH__JWT_SECRET", crate::helpers::JWT_SECRET)
        .env(
            "HT__DATABASE__URL",
            format!("sqlite://{}/ht.sqlite3", dir.display()),
        )
        .env("HT__STORAGE__DATA_DIR", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Served { child: server, dir };
    let (lines, received) = std::sync::mpsc::channel::<Value>();
    let stdout = server.child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Anything else on standard output is not a log line of ours.
            let Ok(parsed) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if lines.send(parsed).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let next = || {
        received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server's log ended early")
    };
    let port = loop {
        let line = next();
        if let Some(port) = line["port"].as_u64() {
            break port;
        }
    };
    let path = "/api/v1/hazards/0190a7c4-0000-7000-8000-000000000000";
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let request_id = response
        .lines()
        .find_map(|l| {
            l.to_lowercase()
                .strip_prefix("x-request-id:")
                .map(|v| v.trim().to_owned())
        })
        .expect("x-request-id in the response");
    let line = loop {
        let line = next();
        if line["message"] == "request finished" {
            break line;
        }
    };
    drop(server);

    assert_eq!(line["method"], "GET", "{line}");
    assert_eq!(line["route"], "/api/v1/hazards/{id}", "{line}");
    assert_eq!(line["status"], 401, "{line}");
    assert!(
        line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert_eq!(line["request_id"], json!(request_id), "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
}

/// `server.cors_allowed_origins` takes exact origins only: a wildcard or a
/// value no browser would send is refused at start, not silently unmatched.
#[test]
fn cors_origins_are_checked_at_start() {
    let dir = std::env::temp_dir().join(format!("ht-cors-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/default.toml"),
        dir.join("default.toml"),
    )
    .unwrap();
    let load = |origins: &str| {
        std::fs::write(
            dir.join("development.toml"),
            format!("[server]\ncors_allowed_origins = {origins}\n"),
        )
        .unwrap();
        hazard_tracker::settings::Settings::load_from(&dir)
    };
    for refused in [
        r#"["*"]"#,
        r#"["https://hazards.park.example.cn/"]"#,
        r#"["https://hazards.park.example.cn/app"]"#,
        r#"["ftp://hazards.park.example.cn"]"#,
        r#"["hazards.park.example.cn"]"#,
    ] {
        let error = load(refused).expect_err(refused);
        assert!(
            format!("{error:#}").contains("cors_allowed_origins"),
            "{refused}: {error:#}"
        );
    }
    let listed = load(r#"["https://hazards.park.example.cn", "http://localhost:3000"]"#).unwrap();
    assert_eq!(
        listed.server.cors_allowed_origins,
        ["https://hazards.park.example.cn", "http://localhost:3000"]
    );
    // As an environment variable would give it: one comma-separated string.
    let joined = load(r#""https://hazards.park.example.cn, http://localhost:3000""#).unwrap();
    assert_eq!(
        joined.server.cors_allowed_origins,
        listed.server.cors_allowed_origins
    );
    let _ = std::fs::remove_dir_all(&dir);
}
