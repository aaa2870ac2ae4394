//! The push benchmark: deliveries outbox → Redis Streams → workers → a local
//! fake FCM (the tests' fake, which checks every request), against a bare
//! reqwest loop sending the same messages to the same fake, in the same run.
//!
//! - Total time: N deliveries committed to the outbox (SQLite, the default
//!   deployment), then the relay and one stream worker (in this process,
//!   `in_flight` sends at a time, as many as the bare loop) until every row
//!   is recorded sent; against the bare loop's time for N sends.
//! - End to end: a paced stream of commits (10,000 deliveries/s in batches
//!   of 100) while the workers run; p50/p99 of "row recorded sent" minus
//!   "its transaction committed".
//! - Consume rate: N deliveries put on the streams first (claimed and
//!   relayed, untimed, as the bare loop's XADDs are untimed), then stream
//!   workers alone (`workers.relays = 0`) with a provider that answers at
//!   once (the dev provider): deliveries/s read from Redis (the relay puts
//!   up to 64 in an entry), sent and written back; against a bare
//!   XREADGROUP + XACK loop over as many entries of one value each.
//! - Pipeline rate: the same, with the relay claiming and relaying while
//!   the workers read, from committed rows (no target; it shows what one
//!   process does end to end).
//!
//! Runs are interleaved (bare, petbridge, bare, petbridge…) and medians reported.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Platform, Scope,
    db::entities::delivery,
    deliveries::outbox::{self, Channel, DeliveryStatus, NewDelivery, Purpose},
    practices::{self, NewPractice},
};
use petbridge_tests::fakes::FakeFcm;
use petbridge_workers::{Providers, Relay, RelayStep, StreamKeys};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::report::{self, Row, cpu_seconds, median, spread};

/// Options of `bench push`.
#[derive(clap::Args, Clone)]
pub struct PushOptions {
    /// Deliveries per run.
    #[arg(long, default_value_t = 100_000)]
    deliveries: usize,
    /// Sends in flight at once, for the workers and the bare loop alike.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Deliveries per relay and worker step (`workers.batch`; the default setting when not given).
    #[arg(long)]
    batch: Option<u64>,
    /// Stream reads at once in the worker (`workers.readers`).
    #[arg(long, default_value_t = 2)]
    readers: usize,
    /// Interleaved rounds (each: bare, then Petbridge). Nine: on this noisy
    /// machine a median of three can fall either side of a 1.5× target.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Deliveries in the paced end-to-end run.
    #[arg(long, default_value_t = 20_000)]
    paced: usize,
    /// The Redis server.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Keep the outbox on this PostgreSQL server (a database `bench_push` is
    /// created there), as a deployment with Redis does; SQLite when not given.
    #[arg(long)]
    postgres: Option<String>,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// Run only the consume-rate rounds and print them (for profiling);
    /// the table is not written.
    #[arg(long)]
    consume_only: bool,
    /// Run only rounds of the bare loop against the same sends through our
    /// FCM provider (no outbox, no Redis) and print them: how much of the
    /// total is the send path itself. The table is not written.
    #[arg(long)]
    provider_only: bool,
}

/// The Redis server's process id (from INFO), to read its CPU time.
async fn redis_pid(redis_url: &str) -> Option<String> {
    let mut conn = redis::Client::open(redis_url).ok()?.get_multiplexed_async_connection().await.ok()?;
    let info: String = redis::cmd("INFO").arg("server").query_async(&mut conn).await.ok()?;
    info.lines().find_map(|line| line.strip_prefix("process_id:")).map(|pid| pid.trim().to_owned())
}

/// With `BENCH_MARKS` set, prints when a timed part starts and stops on the
/// monotonic clock (Linux's `Instant` shows it), so a profile recorded with
/// `perf record -k CLOCK_MONOTONIC` can be cut to it with `perf report --time`.
fn mark(what: &str) {
    if std::env::var_os("BENCH_MARKS").is_some() {
        eprintln!("MARK {what} {:?}", Instant::now());
    }
}

/// Wall time and the CPU time of this process and of Redis over a timed part:
/// whether a slower run did more work or waited.
struct Stopwatch<'a> {
    started: Instant,
    redis_pid: Option<&'a str>,
    cpu: (f64, f64),
}

/// What a [`Stopwatch`] measured.
struct Spent {
    wall: Duration,
    /// CPU seconds of the bench process (workers, fake FCM, SQLite) and of Redis.
    cpu: (f64, f64),
}

impl<'a> Stopwatch<'a> {
    fn start(redis_pid: Option<&'a str>) -> Self {
        mark("start");
        Self { started: Instant::now(), redis_pid, cpu: Self::cpu(redis_pid) }
    }

    fn cpu(redis_pid: Option<&str>) -> (f64, f64) {
        (cpu_seconds("self").unwrap_or(0.0), redis_pid.and_then(cpu_seconds).unwrap_or(0.0))
    }

    fn stop(self) -> Spent {
        mark("stop");
        let wall = self.started.elapsed();
        let (process, redis) = Self::cpu(self.redis_pid);
        Spent { wall, cpu: (process - self.cpu.0, redis - self.cpu.1) }
    }
}

impl std::fmt::Display for Spent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} s (CPU {:.2} s + Redis {:.2} s)", self.wall.as_secs_f64(), self.cpu.0, self.cpu.1)
    }
}

/// A push delivery like the ones the outbox holds.
fn new_push(i: usize) -> NewDelivery {
    NewDelivery {
        channel: Channel::Push,
        recipient: format!("bench-device-{i}"),
        subject: Some("Clinic closed Friday".into()),
        body: "We are closed on Friday for staff training.".into(),
        data: serde_json::json!({ "device_kind": "fcm_token", "push_data": { "kind": "blast" } }),
        reason: "bench".into(),
        purpose: Purpose::Blast,
        client_id: None,
        not_before: None,
        sealed: None,
    }
}

/// The bare loop: the same v1 messages, prebuilt, POSTed with one pooled client.
async fn bare_sends(fake: &FakeFcm, count: usize, in_flight: usize, redis_pid: Option<&str>) -> anyhow::Result<Spent> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).tcp_nodelay(true).build()?;
    let url = format!("{}/v1/projects/{}/messages:send", fake.base, fake.project());
    let bearer = format!("Bearer {}", fake.access_token());
    let bodies = (0..count)
        .map(|i| serde_json::to_string(&petbridge_workers::fcm::message(&sample_row(i))))
        .collect::<Result<Vec<String>, _>>()?;
    let stopwatch = Stopwatch::start(redis_pid);
    let failures = futures_util::stream::iter(bodies)
        .map(|body| {
            let request = client
                .post(&url)
                .header("authorization", &bearer)
                .header("content-type", "application/json")
                .body(body)
                .send();
            async move {
                match request.await {
                    Ok(response) if response.status().is_success() => None,
                    Ok(response) => {
                        Some(format!("{} {}", response.status(), response.text().await.unwrap_or_default()))
                    }
                    Err(err) => Some(err.to_string()),
                }
            }
        })
        .buffer_unordered(in_flight)
        .filter_map(std::future::ready)
        .collect::<Vec<String>>()
        .await;
    let spent = stopwatch.stop();
    anyhow::ensure!(failures.is_empty(), "{} bare sends failed, e.g. {}", failures.len(), failures[0]);
    Ok(spent)
}

/// The same sends through a provider (ours: token, message, request,
/// answer read), rows prebuilt, `in_flight` at a time.
async fn provider_sends(
    provider: &dyn petbridge_domain::ports::DeliveryProvider,
    count: usize,
    in_flight: usize,
    redis_pid: Option<&str>,
) -> anyhow::Result<Spent> {
    let rows: Vec<delivery::Model> = (0..count).map(sample_row).collect();
    let stopwatch = Stopwatch::start(redis_pid);
    let failures = futures_util::stream::iter(&rows)
        .map(|row| provider.send(row))
        .buffer_unordered(in_flight)
        .filter(|outcome| std::future::ready(!matches!(outcome, petbridge_domain::ports::SendOutcome::Sent { .. })))
        .count()
        .await;
    let spent = stopwatch.stop();
    anyhow::ensure!(failures == 0, "{failures} provider sends failed");
    Ok(spent)
}

fn sample_row(i: usize) -> delivery::Model {
    let mut row = new_push(i).queued(Uuid::new_v4(), Scope { practice_id: Uuid::nil() }, Utc::now());
    row.attempts = 1; // as claimed
    row
}

/// Commits `count` deliveries in transactions of 5,000; returns their ids.
async fn commit(platform: &Platform, scope: Scope, count: usize, offset: usize) -> anyhow::Result<()> {
    let fail = |e: petbridge_domain::DomainError| anyhow!("{e}");
    for chunk in (0..count).collect::<Vec<_>>().chunks(5_000) {
        let txn = platform.begin_write().await?;
        for &i in chunk {
            outbox::enqueue(&txn, platform, scope, new_push(offset + i)).await.map_err(fail)?;
        }
        txn.commit().await?;
    }
    Ok(())
}

async fn any_queued(platform: &Platform) -> anyhow::Result<bool> {
    let queued = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(outbox::is_queued())
        .into_tuple::<Uuid>()
        .one(&platform.db)
        .await?;
    Ok(queued.is_some())
}

async fn rows_in(platform: &Platform, status: DeliveryStatus) -> anyhow::Result<u64> {
    Ok(delivery::Entity::find().filter(delivery::Column::Status.eq(status)).count(&platform.db).await?)
}

/// Waits until no row is left queued (the poll asks whether one is, which
/// costs the same however many wait and takes little from the workers it
/// times).
async fn wait_none_queued(platform: &Platform, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while any_queued(platform).await? {
        anyhow::ensure!(started.elapsed() < limit, "not every delivery was sent within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Checks that `total` more rows than `sent_before` are sent.
async fn check_all_sent(platform: &Platform, sent_before: u64, total: u64) -> anyhow::Result<()> {
    let sent = rows_in(platform, DeliveryStatus::Sent).await? - sent_before;
    anyhow::ensure!(sent == total, "{sent} of {total} deliveries were sent");
    Ok(())
}

/// How long a drain may take before the bench gives up.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

struct Bench {
    settings: Settings,
    platform: Platform,
    /// Whose CPU time the stopwatch reads beside ours.
    redis_pid: Option<String>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn new(options: &PushOptions, fake: &FakeFcm) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut settings = Settings::defaults()?;
        settings.server.port = 0;
        settings.database.url = SecretString::from(match &options.postgres {
            Some(url) => crate::fresh_postgres(url, "bench_push").await?,
            None => format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()),
        });
        settings.storage.local_dir = dir.path().join("files").display().to_string();
        settings.redis.url = Some(SecretString::from(options.redis.clone()));
        settings.redis.key_prefix = format!("bench-push-{}:", Uuid::new_v4().simple());
        settings.workers.embedded = false;
        settings.workers.in_flight = options.in_flight;
        settings.workers.readers = options.readers;
        if let Some(batch) = options.batch {
            settings.workers.batch = batch;
        }
        settings.workers.poll_interval_ms = 10;
        settings.workers.block_ms = 100;
        settings.bootstrap.demo_practice = false;
        fake.configure(&mut settings);
        let app = Application::build(settings.clone(), Options::default()).await?;
        Ok(Self { platform: app.platform.clone(), settings, redis_pid: redis_pid(&options.redis).await, _dir: dir })
    }

    async fn practice(&self) -> anyhow::Result<Scope> {
        let slug = format!("b{}", &Uuid::new_v4().simple().to_string()[..10]);
        let new = NewPractice { slug, name: "Bench Animal Hospital".into(), time_zone: "America/Chicago".into() };
        let practice = practices::create(&self.platform, new).await.map_err(|e| anyhow!("{e}"))?;
        Ok(Scope { practice_id: practice.id })
    }

    /// Starts this process's relay and stream worker with `providers`.
    async fn workers(
        &self,
        providers: Providers,
    ) -> anyhow::Result<(CancellationToken, Vec<tokio::task::JoinHandle<()>>)> {
        self.workers_with(&self.settings, providers).await
    }

    async fn workers_with(
        &self,
        settings: &Settings,
        providers: Providers,
    ) -> anyhow::Result<(CancellationToken, Vec<tokio::task::JoinHandle<()>>)> {
        let stop = CancellationToken::new();
        let handles = petbridge::app::start_workers(settings, &self.platform, providers, stop.clone()).await?;
        Ok((stop, handles))
    }

    /// Commits `count`, then times the workers until every row is sent.
    async fn drain(&self, providers: Providers, count: usize) -> anyhow::Result<Spent> {
        let scope = self.practice().await?;
        let sent_before = rows_in(&self.platform, DeliveryStatus::Sent).await?;
        commit(&self.platform, scope, count, 0).await?;
        let stopwatch = Stopwatch::start(self.redis_pid.as_deref());
        let (stop, handles) = self.workers(providers).await?;
        self.finish(stopwatch, stop, handles, sent_before, count).await
    }

    /// Commits `count` and relays them all onto the streams, then times
    /// stream workers alone (no relay running) until every row is sent.
    async fn consume(&self, providers: Providers, count: usize) -> anyhow::Result<Spent> {
        let scope = self.practice().await?;
        let sent_before = rows_in(&self.platform, DeliveryStatus::Sent).await?;
        commit(&self.platform, scope, count, 0).await?;
        let redis_url = self.settings.redis.url.as_ref().ok_or_else(|| anyhow!("the bench needs Redis"))?;
        let conn = redis::aio::ConnectionManager::new(redis::Client::open(redis_url.expose_secret())?).await?;
        let keys = StreamKeys::new(&self.settings.redis.key_prefix);
        // A quarter of the rows a step leaves room for all of them (a stream
        // takes up to eight steps' worth before the relay waits).
        let batch = count.div_ceil(4) as u64;
        let lease = Duration::from_millis(self.settings.workers.claim_idle_ms);
        let relay = Relay::new(self.platform.clone(), conn, keys, batch, lease);
        let mut relayed = 0;
        while let RelayStep::Relayed(n @ 1..) = relay.step().await.map_err(|e| anyhow!("{e}"))? {
            relayed += n;
        }
        anyhow::ensure!(relayed == count, "relayed {relayed} of {count} deliveries");
        let mut readers_only = self.settings.clone();
        readers_only.workers.relays = 0;
        let stopwatch = Stopwatch::start(self.redis_pid.as_deref());
        let (stop, handles) = self.workers_with(&readers_only, providers).await?;
        self.finish(stopwatch, stop, handles, sent_before, count).await
    }

    /// Waits until no row is queued and stops the clock there: the workers'
    /// work is done when the last row is recorded. Stopping them (a blocked
    /// read answers within `block_ms`) and counting the sent rows (a scan
    /// that grows with every round's rows) happen after, off the clock.
    async fn finish(
        &self,
        stopwatch: Stopwatch<'_>,
        stop: CancellationToken,
        handles: Vec<tokio::task::JoinHandle<()>>,
        sent_before: u64,
        count: usize,
    ) -> anyhow::Result<Spent> {
        wait_none_queued(&self.platform, DRAIN_LIMIT).await?;
        let spent = stopwatch.stop();
        stop.cancel();
        for handle in handles {
            let _ = handle.await;
        }
        check_all_sent(&self.platform, sent_before, count as u64).await?;
        Ok(spent)
    }

    /// Paced commits while the workers run: commit → recorded-sent latencies (ms).
    async fn paced(&self, providers: Providers, count: usize) -> anyhow::Result<Vec<f64>> {
        let scope = self.practice().await?;
        let sent_before = rows_in(&self.platform, DeliveryStatus::Sent).await?;
        let (stop, handles) = self.workers(providers).await?;
        const BATCH: usize = 100;
        let mut committed: Vec<(DateTime<Utc>, Vec<Uuid>)> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        for batch in 0..count.div_ceil(BATCH) {
            tick.tick().await;
            let txn = self.platform.begin_write().await?;
            let mut ids = Vec::with_capacity(BATCH);
            for i in 0..BATCH {
                ids.push(
                    outbox::enqueue(&txn, &self.platform, scope, new_push(batch * BATCH + i))
                        .await
                        .map_err(|e| anyhow!("{e}"))?,
                );
            }
            txn.commit().await?;
            committed.push((Utc::now(), ids));
        }
        let total = committed.iter().map(|(_, ids)| ids.len()).sum::<usize>() as u64;
        if let (Some((first, _)), Some((last, _))) = (committed.first(), committed.last()) {
            // Below the pace asked for when the commits themselves had to wait (for SQLite's lock).
            let seconds = (*last - *first).num_milliseconds().max(1) as f64 / 1000.0;
            println!("paced commits: {total} in {seconds:.2} s ({:.0}/s)", total as f64 / seconds);
        }
        wait_none_queued(&self.platform, DRAIN_LIMIT).await?;
        stop.cancel();
        for handle in handles {
            let _ = handle.await;
        }
        check_all_sent(&self.platform, sent_before, total).await?;
        let rows = delivery::Entity::find()
            .filter(delivery::Column::PracticeId.eq(scope.practice_id))
            .all(&self.platform.db)
            .await?;
        let sent_at: std::collections::HashMap<Uuid, DateTime<Utc>> =
            rows.into_iter().filter_map(|row| row.sent_at.map(|at| (row.id, at))).collect();
        let mut latencies = Vec::new();
        for (at, ids) in committed {
            for id in ids {
                let done = sent_at.get(&id).ok_or_else(|| anyhow!("a delivery was never sent"))?;
                latencies.push((*done - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
            }
        }
        Ok(latencies)
    }
}

/// The bare consumer: XADD `count` entries (untimed), then time XREADGROUP
/// (COUNT 256) + XACK until all are read.
async fn bare_consume(redis_url: &str, count: usize) -> anyhow::Result<Duration> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = redis::aio::ConnectionManager::new(client).await?;
    let key = format!("bench-bare-{}", Uuid::new_v4().simple());
    for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("XADD").arg(&key).arg("*").arg("id").arg(i.to_string()).ignore();
        }
        let () = pipe.query_async(&mut conn).await?;
    }
    let () = redis::cmd("XGROUP").arg("CREATE").arg(&key).arg("g").arg("0").query_async(&mut conn).await?;
    let started = Instant::now();
    let mut read = 0;
    while read < count {
        let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("g")
            .arg("c")
            .arg("COUNT")
            .arg(256)
            .arg("STREAMS")
            .arg(&key)
            .arg(">")
            .query_async(&mut conn)
            .await?;
        let ids: Vec<String> = reply.keys.into_iter().flat_map(|k| k.ids.into_iter().map(|e| e.id)).collect();
        anyhow::ensure!(!ids.is_empty(), "the bare stream ran dry at {read}");
        read += ids.len();
        let _: u64 = redis::cmd("XACK").arg(&key).arg("g").arg(&ids).query_async(&mut conn).await?;
    }
    let elapsed = started.elapsed();
    let _: u64 = redis::cmd("DEL").arg(&key).query_async(&mut conn).await?;
    Ok(elapsed)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Medians of the consume rounds (entries/s).
struct ConsumeRates {
    /// The bare XREADGROUP + XACK loop.
    bare: f64,
    /// Stream workers reading streams filled beforehand.
    workers: f64,
    /// Relay and workers together, from committed rows.
    pipeline: f64,
}

/// Interleaved consume-rate rounds (bare, workers, pipeline).
async fn consume_rates(options: &PushOptions, bench: &Bench) -> anyhow::Result<ConsumeRates> {
    let n = options.deliveries;
    let (mut bare_rates, mut worker_rates, mut pipeline_rates) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..options.rounds {
        let b = n as f64 / bare_consume(&options.redis, n).await?.as_secs_f64();
        let (workers, pipeline) = (bench.consume(Providers::dev(), n).await?, bench.drain(Providers::dev(), n).await?);
        let (w, p) = (n as f64 / workers.wall.as_secs_f64(), n as f64 / pipeline.wall.as_secs_f64());
        println!(
            "consume round {round}: bare {b:.0}/s, workers {w:.0}/s ({workers}), relay and workers {p:.0}/s ({pipeline})"
        );
        bare_rates.push(b);
        worker_rates.push(w);
        pipeline_rates.push(p);
    }
    Ok(ConsumeRates {
        bare: median(&mut bare_rates),
        workers: median(&mut worker_rates),
        pipeline: median(&mut pipeline_rates),
    })
}

/// Runs the push benchmark and writes its table.
pub async fn run(options: PushOptions) -> anyhow::Result<()> {
    let n = options.deliveries;
    let fake = FakeFcm::start().await;
    let bench = Bench::new(&options, &fake).await?;
    if options.consume_only {
        consume_rates(&options, &bench).await?;
        return Ok(());
    }
    let fcm = petbridge::app::providers(&bench.settings)?;
    if options.provider_only {
        for round in 0..options.rounds {
            let bare = bare_sends(&fake, n, options.in_flight, bench.redis_pid.as_deref()).await?;
            let ours = provider_sends(fcm.push.as_ref(), n, options.in_flight, bench.redis_pid.as_deref()).await?;
            let ratio = ours.wall.as_secs_f64() / bare.wall.as_secs_f64();
            println!("provider round {round}: bare {bare}, provider {ours} ({ratio:.2}×)");
        }
        return Ok(());
    }

    let (mut bare, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..options.rounds {
        let bare_spent = bare_sends(&fake, n, options.in_flight, bench.redis_pid.as_deref()).await?;
        let ours_spent = bench.drain(fcm.clone(), n).await?;
        let (b, p) = (bare_spent.wall.as_secs_f64(), ours_spent.wall.as_secs_f64());
        println!("round {round}: bare {bare_spent}, petbridge {ours_spent} ({:.2}×)", p / b);
        bare.push(b);
        ours.push(p);
        ratios.push(p / b);
    }
    anyhow::ensure!(fake.shape_errors().is_empty(), "the fake saw malformed requests: {:?}", fake.shape_errors());
    let (bare_s, ours_s, ratio) = (median(&mut bare), median(&mut ours), median(&mut ratios.clone()));

    let mut latencies = bench.paced(fcm.clone(), options.paced).await?;
    latencies.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("end to end: p50 {p50:.1} ms, p99 {p99:.1} ms");

    let rates = consume_rates(&options, &bench).await?;

    let rows = vec![
        Row {
            metric: format!("{n} pushes, total time (s), {} in flight", options.in_flight),
            baseline: format!("{bare_s:.2}"),
            petbridge: format!("{ours_s:.2}"),
            ratio: format!("{ratio:.2}× (rounds {})", spread(&ratios)),
            target: "≤ 1.5×".into(),
            met: Some(ratio <= 1.5),
        },
        Row {
            metric: format!("push send rate (/s), {n} deliveries"),
            baseline: format!("{:.0}", n as f64 / bare_s),
            petbridge: format!("{:.0}", n as f64 / ours_s),
            ratio: format!("{:.2}×", bare_s / ours_s),
            target: "".into(),
            met: None,
        },
        Row {
            metric: format!("end to end, commit → recorded sent, {} paced at 10k/s", options.paced),
            baseline: "".into(),
            petbridge: format!("p50 {p50:.1} ms, p99 {p99:.1} ms"),
            ratio: "".into(),
            target: "".into(),
            met: None,
        },
        Row {
            metric: "worker consume rate from Redis (deliveries/s, up to 64 an entry), instant provider".into(),
            baseline: format!("{:.0} (bare XREADGROUP+XACK, one an entry)", rates.bare),
            petbridge: format!("{:.0}", rates.workers),
            ratio: format!("{:.2}×", rates.workers / rates.bare),
            target: "≥ 50,000/s".into(),
            met: Some(rates.workers >= 50_000.0),
        },
        Row {
            metric: "relay and workers together, from committed rows (deliveries/s)".into(),
            baseline: "".into(),
            petbridge: format!("{:.0}", rates.pipeline),
            ratio: format!("{:.2}×", rates.pipeline / rates.bare),
            target: "".into(),
            met: None,
        },
    ];
    let outbox = if options.postgres.is_some() { "PostgreSQL on loopback" } else { "SQLite (WAL)" };
    let setup = format!(
        "Outbox on {outbox}, Redis 7 on loopback, one worker process's relay loops ({}) and stream readers ({}), batches of {}, in the bench process; the fake FCM \
         is the tests' (`tests/src/fakes.rs`), in the same process, checking every request; the bare loop is reqwest with \
         the same messages and {} in flight. The consume rate times the stream readers alone on streams the relay filled \
         first, as the bare reader's entries are added before its clock starts. Medians of {} interleaved rounds; not pinned to cores.",
        bench.settings.workers.relays, options.readers, bench.settings.workers.batch, options.in_flight, options.rounds
    );
    report::write_section(&options.out, "push", "Push deliveries: outbox → Redis → workers → FCM", &setup, &rows)?;
    Ok(())
}
