//! Workers: they send what the outbox holds and write back what happened.
//! The same code runs inside the server (embedded mode) and as
//! `petbridge worker` processes: on Redis Streams when Redis is configured,
//! straight from the outbox table otherwise.

pub mod delivery;
pub mod email;
pub mod fcm;
pub mod jobs;
pub mod payment_hooks;
pub mod sms;
pub mod streams;

use std::time::Duration;

use petbridge_domain::{DomainError, DomainResult, Platform};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use delivery::{Delivered, Deliverer, DeliveryWorker, Providers, StepOutcome};
pub use jobs::{JobRun, Jobs};
pub use streams::{Relay, RelayStep, StreamKeys, StreamWorker, StreamWorkerConfig};

/// How the delivery workers of one process run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Deliveries taken per step.
    pub batch: u64,
    /// Sends in flight at once.
    pub in_flight: usize,
    /// Relay loops per process (with Redis): each claims due rows and puts
    /// them on the streams, two overlapping so one claims while the other's
    /// entries go to Redis. Zero makes a process that only reads.
    pub relays: usize,
    /// Stream workers per process, sharing the sends in flight.
    pub readers: usize,
    /// Rest after an idle or failed step.
    pub poll: Duration,
    /// A stream entry pending this long with a silent worker is taken over.
    pub claim_idle: Duration,
    /// How long a stream read waits for new entries.
    pub block: Duration,
    /// How often the timed jobs (campaigns, reminders) run.
    pub jobs_interval: Duration,
}

/// Redis for the delivery streams.
#[derive(Clone)]
pub struct StreamRedis {
    /// The server.
    pub client: redis::Client,
    /// The deployment's key prefix.
    pub key_prefix: String,
}

/// Runs `step` until `shutdown`, resting as long as each step asks (no rest
/// while there is more to do).
pub(crate) async fn repeat<F, Fut>(shutdown: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    loop {
        let rest = step().await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(rest) => {}
        }
    }
}

/// This process's name in the consumer group: unique, and readable in `XINFO`.
fn consumer_name() -> String {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    format!("worker-{}-{}", std::process::id(), &tag[..8])
}

/// Starts the delivery workers and the timed jobs until `shutdown`: a relay
/// and a stream worker when `redis` is given, the outbox-table worker otherwise.
pub async fn spawn(
    platform: Platform,
    providers: Providers,
    redis: Option<StreamRedis>,
    config: WorkerConfig,
    shutdown: CancellationToken,
) -> DomainResult<Vec<JoinHandle<()>>> {
    let jobs = tokio::spawn(Jobs::new(platform.clone()).run(shutdown.child_token(), config.jobs_interval));
    let Some(redis) = redis else {
        let worker = DeliveryWorker::new(platform, providers, config.batch, config.in_flight);
        return Ok(vec![jobs, tokio::spawn(worker.run(shutdown, config.poll))]);
    };
    let conn = redis::aio::ConnectionManager::new(redis.client.clone()).await.map_err(DomainError::unexpected)?;
    let keys = StreamKeys::new(&redis.key_prefix);
    // A claim lasts as long as an entry may sit idle before another worker takes it over.
    let relay = Relay::new(platform.clone(), conn.clone(), keys.clone(), config.batch, config.claim_idle);
    let mut handles = vec![jobs];
    for _ in 0..config.relays {
        handles.push(tokio::spawn(relay.clone().run(shutdown.child_token(), config.poll)));
    }
    let deliverer = Deliverer::new(platform.clone(), providers, config.in_flight, config.claim_idle);
    let consumer = consumer_name();
    for reader_number in 0..config.readers.max(1) {
        // Blocking reads get a connection each, allowed to answer late.
        let reader_config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.block + Duration::from_secs(5)));
        let reader = redis::aio::ConnectionManager::new_with_config(redis.client.clone(), reader_config)
            .await
            .map_err(DomainError::unexpected)?;
        let worker_config = StreamWorkerConfig {
            consumer: format!("{consumer}-{reader_number}"),
            batch: usize::try_from(config.batch).unwrap_or(usize::MAX),
            block: config.block,
            claim_idle: config.claim_idle,
        };
        let worker =
            StreamWorker::new(platform.clone(), deliverer.clone(), conn.clone(), reader, keys.clone(), worker_config);
        handles.push(tokio::spawn(worker.run(shutdown.child_token(), config.poll)));
    }
    Ok(handles)
}
