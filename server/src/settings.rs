//! Settings: the defaults in `config/default.toml` (compiled in), then
//! `config/local.toml` if present, then `PETBRIDGE__SECTION__KEY` variables,
//! then `DATABASE_URL` and `REDIS_URL`. Secrets are `SecretString`s: they
//! print as `[REDACTED]` in `Debug` and never reach a log line.

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Everything the server reads at start.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// HTTP.
    pub server: ServerSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Redis (optional).
    pub redis: RedisSettings,
    /// Files.
    pub storage: StorageSettings,
    /// Delivery workers.
    pub workers: WorkerSettings,
    /// Push notifications.
    pub push: PushSettings,
    /// Text messages.
    pub sms: SmsSettings,
    /// Email.
    pub email: EmailSettings,
    /// Card payments.
    pub payments: PaymentSettings,
    /// Staff sessions.
    pub sessions: SessionSettings,
    /// First start.
    pub bootstrap: BootstrapSettings,
}

/// HTTP settings.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Address to listen on.
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// The public base URL.
    pub public_url: String,
    /// The largest request body.
    pub body_limit_bytes: usize,
    /// The largest upload (pictures).
    pub upload_limit_bytes: usize,
    /// The largest PMS sync batch, in bytes.
    pub sync_limit_bytes: usize,
    /// Trust forwarding headers.
    pub trust_proxy: bool,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_grace_seconds: u64,
    /// `plain` or `json`.
    pub log_format: String,
    /// Hold every API answer to its document: an answer that breaks it
    /// becomes a 500 saying how (the tests, a staging server).
    pub check_answers: bool,
}

/// Database settings.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…` (may hold a password).
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// How long to try before giving up at start.
    pub connect_timeout_seconds: u64,
}

/// Redis settings.
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// `redis://…` (may hold a password); none means in-process.
    pub url: Option<SecretString>,
    /// Prefix of every key and channel.
    pub key_prefix: String,
}

/// File storage settings.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    /// `local` or `s3`.
    pub kind: String,
    /// The directory for `local`.
    pub local_dir: String,
    /// The bucket for `s3`.
    pub s3: Option<S3Settings>,
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Endpoint for non-AWS servers.
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret key.
    pub secret_access_key: SecretString,
}

/// Worker settings.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    /// Run workers inside the server.
    pub embedded: bool,
    /// Rest between idle polls.
    pub poll_interval_ms: u64,
    /// Deliveries per step.
    pub batch: u64,
    /// Sends in flight at once per process.
    pub in_flight: usize,
    /// Relay loops per process, with Redis (0: this process only reads the streams).
    pub relays: usize,
    /// Stream reads at once per process (each its own consumer in the group).
    pub readers: usize,
    /// How long a claim on a delivery holds: a stream entry pending this
    /// long with a silent worker is taken over, and a claimed row whose
    /// entry Redis lost is relayed again.
    pub claim_idle_ms: u64,
    /// How long a stream read waits for new entries.
    pub block_ms: u64,
    /// How often the timed jobs (campaigns, reminders) run.
    pub jobs_interval_ms: u64,
    /// Where the development providers write each message as its recipient
    /// would get it (private links included): the developer's mailbox.
    pub dev_mailbox: String,
}

/// Push settings.
#[derive(Debug, Clone, Deserialize)]
pub struct PushSettings {
    /// `dev` (recorded on the Outbox page) or `fcm`.
    pub provider: String,
    /// FCM HTTP v1.
    pub fcm: FcmSettings,
}

/// Text-message settings.
#[derive(Debug, Clone, Deserialize)]
pub struct SmsSettings {
    /// `dev` (recorded on the Outbox page) or `twilio` (any Twilio-style Messages API).
    pub provider: String,
    /// The API's base URL.
    pub base_url: String,
    /// The account.
    pub account_sid: String,
    /// The account's secret (also the key that signs the webhooks).
    pub auth_token: Option<SecretString>,
    /// The sender for practices without a number of their own.
    pub default_from: Option<String>,
    /// Texts per second per sender number.
    pub per_second: u32,
}

/// Email settings.
#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    /// `dev` (recorded on the Outbox page) or `smtp`.
    pub provider: String,
    /// The SMTP server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: String,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<SecretString>,
    /// The sender.
    pub from: String,
    /// Connections kept open per process.
    pub pool_size: u32,
    /// How long one SMTP exchange may take.
    pub timeout_seconds: u64,
}

/// Card-payment settings.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentSettings {
    /// `none` (no card payments) or `stripe` (Stripe's API, or localstripe).
    pub provider: String,
    /// The API's base URL.
    pub base_url: String,
    /// The secret key (`sk_…`).
    pub secret_key: Option<SecretString>,
    /// The publishable key (`pk_…`) the browser's card fields start with.
    pub publishable_key: String,
    /// Stripe.js, which draws the card fields.
    pub script_url: String,
    /// The key that signs the gateway's webhooks (`whsec_…`).
    pub webhook_secret: Option<SecretString>,
    /// How long one request may take before it counts as unanswered.
    pub timeout_seconds: u64,
}

/// FCM HTTP v1 settings.
#[derive(Debug, Clone, Deserialize)]
pub struct FcmSettings {
    /// The API's base URL.
    pub base_url: String,
    /// The service-account key file (JSON).
    pub credentials_file: Option<String>,
    /// The Firebase project (default: the key file's).
    pub project_id: Option<String>,
    /// How long one send may take.
    pub timeout_seconds: u64,
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    /// Idle timeout.
    pub idle_minutes: i64,
    /// Absolute timeout.
    pub absolute_hours: i64,
    /// Login attempts per client address per minute.
    pub login_attempts_per_minute: u32,
}

/// First-start behaviour.
#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    /// Create the demo practice and an administrator when the database is empty.
    pub demo_practice: bool,
}

impl Settings {
    /// The compiled-in defaults alone (tests start from these).
    pub fn defaults() -> anyhow::Result<Self> {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?
            .try_deserialize()
            .context("the built-in settings do not parse")
    }

    /// Defaults, `config/local.toml`, then the environment.
    pub fn load() -> anyhow::Result<Self> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::with_name("config/local").required(false))
            .add_source(
                config::Environment::with_prefix("PETBRIDGE").prefix_separator("__").separator("__").try_parsing(true),
            )
            .set_override_option("database.url", env("DATABASE_URL"))?
            .set_override_option("redis.url", env("REDIS_URL"))?
            .build()
            .context("reading settings (config/*.toml and PETBRIDGE__* variables)")?
            .try_deserialize()
            .context("settings are not valid (check config/local.toml and PETBRIDGE__* variables)")
    }

    /// The address to listen on.
    pub fn listen_address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }
}

/// A URL with any password replaced by `***`, safe to print.
pub fn redact_url(secret: &SecretString) -> String {
    let raw = secret.expose_secret();
    match url::Url::parse(raw) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(an unparseable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_secrets_stay_hidden() {
        let Ok(mut settings) = Settings::defaults() else { panic!("defaults do not parse") };
        assert_eq!(settings.server.port, 8080);
        settings.database.url = SecretString::from("postgres://app:hunter2-secret@db.internal/petbridge");
        settings.redis.url = Some(SecretString::from("redis://:redis-pass@cache:6379"));
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2-secret"), "{debug}");
        assert!(!debug.contains("redis-pass"), "{debug}");
        assert_eq!(redact_url(&settings.database.url), "postgres://app:***@db.internal/petbridge");
    }
}
