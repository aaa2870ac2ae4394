//! Sends due deliveries through the provider of their channel.

use std::{sync::Arc, time::Duration};

use petbridge_domain::{
    DomainResult, Platform,
    entities::delivery,
    ports::{DeliveryProvider, DevProvider},
    services::{
        events::{self, PracticeEvent},
        outbox::{self, Channel, DeliveryStatus},
    },
};
use tokio_util::sync::CancellationToken;

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
        Self { push: Arc::new(DevProvider), sms: Arc::new(DevProvider), email: Arc::new(DevProvider) }
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
    /// Taken by another worker first.
    pub lost_claims: usize,
}

impl StepOutcome {
    /// Whether the step found nothing to do.
    pub fn is_idle(&self) -> bool {
        self.sent + self.retried + self.failed + self.lost_claims == 0
    }
}

/// How long a claimed delivery stays out of others' reach while it is sent.
const LEASE: chrono::Duration = chrono::Duration::minutes(2);

/// Sends due deliveries.
#[derive(Clone)]
pub struct DeliveryWorker {
    platform: Platform,
    providers: Providers,
    batch: u64,
}

fn jitter() -> f64 {
    let mut bytes = [0u8; 2];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u16::from_le_bytes(bytes)) / f64::from(u16::MAX)
}

impl DeliveryWorker {
    /// A worker taking up to `batch` deliveries a step.
    pub fn new(platform: Platform, providers: Providers, batch: u64) -> Self {
        Self { platform, providers, batch: batch.max(1) }
    }

    /// Claims the due deliveries and sends them concurrently; returns what
    /// happened. Tests call this to drain the outbox without waiting.
    pub async fn step(&self) -> DomainResult<StepOutcome> {
        let due = outbox::due(&self.platform, self.batch).await?;
        let results = futures_util::future::join_all(due.iter().map(|row| self.deliver(row))).await;
        let mut outcome = StepOutcome::default();
        for result in results {
            match result? {
                None => outcome.lost_claims += 1,
                Some(DeliveryStatus::Sent) => outcome.sent += 1,
                Some(DeliveryStatus::Queued) => outcome.retried += 1,
                Some(DeliveryStatus::Failed | DeliveryStatus::Dead) => outcome.failed += 1,
            }
        }
        Ok(outcome)
    }

    async fn deliver(&self, row: &delivery::Model) -> DomainResult<Option<DeliveryStatus>> {
        if !outbox::claim(&self.platform, row, LEASE).await? {
            return Ok(None);
        }
        let provider = self.providers.for_channel(Channel::parse(&row.channel)?);
        let result = provider.send(row).await;
        let attempt = row.attempts + 1;
        let status =
            outbox::record_outcome(&self.platform, row.id, provider.name(), attempt, &result, jitter()).await?;
        let event = PracticeEvent::DeliveryUpdated {
            delivery_id: row.id,
            status: status.as_str().to_owned(),
            attempts: attempt,
        };
        if let Err(err) = events::publish(&self.platform, row.practice_id, &event).await {
            // The row is the record; a missed live update only means a stale screen.
            tracing::warn!(error = %err, delivery_id = %row.id, "could not publish a delivery update");
        }
        Ok(Some(status))
    }

    /// Steps until `shutdown`, resting `poll` whenever a step finds nothing.
    pub async fn run(self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!("delivery worker started");
        loop {
            let rest = match self.step().await {
                Ok(outcome) if !outcome.is_idle() => {
                    tracing::debug!(?outcome, "delivery step");
                    Duration::ZERO
                }
                Ok(_) => poll,
                Err(err) => {
                    tracing::error!(error = %err, "delivery step failed");
                    poll
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(rest) => {}
            }
        }
        tracing::info!("delivery worker stopped");
    }
}
