//! Sends deliveries through the provider of their channel. The same
//! [`Deliverer`] serves both queues: the outbox table itself when there is no
//! Redis ([`DeliveryWorker`]), and the Redis streams (`streams`).

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use petbridge_domain::{
    DomainError, DomainResult, Platform,
    chat::{
        conversations,
        events::{self, DeliveryState, PracticeEvent},
    },
    db::entities::delivery,
    deliveries::{
        links,
        outbox::{self, Attempt, Channel, ClaimedAttempt, ClaimedRow, DeliveryStatus, MAX_ATTEMPTS, Purpose},
    },
    households::preferences::{self, Consent},
    owners::accounts,
    plans::agreements,
    ports::{Attachment, DeliveryProvider, DevProvider, SendOutcome},
    texting,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// One provider per channel.
#[derive(Clone)]
pub struct Providers {
    /// Push notifications.
    pub push: Arc<dyn DeliveryProvider>,
    /// Texts.
    pub sms: Arc<dyn DeliveryProvider>,
    /// Emails.
    pub email: Arc<dyn DeliveryProvider>,
}

impl Providers {
    /// The development providers: record, never send.
    pub fn dev() -> Self {
        Self::dev_with(DevProvider::default())
    }

    /// The development providers, writing what they would send to `mailbox`.
    pub fn dev_with_mailbox(mailbox: impl Into<std::path::PathBuf>) -> Self {
        Self::dev_with(DevProvider::with_mailbox(mailbox))
    }

    fn dev_with(dev: DevProvider) -> Self {
        Self { push: Arc::new(dev.clone()), sms: Arc::new(dev.clone()), email: Arc::new(dev) }
    }

    fn for_channel(&self, channel: Channel) -> &dyn DeliveryProvider {
        match channel {
            Channel::Push => self.push.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Email => self.email.as_ref(),
        }
    }
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepOutcome {
    /// Accepted by a provider.
    pub sent: usize,
    /// Put back for a later try.
    pub retried: usize,
    /// Refused for good, or given up.
    pub failed: usize,
    /// Not sent, by the recipient's choice.
    pub skipped: usize,
    /// Stream entries whose row had already moved on.
    pub stale: usize,
}

impl StepOutcome {
    /// Whether the step found nothing to do.
    pub fn is_idle(&self) -> bool {
        self.sent + self.retried + self.failed + self.skipped + self.stale == 0
    }

    /// Counts what a [`Deliverer::deliver`] call did.
    pub fn tally(delivered: &[Delivered]) -> Self {
        let mut outcome = Self::default();
        for one in delivered {
            match one.status {
                DeliveryStatus::Sent => outcome.sent += 1,
                DeliveryStatus::Queued => outcome.retried += 1,
                DeliveryStatus::Failed | DeliveryStatus::Dead => outcome.failed += 1,
                DeliveryStatus::Skipped => outcome.skipped += 1,
            }
        }
        outcome
    }

    /// Adds another step's counts.
    pub fn add(&mut self, other: StepOutcome) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.stale += other.stale;
    }
}

/// What became of one delivery handed to [`Deliverer::deliver`].
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The delivery.
    pub id: Uuid,
    /// Its new status.
    pub status: DeliveryStatus,
    /// The provider's error, if any.
    pub error: Option<String>,
}

fn jitter() -> f64 {
    let mut bytes = [0u8; 2];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX)
}

/// Claims deliveries, sends them concurrently, and writes back what happened.
/// Clones share one limit on sends in flight, so several steps may run at
/// once: one batch's sends start while another's last ones finish.
#[derive(Clone)]
pub struct Deliverer {
    platform: Platform,
    providers: Providers,
    sends: Arc<Semaphore>,
    lease: chrono::Duration,
    preference_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl Deliverer {
    /// A deliverer with at most `in_flight` sends at a time, each claim
    /// leased for `lease` (past it, another worker may take the delivery over).
    pub fn new(platform: Platform, providers: Providers, in_flight: usize, lease: Duration) -> Self {
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
        let sends = Arc::new(Semaphore::new(in_flight.max(1)));
        Self { platform, providers, sends, lease, preference_key: Arc::default() }
    }

    /// How long a claim holds.
    pub fn lease(&self) -> chrono::Duration {
        self.lease
    }

    /// Claims up to `limit` due deliveries of each channel straight from the outbox table.
    pub async fn claim_due(&self, limit: u64) -> DomainResult<Vec<delivery::Model>> {
        outbox::claim_due(&self.platform, &Channel::ALL, limit, self.lease)
            .await?
            .iter()
            .map(ClaimedRow::model)
            .collect()
    }

    /// Claims again the rows of stream entries taken over from a silent worker.
    pub async fn claim_relayed(&self, claims: &[ClaimedAttempt]) -> DomainResult<Vec<delivery::Model>> {
        outbox::claim_relayed(&self.platform, claims, self.lease).await?.iter().map(ClaimedRow::model).collect()
    }

    /// Renews claims that waited long in a stream; returns the ids still held.
    pub async fn renew(&self, claims: &[ClaimedAttempt]) -> DomainResult<Vec<Uuid>> {
        outbox::renew(&self.platform, claims, self.lease).await
    }

    /// Sends claimed rows, forgets recipients the provider says are gone,
    /// and records every attempt. A row whose attempts never reported back
    /// [`MAX_ATTEMPTS`] times (its workers kept dying) is given up without
    /// another send.
    pub async fn deliver(&self, claimed: Vec<delivery::Model>) -> DomainResult<Vec<Delivered>> {
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let households: Vec<Uuid> = claimed.iter().filter_map(|row| row.client_id).collect();
        let consents = preferences::consents(&self.platform, &households).await?;
        let consents = &consents;
        let batch = claimed.len();
        let claims: Vec<ClaimedAttempt> = claimed.iter().map(|row| (row.id, row.attempts)).collect();
        let sends = futures_util::stream::iter(claimed)
            .map(|row| async move {
                let consent = row.client_id.and_then(|id| consents.get(&id));
                // Never closed, so the permit always comes.
                let _permit = self.sends.acquire().await.ok();
                let (provider, outcome) = self.attempt(&row, consent).await;
                // Only a retry's delay is spread (a syscall saved on every other outcome).
                let jitter = if matches!(outcome, SendOutcome::Retry { .. }) { jitter() } else { 0.0 };
                let attempt = Attempt { id: row.id, number: row.attempts, provider, outcome, jitter };
                (row, attempt)
            })
            .buffer_unordered(batch)
            .collect::<Vec<(delivery::Model, Attempt)>>();
        let (rows, attempts): (Vec<delivery::Model>, Vec<Attempt>) =
            self.holding(&claims, sends).await.into_iter().unzip();
        for (row, attempt) in rows.iter().zip(&attempts) {
            if matches!(attempt.outcome, SendOutcome::Unreachable { .. }) {
                self.forget_recipient(row).await?;
            }
        }
        let statuses = outbox::record_outcomes(&self.platform, &attempts).await?;
        let mut by_practice: std::collections::HashMap<Uuid, Vec<DeliveryState>> = std::collections::HashMap::new();
        for ((row, attempt), status) in rows.iter().zip(&attempts).zip(&statuses) {
            by_practice.entry(row.practice_id).or_default().push(DeliveryState {
                delivery_id: row.id,
                status: *status,
                attempts: attempt.number,
            });
        }
        for (practice_id, deliveries) in by_practice {
            let event = PracticeEvent::DeliveriesUpdated { deliveries };
            if let Err(err) = events::publish(&self.platform, practice_id, &event).await {
                // The rows are the record; a missed live update only means a stale screen.
                tracing::warn!(error = %err, %practice_id, "could not publish delivery updates");
            }
        }
        let delivered = attempts.into_iter().zip(statuses).map(|(attempt, status)| Delivered {
            id: attempt.id,
            status,
            error: match attempt.outcome {
                SendOutcome::Sent { .. } => None,
                SendOutcome::Retry { error, .. }
                | SendOutcome::Unreachable { error }
                | SendOutcome::Invalid { error }
                | SendOutcome::Skipped { reason: error } => Some(error),
            },
        });
        Ok(delivered.collect())
    }

    /// Runs `work` on claimed rows, renewing their claims every quarter of a
    /// lease: a batch that takes long (texts leave one a second per sender
    /// number) keeps its rows instead of having them claimed and sent again.
    /// Rows come in with at least two thirds of their lease left, so the
    /// first renewal lands with 5/12 of a lease to spare for a slow step.
    async fn holding<T>(&self, claims: &[ClaimedAttempt], work: impl Future<Output = T>) -> T {
        let period = (self.lease / 4).to_std().unwrap_or(Duration::from_secs(10)).max(Duration::from_millis(10));
        let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = renewals.tick() => {
                    if let Err(err) = outbox::renew(&self.platform, claims, self.lease).await {
                        tracing::warn!(error = %err, "could not renew the claims of a long delivery batch");
                    }
                }
            }
        }
    }

    /// One try at a claimed row: skipped when the recipient no longer wants
    /// it, given up when its earlier tries never reported back, else sent.
    async fn attempt(&self, row: &delivery::Model, consent: Option<&Consent>) -> (&'static str, SendOutcome) {
        let (channel, purpose) = match (Channel::parse(&row.channel), Purpose::parse(&row.purpose)) {
            (Ok(channel), Ok(purpose)) => (channel, purpose),
            (Err(err), _) | (_, Err(err)) => return ("none", SendOutcome::Invalid { error: err.to_string() }),
        };
        if let Some(refusal) = consent.and_then(|consent| consent.refusal(channel, purpose)) {
            return ("none", SendOutcome::Skipped { reason: refusal.to_owned() });
        }
        match self.skip_reason(row, channel).await {
            Ok(Some(skip)) => return ("none", skip),
            Ok(None) => {}
            Err(err) => return ("none", SendOutcome::Retry { error: err.to_string(), retry_after: None }),
        }
        if row.attempts > MAX_ATTEMPTS {
            let error = format!("given up: {MAX_ATTEMPTS} attempts never reported back");
            return ("none", SendOutcome::Invalid { error });
        }
        let provider = self.providers.for_channel(channel);
        // Only the provider sees the sealed link; the row staff read keeps its stand-in.
        let row = row.revealed();
        if channel == Channel::Email && purpose.is_optional() {
            match self.with_preference_links(&row).await {
                Ok(row) => return (provider.name(), provider.send(&row).await),
                Err(err) => return ("none", SendOutcome::Retry { error: err.to_string(), retry_after: None }),
            }
        }
        if channel == Channel::Email {
            match self.attachments(&row).await {
                Ok(files) if !files.is_empty() => return (provider.name(), provider.send_with(&row, &files).await),
                Ok(_) => {}
                Err(DomainError::NotFound) => {
                    let error = "the agreement it attaches is not there".to_owned();
                    return ("none", SendOutcome::Invalid { error });
                }
                Err(err) => return ("none", SendOutcome::Retry { error: err.to_string(), retry_after: None }),
            }
        }
        (provider.name(), provider.send(&row).await)
    }

    /// The files an email carries, read when it is sent (a healthcare
    /// agreement, by the id its data names), so the outbox row stays small.
    async fn attachments(&self, row: &delivery::Model) -> DomainResult<Vec<Attachment>> {
        let Some(id) = row.data.get("agreement_id").and_then(|id| id.as_str()) else { return Ok(Vec::new()) };
        let id = Uuid::parse_str(id).map_err(|_| DomainError::NotFound)?;
        let file = agreements::attachment(&self.platform, row.practice_id, id).await?;
        Ok(vec![Attachment { filename: file.filename, content_type: "application/pdf".to_owned(), bytes: file.pdf }])
    }

    /// An optional email carries links to its household's preference centre
    /// and a one-click unsubscribe (List-Unsubscribe, RFC 8058).
    async fn with_preference_links(&self, row: &delivery::Model) -> DomainResult<delivery::Model> {
        let Some(client_id) = row.client_id else { return Ok(row.clone()) };
        let key = self.preference_key.get_or_try_init(|| links::link_key(&self.platform)).await?;
        let token = links::token(key, links::LinkPurpose::Preferences, client_id)?;
        let mut row = row.clone();
        if let Some(data) = row.data.as_object_mut() {
            data.insert("preferences_url".into(), self.platform.link(&format!("/preferences/{token}")).into());
            data.insert(
                "unsubscribe_url".into(),
                self.platform.link(&format!("/preferences/{token}/unsubscribe")).into(),
            );
        }
        Ok(row)
    }

    /// Why a delivery must not be sent now, checked at send time: the
    /// recipient's choice may have changed since it was queued.
    async fn skip_reason(&self, row: &delivery::Model, channel: Channel) -> DomainResult<Option<SendOutcome>> {
        if channel == Channel::Sms
            && texting::opt_outs::is_opted_out(&self.platform, row.practice_id, &row.recipient).await?
        {
            return Ok(Some(SendOutcome::Skipped { reason: "the number opted out of texts (STOP)".into() }));
        }
        if channel == Channel::Push
            && let Some((conversation_id, seq)) = chat_message(row)
            && conversations::read_by_owner(&self.platform, conversation_id, seq).await?
        {
            return Ok(Some(SendOutcome::Skipped { reason: "read in the app before the push went out".into() }));
        }
        Ok(None)
    }

    async fn forget_recipient(&self, row: &delivery::Model) -> DomainResult<()> {
        match Channel::parse(&row.channel)? {
            Channel::Push => {
                let forgotten = accounts::forget_device(&self.platform, &row.recipient).await?;
                tracing::info!(delivery_id = %row.id, forgotten, "push service says the device is gone; dropped it");
            }
            Channel::Sms => {
                texting::opt_outs::opt_out(&self.platform, row.practice_id, &row.recipient, "provider").await?;
                tracing::info!(delivery_id = %row.id, "the provider says the number opted out; no more texts to it");
            }
            Channel::Email => {}
        }
        Ok(())
    }
}

/// The chat message a push announces, if it is one.
fn chat_message(row: &delivery::Model) -> Option<(Uuid, i64)> {
    let data = row.data.get("push_data")?;
    if data.get("kind")?.as_str()? != "chat" {
        return None;
    }
    let conversation_id = Uuid::parse_str(data.get("conversation_id")?.as_str()?).ok()?;
    Some((conversation_id, data.get("seq")?.as_i64()?))
}

/// Sends due deliveries straight from the outbox table (no Redis).
#[derive(Clone)]
pub struct DeliveryWorker {
    deliverer: Deliverer,
    batch: u64,
}

/// How long the table worker's claim lasts: past it, a delivery whose worker
/// died mid-send is sent by another.
const TABLE_LEASE: Duration = Duration::from_secs(120);

impl DeliveryWorker {
    /// A worker taking up to `batch` deliveries a step, `in_flight` sends at a time.
    pub fn new(platform: Platform, providers: Providers, batch: u64, in_flight: usize) -> Self {
        Self { deliverer: Deliverer::new(platform, providers, in_flight, TABLE_LEASE), batch: batch.max(1) }
    }

    /// Claims the due deliveries and sends them concurrently; returns what
    /// happened. Tests call this to drain the outbox without waiting.
    pub async fn step(&self) -> DomainResult<StepOutcome> {
        let claimed = self.deliverer.claim_due(self.batch).await?;
        Ok(StepOutcome::tally(&self.deliverer.deliver(claimed).await?))
    }

    /// Steps until `shutdown`, resting `poll` whenever a step finds nothing.
    pub async fn run(self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!("delivery worker started");
        let worker = &self;
        crate::repeat(shutdown, || async move {
            match worker.step().await {
                Ok(outcome) if !outcome.is_idle() => {
                    tracing::debug!(?outcome, "delivery step");
                    Duration::ZERO
                }
                Ok(_) => poll,
                Err(err) => {
                    tracing::error!(error = %err, "delivery step failed");
                    poll
                }
            }
        })
        .await;
        tracing::info!("delivery worker stopped");
    }
}
