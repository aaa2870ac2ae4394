//! Deliveries through Redis Streams: a relay moves committed outbox rows to
//! one stream per channel, and workers in one consumer group send them.
//!
//! The database stays the source of truth. The relay claims each row as it
//! relays it (its attempt counted, a lease taken) and puts the claimed rows
//! in the entries, up to `ROWS_PER_ENTRY` an entry, so a worker reading an
//! entry soon after sends its rows without touching the table, and writes
//! each row once more: how the attempt went, recorded only while that
//! attempt is still the row's latest claim. An entry is acknowledged once
//! its rows record their attempts; a worker killed mid-send leaves it
//! pending, and another worker takes it over when it has been idle too long
//! (XAUTOCLAIM) and claims its rows again (those recorded since are left
//! alone). Whatever Redis loses (a flush, a restart without persistence, a
//! relay dying before its XADD) is claimed and relayed again once its lease
//! runs out. The relay stops filling a stream that holds a few batches
//! already, so entries are read well within their lease.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use petbridge_domain::{
    DomainError, DomainResult, Platform,
    db::entities::delivery,
    deliveries::outbox::{self, Channel, ClaimedAttempt, DeliveryStatus},
};
use redis::{
    AsyncCommands,
    aio::ConnectionManager,
    streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::delivery::{Deliverer, StepOutcome};

/// The consumer group every worker joins.
const GROUP: &str = "workers";

/// The field of a dead letter that names the delivery.
const FIELD: &str = "delivery";

/// The field of an entry that holds its claimed rows (a JSON array).
const ROWS: &str = "rows";

/// Rows an entry carries at most. Redis and both ends of its connection pay
/// far more per entry and per command than per byte, so rows travel in
/// groups; an entry is acknowledged once every row in it is recorded.
const ROWS_PER_ENTRY: usize = 64;

/// Batches a stream may hold unread before the relay waits for the workers.
const BACKLOG_BATCHES: u64 = 8;

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
    /// How long a claim holds: the same as an idle entry's wait before
    /// another worker takes it over.
    lease: chrono::Duration,
}

/// What one relay step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayStep {
    /// Claimed and relayed this many rows (none: nothing was due).
    Relayed(usize),
    /// Every stream with room was served, and the rest hold enough unread
    /// entries: the workers have to catch up first.
    Backlogged,
}

impl Relay {
    /// A relay moving up to `batch` rows a step, each claimed for `lease`.
    pub fn new(platform: Platform, conn: ConnectionManager, keys: StreamKeys, batch: u64, lease: Duration) -> Self {
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
        Self { platform, conn, keys, batch: batch.max(1), lease }
    }

    /// Claims due rows of the channels whose streams have room and relays
    /// them.
    pub async fn step(&self) -> DomainResult<RelayStep> {
        let mut conn = self.conn.clone();
        let open = self.open_channels(&mut conn).await?;
        if open.is_empty() {
            return Ok(RelayStep::Backlogged);
        }
        let rows = outbox::claim_due(&self.platform, &open, self.batch, self.lease).await?;
        if rows.is_empty() {
            return Ok(RelayStep::Relayed(0));
        }
        let mut pipe = redis::pipe();
        // The claim returns each channel's rows together.
        for same_channel in rows.chunk_by(|a, b| a.channel == b.channel) {
            // A row of no known channel goes on the push stream, whose worker
            // refuses it for good with the reason.
            let channel = Channel::parse(&same_channel[0].channel).unwrap_or(Channel::Push);
            let stream = self.keys.stream(channel);
            for group in same_channel.chunks(ROWS_PER_ENTRY) {
                let json: Vec<&str> = group.iter().map(|row| row.json.as_str()).collect();
                pipe.xadd(&stream, "*", &[(ROWS, format!("[{}]", json.join(",")))]).ignore();
            }
        }
        if let Err(err) = pipe.query_async::<()>(&mut conn).await {
            // Not in Redis after all: due again at once, the attempt not counted.
            let claims: Vec<ClaimedAttempt> = rows.iter().map(|row| (row.id, row.attempt)).collect();
            outbox::release(&self.platform, &claims).await?;
            return Err(redis_error(err));
        }
        Ok(RelayStep::Relayed(rows.len()))
    }

    /// The channels whose streams hold fewer than a few batches. When the
    /// sentinel is gone, Redis lost its data (a flush, a restart without
    /// persistence): the groups are made again, and the rows whose entries
    /// were lost go out again once their claims run out.
    async fn open_channels(&self, conn: &mut ConnectionManager) -> DomainResult<Vec<Channel>> {
        let mut pipe = redis::pipe();
        pipe.exists(self.keys.sentinel());
        for channel in Channel::ALL {
            pipe.xlen(self.keys.stream(channel));
        }
        // Every reply is a count: EXISTS's 0 or 1, then each stream's length.
        let counts: Vec<u64> = pipe.query_async(conn).await.map_err(redis_error)?;
        let (present, lengths) = counts.split_first().map_or((false, &[][..]), |(exists, rest)| (*exists > 0, rest));
        if !present {
            ensure_groups(conn, &self.keys).await?;
            tracing::warn!(
                "redis holds no delivery streams (new, or it lost its data); rows it held go out again as their claims run out"
            );
            // Set last: a relay that dies before this repeats the recovery.
            let () = conn.set(self.keys.sentinel(), Uuid::new_v4().to_string()).await.map_err(redis_error)?;
        }
        let room = (self.batch * BACKLOG_BATCHES).div_ceil(ROWS_PER_ENTRY as u64);
        Ok(Channel::ALL.into_iter().zip(lengths).filter(|(_, length)| **length < room).map(|(c, _)| c).collect())
    }

    /// Steps until `shutdown`, resting `poll` whenever a step finds nothing
    /// and a moment while the workers catch up.
    pub async fn run(self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!("delivery relay started");
        let relay = &self;
        let catch_up = poll.min(Duration::from_millis(5));
        crate::repeat(shutdown, || async move {
            match relay.step().await {
                Ok(RelayStep::Relayed(0)) => poll,
                Ok(RelayStep::Relayed(_)) => Duration::ZERO,
                Ok(RelayStep::Backlogged) => catch_up,
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
    /// The rows as the relay claimed them (none in a malformed entry, which
    /// is only acknowledged: its rows are claimed again when their leases run out).
    rows: Vec<delivery::Model>,
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

    /// Takes over entries idle too long, or reads new ones; sends their
    /// rows still claimed for them, and acknowledges every entry once its
    /// row says how the attempt went.
    pub async fn step(&self) -> DomainResult<StepOutcome> {
        let taken_over = self.claim_idle().await?;
        let (entries, read, rows) = if taken_over.is_empty() {
            let mut entries = self.read_new().await?;
            let read = entries.iter().map(|entry| entry.rows.len()).sum();
            let rows = self.still_claimed(&mut entries).await?;
            (entries, read, rows)
        } else {
            // Their worker went silent, maybe mid-send: claim each row again
            // (a new attempt), unless it was claimed or recorded since.
            let claims: Vec<ClaimedAttempt> = taken_over.iter().flat_map(Entry::claims).collect();
            let rows = self.deliverer.claim_relayed(&claims).await?;
            (taken_over, claims.len(), rows)
        };
        if entries.is_empty() {
            return Ok(StepOutcome::default());
        }
        let stale = read - rows.len();
        let delivered = self.deliverer.deliver(rows).await?;
        let mut outcome = StepOutcome::tally(&delivered);
        outcome.stale += stale;

        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        for dead in delivered.iter().filter(|d| d.status == DeliveryStatus::Dead) {
            let error = dead.error.clone().unwrap_or_default();
            let fields = [(FIELD, dead.id.to_string()), ("error", error)];
            pipe.xadd(self.keys.dead_letters(), "*", &fields).ignore();
        }
        let mut by_stream: HashMap<Channel, Vec<&str>> = HashMap::new();
        for entry in &entries {
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

    /// The rows of new entries whose claims still hold. The relay's claim
    /// runs until the row's `next_attempt_at`; with more than two thirds of
    /// it left the claim outlasts the step up to the send's first renewal
    /// (see `Deliverer::deliver`), so the row is sent as read. A row that waited longer has its claim renewed first,
    /// and is dropped if the claim ran out and the row was claimed again.
    /// The rows are taken out of the entries (which are kept to be acknowledged).
    async fn still_claimed(&self, entries: &mut [Entry]) -> DomainResult<Vec<delivery::Model>> {
        let now = self.platform.clock.now();
        let (mut rows, waited): (Vec<delivery::Model>, Vec<delivery::Model>) = entries
            .iter_mut()
            .flat_map(|entry| std::mem::take(&mut entry.rows))
            .partition(|row| row.next_attempt_at - now > self.deliverer.lease() * 2 / 3);
        if !waited.is_empty() {
            let claims: Vec<ClaimedAttempt> = waited.iter().map(|row| (row.id, row.attempts)).collect();
            let renewed: HashSet<Uuid> = self.deliverer.renew(&claims).await?.into_iter().collect();
            rows.extend(waited.into_iter().filter(|row| renewed.contains(&row.id)));
        }
        Ok(rows)
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
            let options = StreamAutoClaimOptions::default().count(self.entries_a_step());
            let reply: redis::RedisResult<StreamAutoClaimReply> = conn
                .xautoclaim_options(self.keys.stream(channel), GROUP, &self.config.consumer, idle, "0-0", options)
                .await;
            match reply {
                Ok(reply) => entries.extend(reply.claimed.into_iter().map(|id| {
                    let rows = match id.map.get(ROWS) {
                        Some(redis::Value::BulkString(bytes)) => Some(bytes.as_slice()),
                        _ => None,
                    };
                    Entry::new(channel, id.id, rows)
                })),
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
            StreamReadOptions::default().group(GROUP, &self.config.consumer).count(self.entries_a_step()).block(block);
        let reply: redis::RedisResult<redis::Value> = reader.xread_options(&keys, &cursors, &options).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) if err.code() == Some("NOGROUP") => {
                let mut conn = self.conn.clone();
                ensure_groups(&mut conn, &self.keys).await?;
                return Ok(Vec::new());
            }
            Err(err) => return Err(redis_error(err)),
        };
        let mut entries = Vec::new();
        for (key, read) in read_reply(reply) {
            let Some(channel) = Channel::ALL.into_iter().zip(&keys).find(|(_, k)| **k == key).map(|(c, _)| c) else {
                continue;
            };
            entries.extend(read.into_iter().map(|(entry_id, rows)| Entry::new(channel, entry_id, rows.as_deref())));
        }
        Ok(entries)
    }

    /// Entries read a step: as many as a batch of rows fills, so a reader
    /// never holds more than a batch (a relay's entries hold no more rows
    /// than its batch).
    fn entries_a_step(&self) -> usize {
        (self.config.batch / ROWS_PER_ENTRY).max(1)
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
    /// An entry of `channel`'s stream, its rows read from `rows` (the
    /// entry's ROWS field).
    fn new(channel: Channel, entry_id: String, rows: Option<&[u8]>) -> Self {
        let rows = rows.and_then(|json| serde_json::from_slice(json).ok()).unwrap_or_default();
        Self { channel, entry_id, rows }
    }

    /// The attempts the relay claimed for this entry's rows.
    fn claims(&self) -> impl Iterator<Item = ClaimedAttempt> + '_ {
        self.rows.iter().map(|row| (row.id, row.attempts))
    }
}

/// One stream's entries in a read: each entry's id and its ROWS field.
type StreamRead = (String, Vec<(String, Option<Vec<u8>>)>);

/// Takes an XREADGROUP reply apart by value (RESP2 arrays or RESP3 maps):
/// the redis crate's `StreamReadReply` parses a copy of the whole reply
/// (every row's bytes copied once more) into a map per entry.
fn read_reply(reply: redis::Value) -> Vec<StreamRead> {
    use redis::Value;
    fn text(value: Value) -> Option<String> {
        match value {
            Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
            Value::SimpleString(text) => Some(text),
            _ => None,
        }
    }
    /// `[a, b]` pairs of an array, or the pairs of a map.
    fn pairs(value: Value) -> Vec<(Value, Value)> {
        match value {
            Value::Map(pairs) => pairs,
            Value::Array(items) => {
                let mut items = items.into_iter();
                let mut pairs = Vec::with_capacity(items.len() / 2);
                while let (Some(a), Some(b)) = (items.next(), items.next()) {
                    pairs.push((a, b));
                }
                pairs
            }
            _ => Vec::new(),
        }
    }
    /// A list of `[a, b]` arrays, or a map.
    fn nested_pairs(value: Value) -> Vec<(Value, Value)> {
        match value {
            Value::Map(pairs) => pairs,
            Value::Array(items) => items.into_iter().flat_map(pairs).collect(),
            _ => Vec::new(),
        }
    }
    nested_pairs(reply)
        .into_iter()
        .filter_map(|(key, entries)| {
            let Value::Array(entries) = entries else { return None };
            let entries = entries
                .into_iter()
                .filter_map(|entry| {
                    let mut entry = pairs(entry).into_iter();
                    let (id, fields) = entry.next()?;
                    let row = pairs(fields).into_iter().find_map(|(field, value)| match (field, value) {
                        (Value::BulkString(name), Value::BulkString(rows)) if name == ROWS.as_bytes() => Some(rows),
                        _ => None,
                    });
                    Some((text(id)?, row))
                })
                .collect();
            Some((text(key)?, entries))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use redis::Value;

    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn entry(id: &str, row: &str) -> Value {
        Value::Array(vec![bulk(id), Value::Array(vec![bulk("other"), bulk("x"), bulk(ROWS), bulk(row)])])
    }

    #[test]
    fn read_replies_are_taken_apart_in_both_protocols() {
        let entries = || Value::Array(vec![entry("1-0", "{\"a\":1}"), entry("1-1", "{}")]);
        let expected = vec![(
            "s:push".to_owned(),
            vec![("1-0".to_owned(), Some(b"{\"a\":1}".to_vec())), ("1-1".to_owned(), Some(b"{}".to_vec()))],
        )];
        let resp2 = Value::Array(vec![Value::Array(vec![bulk("s:push"), entries()])]);
        assert_eq!(read_reply(resp2), expected);
        let resp3 = Value::Map(vec![(bulk("s:push"), entries())]);
        assert_eq!(read_reply(resp3), expected);
        assert!(read_reply(Value::Nil).is_empty());
    }
}
