//! Deliveries through Redis Streams: a relay moves committed outbox rows to
//! one stream per channel, and workers in one consumer group send them.
//!
//! The database stays the source of truth. An entry carries only the
//! delivery's id; a row is marked when it is relayed, and the mark is cleared
//! whenever the row needs relaying again (a retry, or Redis losing its data,
//! which the relay notices by a sentinel key vanishing). An entry is
//! acknowledged once its row records the attempt, so a worker killed mid-send
//! leaves it pending, and another worker claims it when it has been idle too
//! long (XAUTOCLAIM). Duplicate entries are harmless: a row is claimed, by
//! one update that takes it only while it is queued and due, before anything
//! is sent.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use petbridge_domain::{
    DomainError, DomainResult, Platform,
    services::outbox::{self, Channel, DeliveryStatus},
};
use redis::{
    AsyncCommands,
    aio::ConnectionManager,
    streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::delivery::{Deliverer, StepOutcome};

/// The consumer group every worker joins.
const GROUP: &str = "workers";

/// The field of an entry that names the delivery.
const FIELD: &str = "delivery";

/// The names of one deployment's streams.
#[derive(Debug, Clone)]
pub struct StreamKeys {
    prefix: String,
}

impl StreamKeys {
    /// Keys under `prefix` (the deployment's Redis key prefix).
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
    }

    /// The stream of a channel's deliveries.
    pub fn stream(&self, channel: Channel) -> String {
        format!("{}deliveries:{}", self.prefix, channel.as_str())
    }

    /// Deliveries given up on, for a person to look at.
    pub fn dead_letters(&self) -> String {
        format!("{}deliveries:dead", self.prefix)
    }

    /// Present while Redis holds what the relay gave it.
    fn sentinel(&self) -> String {
        format!("{}deliveries:epoch", self.prefix)
    }
}

fn redis_error(err: redis::RedisError) -> DomainError {
    DomainError::unexpected(err)
}

/// Creates the consumer group on every channel's stream (and the streams).
async fn ensure_groups(conn: &mut ConnectionManager, keys: &StreamKeys) -> DomainResult<()> {
    for channel in Channel::ALL {
        let created: redis::RedisResult<()> = conn.xgroup_create_mkstream(keys.stream(channel), GROUP, "0").await;
        match created {
            Ok(()) => {}
            Err(err) if err.code() == Some("BUSYGROUP") => {}
            Err(err) => return Err(redis_error(err)),
        }
    }
    Ok(())
}

/// Moves due outbox rows onto the streams.
#[derive(Clone)]
pub struct Relay {
    platform: Platform,
    conn: ConnectionManager,
    keys: StreamKeys,
    batch: u64,
    /// A row relayed this long ago and still queued is relayed again.
    timeout: chrono::Duration,
}

impl Relay {
    /// A relay moving up to `batch` rows a step.
    pub fn new(platform: Platform, conn: ConnectionManager, keys: StreamKeys, batch: u64) -> Self {
        Self { platform, conn, keys, batch: batch.max(1), timeout: chrono::Duration::minutes(1) }
    }

    /// Relays a row again when it was marked `timeout` ago and is still
    /// queued and unclaimed: its entry was lost (a relay died between marking
    /// and adding it). A duplicate entry is harmless: claims decide who sends.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = chrono::Duration::from_std(timeout).unwrap_or(self.timeout);
        self
    }

    /// Relays due rows; returns how many. Tests call this directly.
    pub async fn step(&self) -> DomainResult<usize> {
        let mut conn = self.conn.clone();
        self.recover_lost_entries(&mut conn).await?;
        let rows = outbox::mark_relayed(&self.platform, self.batch, self.timeout).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        for (id, channel) in &rows {
            pipe.xadd(self.keys.stream(*channel), "*", &[(FIELD, id.to_string())]).ignore();
        }
        if let Err(err) = pipe.query_async::<()>(&mut conn).await {
            // Not in Redis after all: relay them again on the next step.
            let ids: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
            outbox::unmark_relayed(&self.platform, &ids).await?;
            return Err(redis_error(err));
        }
        Ok(rows.len())
    }

    /// When the sentinel is gone, Redis lost its data (a flush, a restart
    /// without persistence): every row marked relayed is relayed again.
    async fn recover_lost_entries(&self, conn: &mut ConnectionManager) -> DomainResult<()> {
        let present: bool = conn.exists(self.keys.sentinel()).await.map_err(redis_error)?;
        if present {
            return Ok(());
        }
        ensure_groups(conn, &self.keys).await?;
        let forgotten = outbox::forget_relays(&self.platform).await?;
        if forgotten > 0 {
            tracing::warn!(forgotten, "redis lost the delivery streams; relaying their rows again");
        }
        // Set last: a relay that dies before this repeats the recovery.
        let () = conn.set(self.keys.sentinel(), Uuid::new_v4().to_string()).await.map_err(redis_error)?;
        Ok(())
    }

    /// Steps until `shutdown`, resting `poll` whenever a step finds nothing.
    pub async fn run(self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!("delivery relay started");
        let relay = &self;
        crate::repeat(shutdown, || async move {
            match relay.step().await {
                Ok(0) => poll,
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::error!(error = %err, "delivery relay step failed");
                    poll
                }
            }
        })
        .await;
        tracing::info!("delivery relay stopped");
    }
}

/// How a stream worker reads.
#[derive(Debug, Clone)]
pub struct StreamWorkerConfig {
    /// This worker's name in the group (unique per process).
    pub consumer: String,
    /// Entries read per step.
    pub batch: usize,
    /// How long a read waits for new entries.
    pub block: Duration,
    /// An entry pending this long with another worker is taken over.
    pub claim_idle: Duration,
}

/// One member of the consumer group.
pub struct StreamWorker {
    platform: Platform,
    deliverer: Deliverer,
    /// For commands that answer at once.
    conn: ConnectionManager,
    /// For blocking reads, which would hold up everything else on a shared connection.
    reader: ConnectionManager,
    keys: StreamKeys,
    config: StreamWorkerConfig,
    /// When this worker last looked for entries idle with others.
    last_reclaim: Mutex<Option<Instant>>,
}

/// An entry read from a stream.
struct Entry {
    channel: Channel,
    entry_id: String,
    delivery_id: Option<Uuid>,
}

impl StreamWorker {
    /// A worker; `reader` must allow responses slower than `config.block`.
    pub fn new(
        platform: Platform,
        deliverer: Deliverer,
        conn: ConnectionManager,
        reader: ConnectionManager,
        keys: StreamKeys,
        config: StreamWorkerConfig,
    ) -> Self {
        Self { platform, deliverer, conn, reader, keys, config, last_reclaim: Mutex::new(None) }
    }

    /// Takes over entries idle too long, reads new ones, sends them, and
    /// acknowledges each once its row says how the attempt went.
    pub async fn step(&self) -> DomainResult<StepOutcome> {
        let mut entries = self.claim_idle().await?;
        if entries.is_empty() {
            entries = self.read_new().await?;
        }
        if entries.is_empty() {
            return Ok(StepOutcome::default());
        }
        let ids: Vec<Uuid> = entries.iter().filter_map(|e| e.delivery_id).collect();
        let claimed = self.deliverer.claim_relayed(&ids).await?;
        // What was not claimed is stale (already sent, or put back for a
        // retry), or held by another worker's claim: that entry stays
        // pending, and if that worker died it comes back here once the claim runs out.
        let won: HashSet<Uuid> = claimed.iter().map(|row| row.id).collect();
        let unclaimed: Vec<Uuid> = ids.iter().copied().filter(|id| !won.contains(id)).collect();
        let held: HashSet<Uuid> = outbox::held(&self.platform, &unclaimed).await?.into_iter().collect();
        let delivered = self.deliverer.deliver(claimed).await?;
        let mut outcome = StepOutcome::tally(&delivered);
        outcome.stale += unclaimed.len() - held.len();
        outcome.held += held.len();

        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for dead in delivered.iter().filter(|d| d.status == DeliveryStatus::Dead) {
            let error = dead.error.clone().unwrap_or_default();
            let fields = [(FIELD, dead.id.to_string()), ("error", error)];
            pipe.xadd(self.keys.dead_letters(), "*", &fields).ignore();
        }
        let mut by_stream: HashMap<Channel, Vec<&str>> = HashMap::new();
        for entry in entries.iter().filter(|e| !e.delivery_id.is_some_and(|id| held.contains(&id))) {
            by_stream.entry(entry.channel).or_default().push(&entry.entry_id);
        }
        for (channel, entry_ids) in by_stream {
            let key = self.keys.stream(channel);
            pipe.xack(&key, GROUP, &entry_ids).ignore();
            pipe.xdel(&key, &entry_ids).ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(redis_error)?;
        Ok(outcome)
    }

    /// Takes over entries idle with a silent worker. An entry only becomes
    /// claimable after `claim_idle`, so looking twice as often is enough.
    async fn claim_idle(&self) -> DomainResult<Vec<Entry>> {
        {
            let mut last = self.last_reclaim.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < self.config.claim_idle / 2) {
                return Ok(Vec::new());
            }
            *last = Some(Instant::now());
        }
        let mut conn = self.conn.clone();
        let idle = usize::try_from(self.config.claim_idle.as_millis()).unwrap_or(usize::MAX);
        let mut entries = Vec::new();
        for channel in Channel::ALL {
            let options = StreamAutoClaimOptions::default().count(self.config.batch);
            let reply: redis::RedisResult<StreamAutoClaimReply> = conn
                .xautoclaim_options(self.keys.stream(channel), GROUP, &self.config.consumer, idle, "0-0", options)
                .await;
            match reply {
                Ok(reply) => {
                    entries.extend(reply.claimed.into_iter().map(|id| Entry::from_stream(channel, id)));
                }
                Err(err) if err.code() == Some("NOGROUP") => ensure_groups(&mut conn, &self.keys).await?,
                Err(err) => return Err(redis_error(err)),
            }
        }
        if !entries.is_empty() {
            tracing::info!(count = entries.len(), "took over deliveries idle with another worker");
        }
        Ok(entries)
    }

    async fn read_new(&self) -> DomainResult<Vec<Entry>> {
        let mut reader = self.reader.clone();
        let keys: Vec<String> = Channel::ALL.iter().map(|c| self.keys.stream(*c)).collect();
        let cursors = [">"; Channel::ALL.len()];
        let block = usize::try_from(self.config.block.as_millis()).unwrap_or(1000);
        let options =
            StreamReadOptions::default().group(GROUP, &self.config.consumer).count(self.config.batch).block(block);
        let reply: redis::RedisResult<Option<StreamReadReply>> = reader.xread_options(&keys, &cursors, &options).await;
        let reply = match reply {
            Ok(reply) => reply.unwrap_or_default(),
            Err(err) if err.code() == Some("NOGROUP") => {
                let mut conn = self.conn.clone();
                ensure_groups(&mut conn, &self.keys).await?;
                return Ok(Vec::new());
            }
            Err(err) => return Err(redis_error(err)),
        };
        let mut entries = Vec::new();
        for stream in reply.keys {
            let Some(channel) = Channel::ALL.into_iter().find(|c| self.keys.stream(*c) == stream.key) else {
                continue;
            };
            entries.extend(stream.ids.into_iter().map(|id| Entry::from_stream(channel, id)));
        }
        Ok(entries)
    }

    /// Steps until `shutdown`; a failing step rests `poll` before the next.
    pub async fn run(self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!(consumer = %self.config.consumer, "stream delivery worker started");
        let worker = &self;
        crate::repeat(shutdown, || async move {
            match worker.step().await {
                Ok(_) => Duration::ZERO,
                Err(err) => {
                    tracing::error!(error = %err, "stream delivery step failed");
                    poll
                }
            }
        })
        .await;
        tracing::info!("stream delivery worker stopped");
    }
}

impl Entry {
    fn from_stream(channel: Channel, id: redis::streams::StreamId) -> Self {
        let delivery_id = id
            .map
            .get(FIELD)
            .and_then(|value| redis::from_redis_value_ref::<String>(value).ok())
            .and_then(|text| Uuid::parse_str(&text).ok());
        Self { channel, entry_id: id.id, delivery_id }
    }
}
