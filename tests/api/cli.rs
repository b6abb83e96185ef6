//! The binary itself: `migrate`, `user add`, and the production profile's
//! refusal to start without a secret.

use std::io::Write;
use std::process::{Command, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hazard-tracker"));
    command
        .env(
            "HT_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env_remove("HT_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("HT__DATABASE__URL")
        .env("HT__LOG__LEVEL", "warn");
    command
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("ht-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service's own variable wins over the convention other tools share;
/// the shared one is used when it is the only one set.
#[test]
fn ht_database_url_wins_over_database_url() {
    let dir = TempDir::new();
    let ours = dir.0.join("ours.sqlite3");
    let theirs = dir.0.join("theirs.sqlite3");
    let migrate = |vars: &[(&str, &std::path::Path)]| {
        let mut command = binary();
        command
            .args(["migrate"])
            .env("HT__STORAGE__DATA_DIR", &dir.0);
        for (name, path) in vars {
            command.env(name, format!("sqlite://{}", path.display()));
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    migrate(&[("DATABASE_URL", &theirs), ("HT__DATABASE__URL", &ours)]);
    assert!(ours.exists(), "HT__DATABASE__URL names the database");
    assert!(
        !theirs.exists(),
        "DATABASE_URL is not touched when both are set"
    );
    migrate(&[("DATABASE_URL", &theirs)]);
    assert!(theirs.exists(), "DATABASE_URL alone is honoured");
}

#[test]
fn migrate_then_user_add_creates_a_user_that_can_be_found() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/ht.sqlite3", dir.0.display());
    let migrate = binary()
        .args(["migrate"])
        .env("HT__DATABASE__URL", &url)
        .env("HT__STORAGE__DATA_DIR", &dir.0)
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert!(
        String::from_utf8_lossy(&migrate.stdout)
            .contains(&format!("applied {migrations} migration(s)")),
        "{}",
        String::from_utf8_lossy(&migrate.stdout)
    );

    let mut add = binary()
        .args([
            "user",
            "add",
            "--email",
            "Admin@Park.example.cn",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env("HT__DATABASE__URL", &url)
        .env("HT__STORAGE__DATA_DIR", &dir.0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long admin password\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: uuid::Uuid = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("prints the new user's id");

    let settings = {
        let mut s = hazard_tracker::settings::Settings::load_from(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config"
        )))
        .unwrap();
        s.database.url = url.clone();
        s
    };
    let db = hazard_tracker::db::Db::connect(&settings.database).unwrap();
    let mut conn = db.get().unwrap();
    let user = hazard_tracker::db::users::find_by_email(&mut conn, "admin@park.example.cn")
        .unwrap()
        .unwrap();
    assert_eq!(user.id, id);
    assert_eq!(user.role, hazard_tracker::domain::access::Role::Admin);
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "argon2id, never the password itself"
    );

    // The same email again is refused, and so is a weak password.
    for (email, password) in [
        ("admin@park.example.cn", "another long password"),
        ("x@park.example.cn", "short"),
    ] {
        let mut again = binary()
            .args([
                "user",
                "add",
                "--email",
                email,
                "--role",
                "admin",
                "--password-stdin",
            ])
            .env("HT__DATABASE__URL", &url)
            .env("HT__STORAGE__DATA_DIR", &dir.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        again
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let out = again.wait_with_output().unwrap();
        assert!(
            !out.status.success(),
            "{email} with {password:?} was accepted"
        );
    }
}

/// A 32-byte webhook key, base64.
const WEBHOOK_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// `serve` in the production profile on a SQLite file in `dir`, with the
/// variables `settings` names (the rest unset); its standard error, after
/// checking that it refused to start.
fn production_refusal(dir: &TempDir, settings: &[(&str, &str)]) -> String {
    let mut serve = binary();
    serve
        .args(["serve"])
        .env("HT_ENV", "production")
        .env(
            "HT__DATABASE__URL",
            format!("sqlite://{}/ht.sqlite3", dir.0.display()),
        )
        .env("HT__STORAGE__DATA_DIR", &dir.0)
        .env("HT__SERVER__BIND", "127.0.0.1:0");
    for (name, value) in settings {
        serve.env(name, value);
    }
    let out = serve.output().unwrap();
    assert!(!out.status.success(), "started with {settings:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn production_refuses_to_start_without_a_secret() {
    let dir = TempDir::new();
    let stderr = production_refusal(&dir, &[("HT__METRICS__TOKEN", "scraper-token-0123456789")]);
    assert!(
        stderr.contains("HT__AUTH__JWT_SECRET"),
        "says what to set: {stderr}"
    );
    assert!(
        !dir.0.join("jwt-secret").exists(),
        "nothing is generated in production"
    );
}

#[test]
fn production_refuses_to_start_with_an_open_metrics_endpoint() {
    let dir = TempDir::new();
    let stderr = production_refusal(
        &dir,
        &[
            ("HT__AUTH__JWT_SECRET", crate::helpers::JWT_SECRET),
            ("HT__WEBHOOKS__SECRET_KEY", WEBHOOK_KEY),
        ],
    );
    assert!(
        stderr.contains("HT__METRICS__TOKEN"),
        "says what to set: {stderr}"
    );
}

#[test]
fn production_refuses_to_start_without_a_webhook_key() {
    let dir = TempDir::new();
    let stderr = production_refusal(
        &dir,
        &[
            ("HT__AUTH__JWT_SECRET", crate::helpers::JWT_SECRET),
            ("HT__METRICS__TOKEN", "scraper-token-0123456789"),
        ],
    );
    assert!(
        stderr.contains("HT__WEBHOOKS__SECRET_KEY"),
        "says what to set: {stderr}"
    );
    let short = binary()
        .args(["serve"])
        .env(
            "HT__DATABASE__URL",
            format!("sqlite://{}/ht.sqlite3", dir.0.display()),
        )
        .env("HT__STORAGE__DATA_DIR", &dir.0)
        .env("HT__WEBHOOKS__SECRET_KEY", "c2hvcnQ=")
        .output()
        .unwrap();
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("webhooks.secret_key must be 32 bytes"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_database_scheme_is_refused_with_a_message() {
    let out = binary()
        .args(["migrate"])
        .env("HT__DATABASE__URL", "mysql://root@127.0.0.1/ht")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported scheme"), "{stderr}");
}

/// `demo load --with-accounts`: the published year, this year's work in
/// progress, and one account per role whose printed password signs in;
/// without the flag there is no account that can sign in.
#[test]
fn demo_load_with_accounts_prints_passwords_that_work() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/demo.sqlite3", dir.0.display());
    let out = binary()
        .args(["demo", "load", "--with-accounts"])
        .env("HT__DATABASE__URL", &url)
        .env("HT__STORAGE__DATA_DIR", &dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let accounts: Vec<(String, String, String)> = stdout
        .lines()
        .filter(|l| l.contains("@demo.park.example.cn"))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            (
                parts[0].to_owned(),
                parts[1].to_owned(),
                parts[2].to_owned(),
            )
        })
        .collect();
    let roles: Vec<&str> = accounts.iter().map(|(role, _, _)| role.as_str()).collect();
    assert_eq!(
        roles,
        ["admin", "supervisor", "expert", "enterprise", "viewer"],
        "{stdout}"
    );

    let mut settings = hazard_tracker::settings::Settings::load_from(std::path::Path::new(
        concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
    ))
    .unwrap();
    settings.database.url = url;
    let db = hazard_tracker::db::Db::connect(&settings.database).unwrap();
    let mut conn = db.get().unwrap();
    for (role, email, password) in &accounts {
        let user = hazard_tracker::db::users::find_by_email(&mut conn, email)
            .unwrap()
            .unwrap();
        assert_eq!(user.role.to_string(), *role);
        assert!(user.active);
        assert!(hazard_tracker::app::auth::verify_password(
            &secrecy::SecretString::from(password.clone()),
            Some(&user.password_hash)
        ));
        assert!(!user.password_hash.contains(password.as_str()));
        assert_eq!(user.enterprise_id.is_some(), role == "enterprise");
    }

    // This year's slice: open, overdue, pending and major items.
    let today = chrono::Utc::now().date_naive();
    let overview = hazard_tracker::app::stats::overview(
        &mut conn,
        today,
        chrono_tz::Asia::Shanghai,
        None,
        None,
        true,
    )
    .unwrap();
    assert!(overview.totals.open > 0 && overview.totals.pending_acceptance > 0);
    assert!(overview.major_open > 0);
    assert!(overview.found_per_month.months.iter().sum::<i64>() > 0);
}
