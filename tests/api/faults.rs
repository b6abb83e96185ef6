//! Faults an operator meets: PostgreSQL going away and coming back (staged
//! by a proxy that cuts the line, so the shared server stays up), SIGTERM
//! while a request and a mail are in flight, `kill -9` while a webhook
//! delivery is in flight, and two instances of the real binary on one
//! PostgreSQL database.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use awc::http::Method;
use diesel::{Connection, RunQueryDsl};
use futures_util::future::join_all;
use hazard_tracker::db::outbox::{OutboxFilter, OutboxMessage};
use hazard_tracker::db::Db;
use hazard_tracker::settings::Settings;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::eventually;
use crate::helpers::{
    credit_code, general_hazard, major_hazard, postgres_admin_url, spawn_app_with, Backend, Reply,
    TestApp, JWT_SECRET, PASSWORD,
};
use crate::smtp::SmtpServer;

/// The longest any request may take while the database is away.
const NO_HANG: Duration = Duration::from_secs(10);

async fn timed<T>(work: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let value = work.await;
    (value, started.elapsed())
}

fn titled(mut body: Value, title: &str) -> Value {
    body["title"] = json!(title);
    body
}

/// The sequence part of a hazard number (`YH-2025-000042` → 42).
fn sequence(hazard: &Value) -> u32 {
    let number = hazard["number"].as_str().unwrap();
    number.rsplit('-').next().unwrap().parse().unwrap()
}

// ---------------------------------------------------------------------------
// PostgreSQL outage
// ---------------------------------------------------------------------------

/// A TCP proxy between the service and PostgreSQL that stages an outage:
/// every open connection is cut and new ones are accepted and closed at once
/// (what a restarting server looks like), until traffic is let through again.
struct DbProxy {
    port: u16,
    shared: Arc<ProxyShared>,
}

struct ProxyShared {
    upstream: SocketAddr,
    passing: AtomicBool,
    cut_at_commit: AtomicBool,
    open: AtomicUsize,
    /// Bumped at each cut; every relay watches it.
    cuts: watch::Sender<u64>,
    dropped: AtomicBool,
}

impl ProxyShared {
    fn outage_begins(&self) {
        self.passing.store(false, Ordering::SeqCst);
        self.cut_at_commit.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|generation| *generation += 1);
    }
}

impl DbProxy {
    fn start() -> DbProxy {
        let admin = url::Url::parse(&postgres_admin_url()).unwrap();
        let upstream = (
            admin.host_str().unwrap_or("127.0.0.1"),
            admin.port().unwrap_or(5432),
        )
            .to_socket_addrs()
            .unwrap()
            .next()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(ProxyShared {
            upstream,
            passing: AtomicBool::new(true),
            cut_at_commit: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            cuts: watch::channel(0).0,
            dropped: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        // A thread of its own: `Application::build` blocks the test's thread
        // while it migrates through the proxy.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let mut stopping = accepting.cuts.subscribe();
                loop {
                    let client = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((client, _)) => client,
                            Err(_) => return,
                        },
                        _ = stopping.changed() => {
                            if accepting.dropped.load(Ordering::SeqCst) {
                                return;
                            }
                            continue;
                        }
                    };
                    // Subscribed before the check, so no cut slips in between.
                    let cuts = accepting.cuts.subscribe();
                    if !accepting.passing.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    accepting.open.fetch_add(1, Ordering::SeqCst);
                    let shared = accepting.clone();
                    tokio::spawn(async move {
                        relay(client, &shared, cuts).await;
                        shared.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
        });
        DbProxy { port, shared }
    }

    /// `url` with the proxy as its host; in clear text, so the proxy can
    /// see a COMMIT go by.
    fn route(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.query_pairs_mut().append_pair("sslmode", "disable");
        url.to_string()
    }

    /// Cuts every connection and refuses new ones; returns once all are closed.
    async fn outage(&self) {
        self.shared.outage_begins();
        self.all_closed().await;
    }

    /// The outage begins when the service next sends `COMMIT`, which never
    /// reaches the server.
    fn outage_at_next_commit(&self) {
        self.shared.cut_at_commit.store(true, Ordering::SeqCst);
    }

    async fn all_closed(&self) {
        let shared = &self.shared;
        eventually(
            "the proxy's connections closed",
            NO_HANG,
            move || async move { (shared.open.load(Ordering::SeqCst) == 0).then_some(()) },
        )
        .await;
    }

    fn restore(&self) {
        self.shared.passing.store(true, Ordering::SeqCst);
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.shared.dropped.store(true, Ordering::SeqCst);
        self.shared.outage_begins();
    }
}

async fn relay(client: TcpStream, shared: &ProxyShared, mut cuts: watch::Receiver<u64>) {
    let Ok(server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let requests = async {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match from_client.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buffer[..n];
            if shared.cut_at_commit.load(Ordering::SeqCst)
                && chunk.windows(6).any(|w| w == b"COMMIT")
            {
                shared.outage_begins();
                return;
            }
            if to_server.write_all(chunk).await.is_err() {
                return;
            }
        }
    };
    let replies = tokio::io::copy(&mut from_server, &mut to_client);
    // Whichever ends first, both sockets are dropped: the line is cut.
    tokio::select! {
        () = requests => {}
        _ = replies => {}
        _ = cuts.changed() => {}
    }
}

async fn spawn_behind_proxy(proxy: &DbProxy) -> TestApp {
    spawn_app_with(Backend::Postgres, |settings| {
        settings.database.url = proxy.route(&settings.database.url);
    })
    .await
}

async fn wait_until_ready(app: &TestApp) {
    eventually(
        "/readyz answers 200 again",
        Duration::from_secs(30),
        || async { (app.get("/readyz").send().await.status == 200).then_some(()) },
    )
    .await;
}

#[track_caller]
fn expect_unavailable(reply: Reply, took: Duration, what: &str) {
    let reply = reply.expect_problem(503);
    assert_eq!(reply.json["code"], "service_unavailable", "{what}");
    assert!(reply.header("retry-after").is_some(), "{what}: Retry-After");
    assert!(took < NO_HANG, "{what} took {took:?}");
}

/// While PostgreSQL is away every request answers 503 quickly and /readyz
/// says so; once it is back the service recovers by itself, with what was
/// written before intact and nothing of what was attempted during it.
#[actix_web::test]
async fn postgres_outage_answers_503_then_recovers() {
    let proxy = DbProxy::start();
    let app = spawn_behind_proxy(&proxy).await;
    let park = app.park().await;
    let before = app
        .report(
            &park.expert,
            titled(general_hazard(park.enterprise_a), "停电前登记的隐患"),
        )
        .await;
    let path = format!("/api/v1/hazards/{}", before["id"].as_str().unwrap());
    // Several requests at once: the pool holds several connections when
    // the line is cut.
    for reply in join_all((0..6).map(|_| app.get(&path).token(&park.expert).send())).await {
        reply.expect(200);
    }

    proxy.outage().await;
    // The read cache stops answering as soon as its watcher loses the
    // database (within one poll): from then on reads go to the database.
    eventually("the read cache turned off", NO_HANG, || async {
        (!app.state.reads.is_live()).then_some(())
    })
    .await;
    // More requests than pooled connections: the dead ones are found out
    // as they are checked out, and no new one can be opened.
    let reads = join_all((0..8).map(|_| timed(app.get(&path).token(&park.expert).send()))).await;
    for (reply, took) in reads {
        expect_unavailable(reply, took, "a read during the outage");
    }
    let (ready, took) = timed(app.get("/readyz").send()).await;
    expect_unavailable(ready, took, "/readyz during the outage");
    let during = titled(general_hazard(park.enterprise_a), "停电期间登记的隐患");
    let write = || {
        app.post("/api/v1/hazards")
            .token(&park.expert)
            .header("Idempotency-Key", "written-during-the-outage")
            .json(&during)
            .send()
    };
    let (reply, took) = timed(write()).await;
    expect_unavailable(reply, took, "a write during the outage");

    proxy.restore();
    wait_until_ready(&app).await;
    let read = app.get(&path).token(&park.expert).send().await.expect(200);
    for field in ["id", "number", "title", "state", "version", "deadline"] {
        assert_eq!(read.json[field], before[field], "{field} after the outage");
    }
    // The write attempted during the outage left nothing behind: its retry
    // creates it (no replay of a half-stored response) with the next number.
    let retried = write().await.expect(201);
    assert!(retried.header("idempotent-replayed").is_none());
    assert_eq!(sequence(&retried.json), sequence(&before) + 1);

    // An outage that begins in the middle of a write: the line is cut as the
    // service sends COMMIT. The hazard, its number, its event and its mail
    // are rolled back together.
    proxy.outage_at_next_commit();
    let (reply, took) = timed(
        app.post("/api/v1/hazards")
            .token(&park.expert)
            .json(&titled(major_hazard(park.enterprise_a), "提交时断线的隐患"))
            .send(),
    )
    .await;
    expect_unavailable(reply, took, "a write cut at COMMIT");
    proxy.all_closed().await;
    proxy.restore();
    wait_until_ready(&app).await;
    let after = app
        .report(
            &park.expert,
            titled(general_hazard(park.enterprise_a), "恢复后登记的隐患"),
        )
        .await;
    assert_eq!(sequence(&after), sequence(&before) + 2);
    let listed = app
        .get("/api/v1/hazards?limit=100")
        .token(&park.expert)
        .send()
        .await
        .expect(200);
    let titles: BTreeSet<&str> = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        BTreeSet::from(["停电前登记的隐患", "停电期间登记的隐患", "恢复后登记的隐患"])
    );
    let mails = app
        .get("/api/v1/notifications")
        .token(&park.admin)
        .send()
        .await
        .expect(200);
    assert_eq!(
        mails.json["items"],
        json!([]),
        "no mail for a hazard that never was"
    );
}

/// A short outage that no request noticed leaves only dead connections in
/// the pool. A connection that did a request's work within the last
/// `TRUSTED_AFTER_WORK` is handed out without a check: right after the
/// blip each such connection may fail one request with a `503`, never a
/// `500`, and is then checked and replaced. Once that window has passed,
/// no dead connection reaches a request at all.
#[actix_web::test]
async fn dead_connections_fail_at_most_once_and_none_reaches_a_request_later() {
    let proxy = DbProxy::start();
    let app = spawn_behind_proxy(&proxy).await;
    app.add_user("admin@park.example.cn", "admin", None);
    let admin = app.login("admin@park.example.cn").await;
    let path = "/api/v1/users";
    let warm_up = || async {
        for reply in join_all((0..6).map(|_| app.get(path).token(&admin).send())).await {
            reply.expect(200);
        }
    };

    warm_up().await;
    proxy.outage().await;
    proxy.restore();
    let mut failed = 0;
    for _ in 0..12 {
        let reply = app.get(path).token(&admin).send().await;
        match reply.status.as_u16() {
            200 => {}
            503 => failed += 1,
            other => panic!("right after a blip: {other} {}", reply.text),
        }
    }
    assert!(
        failed <= 6,
        "{failed} requests failed on 6 dead connections"
    );
    app.get(path).token(&admin).send().await.expect(200);

    warm_up().await;
    proxy.outage().await;
    proxy.restore();
    sleep(hazard_tracker::db::TRUSTED_AFTER_WORK + Duration::from_millis(100)).await;
    for _ in 0..8 {
        app.get(path).token(&admin).send().await.expect(200);
    }
    app.get("/readyz").send().await.expect(200);
}

// ---------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("ht-faults-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database of its own, dropped afterwards.
struct PgDatabase {
    name: String,
    url: String,
}

impl PgDatabase {
    fn create() -> PgDatabase {
        let name = format!("ht_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&postgres_admin_url()).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
        url.set_path(&name);
        PgDatabase {
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&postgres_admin_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

type Vars = Vec<(&'static str, String)>;

fn binary(vars: &Vars) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hazard-tracker"));
    command
        .env(
            "HT_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env_remove("HT_ENV")
        .env_remove("DATABASE_URL")
        .env("HT__AUTH__JWT_SECRET", JWT_SECRET)
        .env("HT__LOG__LEVEL", "info")
        .envs(vars.iter().map(|(name, value)| (name, value)));
    command
}

fn migrate(vars: &Vars) {
    let out = binary(vars).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn user_add(vars: &Vars, email: &str, role: &str) {
    let mut add = binary(vars)
        .args(["user", "add", "--email", email, "--role", role])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut add.stdin.take().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `N` distinct ports nobody listens on right now (`HT__SERVER__BIND` with
/// port 0 would not say which one the binary got).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [std::net::TcpListener; N] =
        std::array::from_fn(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|listener| listener.local_addr().unwrap().port())
}

/// `hazard-tracker serve` on a port of its own, logging to a file.
struct Instance {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Instance {
    fn serve(vars: &Vars, dir: &Path, port: u16) -> Instance {
        let log = dir.join(format!("serve-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = binary(vars)
            .arg("serve")
            .env("HT__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("HT__SERVER__WORKERS", "1")
            .env("HT__DATABASE__POOL_SIZE", "4")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Instance { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", self.log());
            }
            let answered = awc::Client::default()
                .get(format!("http://127.0.0.1:{}/healthz", self.port))
                .force_close()
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if answered {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "serve never answered:\n{}",
                self.log()
            );
            sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Option<&Value>) -> Reply {
        let mut request = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish()
            .request(method, format!("http://127.0.0.1:{}{path}", self.port))
            .force_close();
        if !token.is_empty() {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = match body {
            Some(body) => request.send_json(body).await,
            None => request.send().await,
        }
        .unwrap_or_else(|e| panic!("{path}: {e}\n{}", self.log()));
        let bytes = response.body().limit(16 * 1024 * 1024).await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: String::from_utf8_lossy(&bytes).into_owned(),
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn login(&self, email: &str) -> String {
        let body = json!({"email": email, "password": PASSWORD});
        let reply = self
            .call(Method::POST, "/api/v1/auth/token", "", Some(&body))
            .await
            .expect(200);
        reply.json["access_token"].as_str().unwrap().to_owned()
    }

    async fn create_enterprise(&self, token: &str, name: &str) -> String {
        let body = json!({
            "name": name,
            "credit_code": credit_code(name),
            "status": "producing",
            "contact_emails": ["safety@example.cn"],
        });
        let reply = self
            .call(Method::POST, "/api/v1/enterprises", token, Some(&body))
            .await
            .expect(201);
        reply.json["id"].as_str().unwrap().to_owned()
    }

    /// Sends SIGTERM (through kill(1): the crate forbids unsafe code).
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn exited(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running:\n{}", self.log());
            sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An SMTP server that accepts connections and never says a word: a send to
/// it stays in flight until the sender's timeout.
struct SilentSmtp {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl SilentSmtp {
    async fn start() -> SilentSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        actix_web::rt::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        SilentSmtp { port, accepted }
    }
}

fn outbox_of(url: &str) -> Vec<OutboxMessage> {
    let mut settings =
        Settings::load_from(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))).unwrap();
    settings.database.url = url.to_owned();
    let db = Db::connect(&settings.database).unwrap();
    let mut conn = db.get().unwrap();
    hazard_tracker::db::outbox::list(&mut conn, &OutboxFilter::default(), None, 500).unwrap()
}

/// SIGTERM: the request in flight is answered, the mail being sent gives its
/// lease back at once (not after `escalation.lease_secs`), and the process
/// exits 0.
#[actix_web::test]
async fn sigterm_finishes_requests_and_gives_leases_back() {
    let dir = TempDir::new();
    let smtp = SilentSmtp::start().await;
    let url = format!("sqlite://{}/hazards.sqlite3", dir.0.display());
    let vars: Vars = vec![
        ("HT__DATABASE__URL", url.clone()),
        ("HT__STORAGE__DATA_DIR", dir.0.display().to_string()),
        ("HT__SMTP__URL", format!("smtp://127.0.0.1:{}", smtp.port)),
        ("HT__SMTP__TIMEOUT_SECS", "300".into()),
        ("HT__ESCALATION__ENABLED", "true".into()),
        ("HT__ESCALATION__INTERVAL_SECS", "1".into()),
    ];
    user_add(&vars, "admin@park.example.cn", "admin");
    user_add(&vars, "supervisor@park.example.cn", "supervisor");
    let [port] = free_ports();
    let mut server = Instance::serve(&vars, &dir.0, port);
    server.ready().await;
    let admin = server.login("admin@park.example.cn").await;
    let enterprise = server.create_enterprise(&admin, "Gamma Solvents").await;
    let body = major_hazard(enterprise.parse().unwrap());
    server
        .call(Method::POST, "/api/v1/hazards", &admin, Some(&body))
        .await
        .expect(201);

    // The sender claims the mail and waits on a server that never answers.
    let accepted = &smtp.accepted;
    eventually(
        "the mail is being sent",
        Duration::from_secs(30),
        || async { (accepted.load(Ordering::SeqCst) > 0).then_some(()) },
    )
    .await;
    let leased = outbox_of(&url);
    assert_eq!(leased.len(), 1);
    assert!(leased[0].lease_owner.is_some(), "{leased:?}");

    // A request whose body is still arriving when SIGTERM comes.
    let body = serde_json::to_vec(&titled(
        general_hazard(enterprise.parse().unwrap()),
        "关停时仍在上传的隐患",
    ))
    .unwrap();
    let mut slow = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/hazards HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(first).await.unwrap();
    // Let the server read the head and start the request before SIGTERM:
    // a connection whose request has not begun is closed at shutdown, and
    // on a loaded machine the head can take a moment to be read.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;

    server.terminate();
    let port = server.port;
    eventually(
        "the server stops taking connections",
        Duration::from_secs(15),
        || async move { TcpStream::connect(("127.0.0.1", port)).await.err() },
    )
    .await;
    slow.write_all(rest).await.unwrap();
    let mut response = Vec::new();
    slow.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "{response}\n{}",
        server.log()
    );

    let status = server.exited(Duration::from_secs(40)).await;
    assert!(status.success(), "{status}:\n{}", server.log());
    let after = outbox_of(&url);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].lease_owner, None, "the lease was given back");
    assert_eq!(after[0].lease_until, None);
    assert_eq!(
        (after[0].state.as_str(), after[0].attempts),
        ("pending", 0),
        "an interrupted send is not an attempt"
    );
}

/// Two instances of the binary on one PostgreSQL database: what one writes
/// the other reads, a token from one works on the other, and each
/// escalation mail goes out exactly once.
#[actix_web::test]
async fn two_instances_share_one_postgres_and_send_each_mail_once() {
    const HAZARDS: usize = 20;
    let database = PgDatabase::create();
    let dir = TempDir::new();
    let smtp = SmtpServer::start().await;
    let vars: Vars = vec![
        ("HT__DATABASE__URL", database.url.clone()),
        ("HT__STORAGE__DATA_DIR", dir.0.display().to_string()),
        ("HT__SMTP__URL", smtp.url()),
        ("HT__SMTP__TIMEOUT_SECS", "10".into()),
        ("HT__ESCALATION__ENABLED", "true".into()),
        ("HT__ESCALATION__INTERVAL_SECS", "1".into()),
        // Small batches, so both senders take turns at the queue.
        ("HT__ESCALATION__BATCH_SIZE", "2".into()),
    ];
    migrate(&vars);
    user_add(&vars, "admin@park.example.cn", "admin");
    user_add(&vars, "supervisor@park.example.cn", "supervisor");
    let [port_one, port_two] = free_ports();
    let mut one = Instance::serve(&vars, &dir.0, port_one);
    let mut two = Instance::serve(&vars, &dir.0, port_two);
    one.ready().await;
    two.ready().await;

    let admin = one.login("admin@park.example.cn").await;
    let enterprise = one.create_enterprise(&admin, "Delta Petrochemical").await;
    let path = format!("/api/v1/enterprises/{enterprise}");
    let read_back = two.call(Method::GET, &path, &admin, None).await.expect(200);
    assert_eq!(read_back.json["name"], "Delta Petrochemical");

    let admin = &admin;
    let reports = join_all((0..HAZARDS).map(|i| {
        let instance = if i % 2 == 0 { &one } else { &two };
        let body = titled(
            major_hazard(enterprise.parse().unwrap()),
            &format!("重大隐患 {i}"),
        );
        async move {
            instance
                .call(Method::POST, "/api/v1/hazards", admin, Some(&body))
                .await
                .expect(201)
                .json
        }
    }))
    .await;
    let numbers: BTreeSet<u32> = reports.iter().map(sequence).collect();
    assert_eq!(numbers, (1..=20).collect(), "distinct, consecutive numbers");
    for instance in [&one, &two] {
        let listed = instance
            .call(Method::GET, "/api/v1/hazards?limit=100", admin, None)
            .await
            .expect(200);
        assert_eq!(listed.json["items"].as_array().unwrap().len(), HAZARDS);
    }

    let smtp_ref = &smtp;
    eventually(
        "every mail arrived",
        Duration::from_secs(90),
        || async move {
            let ids: BTreeSet<String> = smtp_ref
                .received()
                .into_iter()
                .map(|m| m.message_id)
                .collect();
            (ids.len() >= HAZARDS).then_some(())
        },
    )
    .await;
    let (admin_ref, one_ref) = (admin, &one);
    eventually(
        "every mail recorded as sent",
        Duration::from_secs(30),
        || async move {
            let sent = one_ref
                .call(
                    Method::GET,
                    "/api/v1/notifications?state=sent&limit=100",
                    admin_ref,
                    None,
                )
                .await
                .expect(200);
            (sent.json["items"].as_array().unwrap().len() == HAZARDS).then_some(())
        },
    )
    .await;
    // Absence takes waiting: a few more rounds of both senders.
    sleep(Duration::from_secs(3)).await;
    let received = smtp.received();
    let ids: BTreeSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), HAZARDS);
    assert_eq!(received.len(), HAZARDS, "a mail was sent twice");
    assert!(received
        .iter()
        .all(|m| m.recipients == ["supervisor@park.example.cn"]));
    for instance in [&one, &two] {
        assert!(
            instance.log().contains("outbox delivery"),
            "each instance sent some of them:\n{}",
            instance.log()
        );
    }

    one.terminate();
    two.terminate();
    for instance in [&mut one, &mut two] {
        let status = instance.exited(Duration::from_secs(40)).await;
        assert!(status.success(), "{status}:\n{}", instance.log());
    }
}

/// A webhook receiver that holds its first request unanswered (the
/// delivery is in flight when the service dies) and answers `204` to the
/// rest, recording each request's `webhook-id` and whether it was answered.
#[derive(Default)]
struct HangingReceiver {
    /// (webhook-id, answered 2xx)
    seen: std::sync::Mutex<Vec<(String, bool)>>,
}

async fn hang_first(
    req: actix_web::HttpRequest,
    state: actix_web::web::Data<HangingReceiver>,
) -> actix_web::HttpResponse {
    let id = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let first = {
        let mut seen = state.seen.lock().unwrap();
        let first = seen.is_empty();
        seen.push((id, !first));
        first
    };
    if first {
        sleep(Duration::from_secs(600)).await;
    }
    actix_web::HttpResponse::NoContent().finish()
}

/// `kill -9` while a webhook delivery is in flight: the event was
/// committed with the hazard, so a restarted service delivers it once its
/// lease has run out — the same `webhook-id` (receivers drop duplicates by
/// it), answered once, and the delivery log says sent.
#[actix_web::test]
async fn a_webhook_in_flight_at_kill_9_is_delivered_after_restart() {
    let dir = TempDir::new();
    let receiver = actix_web::web::Data::new(HangingReceiver::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let data = receiver.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/hook", actix_web::web::post().to(hang_first))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);

    let vars: Vars = vec![
        (
            "HT__DATABASE__URL",
            format!("sqlite://{}/hazards.sqlite3", dir.0.display()),
        ),
        ("HT__STORAGE__DATA_DIR", dir.0.display().to_string()),
        ("HT__ESCALATION__ENABLED", "true".into()),
        ("HT__ESCALATION__INTERVAL_SECS", "1".into()),
        ("HT__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true".into()),
        ("HT__WEBHOOKS__TIMEOUT_SECS", "2".into()),
        // A lease of 2 s x (ceil(4 / 4) + 1) + 30 s = 34 s.
        ("HT__WEBHOOKS__BATCH_SIZE", "4".into()),
    ];
    migrate(&vars);
    user_add(&vars, "admin@park.example.cn", "admin");
    let [port] = free_ports();
    let mut one = Instance::serve(&vars, &dir.0, port);
    one.ready().await;
    let admin = one.login("admin@park.example.cn").await;
    let endpoint = one
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &admin,
            Some(&json!({"url": hook, "event_types": ["hazard.reported"]})),
        )
        .await
        .expect(201)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let enterprise = one.create_enterprise(&admin, "Kilo Chemicals").await;
    one.call(
        Method::POST,
        "/api/v1/hazards",
        &admin,
        Some(&general_hazard(enterprise.parse().unwrap())),
    )
    .await
    .expect(201);

    // The first attempt reaches the receiver and hangs there: kill -9 now.
    let seen = &receiver.seen;
    eventually(
        "the first attempt arrived",
        Duration::from_secs(30),
        || async move { (!seen.lock().unwrap().is_empty()).then_some(()) },
    )
    .await;
    let status = Command::new("kill")
        .args(["-KILL", &one.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let killed = one.exited(Duration::from_secs(10)).await;
    assert!(!killed.success(), "{killed}");

    let mut two = Instance::serve(&vars, &dir.0, port);
    two.ready().await;
    let admin = two.login("admin@park.example.cn").await;
    // The lease (34 s) runs out, then it goes again.
    eventually(
        "redelivered after the lease",
        Duration::from_secs(90),
        || async move {
            seen.lock()
                .unwrap()
                .iter()
                .any(|(_, answered)| *answered)
                .then_some(())
        },
    )
    .await;
    let path = format!("/api/v1/webhooks/{endpoint}/deliveries");
    let (two_ref, admin_ref, path) = (&two, &admin, &path);
    let log = eventually(
        "the log says delivered",
        Duration::from_secs(30),
        || async move {
            let log = two_ref
                .call(Method::GET, path, admin_ref, None)
                .await
                .expect(200)
                .json;
            (log["items"][0]["state"] == "sent").then_some(log)
        },
    )
    .await;
    sleep(Duration::from_secs(3)).await;
    let seen = receiver.seen.lock().unwrap().clone();
    let ids: BTreeSet<&str> = seen.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 1, "one event, one webhook-id: {seen:?}");
    assert_eq!(
        seen.iter().filter(|(_, answered)| *answered).count(),
        1,
        "answered once: {seen:?}"
    );
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    two.terminate();
    let status = two.exited(Duration::from_secs(40)).await;
    assert!(status.success(), "{status}:\n{}", two.log());
}
