//! The monthly charge run (PLANS.md B5): N payments due today charged by
//! the timed job (`charges::run_due`: each attempt claimed and stored before
//! the call, the gateway called with the attempt's id as idempotency key,
//! the outcome settled with its activity entry) against the tests' fake
//! Stripe API answering each PaymentIntent after `latency`; against a bare
//! loop of the same PaymentIntent calls to the same fake, as many in flight
//! (32), in the same run. Rounds are interleaved (bare, then Petbridge).
//!
//! Then the kill run: the charge job in a child process (`bench
//! charge-worker`) on one SQLite file, `kill -9`ed at random points and
//! started again, and finally once more with its clock past the
//! reconciler's wait, until every payment is paid; the fake then counts the
//! charges each payment got.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use futures_util::StreamExt;
use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Platform,
    db::entities::{
        plan,
        plan_payment::{self, PaymentKind, PaymentStatus},
    },
    payments::charges,
    ports::clock::TestClock,
};
use petbridge_tests::{TestApp, fake_stripe::FakeStripe, spawn_with_stripe};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::report::{self, Row};

/// Charges in flight at once, as in `charges::run_due`.
const IN_FLIGHT: usize = 32;

/// Options of `bench charges`.
#[derive(clap::Args, Clone)]
pub struct ChargesOptions {
    /// Payments due in each run.
    #[arg(long, default_value_t = 10_000)]
    payments: usize,
    /// The fake gateway's time to answer each PaymentIntent, in milliseconds.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Interleaved rounds (each: bare, then Petbridge); odd, so the median is one of them.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// `kill -9`s of the charge worker in the kill run.
    #[arg(long, default_value_t = 5)]
    kills: usize,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// Options of `bench charge-worker` (started by `bench charges`).
#[derive(clap::Args, Clone)]
pub struct WorkerOptions {
    /// The SQLite database.
    #[arg(long)]
    database: String,
    /// The fake gateway's address.
    #[arg(long)]
    stripe: String,
    /// Its secret key.
    #[arg(long)]
    secret_key: String,
    /// Minutes the worker's clock runs ahead (past the reconciler's wait).
    #[arg(long, default_value_t = 0)]
    ahead_minutes: i64,
}

pub async fn run(options: ChargesOptions) -> anyhow::Result<()> {
    ensure!(options.rounds % 2 == 1, "an odd number of rounds, so the median is a round");
    let latency = Duration::from_millis(options.latency_ms);
    let n = options.payments;
    // Seconds of wall time, and milliseconds of this process's CPU a charge.
    let (mut bare, mut ours) = (Vec::new(), Vec::new());
    let (mut bare_cpu, mut cpu) = (Vec::new(), Vec::new());
    let cpu_ms = |before: f64| (report::cpu_seconds("self").unwrap_or(0.0) - before) * 1e3 / n as f64;
    for round in 1..=options.rounds {
        let stripe = FakeStripe::with_latency(latency).await;
        let app = seeded(&stripe, n).await?;
        let (before, started) = (report::cpu_seconds("self").unwrap_or(0.0), Instant::now());
        bare_loop(&stripe, &app, n).await?;
        bare.push(started.elapsed().as_secs_f64());
        bare_cpu.push(cpu_ms(before));
        println!("round {round}: bare {:.2} s, {:.2} ms CPU a charge", bare[round - 1], bare_cpu[round - 1]);
        let (before, started) = (report::cpu_seconds("self").unwrap_or(0.0), Instant::now());
        let run = charges::run_due(&app.platform).await.map_err(failed)?;
        ours.push(started.elapsed().as_secs_f64());
        cpu.push(cpu_ms(before));
        ensure!(run.paid as usize == n, "charged {} of {n}: {run:?}", run.paid);
        ensure!(stripe.charges().len() == 2 * n, "the fake took {} charges", stripe.charges().len());
        println!("round {round}: petbridge {:.2} s, {:.2} ms CPU a charge", ours[round - 1], cpu[round - 1]);
    }
    let kills = kill_run(&options, latency).await?;

    let (b, o) = (report::median(&mut bare.clone()), report::median(&mut ours.clone()));
    let (bc, c) = (report::median(&mut bare_cpu.clone()), report::median(&mut cpu.clone()));
    let ratio = o / b;
    let rows = vec![
        Row {
            metric: format!("{n} due payments charged, wall time (median of {})", options.rounds),
            baseline: format!("{b:.2} s ({})", report::spread(&bare)),
            petbridge: format!("{o:.2} s ({})", report::spread(&ours)),
            ratio: format!("{ratio:.2}×"),
            target: "≤ 1.3×".into(),
            met: Some(ratio <= 1.3),
        },
        Row {
            metric: format!("CPU per charge, whole process with the fake gateway (median of {})", options.rounds),
            baseline: format!("{bc:.2} ms ({})", report::spread(&bare_cpu)),
            petbridge: format!("{c:.2} ms ({})", report::spread(&cpu)),
            ratio: format!("{:.2}×", c / bc),
            target: String::new(),
            met: None,
        },
        Row {
            metric: format!("duplicate charges after {} × `kill -9` of the charge worker (single run)", options.kills),
            baseline: String::new(),
            petbridge: format!("{} of {n} payments charged twice; {} paid once", kills.duplicates, kills.paid),
            ratio: String::new(),
            target: "0".into(),
            met: Some(kills.duplicates == 0 && kills.paid == n),
        },
    ];
    let setup = format!(
        "{n} payments due today (one each on {n} plans with a saved card, SQLite), charged by the timed job's \
         `charges::run_due` ({IN_FLIGHT} in flight) against the tests' fake Stripe API answering each PaymentIntent \
         after {} ms; the baseline is a bare reqwest loop of the same PaymentIntent calls ({IN_FLIGHT} in flight) \
         to the same fake in the same round. Rounds interleave bare and Petbridge. The kill run starts the job in a \
         child process, `kill -9`s it at {} random points, then runs it once more with its clock past the \
         reconciler's two-minute wait; the fake counts the succeeded charges of each payment.",
        options.latency_ms, options.kills
    );
    report::write_section(&options.out, "charges", "Monthly charge run against a 50 ms gateway", &setup, &rows)?;
    println!("wrote {}", options.out.display());
    Ok(())
}

/// A test server on SQLite with `n` plans, each with one payment due today
/// on the same saved card; seeded through the API and then cloned in bulk.
async fn seeded(stripe: &FakeStripe, n: usize) -> anyhow::Result<TestApp> {
    let app = spawn_with_stripe(stripe).await;
    let fixture = app.practice("bench").await;
    let admin = app.login("bench", "admin").await;
    let now = app.clock_now();
    let born = (now - chrono::Duration::days(125)).date_naive();
    let batch = json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "last_transaction_on": now.date_naive() }],
        "pets": [{ "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Bella", "species": "Canine", "date_of_birth": born }]
    });
    let key = app.sync_key(&fixture.practice).await;
    ensure!(app.sync(&key, &batch).await.0 == 200, "the sync took the household");
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let client = text(&listed["items"][0]["id"])?;
    let pet = text(&listed["items"][0]["pets"][0]["id"])?;
    let template = json!({
        "code": "puppy", "name": "Puppy Plan", "species": "Dog", "min_age_months": 0, "max_age_months": 12,
        "monthly_price_cents": 3_999, "paid_in_full_price_cents": 44_900, "initial_fee_cents": 4_900,
        "agreement_text": "This plan is not insurance.",
        "items": [{ "description": "Wellness exam", "code": "WP100", "quantity": 3, "retail_price_cents": 6_500 }]
    });
    let (status, template) = app.staff_post(&admin, "/plan-templates", Some(template)).await;
    ensure!(status == 201, "template: {template}");
    let (status, setup) = app.staff_post(&admin, &format!("/clients/{client}/payment-cards/setup"), None).await;
    ensure!(status == 200, "card setup: {setup}");
    stripe.confirm_setup(&text(&setup["client_secret"])?, "pm_card_visa").await;
    let body = json!({ "setup_intent": setup["setup_intent"] });
    let (status, card) = app.staff_post(&admin, &format!("/clients/{client}/payment-cards"), Some(body)).await;
    ensure!(status == 201, "card: {card}");
    let enrol = json!({ "pet_id": pet, "template_id": template["id"], "payment_profile_id": card["card"]["id"], "skip_initial_charge": true });
    let (status, enrolled) = app.staff_post(&admin, &format!("/clients/{client}/plans"), Some(enrol)).await;
    ensure!(status == 201, "enrol: {enrolled}");
    clone_plans(&app.platform, text(&enrolled["id"])?.parse()?, n, app.clock_now()).await?;
    Ok(app)
}

/// Replaces plan `id`'s payments with one due today and adds `n - 1` copies of it.
async fn clone_plans(
    platform: &Platform,
    id: Uuid,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let db = &platform.db;
    let original = plan::Entity::find_by_id(id).one(db).await?.context("the plan")?;
    let today = plan_payment::Entity::find()
        .filter(plan_payment::Column::PlanId.eq(id))
        .all(db)
        .await?
        .iter()
        .map(|p| p.due_on)
        .min()
        .context("its payments")?;
    let txn = platform.begin_write().await?;
    plan_payment::Entity::delete_many().filter(plan_payment::Column::PlanId.eq(id)).exec(&txn).await?;
    let ids: Vec<Uuid> = std::iter::once(id).chain((1..n).map(|_| Uuid::new_v4())).collect();
    for chunk in ids.chunks(500) {
        // Every column written: reset_all marks a model's values Set.
        let plans: Vec<plan::ActiveModel> = chunk
            .iter()
            .filter(|&&p| p != id)
            .map(|&p| plan::Model { id: p, ..original.clone() }.into_active_model().reset_all())
            .collect();
        if !plans.is_empty() {
            plan::Entity::insert_many(plans).exec(&txn).await?;
        }
        let payments = chunk
            .iter()
            .map(|&p| plan_payment::scheduled(original.practice_id, p, 1, PaymentKind::Instalment, today, 3_999, now));
        plan_payment::Entity::insert_many(payments).exec(&txn).await?;
    }
    txn.commit().await?;
    let due = plan_payment::Entity::find().filter(plan_payment::Column::Status.eq(PaymentStatus::Scheduled));
    ensure!(due.count(db).await? as usize == n, "{n} payments due");
    Ok(())
}

/// The same PaymentIntent calls the job makes, `IN_FLIGHT` at a time, with
/// nothing around them.
async fn bare_loop(stripe: &FakeStripe, app: &TestApp, n: usize) -> anyhow::Result<Duration> {
    let profile = petbridge_domain::db::entities::payment_profile::Entity::find()
        .one(&app.platform.db)
        .await?
        .context("the saved card")?;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/payment_intents", stripe.base);
    let started = Instant::now();
    let answers: Vec<reqwest::Result<reqwest::StatusCode>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let key = Uuid::new_v4().to_string();
            let form = [
                ("amount", "3999".to_owned()),
                ("currency", "usd".to_owned()),
                ("customer", profile.customer_ref.clone()),
                ("payment_method", profile.method_ref.clone()),
                ("off_session", "true".to_owned()),
                ("confirm", "true".to_owned()),
                ("metadata[payment_id]", format!("bare-{i}")),
            ];
            let request = http
                .post(&url)
                .bearer_auth(&stripe.secret_key)
                .header("stripe-version", petbridge_domain::ports::payments::stripe::STRIPE_VERSION)
                .header("idempotency-key", key)
                .form(&form);
            async move { request.send().await.map(|r| r.status()) }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let took = started.elapsed();
    for answer in answers {
        ensure!(answer?.is_success(), "the bare loop's charge was refused");
    }
    Ok(took)
}

fn text(value: &Value) -> anyhow::Result<String> {
    value.as_str().map(str::to_owned).with_context(|| format!("not a string: {value}"))
}

fn failed(err: petbridge_domain::DomainError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// What the kill run found.
struct Kills {
    duplicates: usize,
    paid: usize,
}

async fn kill_run(options: &ChargesOptions, latency: Duration) -> anyhow::Result<Kills> {
    let n = options.payments;
    let stripe = FakeStripe::with_latency(latency).await;
    let app = seeded(&stripe, n).await?;
    let database = app.database().url.clone();
    let me = std::env::current_exe()?;
    let worker = |ahead: i64| {
        let mut command = tokio::process::Command::new(&me);
        command
            .args(["charge-worker", "--database", &database, "--stripe", &stripe.base])
            .args(["--secret-key", &stripe.secret_key, "--ahead-minutes", &ahead.to_string()])
            .stdout(Stdio::null())
            .kill_on_drop(true);
        command
    };
    for kill in 1..=options.kills {
        let mut child = worker(0).spawn()?;
        // A random moment in the first few seconds of a run that takes ~15 s.
        let wait = Duration::from_millis(500 + (Uuid::new_v4().as_u128() % 3_000) as u64);
        tokio::time::sleep(wait).await;
        child.start_kill()?;
        child.wait().await?;
        println!("kill {kill}: after {:.1} s, {} charges so far", wait.as_secs_f64(), stripe.charges().len());
    }
    let status = worker(3).status().await?;
    if !status.success() {
        bail!("the last charge worker failed: {status}");
    }
    let mut per_payment: HashMap<String, usize> = HashMap::new();
    for intent in stripe.charges() {
        *per_payment.entry(intent.metadata.get("payment_id").cloned().unwrap_or_default()).or_default() += 1;
    }
    let duplicates = per_payment.values().filter(|&&c| c > 1).count();
    let paid = plan_payment::Entity::find()
        .filter(plan_payment::Column::Status.eq(PaymentStatus::Paid))
        .count(&app.platform.db)
        .await? as usize;
    println!("kill run: {} payments charged, {duplicates} twice, {paid} paid", per_payment.len());
    Ok(Kills { duplicates, paid })
}

/// The charge job alone, on the bench's database, until nothing is due.
pub async fn worker(options: WorkerOptions) -> anyhow::Result<()> {
    let mut settings = Settings::defaults()?;
    settings.server.host = "127.0.0.1".into();
    settings.server.port = 0;
    settings.database.url = SecretString::from(options.database);
    settings.workers.embedded = false;
    settings.bootstrap.demo_practice = false;
    settings.payments.provider = "stripe".into();
    settings.payments.base_url = options.stripe.clone();
    settings.payments.secret_key = Some(SecretString::from(options.secret_key));
    settings.payments.script_url = format!("{}/js/v3/", options.stripe);
    settings.payments.timeout_seconds = 1;
    let clock = TestClock::at(chrono::Utc::now() + chrono::Duration::minutes(options.ahead_minutes));
    let app = Application::build(settings, Options { clock: Arc::new(clock), providers: None }).await?;
    loop {
        let run = charges::run_due(&app.platform).await.map_err(failed)?;
        if run == charges::ChargeRun::default() {
            return Ok(());
        }
    }
}
