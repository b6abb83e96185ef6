//! The test harness: a real server on a loopback port, on a fresh SQLite
//! file or a fresh PostgreSQL database per test, and an HTTP client, with
//! the small tools many tests share.

pub mod browser;
pub mod database;
pub mod evidence;
pub mod link;

pub use database::{postgres_admin_url, postgres_url_for};

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use awc::http::{header::HeaderMap, Method, StatusCode};

use hazard_tracker::domain::credit_code::check_char;
use hazard_tracker::http::state::AppState;
use hazard_tracker::settings::Settings;
use hazard_tracker::startup::Application;
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    pub state: AppState,
    pub client: awc::Client,
    data_dir: PathBuf,
    pg_database: Option<String>,
}

/// Starts the service on its own database and returns once it listens.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let run_id = Uuid::new_v4().simple().to_string();
    let data_dir = std::env::temp_dir().join(format!("ht-test-{run_id}"));
    std::fs::create_dir_all(&data_dir).expect("creating the test data folder");
    let config_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut settings = Settings::load_from(&config_dir).expect("loading config/default.toml");
    let pg_database = match backend {
        Backend::Sqlite => {
            settings.database.url =
                format!("sqlite://{}", data_dir.join("hazards.sqlite3").display());
            None
        }
        Backend::Postgres => {
            let name = database::create_test_database(&run_id);
            settings.database.url = postgres_url_for(&name);
            Some(name)
        }
    };
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.database.pool_size = 6;
    settings.storage.data_dir = data_dir.clone();
    settings.auth.jwt_secret = SecretString::from(JWT_SECRET);
    settings.smtp.outbox_dir = data_dir.join("outbox");
    // Tests drive the outbox workers themselves, with their own clock.
    settings.escalation.enabled = false;
    // Tests look for changed figures at once.
    settings.stats.marker_ttl_ms = 0;
    customize(&mut settings);
    let app = Application::build(settings).expect("building the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    // An idle connection is given up before the server's keep-alive (5 s)
    // ends it, so a request after a long pause never finds it closed.
    let client = awc::Client::builder()
        .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(2)))
        .timeout(Duration::from_secs(60))
        .finish();
    TestApp {
        address,
        backend,
        state,
        client,
        data_dir,
        pg_database,
    }
}

/// A second instance on the same database as `first` (the database stays
/// with `first`), configured by `customize`.
pub async fn spawn_app_sharing(first: &TestApp, customize: impl FnOnce(&mut Settings)) -> TestApp {
    let url = first.state.settings.database.url.clone();
    let mut second = spawn_app_with(Backend::Sqlite, |settings| {
        settings.database.url = url;
        customize(settings);
    })
    .await;
    second.backend = first.backend;
    second
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = &self.pg_database {
            database::drop_test_database(name);
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json error with this status.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Reply {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "errors must be problem+json; body: {}",
            reply.text
        );
        assert_eq!(
            reply.json["status"],
            json!(status),
            "problem status: {}",
            reply.text
        );
        assert!(
            reply.json["type"].is_string()
                && reply.json["title"].is_string()
                && reply.json["detail"].is_string()
        );
        reply
    }
}

/// A request being built.
pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
}

impl<'a> Call<'a> {
    pub fn token(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("serialising a test body"));
        self.content_type = Some("application/json".into());
        self
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self.content_type = Some(content_type.into());
        self
    }

    pub async fn send(self) -> Reply {
        let url = format!("{}{}", self.app.address, self.path);
        let mut request = self.app.client.request(self.method, url);
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        if let Some(content_type) = &self.content_type {
            request = request.insert_header(("Content-Type", content_type.as_str()));
        }
        let mut response = match self.body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        }
        .expect("sending the request");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("reading the response body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }
}

/// The people of a small park: one user per role and two enterprises, each
/// with a contact.
pub struct Park {
    pub admin: String,
    pub supervisor: String,
    pub expert: String,
    pub viewer: String,
    pub enterprise_a: Uuid,
    pub enterprise_b: Uuid,
    pub contact_a: String,
    pub contact_b: String,
}

impl TestApp {
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
            content_type: None,
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call<'_> {
        self.call(Method::PATCH, path)
    }

    /// Runs SQL written by hand on the app's database, around the service
    /// (as an operator or another program would); the rows it touched.
    pub fn execute_sql(&self, sql: &str) -> usize {
        use diesel::RunQueryDsl;
        use hazard_tracker::db::DbConnection;
        let mut conn = self.state.db.get().expect("a database connection");
        let outcome = match &mut *conn {
            DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
            DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
        };
        outcome.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The response bodies kept for replays under an `Idempotency-Key`.
    pub async fn idempotency_bodies(&self, key: &str) -> Vec<String> {
        use diesel::prelude::*;
        use hazard_tracker::db::schema::idempotency_keys::dsl as stored;
        let key = key.to_owned();
        self.state
            .db
            .run(move |conn| {
                Ok(stored::idempotency_keys
                    .filter(stored::idempotency_key.eq(key))
                    .select(stored::response_body)
                    .load::<String>(conn)?)
            })
            .await
            .expect("reading the kept responses")
    }

    /// Creates a user straight in the database, as `user add` does.
    pub fn add_user(&self, email: &str, role: &str, enterprise: Option<Uuid>) -> Uuid {
        hazard_tracker::cli::add_user(
            &self.state.db,
            email,
            role,
            enterprise,
            None,
            &SecretString::from(PASSWORD),
        )
        .expect("adding a user")
    }

    pub async fn login(&self, email: &str) -> String {
        let reply = self
            .post("/api/v1/auth/token")
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect(200);
        reply.json["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    pub async fn create_enterprise(&self, token: &str, name: &str) -> Uuid {
        let reply = self
            .post("/api/v1/enterprises")
            .token(token)
            .json(&json!({
                "name": name,
                "credit_code": credit_code(name),
                "status": "producing",
                "contact_emails": [format!("safety@{}.example.cn", slug(name))],
            }))
            .send()
            .await
            .expect(201);
        reply.json["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("an enterprise id")
    }

    pub async fn park(&self) -> Park {
        self.add_user("admin@park.example.cn", "admin", None);
        self.add_user("supervisor@park.example.cn", "supervisor", None);
        self.add_user("expert@park.example.cn", "expert", None);
        self.add_user("viewer@park.example.cn", "viewer", None);
        let admin = self.login("admin@park.example.cn").await;
        let enterprise_a = self.create_enterprise(&admin, "Alpha Chemicals").await;
        let enterprise_b = self.create_enterprise(&admin, "Beta Materials").await;
        self.add_user("contact@alpha.example.cn", "enterprise", Some(enterprise_a));
        self.add_user("contact@beta.example.cn", "enterprise", Some(enterprise_b));
        Park {
            supervisor: self.login("supervisor@park.example.cn").await,
            expert: self.login("expert@park.example.cn").await,
            viewer: self.login("viewer@park.example.cn").await,
            contact_a: self.login("contact@alpha.example.cn").await,
            contact_b: self.login("contact@beta.example.cn").await,
            admin,
            enterprise_a,
            enterprise_b,
        }
    }

    /// Reports a hazard and returns its JSON.
    pub async fn report(&self, token: &str, body: Value) -> Value {
        self.post("/api/v1/hazards")
            .token(token)
            .json(&body)
            .send()
            .await
            .expect(201)
            .json
    }
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A valid unified social credit code derived from a name.
pub fn credit_code(seed: &str) -> String {
    let digits: u64 = seed.bytes().fold(7u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 1_000_000_000;
    let body = format!("91320500{digits:09}");
    let check = check_char(&body).expect("a 17-character body");
    format!("{body}{check}")
}

/// A general hazard found by the resident experts in `enterprise`.
pub fn general_hazard(enterprise: Uuid) -> Value {
    json!({
        "enterprise_id": enterprise,
        "source": "resident_expert",
        "title": "储罐区可燃气体报警器失效",
        "description": "2号储罐区东侧可燃气体检测报警器无显示",
        "location": "2号储罐区",
        "category": "unsafe_condition",
        "specialty": "instrumentation",
        "level": "general",
        "deadline": days_from_today(14),
    })
}

/// A major hazard citing criterion 12.
pub fn major_hazard(enterprise: Uuid) -> Value {
    let mut body = general_hazard(enterprise);
    body["level"] = json!("major");
    body["major_basis_code"] = json!(12);
    body["title"] = json!("爆炸危险场所未使用防爆电气设备");
    body
}

/// A complete 五到位 plan.
pub fn full_plan() -> Value {
    json!({
        "measures": "更换为防爆型报警器并校验",
        "responsible_person": "张工",
        "funds": 12500.5,
        "deadline": days_from_today(10),
        "contingency_plan": "更换期间安排专人巡检并配备便携式检测仪",
    })
}

/// A date relative to today in the park's time zone, as `YYYY-MM-DD`.
pub fn days_from_today(days: i64) -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    (today + chrono::Duration::days(days)).to_string()
}

/// The `id` of a JSON object.
#[track_caller]
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// The ids of a list answer's items, in order.
#[track_caller]
pub fn ids(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", reply.text))
        .iter()
        .map(id_of)
        .collect()
}

/// The first page of a hazard's events.
pub async fn events(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/hazards/{id}/events"))
        .token(token)
        .send()
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .expect("event items")
        .clone()
}

/// Polls `check` until it gives a value, failing after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of one series, given exactly as the exposition writes it
/// (`name{label="value",...}`).
#[track_caller]
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("{series} missing from /metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Runs each named test function once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
            }
        )*
    };
}

/// Runs a test that configures its own app, on each backend.
#[macro_export]
macro_rules! configured_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}
