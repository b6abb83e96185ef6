//! The command line: `serve` (default), `migrate`, `user add`, `report`,
//! `demo load`, `import hazards|enterprises`, `stats verify`.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::app;
use crate::app::auth::{check_password_strength, hash_password};
use crate::app::imports::ImportKind;
use crate::app::reports::render::{render, ReportFormat};
use crate::app::reports::{Period, Vocabulary};
use crate::app::users::NewAccount;
use crate::domain::access::Role;
use crate::domain::email::Email;
use crate::settings::Settings;
use crate::startup::{build_state, Application};

#[derive(Debug, Parser)]
#[command(
    name = "hazard-tracker",
    version,
    about = "Tracks hidden safety hazards in a chemical-industry park"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage local users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Produce a report.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Import a ledger.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Check the figures' summary rows.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Recompute the summary rows from the hazards and their events and
    /// report every difference; exits 1 when there is one.
    Verify {
        /// Rewrite the summary rows from the hazards when they differ.
        #[arg(long)]
        repair: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a hazard ledger (XLSX or CSV) as `POST /api/v1/imports`
    /// does: all rows or none, the same file twice creates nothing.
    Hazards {
        file: std::path::PathBuf,
        /// Check every row and print what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The supervisor or admin the import is recorded as (default: the
        /// first active admin).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
    /// Import an enterprise list (企业名称, 统一社会信用代码, 企业状态,
    /// 联系人邮箱) as `POST /api/v1/imports?kind=enterprises` does.
    Enterprises {
        file: std::path::PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The yearly report (PRODUCT.md §6).
    Yearly {
        year: i32,
        /// json, csv, xlsx or md.
        #[arg(long, default_value = "md")]
        format: ReportFormat,
        /// The figures as they stood at the end of this day.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// The quarterly statistics.
    Quarterly {
        year: i32,
        quarter: u32,
        #[arg(long, default_value = "md")]
        format: ReportFormat,
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Load the 2024 demo park (reproduces the published figures) into an
    /// empty database.
    Load {
        /// Generate this many hazards instead of the published number
        /// (benchmarks); the other figures stay as published.
        #[arg(long)]
        hazards: Option<usize>,
        /// Also create one account per role (admin, supervisor, expert, an
        /// enterprise contact, viewer) and print their passwords, once.
        #[arg(long)]
        with_accounts: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin, supervisor, expert, enterprise or viewer.
        #[arg(long)]
        role: String,
        /// The enterprise id, for the enterprise role.
        #[arg(long)]
        enterprise: Option<Uuid>,
        /// Display name (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    crate::telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings)?;
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let state = build_state(settings)?;
            let applied = state.db.migrate()?;
            println!("applied {} migration(s)", applied.len());
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    enterprise,
                    name,
                    password_stdin: _,
                },
        } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned());
            let state = build_state(settings)?;
            state.db.migrate()?;
            let id = add_user(
                &state.db,
                &email,
                &role,
                enterprise,
                name.as_deref(),
                &password,
            )?;
            println!("{id}");
        }
        Command::Report { command } => run_report(settings, command)?,
        Command::Stats {
            command: StatsCommand::Verify { repair },
        } => verify_stats(settings, repair)?,
        Command::Demo {
            command:
                DemoCommand::Load {
                    hazards,
                    with_accounts,
                },
        } => load_demo(settings, hazards, with_accounts)?,
        Command::Import {
            command:
                ImportCommand::Hazards {
                    file,
                    dry_run,
                    as_user,
                },
        } => import_file(
            settings,
            ImportKind::Hazards,
            &file,
            dry_run,
            as_user.as_deref(),
        )?,
        Command::Import {
            command:
                ImportCommand::Enterprises {
                    file,
                    dry_run,
                    as_user,
                },
        } => import_file(
            settings,
            ImportKind::Enterprises,
            &file,
            dry_run,
            as_user.as_deref(),
        )?,
    }
    Ok(())
}

fn run_report(settings: Settings, command: ReportCommand) -> anyhow::Result<()> {
    let (period, format, as_of, output) = match command {
        ReportCommand::Yearly {
            year,
            format,
            as_of,
            output,
        } => (
            Period::year(year).ok_or_else(|| anyhow::anyhow!("the year must be 2000–2100"))?,
            format,
            as_of,
            output,
        ),
        ReportCommand::Quarterly {
            year,
            quarter,
            format,
            as_of,
            output,
        } => (
            Period::quarter(year, quarter)
                .ok_or_else(|| anyhow::anyhow!("the quarter must be 1–4 of 2000–2100"))?,
            format,
            as_of,
            output,
        ),
    };
    let state = build_state(settings)?;
    state.db.migrate()?;
    let mut conn = state.db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let park = &state.park;
    let vocabulary = Vocabulary {
        categories: &park.categories,
        specialties: &park.specialties,
        time_zone: park.time_zone,
    };
    let report = app::reports::build(&mut conn, period, as_of, &vocabulary)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = render(&report, format).map_err(|e| anyhow::anyhow!("{e}"))?;
    match output {
        Some(path) => {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(())
}

/// `stats verify`: prints each summary row that differs from the hazards
/// and each hazard whose stored rendering differs from its row (and
/// rewrites them with `repair`); an error, exit status 1, when any
/// differed.
fn verify_stats(settings: Settings, repair: bool) -> anyhow::Result<()> {
    let state = build_state(settings)?;
    state.db.migrate()?;
    let mut conn = state.db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let differences = app::stats::verify_summary(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (renderings, unrendered) =
        app::hazards::verify_renderings(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    if differences.is_empty() {
        println!("summary rows match the hazards");
    }
    if renderings.is_empty() {
        println!("hazard renderings match their rows ({unrendered} not rendered yet)");
    }
    if differences.is_empty() && renderings.is_empty() {
        return Ok(());
    }
    for d in &differences {
        println!(
            "{} {}: counted {}, kept {}",
            d.table, d.key, d.counted, d.kept
        );
    }
    for id in &renderings {
        println!("hazards {id}: the stored rendering differs from the row");
    }
    if repair {
        if !differences.is_empty() {
            app::stats::rebuild_summary(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("summary rows rewritten from the hazards");
        }
        if !renderings.is_empty() {
            app::hazards::rerender(&mut conn, &renderings).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("hazard renderings rewritten from the rows");
        }
    }
    bail!(
        "{} summary row(s) and {} hazard rendering(s) differed from the hazards",
        differences.len(),
        renderings.len()
    )
}

fn load_demo(
    settings: Settings,
    hazards: Option<usize>,
    with_accounts: bool,
) -> anyhow::Result<()> {
    let state = build_state(settings)?;
    state.db.migrate()?;
    let mut conn = state.db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = std::time::Instant::now();
    let loaded = crate::app::demo::load_scaled(&mut conn, &state.settings, hazards)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "loaded the demo park in {:.1?}: {} enterprises ({} graded), {} inspections, {} hazards, {} events",
        started.elapsed(),
        loaded.enterprises,
        loaded.graded,
        loaded.inspections,
        loaded.hazards,
        loaded.events
    );
    if with_accounts {
        demo_accounts(&state.db)?;
    }
    Ok(())
}

/// One account per role on the demo park, with a fresh password each,
/// printed here once (only their hashes are stored).
fn demo_accounts(db: &crate::db::Db) -> anyhow::Result<()> {
    use rand::distributions::{Alphanumeric, DistString};
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let enterprise = crate::db::enterprises::all(&mut conn)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .next()
        .context("the demo park has no enterprise")?;
    drop(conn);
    println!("demo accounts (the passwords are shown only now):");
    for (role, enterprise_id) in [
        ("admin", None),
        ("supervisor", None),
        ("expert", None),
        ("enterprise", Some(enterprise.id.uuid())),
        ("viewer", None),
    ] {
        let email = format!("{role}@demo.park.example.cn");
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
        add_user(
            db,
            &email,
            role,
            enterprise_id,
            None,
            &SecretString::from(password.clone()),
        )?;
        let of = if enterprise_id.is_some() {
            format!(" ({})", enterprise.name)
        } else {
            String::new()
        };
        println!("  {role:<10} {email:<34} {password}{of}");
    }
    Ok(())
}

fn import_file(
    settings: Settings,
    kind: ImportKind,
    file: &std::path::Path,
    dry_run: bool,
    as_user: Option<&str>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let state = build_state(settings)?;
    state.db.migrate()?;
    let mut conn = state.db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = match as_user {
        Some(email) => crate::db::users::find_by_email(&mut conn, email)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .with_context(|| format!("no user {email}"))?,
        None => crate::db::users::list(&mut conn, None, 500)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter()
            .find(|u| u.active && u.role == Role::Admin)
            .context("no active admin: name the importer with --as EMAIL")?,
    };
    let caller = crate::domain::access::Caller {
        user_id: user.id.uuid(),
        role: user.role,
        enterprise_id: user.enterprise_id.map(crate::db::Id::uuid),
    };
    let file_name = file
        .file_name()
        .map_or_else(|| "ledger".to_owned(), |n| n.to_string_lossy().into_owned());
    let ledger = app::imports::LedgerFile {
        file_name: &file_name,
        bytes: &bytes,
    };
    let started = std::time::Instant::now();
    let now = state.park.now();
    let report = match kind {
        ImportKind::Hazards => {
            app::imports::import_hazards(&mut conn, &caller, ledger, dry_run, &state.park, now)
        }
        ImportKind::Enterprises => {
            app::imports::import_enterprises(&mut conn, &caller, ledger, dry_run, now)
        }
    }
    .map_err(|e| match e {
        crate::error::AppError::Validation { detail, errors } => {
            let rows: Vec<String> = errors.iter().map(|(k, v)| format!("  {k}: {v}")).collect();
            anyhow::anyhow!("{detail}\n{}", rows.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    })?;
    for row in report.results.iter().filter(|r| !r.errors.is_empty()) {
        for error in &row.errors {
            println!("第{}行 {}:{}", row.row, error.column, error.reason);
        }
    }
    println!(
        "{} in {:.1?}: {} rows, {} {}, {} unchanged, {} skipped, {} in error{}",
        file_name,
        started.elapsed(),
        report.rows,
        if dry_run {
            report.rows - report.unchanged - report.skipped - report.errors
        } else {
            report.created
        },
        if dry_run {
            "would be created"
        } else {
            "created"
        },
        report.unchanged,
        report.skipped,
        report.errors,
        report
            .id
            .map(|id| format!(" (import {id})"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Creates a user from the command line (the first admin, typically).
pub fn add_user(
    db: &crate::db::Db,
    email: &str,
    role: &str,
    enterprise: Option<Uuid>,
    name: Option<&str>,
    password: &SecretString,
) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let role: Role = role.parse().map_err(|_| {
        anyhow::anyhow!("--role must be one of admin, supervisor, expert, enterprise, viewer")
    })?;
    if (role == Role::Enterprise) != enterprise.is_some() {
        bail!("--enterprise is required for the enterprise role and only for it");
    }
    check_password_strength(password.expose_secret()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password_hash = hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = name.map_or_else(
        || {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        },
        str::to_owned,
    );
    let account = NewAccount {
        email,
        name,
        role,
        enterprise_id: enterprise,
        password_hash,
    };
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = app::users::create_user(&mut conn, account, crate::clock::now_utc())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = user.id.uuid();
    Ok(id)
}
