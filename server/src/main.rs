//! `petbridge`: the server, its workers and its admin commands.

use anyhow::anyhow;
use clap::{Parser, Subcommand};
use petbridge::{
    Application, Options, Settings,
    app::{self},
    bootstrap, telemetry,
};
use petbridge_domain::{
    Actor, Origin, Scope,
    kernel::{permissions::SecurityLevel, tokens},
    staff::accounts,
};
use petbridge_migrations::{Migrator, MigratorTrait};
use tokio_util::sync::CancellationToken;

/// Petbridge: the server behind a veterinary practice's pet-owner app and its staff dashboard.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the APIs and the dashboard (the default).
    Serve,
    /// Run delivery workers only (production: as many processes as you like).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        task: AdminTask,
    },
    /// The PMS sync from files.
    Sync {
        #[command(subcommand)]
        task: SyncTask,
    },
    /// Fill a practice with realistic demo data.
    Demo {
        /// The practice code (default: the only practice).
        #[arg(long)]
        practice: Option<String>,
    },
}

#[derive(Subcommand)]
enum SyncTask {
    /// Apply a PMS export (a JSON batch, or a CSV of one kind of record) as the sync API would.
    Import {
        /// The export file (.json or .csv).
        file: std::path::PathBuf,
        /// The practice code (default: the only practice).
        #[arg(long)]
        practice: Option<String>,
        /// What a CSV file holds (default: read from its name).
        #[arg(long, value_enum)]
        kind: Option<petbridge::import::Kind>,
    },
}

#[derive(Subcommand)]
enum AdminTask {
    /// Create a staff user of any level.
    CreateUser {
        /// The practice code (default: the only practice).
        #[arg(long)]
        practice: Option<String>,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Name shown in the dashboard.
        #[arg(long)]
        display_name: String,
        /// staff, manager or administrator.
        #[arg(long, default_value = "staff")]
        level: String,
        /// Email for account notices.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Cancels `token` at SIGTERM or Ctrl-C.
fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        token.cancel();
    });
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = Settings::load()?;
    telemetry::init_logs(&settings.server.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings, Options::default()).await?;
            tracing::info!(address = %app.address, "serving");
            cancel_on_signal(app.shutdown_token());
            app.run_until_stopped().await
        }
        Command::Worker => {
            let platform = app::platform(&settings, &Options::default()).await?;
            let providers = app::providers(&settings)?;
            let token = CancellationToken::new();
            cancel_on_signal(token.clone());
            let workers = app::start_workers(&settings, &platform, providers, token).await?;
            tracing::info!(streams = settings.redis.url.is_some(), "delivery workers running");
            for worker in workers {
                let _ = worker.await;
            }
            Ok(())
        }
        Command::Migrate => {
            let db = app::connect_database(&settings).await?;
            Migrator::up(&db, None).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            task: AdminTask::CreateUser { practice, username, display_name, level, email, password_stdin },
        } => {
            let platform = app::platform(&settings, &Options::default()).await?;
            let practice = bootstrap::resolve_practice(&platform, practice.as_deref()).await?;
            let level = SecurityLevel::parse(&level).map_err(|e| anyhow!("{e}"))?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (tokens::random_password().map_err(|e| anyhow!("{e}"))?, true)
            };
            let user = accounts::create(
                &platform,
                Scope { practice_id: practice.id },
                &Actor::system("command line"),
                &Origin::default(),
                accounts::NewStaff { username, display_name, email, level, password: password.clone() },
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            println!("created {} ({}) in {}", user.username, level.label(), practice.name);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Sync { task: SyncTask::Import { file, practice, kind } } => {
            let batch = petbridge::import::read(&file, kind)?;
            let platform = app::platform(&settings, &Options::default()).await?;
            let practice = bootstrap::resolve_practice(&platform, practice.as_deref()).await?;
            let records = batch.len();
            let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let summary =
                petbridge::import::apply(&platform, Scope { practice_id: practice.id }, batch, show_progress).await?;
            println!("imported {records} records from {} into {}", file.display(), practice.name);
            print!("{summary}");
            Ok(())
        }
        Command::Demo { practice } => {
            let platform = app::platform(&settings, &Options::default()).await?;
            if let Some(login) = bootstrap::first_start(&platform).await? {
                login.print(&settings);
            }
            let practice = bootstrap::resolve_practice(&platform, practice.as_deref()).await?;
            let created = bootstrap::fill_demo(&platform, &practice).await?;
            let households = petbridge::demo::fill(&platform, &practice).await?;
            println!(
                "demo data added to {}: {households} client households with pets, appointments and reminders",
                practice.name
            );
            for (username, password) in created {
                println!("  {username}: {password}");
            }
            Ok(())
        }
    }
}
