//! Whatever actually sends a push, a text or an email. The outbox decides
//! what to send and when; a provider only tries once and says how it went.

use async_trait::async_trait;

use crate::db::entities::delivery;

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted by the provider, with its message id.
    Sent { provider_id: String },
    /// Worth trying again later (rate limit, outage), after at least `retry_after` seconds if known.
    Retry { error: String, retry_after: Option<u64> },
    /// The recipient can no longer be reached this way (an unregistered
    /// push token, a number that opted out): the delivery failed, and the
    /// worker forgets the recipient.
    Unreachable { error: String },
    /// The message itself is at fault (a malformed payload): it is
    /// dead-lettered for a person to look at; the recipient is kept.
    Invalid { error: String },
    /// Not sent: the recipient chose not to get it (an opted-out number,
    /// a preference). Decided before any provider is asked.
    Skipped { reason: String },
}

/// Sends deliveries of one channel.
#[async_trait]
pub trait DeliveryProvider: Send + Sync {
    /// The provider's name, recorded on each delivery.
    fn name(&self) -> &'static str;
    /// One attempt to send.
    async fn send(&self, delivery: &delivery::Model) -> SendOutcome;
}

/// The development provider: sends nothing. The delivery row it marks sent
/// is the record staff see (the Outbox page, private links hidden); the
/// message exactly as its recipient would get it, links included, goes to a
/// file of the mailbox directory, when there is one: the developer's stand-in
/// for the recipient's inbox, on the server's disk, never on a page.
#[derive(Debug, Default, Clone)]
pub struct DevProvider {
    mailbox: Option<std::path::PathBuf>,
}

impl DevProvider {
    /// A provider that writes each message to `mailbox/<delivery id>.json`.
    pub fn with_mailbox(mailbox: impl Into<std::path::PathBuf>) -> Self {
        Self { mailbox: Some(mailbox.into()) }
    }

    async fn write(dir: &std::path::Path, delivery: &delivery::Model) -> std::io::Result<()> {
        let message = serde_json::json!({
            "id": delivery.id,
            "channel": delivery.channel,
            "recipient": delivery.recipient,
            "subject": delivery.subject,
            "body": delivery.body,
            "data": delivery.data,
            "created_at": delivery.created_at,
        });
        tokio::fs::create_dir_all(dir).await?;
        let path = dir.join(format!("{}.json", delivery.id));
        tokio::fs::write(path, message.to_string()).await
    }
}

#[async_trait]
impl DeliveryProvider for DevProvider {
    fn name(&self) -> &'static str {
        "dev"
    }

    async fn send(&self, delivery: &delivery::Model) -> SendOutcome {
        if let Some(dir) = &self.mailbox
            && let Err(err) = Self::write(dir, delivery).await
        {
            return SendOutcome::Retry { error: format!("dev mailbox {}: {err}", dir.display()), retry_after: None };
        }
        tracing::info!(
            delivery_id = %delivery.id,
            channel = %delivery.channel,
            "dev provider recorded a delivery"
        );
        SendOutcome::Sent { provider_id: format!("dev-{}", delivery.id) }
    }
}
