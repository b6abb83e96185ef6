//! The command line: `serve` (default), `migrate`, `user add`.

use std::io::BufRead;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::auth::{check_password_strength, hash_password};
use crate::db::{enterprises, users, write_transaction};
use crate::domain::email::Email;
use crate::domain::hazard::Role;
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
    }
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
    let hash = hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let id = Uuid::now_v7();
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    write_transaction(&mut conn, |conn| {
        if let Some(enterprise) = enterprise {
            if !enterprises::exists(conn, &enterprise.to_string())? {
                return Err(crate::error::AppError::invalid(
                    "enterprise",
                    "no such enterprise",
                ));
            }
        }
        let now = crate::db::now_utc();
        users::insert(
            conn,
            &users::NewUser {
                id: &id.to_string(),
                email: email.as_str(),
                name: &name,
                role: role.as_str(),
                enterprise_id: enterprise.map(|e| e.to_string()).as_deref(),
                password_hash: &hash,
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(id)
}
