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

/// A file an email carries (a healthcare agreement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name it is saved as.
    pub filename: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Sends deliveries of one channel.
#[async_trait]
pub trait DeliveryProvider: Send + Sync {
    /// The provider's name, recorded on each delivery.
    fn name(&self) -> &'static str;
    /// One attempt to send.
    async fn send(&self, delivery: &delivery::Model) -> SendOutcome;
    /// One attempt to send, with files attached. The outbox attaches files
    /// to emails alone; providers of other channels send without them.
    async fn send_with(&self, delivery: &delivery::Model, attachments: &[Attachment]) -> SendOutcome {
        let _ = attachments;
        self.send(delivery).await
    }
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

    async fn write(
        dir: &std::path::Path,
        delivery: &delivery::Model,
        attachments: &[Attachment],
    ) -> std::io::Result<()> {
        tokio::fs::create_dir_all(dir).await?;
        let mut files = Vec::with_capacity(attachments.len());
        for (n, file) in attachments.iter().enumerate() {
            // Beside the message, as a mail client would save it.
            let path = dir.join(format!("{}-{n}.bin", delivery.id));
            tokio::fs::write(&path, &file.bytes).await?;
            files.push(serde_json::json!({
                "filename": file.filename, "content_type": file.content_type, "size": file.bytes.len(),
                "sha256": crate::kernel::tokens::sha256_hex(&file.bytes), "path": path,
            }));
        }
        let message = serde_json::json!({
            "id": delivery.id,
            "channel": delivery.channel,
            "recipient": delivery.recipient,
            "subject": delivery.subject,
            "body": delivery.body,
            "data": delivery.data,
            "created_at": delivery.created_at,
            "attachments": files,
        });
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
        self.send_with(delivery, &[]).await
    }

    async fn send_with(&self, delivery: &delivery::Model, attachments: &[Attachment]) -> SendOutcome {
        if let Some(dir) = &self.mailbox
            && let Err(err) = Self::write(dir, delivery, attachments).await
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
