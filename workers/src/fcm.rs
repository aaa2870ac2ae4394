//! Push through the FCM HTTP v1 API: `POST {base}/v1/projects/{project}/messages:send`
//! with an OAuth2 access token of a service account (gcp_auth signs the JWT,
//! fetches the token from the key file's `token_uri`, caches and refreshes it).
//!
//! Errors are read as FCM documents them: an unregistered or malformed device
//! identifier means the device is gone (its registration is dropped); any
//! other bad request is the message's fault (dead-lettered, device kept); quota
//! and server errors are retried, after `Retry-After` when FCM says so.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use petbridge_domain::{
    db::entities::delivery,
    ports::{DeliveryProvider, SendOutcome},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The OAuth scope FCM sends need.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// Where and as whom to send.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// `https://fcm.googleapis.com` in production; a local fake in tests.
    pub base_url: String,
    /// The service-account key file (JSON) downloaded from the Firebase console.
    pub credentials_file: std::path::PathBuf,
    /// The Firebase project; the key file's when not given.
    pub project_id: Option<String>,
    /// How long one send may take.
    pub timeout: Duration,
}

/// The FCM HTTP v1 provider.
pub struct FcmProvider {
    http: reqwest::Client,
    tokens: Arc<dyn gcp_auth::TokenProvider>,
    /// Parsed once: a string would be parsed again on every send.
    send_url: reqwest::Url,
}

impl FcmProvider {
    /// Reads the key file and prepares the client; no request is made yet.
    pub fn new(config: &FcmConfig) -> anyhow::Result<Self> {
        let account = gcp_auth::CustomServiceAccount::from_file(&config.credentials_file).map_err(|err| {
            anyhow::anyhow!("cannot read the FCM service-account key {}: {err}", config.credentials_file.display())
        })?;
        let project = match &config.project_id {
            Some(project) => project.clone(),
            None => account
                .project_id()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("the FCM key file names no project_id; set push.fcm.project_id"))?,
        };
        let http =
            reqwest::Client::builder().timeout(config.timeout).pool_max_idle_per_host(256).tcp_nodelay(true).build()?;
        let send_url = format!("{}/v1/projects/{project}/messages:send", config.base_url.trim_end_matches('/'));
        let send_url = reqwest::Url::parse(&send_url)
            .map_err(|err| anyhow::anyhow!("push.fcm.base_url is not a URL ({send_url}): {err}"))?;
        Ok(Self { http, tokens: Arc::new(account), send_url })
    }
}

/// The v1 message for a delivery: the device identifier by its kind, the
/// notification, and string-only data carrying the notification id so the
/// app can drop a duplicate. It borrows from the row and is written straight
/// to the request body.
pub fn message(delivery: &delivery::Model) -> Envelope<'_> {
    let by_fid = delivery.data.get("device_kind").and_then(Value::as_str) == Some("fid");
    let recipient = delivery.recipient.as_str();
    Envelope {
        message: Message {
            token: (!by_fid).then_some(recipient),
            fid: by_fid.then_some(recipient),
            notification: Notification {
                title: delivery.subject.as_deref(),
                body: &delivery.body,
                image: delivery.data.get("image_url").and_then(Value::as_str),
            },
            data: Data {
                notification_id: delivery.id,
                extras: delivery.data.get("push_data").and_then(Value::as_object),
            },
            android: Android { priority: "HIGH", ttl: "86400s" },
            apns: Apns {
                headers: ApnsHeaders { priority: "10" },
                payload: ApnsPayload { aps: Aps { mutable_content: 1 } },
            },
        },
    }
}

/// The body of a v1 send: `{"message": …}`.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    message: Message<'a>,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fid: Option<&'a str>,
    notification: Notification<'a>,
    data: Data<'a>,
    android: Android,
    apns: Apns,
}

#[derive(Debug, Serialize)]
struct Notification<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    body: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
}

/// FCM wants every data value as a string: others are written as their JSON.
#[derive(Debug)]
struct Data<'a> {
    notification_id: uuid::Uuid,
    extras: Option<&'a Map<String, Value>>,
}

impl Serialize for Data<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let extras = self.extras.into_iter().flatten().filter(|(key, _)| *key != "notification_id");
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("notification_id", &self.notification_id)?;
        for (key, value) in extras {
            match value {
                Value::String(text) => map.serialize_entry(key, text)?,
                other => map.serialize_entry(key, &other.to_string())?,
            }
        }
        map.end()
    }
}

#[derive(Debug, Serialize)]
struct Android {
    priority: &'static str,
    ttl: &'static str,
}

#[derive(Debug, Serialize)]
struct Apns {
    headers: ApnsHeaders,
    payload: ApnsPayload,
}

#[derive(Debug, Serialize)]
struct ApnsHeaders {
    #[serde(rename = "apns-priority")]
    priority: &'static str,
}

#[derive(Debug, Serialize)]
struct ApnsPayload {
    aps: Aps,
}

#[derive(Debug, Serialize)]
struct Aps {
    #[serde(rename = "mutable-content")]
    mutable_content: u8,
}

/// A send FCM accepted: the message's name is its provider id.
#[derive(Deserialize)]
struct Accepted {
    #[serde(default)]
    name: String,
}

/// What an FCM error answer means for the delivery.
pub fn classify(status: u16, body: &Value, retry_after: Option<u64>) -> SendOutcome {
    let error = &body["error"];
    let details = error["details"].as_array().map(Vec::as_slice).unwrap_or_default();
    let fcm_code = details.iter().find_map(|d| d["errorCode"].as_str()).or_else(|| error["status"].as_str());
    let about_the_device = details
        .iter()
        .flat_map(|d| d["fieldViolations"].as_array().into_iter().flatten())
        .any(|v| matches!(v["field"].as_str(), Some("message.token" | "message.fid")));
    let text = format!(
        "FCM {status} {}: {}",
        fcm_code.unwrap_or("no error code"),
        error["message"].as_str().unwrap_or("no message")
    );
    match (status, fcm_code) {
        (_, Some("UNREGISTERED" | "SENDER_ID_MISMATCH")) => SendOutcome::Unreachable { error: text },
        (_, Some("INVALID_ARGUMENT")) if about_the_device => SendOutcome::Unreachable { error: text },
        (429, _) | (500..=599, _) | (_, Some("QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL")) => {
            SendOutcome::Retry { error: text, retry_after }
        }
        // Our access token was refused, or APNs refused ours: worth a later try.
        (401, _) | (_, Some("THIRD_PARTY_AUTH_ERROR")) => SendOutcome::Retry { error: text, retry_after },
        _ => SendOutcome::Invalid { error: text },
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}

#[async_trait]
impl DeliveryProvider for FcmProvider {
    fn name(&self) -> &'static str {
        "fcm"
    }

    async fn send(&self, delivery: &delivery::Model) -> SendOutcome {
        let token = match self.tokens.token(&[SCOPE]).await {
            Ok(token) => token,
            Err(err) => {
                return SendOutcome::Retry { error: format!("no FCM access token: {err}"), retry_after: None };
            }
        };
        let response = match self
            .http
            .post(self.send_url.clone())
            .bearer_auth(token.as_str())
            .json(&message(delivery))
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => {
                return SendOutcome::Retry { error: format!("FCM unreachable: {err}"), retry_after: None };
            }
        };
        let status = response.status().as_u16();
        let after = retry_after(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        if (200..300).contains(&status) {
            let name = serde_json::from_slice::<Accepted>(&body).map(|accepted| accepted.name).unwrap_or_default();
            return SendOutcome::Sent { provider_id: name };
        }
        classify(status, &serde_json::from_slice(&body).unwrap_or(Value::Null), after)
    }
}

#[cfg(test)]
mod tests {
    use petbridge_domain::{
        Scope,
        deliveries::outbox::{Channel, NewDelivery, Purpose},
    };
    use serde_json::json;

    use super::*;

    fn error(status: &str, code: Option<&str>, field: Option<&str>) -> Value {
        let mut details = Vec::new();
        if let Some(code) = code {
            details.push(json!({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code }));
        }
        if let Some(field) = field {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{ "field": field, "description": "bad" }]
            }));
        }
        json!({ "error": { "code": 400, "message": "m", "status": status, "details": details } })
    }

    #[test]
    fn the_message_is_the_v1_body_with_string_data() {
        let id = uuid::Uuid::new_v4();
        let new = NewDelivery {
            channel: Channel::Push,
            recipient: "fid-1".into(),
            subject: Some("Hello".into()),
            body: "Bella is due".into(),
            data: json!({ "device_kind": "fid", "image_url": "https://x/i.png", "push_data": { "kind": "chat", "seq": 7, "notification_id": "forged" } }),
            reason: "test".into(),
            purpose: Purpose::Blast,
            client_id: None,
            not_before: None,
            sealed: None,
        };
        let row = new.queued(id, Scope { practice_id: uuid::Uuid::nil() }, chrono::Utc::now());
        let expected = json!({ "message": {
            "fid": "fid-1",
            "notification": { "title": "Hello", "body": "Bella is due", "image": "https://x/i.png" },
            "data": { "notification_id": id.to_string(), "kind": "chat", "seq": "7" },
            "android": { "priority": "HIGH", "ttl": "86400s" },
            "apns": { "headers": { "apns-priority": "10" }, "payload": { "aps": { "mutable-content": 1 } } },
        }});
        assert_eq!(serde_json::to_value(message(&row)).unwrap(), expected);
    }

    #[test]
    fn errors_are_read_as_fcm_documents_them() {
        let gone = classify(404, &error("NOT_FOUND", Some("UNREGISTERED"), None), None);
        assert!(matches!(gone, SendOutcome::Unreachable { .. }), "{gone:?}");
        let bad_token =
            classify(400, &error("INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), Some("message.token")), None);
        assert!(matches!(bad_token, SendOutcome::Unreachable { .. }), "{bad_token:?}");
        let bad_payload =
            classify(400, &error("INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), Some("message.data")), None);
        assert!(matches!(bad_payload, SendOutcome::Invalid { .. }), "{bad_payload:?}");
        let quota = classify(429, &error("RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), None), Some(30));
        assert_eq!(quota, SendOutcome::Retry { error: "FCM 429 QUOTA_EXCEEDED: m".into(), retry_after: Some(30) });
        let outage = classify(503, &Value::Null, None);
        assert!(matches!(outage, SendOutcome::Retry { retry_after: None, .. }), "{outage:?}");
    }
}
