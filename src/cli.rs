//! The command line: `serve` (default), `migrate`, `user add`.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::app;
use crate::app::auth::{check_password_strength, hash_password};
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
        Command::Demo {
            command: DemoCommand::Load { hazards },
        } => load_demo(settings, hazards)?,
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

fn load_demo(settings: Settings, hazards: Option<usize>) -> anyhow::Result<()> {
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
