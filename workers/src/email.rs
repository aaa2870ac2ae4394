//! Email through SMTP (lettre, pooled connections). Optional mail (anything
//! but account mail) carries the household's preference-centre link and a
//! one-click List-Unsubscribe (RFC 2369 and RFC 8058), which the deliverer
//! puts in the delivery's data.

use std::time::Duration;

use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox, MultiPart, SinglePart,
        header::{ContentType, HeaderName, HeaderValue},
    },
    transport::smtp::{PoolConfig, authentication::Credentials},
};
use petbridge_domain::{
    db::entities::delivery,
    ports::{Attachment, DeliveryProvider, SendOutcome},
};
use secrecy::{ExposeSecret, SecretString};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, required (submission, port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: only for a relay on the same host.
    None,
}

impl Security {
    /// Parses the setting: `starttls`, `tls` or `none`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        match text {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(anyhow::anyhow!("email.security must be starttls, tls or none, not {other}")),
        }
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// The SMTP server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Connection security.
    pub security: Security,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<SecretString>,
    /// The sender, e.g. `Petbridge <no-reply@example.com>`.
    pub from: String,
    /// Connections kept open.
    pub pool_size: u32,
    /// How long one exchange may take.
    pub timeout: Duration,
}

/// Sends emails through one SMTP server.
pub struct EmailProvider {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The part of Message-IDs after the `@`.
    domain: String,
}

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

impl EmailProvider {
    /// A provider for `config` (connections open on first send).
    pub fn new(config: &EmailConfig) -> anyhow::Result<Self> {
        let from: Mailbox =
            config.from.parse().map_err(|err| anyhow::anyhow!("email.from is not an address: {err}"))?;
        let builder = match config.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone()),
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(config.pool_size.max(1)));
        if let (Some(username), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_owned()));
        }
        let domain = from.email.domain().to_owned();
        Ok(Self { transport: builder.build(), from, domain })
    }

    fn message(&self, row: &delivery::Model, attachments: &[Attachment]) -> Result<(String, Message), String> {
        let to: Mailbox = row.recipient.parse().map_err(|err| format!("not an email address: {err}"))?;
        let message_id = format!("<{}@{}>", row.id, self.domain);
        let data = |key: &str| row.data.get(key).and_then(|value| value.as_str());
        let mut body = row.body.clone();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone().unwrap_or_default())
            .message_id(Some(message_id.clone()));
        if let Some(url) = data("unsubscribe_url") {
            builder = builder
                .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")))
                .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE_POST, "List-Unsubscribe=One-Click".to_owned()));
        }
        if let Some(url) = data("preferences_url") {
            body.push_str(&format!("\n--\nChoose which messages you get from us: {url}\n"));
        }
        let message = if attachments.is_empty() {
            builder.header(ContentType::TEXT_PLAIN).body(body)
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
            for file in attachments {
                let kind = ContentType::parse(&file.content_type)
                    .map_err(|err| format!("{} is not a MIME type: {err}", file.content_type))?;
                parts = parts
                    .singlepart(lettre::message::Attachment::new(file.filename.clone()).body(file.bytes.clone(), kind));
            }
            builder.multipart(parts)
        }
        .map_err(|err| format!("cannot build the email: {err}"))?;
        Ok((message_id, message))
    }
}

#[async_trait]
impl DeliveryProvider for EmailProvider {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, row: &delivery::Model) -> SendOutcome {
        self.send_with(row, &[]).await
    }

    async fn send_with(&self, row: &delivery::Model, attachments: &[Attachment]) -> SendOutcome {
        let (message_id, message) = match self.message(row, attachments) {
            Ok(built) => built,
            Err(error) => return SendOutcome::Invalid { error },
        };
        match self.transport.send(message).await {
            Ok(_) => SendOutcome::Sent { provider_id: message_id },
            Err(err) => classify(&err),
        }
    }
}

/// What an SMTP error means for the delivery: 4xx, time-outs and lost
/// connections are worth another try; 550, 551 and 553 say the mailbox is
/// not there; any other 5xx is the message's fault.
fn classify(err: &lettre::transport::smtp::Error) -> SendOutcome {
    let error = err.to_string();
    if err.is_permanent() {
        let code = err.status().map(|code| code.to_string()).unwrap_or_default();
        return if matches!(code.as_str(), "550" | "551" | "553") {
            SendOutcome::Unreachable { error }
        } else {
            SendOutcome::Invalid { error }
        };
    }
    SendOutcome::Retry { error, retry_after: None }
}
