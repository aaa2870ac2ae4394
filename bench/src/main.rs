//! Load programs and the bare baselines they are compared with, measured in
//! the same run (see `docs/BENCHMARKS.md` and PERFORMANCE.md's method).
//!
//! `cargo run --release -p bench -- http` measures one authenticated JSON read
//! (`GET /api/dashboard/v1/me`: token check, database read, JSON) against a
//! bare poem-openapi JSON handler: requests/s and p99 with wrk, instructions
//! per request with callgrind, and writes the table into docs/BENCHMARKS.md.
//!
//! `cargo run --release -p bench -- users` measures the Users list of a
//! 50,000-client practice and the PMS ingest rate, on SQLite and PostgreSQL.
//!
//! `cargo run --release -p bench -- push` measures 100,000 push deliveries
//! through the outbox, Redis Streams and the workers to a fake FCM.
//!
//! `cargo run --release -p bench -- chat` measures chat fan-out, owner →
//! staff latency and idle socket memory against bare tokio-tungstenite
//! broadcast servers.

mod charges;
mod chat;
mod http;
mod push;
mod report;
mod servers;
mod users;

use clap::{Parser, Subcommand};

/// Petbridge benchmarks.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the authenticated JSON read against the bare baseline.
    Http(http::HttpOptions),
    /// The Users list of a 50,000-client practice and PMS ingest, on SQLite and PostgreSQL.
    Users(users::UsersOptions),
    /// 100,000 pushes outbox → Redis → workers → fake FCM against a bare reqwest loop.
    Push(push::PushOptions),
    /// 10,000 due payments charged against a 50 ms fake gateway, and `kill -9` of the charge worker.
    Charges(charges::ChargesOptions),
    /// Run the charge job alone on a database until nothing is due (used by `charges`).
    ChargeWorker(charges::WorkerOptions),
    /// Chat fan-out, latency and idle sockets against bare tokio-tungstenite servers.
    Chat(chat::ChatOptions),
    /// How many idle authenticated app sockets this box holds, over several server processes.
    ChatBox(chat::BoxOptions),
    /// Open and hold idle app sockets to one server (started by `chat-box`).
    IdleClient(chat::IdleClientOptions),
    /// Serve the bare websocket broadcast baseline (used by `chat`).
    ServeBareWs {
        /// Port to listen on.
        #[arg(long)]
        port: u16,
        /// Feed queued frames and flush once, instead of a flush per frame.
        #[arg(long)]
        coalesce: bool,
    },
    /// Serve Petbridge for `chat`, printing `READY <session> <owner token>`.
    ServePetbridgeChat {
        /// Port to listen on.
        #[arg(long)]
        port: u16,
        /// Directory for the database.
        #[arg(long)]
        dir: std::path::PathBuf,
    },
    /// Serve the bare poem-openapi baseline (used by `http`).
    ServeBare {
        /// Port to listen on.
        #[arg(long)]
        port: u16,
    },
    /// Serve Petbridge on a fresh SQLite database with one signed-in user,
    /// printing `TOKEN <token>` (used by `http`).
    ServePetbridge {
        /// Port to listen on.
        #[arg(long)]
        port: u16,
        /// Directory for the database.
        #[arg(long)]
        dir: std::path::PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    // The chat client has one core to itself: one thread, no handoffs.
    let runtime = match cli.command {
        Command::Chat(_) | Command::IdleClient(_) => {
            tokio::runtime::Builder::new_current_thread().enable_all().build()?
        }
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Http(options) => http::run(options).await,
            Command::Users(options) => users::run(options).await,
            Command::Push(options) => push::run(options).await,
            Command::Charges(options) => charges::run(options).await,
            Command::ChargeWorker(options) => charges::worker(options).await,
            Command::Chat(options) => chat::run(options).await,
            Command::ChatBox(options) => chat::run_box(options).await,
            Command::IdleClient(options) => chat::idle_client(options).await,
            Command::ServeBareWs { port, coalesce } => servers::serve_bare_ws(port, coalesce).await,
            Command::ServePetbridgeChat { port, dir } => servers::serve_petbridge_chat(port, &dir).await,
            Command::ServeBare { port } => servers::serve_bare(port).await,
            Command::ServePetbridge { port, dir } => servers::serve_petbridge(port, &dir).await,
        }
    })
}

/// A new, empty database `name` on the PostgreSQL server of `url` (dropped
/// first if a run left it); returns its URL.
async fn fresh_postgres(url: &str, name: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    use sea_orm::sqlx::{self, Connection};
    let mut conn =
        sqlx::PgConnection::connect(url).await.with_context(|| format!("cannot reach PostgreSQL at {url}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut conn).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}
