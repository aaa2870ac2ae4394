//! The Users-list benchmark: a practice of 50,000 clients (with pets and
//! reminders) ingested through the sync, on SQLite and on PostgreSQL.
//!
//! - Ingest: records/s of `sync::apply` in batches of 5,000 records, against
//!   a bare sqlx insert loop of as many rows (one INSERT per row, a commit per
//!   5,000) into a plain table of the same database, in the same run.
//! - Reads: p50/p99 of `GET /api/dashboard/v1/clients` (first page) and of a
//!   search, over HTTP on loopback with a bearer token, interleaved with the
//!   bare query (the first page straight from the table with sqlx).

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow};
use chrono::Utc;
use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Actor, Origin, Platform, Scope,
    kernel::permissions::SecurityLevel,
    practices::{self, NewPractice},
    staff::accounts::{self, NewStaff},
    sync::{self, Batch, ClientRecord, PetRecord, ReminderRecord, Source},
};
use secrecy::SecretString;

use crate::report::{self, Row};

/// Options of `bench users`.
#[derive(clap::Args, Clone)]
pub struct UsersOptions {
    /// Clients in the practice.
    #[arg(long, default_value_t = 50_000)]
    clients: usize,
    /// Requests per measured read.
    #[arg(long, default_value_t = 400)]
    samples: usize,
    /// A PostgreSQL server to measure too (a database `bench_users` is created there).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// Measure PostgreSQL only (to study it; the table is not written).
    #[arg(long)]
    postgres_only: bool,
}

const RECORDS_PER_BATCH: usize = 5_000;
const LAST: [&str; 12] =
    ["Smith", "Garcia", "Nguyen", "Patel", "Johnson", "Okafor", "Kim", "Brown", "Lopez", "Martin", "Lee", "Wilson"];
const FIRST: [&str; 12] =
    ["Olivia", "Liam", "Ava", "Noah", "Mia", "Kai", "Priya", "Hiro", "Fatima", "Diego", "Emma", "Leo"];

/// The practice's records: each client with one or two pets, each pet with a reminder.
fn records(clients: usize) -> Vec<Batch> {
    let now = Utc::now();
    let today = now.date_naive();
    let mut all = Batch::default();
    for i in 0..clients {
        let id = format!("C{i:06}");
        all.clients.push(ClientRecord {
            pms_id: id.clone(),
            updated_at: now,
            first_name: FIRST[i % FIRST.len()].to_owned(),
            last_name: format!("{}{}", LAST[(i / 7) % LAST.len()], i / 84),
            email: Some(format!("client{i}@example.com")),
            phone: Some(format!("+1303{:07}", i)),
            active: true,
            last_transaction_on: Some(today - chrono::Duration::days((i % 700) as i64)),
        });
        for p in 0..(1 + i % 2) {
            let pet = format!("{id}-{p}");
            all.pets.push(PetRecord {
                pms_id: pet.clone(),
                updated_at: now,
                client_pms_id: id.clone(),
                name: format!("Pet{i}x{p}"),
                species: Some(if p == 0 { "Dog" } else { "Cat" }.to_owned()),
                breed: None,
                sex: None,
                date_of_birth: None,
                status: "active".to_owned(),
            });
            all.reminders.push(ReminderRecord {
                pms_id: format!("{pet}-R"),
                updated_at: now,
                client_pms_id: id.clone(),
                pet_pms_id: pet,
                service: "Rabies vaccine".to_owned(),
                due_on: today - chrono::Duration::days(30) + chrono::Duration::days((i % 90) as i64),
                status: "pending".to_owned(),
            });
        }
    }
    let mut batches = Vec::new();
    for chunk in all.clients.chunks(RECORDS_PER_BATCH) {
        batches.push(Batch { clients: chunk.to_vec(), ..Batch::default() });
    }
    for chunk in all.pets.chunks(RECORDS_PER_BATCH) {
        batches.push(Batch { pets: chunk.to_vec(), ..Batch::default() });
    }
    for chunk in all.reminders.chunks(RECORDS_PER_BATCH) {
        batches.push(Batch { reminders: chunk.to_vec(), ..Batch::default() });
    }
    batches
}

struct Figures {
    backend: &'static str,
    records: usize,
    ingest: Duration,
    bare_ingest: Duration,
    reads: Vec<(&'static str, Vec<Duration>, Vec<Duration>)>,
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A bare sqlx insert loop: `rows` rows of six columns, one INSERT each, a commit per batch.
async fn bare_inserts(url: &str, rows: usize) -> anyhow::Result<Duration> {
    use sea_orm::sqlx::{self, Connection};
    let postgres = url.starts_with("postgres");
    macro_rules! run {
        ($conn:expr, $placeholders:literal) => {{
            let mut conn = $conn;
            sqlx::query("CREATE TABLE bare_rows (id TEXT PRIMARY KEY, practice TEXT NOT NULL, pms_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT, updated_at TEXT NOT NULL)")
                .execute(&mut conn)
                .await?;
            let started = Instant::now();
            let now = Utc::now().to_rfc3339();
            for chunk in (0..rows).collect::<Vec<_>>().chunks(RECORDS_PER_BATCH) {
                let mut tx = conn.begin().await?;
                for i in chunk {
                    sqlx::query(concat!("INSERT INTO bare_rows VALUES ", $placeholders))
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind("practice")
                        .bind(format!("C{i}"))
                        .bind(format!("Name {i}"))
                        .bind(format!("client{i}@example.com"))
                        .bind(&now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            started.elapsed()
        }};
    }
    Ok(if postgres {
        run!(sqlx::PgConnection::connect(url).await?, "($1, $2, $3, $4, $5, $6)")
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let options = options
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        run!(sqlx::SqliteConnection::connect_with(&options).await?, "(?, ?, ?, ?, ?, ?)")
    })
}

/// The bare read: the first page straight from the clients table.
async fn bare_first_page(platform: &Platform, practice_id: uuid::Uuid) -> anyhow::Result<Duration> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = platform.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT * FROM clients WHERE practice_id = $1 ORDER BY sort_name, id LIMIT 51"
        }
        _ => "SELECT * FROM clients WHERE practice_id = ? ORDER BY sort_name, id LIMIT 51",
    };
    let started = Instant::now();
    let rows = platform.db.query_all_raw(Statement::from_sql_and_values(backend, sql, [practice_id.into()])).await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(rows.len() == 51, "the bare query found {} rows", rows.len());
    Ok(elapsed)
}

async fn measure(backend: &'static str, url: String, options: &UsersOptions) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::defaults()?;
    settings.server.port = 0;
    settings.database.url = SecretString::from(url.clone());
    settings.storage.local_dir = dir.path().join("files").display().to_string();
    settings.workers.embedded = false;
    settings.bootstrap.demo_practice = false;
    settings.sessions.login_attempts_per_minute = 1_000;
    let app = Application::build(settings, Options::default()).await?;
    let platform = app.platform.clone();
    let address = app.address;
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let fail = |e: petbridge_domain::DomainError| anyhow!("{e}");

    let practice = practices::create(
        &platform,
        NewPractice { slug: "bench".into(), name: "Bench Animal Hospital".into(), time_zone: "America/Chicago".into() },
    )
    .await
    .map_err(fail)?;
    let scope = Scope { practice_id: practice.id };
    let password = "correct horse battery staple";
    accounts::create(
        &platform,
        scope,
        &Actor::system("bench"),
        &Origin::default(),
        NewStaff {
            username: "bench".into(),
            display_name: "Bench".into(),
            email: None,
            level: SecurityLevel::Staff,
            password: password.into(),
        },
    )
    .await
    .map_err(fail)?;
    let token = accounts::log_in(&platform, "bench", "bench", password, &Origin::default(), None)
        .await
        .map_err(fail)?
        .session
        .token;

    let batches = records(options.clients);
    let records: usize = batches.iter().map(Batch::len).sum();
    eprintln!("{backend}: ingesting {records} records");
    let started = Instant::now();
    for batch in &batches {
        let batch_started = Instant::now();
        let report = sync::apply(&platform, scope, Source::Import, batch).await.map_err(fail)?;
        anyhow::ensure!(report.errors.is_empty(), "rejected records: {:?}", report.errors.first());
        let kind = if !batch.clients.is_empty() {
            "clients"
        } else if !batch.pets.is_empty() {
            "pets"
        } else {
            "reminders"
        };
        eprintln!("  {kind}: {} records in {:.2?}", batch.len(), batch_started.elapsed());
    }
    let ingest = started.elapsed();
    // Reads are measured on a settled database, as autovacuum leaves it.
    if backend == "PostgreSQL" {
        use sea_orm::ConnectionTrait;
        platform.db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    eprintln!("{backend}: bare insert loop of {records} rows");
    let bare_ingest = bare_inserts(&url, records).await.context("bare insert loop")?;

    let client = reqwest::Client::new();
    let base = format!("http://{address}/api/dashboard/v1/clients");
    let reads: [(&'static str, String); 4] = [
        ("Users list, first page (by name)", format!("{base}?limit=50")),
        ("Users list, first page by past due", format!("{base}?limit=50&sort=past_due")),
        ("search, common surname", format!("{base}?limit=50&search=garcia")),
        ("search, one pet's name", format!("{base}?limit=50&search=pet49999x1")),
    ];
    let mut figures = Vec::new();
    for (name, url) in reads {
        let mut ours = Vec::with_capacity(options.samples);
        let mut bare = Vec::with_capacity(options.samples);
        for round in 0..options.samples + 20 {
            let started = Instant::now();
            let response = client.get(&url).bearer_auth(&token).send().await?;
            anyhow::ensure!(response.status() == 200, "{name}: {}", response.status());
            let body: serde_json::Value = response.json().await?;
            let elapsed = started.elapsed();
            anyhow::ensure!(!body["items"].as_array().is_none_or(Vec::is_empty), "{name}: nothing found");
            let bare_elapsed = bare_first_page(&platform, practice.id).await?;
            // The first rounds warm caches and connections.
            if round >= 20 {
                ours.push(elapsed);
                bare.push(bare_elapsed);
            }
        }
        figures.push((name, ours, bare));
    }
    stop.cancel();
    let _ = server.await;
    Ok(Figures { backend, records, ingest, bare_ingest, reads: figures })
}

/// Runs the benchmark on both databases and writes the table.
pub async fn run(options: UsersOptions) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("users.db").display());
    if options.postgres_only {
        measure("PostgreSQL", crate::fresh_postgres(&options.postgres, "bench_users").await?, &options).await?;
        return Ok(());
    }
    let mut all = vec![measure("SQLite", sqlite, &options).await?];
    match crate::fresh_postgres(&options.postgres, "bench_users").await {
        Ok(url) => all.push(measure("PostgreSQL", url, &options).await?),
        Err(err) => eprintln!("PostgreSQL skipped: {err:#}"),
    }
    let mut rows = Vec::new();
    for figures in &all {
        let ours = figures.records as f64 / figures.ingest.as_secs_f64();
        let bare = figures.records as f64 / figures.bare_ingest.as_secs_f64();
        rows.push(Row {
            metric: format!("{}: ingest of {} records (records/s)", figures.backend, figures.records),
            baseline: format!("{bare:.0}/s"),
            petbridge: format!("{ours:.0}/s"),
            ratio: format!("{:.2}×", ours / bare),
            target: "report".into(),
            met: None,
        });
        for (name, ours, bare) in &figures.reads {
            let (p50, p99) = (percentile(ours, 0.5), percentile(ours, 0.99));
            let (b50, b99) = (percentile(bare, 0.5), percentile(bare, 0.99));
            rows.push(Row {
                metric: format!("{}: {name}, p50 / p99", figures.backend),
                baseline: format!("{} / {}", ms(b50), ms(b99)),
                petbridge: format!("{} / {}", ms(p50), ms(p99)),
                ratio: format!(
                    "{:.1}× / {:.1}×",
                    p50.as_secs_f64() / b50.as_secs_f64(),
                    p99.as_secs_f64() / b99.as_secs_f64()
                ),
                target: "p99 < 50 ms".into(),
                met: Some(p99 < Duration::from_millis(50)),
            });
        }
    }
    let setup = format!(
        "A practice of {} clients (1–2 pets each, a reminder per pet) ingested through `sync::apply` in batches of \
         {RECORDS_PER_BATCH} records; the baseline is a bare sqlx loop inserting as many rows (one INSERT each, a commit \
         per {RECORDS_PER_BATCH}) into a plain six-column table of the same database. Reads go over HTTP on loopback \
         ({} sequential requests each, after 20 warm-up), bearer token, staff level; the baseline beside each is the \
         first page read straight from the table with one SQL query, interleaved request by request.",
        options.clients, options.samples
    );
    report::write_section(&options.out, "users", "Users list and PMS ingest", &setup, &rows)?;
    for row in &rows {
        println!("{} | {} | {} | {}", row.metric, row.baseline, row.petbridge, row.ratio);
    }
    Ok(())
}
