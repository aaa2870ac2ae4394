//! Texts through a Twilio-style Messages API (form POST with basic auth and a
//! status callback), paced per sender number so the provider never has to
//! refuse us; and the provider's webhooks, inbound texts and status reports,
//! each refused with 403 unless `X-Twilio-Signature` proves it came from the
//! provider.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use async_trait::async_trait;
use base64::Engine as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use petbridge_domain::{
    Code, Platform,
    db::entities::delivery,
    ports::{DeliveryProvider, SendOutcome},
    texting::{self, keywords::Inbound, reports::StatusReport},
};
use poem::{
    EndpointExt, FromRequest, IntoResponse, Request, RequestBody, Response, Route, handler,
    http::StatusCode,
    post,
    web::{Data, Form},
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Where and as whom to send texts.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `https://api.twilio.com` in production; a local fake in tests.
    pub base_url: String,
    /// The account.
    pub account_sid: String,
    /// The account's secret: basic-auth password and webhook signing key.
    pub auth_token: SecretString,
    /// The sender when the practice has no number of its own.
    pub default_from: Option<String>,
    /// Where the provider reports on each text (`…/hooks/sms/status`).
    pub status_callback: String,
    /// Texts per second per sender number (1 for a US long code).
    pub per_second: u32,
}

/// The Twilio-style provider.
pub struct SmsProvider {
    http: reqwest::Client,
    config: SmsConfig,
    pacing: DefaultKeyedRateLimiter<String>,
}

impl SmsProvider {
    /// Prepares the client; no request is made yet.
    pub fn new(config: SmsConfig) -> anyhow::Result<Self> {
        let rate = NonZeroU32::new(config.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        // No bursts: texts leave evenly spaced, as carriers count them.
        let pacing = RateLimiter::keyed(Quota::per_second(rate).allow_burst(NonZeroU32::MIN));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
        Ok(Self { http, config, pacing })
    }
}

/// What a Twilio-style error answer means for the text.
pub fn classify(status: u16, body: &Value, retry_after: Option<u64>) -> SendOutcome {
    let code = body["code"].as_u64().map(|c| c.to_string());
    let error = format!(
        "SMS provider {status} {}: {}",
        code.as_deref().unwrap_or("no code"),
        body["message"].as_str().unwrap_or("no message")
    );
    match (status, code.as_deref()) {
        (_, Some(texting::opt_outs::OPTED_OUT_ERROR)) => SendOutcome::Unreachable { error },
        (429, _) | (_, Some("20429")) | (500..=599, _) | (401, _) => SendOutcome::Retry { error, retry_after },
        _ => SendOutcome::Invalid { error },
    }
}

#[async_trait]
impl DeliveryProvider for SmsProvider {
    fn name(&self) -> &'static str {
        "sms"
    }

    async fn send(&self, delivery: &delivery::Model) -> SendOutcome {
        let from = delivery.data["from"].as_str().map(str::to_owned).or_else(|| self.config.default_from.clone());
        let Some(from) = from else {
            return SendOutcome::Invalid { error: "the practice has no texting number".into() };
        };
        self.pacing.until_key_ready(&from).await;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        );
        let form = [
            ("To", delivery.recipient.as_str()),
            ("From", from.as_str()),
            ("Body", delivery.body.as_str()),
            ("StatusCallback", self.config.status_callback.as_str()),
        ];
        let response = match self
            .http
            .post(url)
            .basic_auth(&self.config.account_sid, Some(self.config.auth_token.expose_secret()))
            .form(&form)
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => {
                return SendOutcome::Retry { error: format!("SMS provider unreachable: {err}"), retry_after: None };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return SendOutcome::Sent { provider_id: body["sid"].as_str().unwrap_or_default().to_owned() };
        }
        classify(status, &body, retry_after)
    }
}

/// The provider's signature of a webhook: base64 of HMAC-SHA1, keyed by the
/// auth token, over the full URL followed by every parameter's name and value,
/// sorted by name.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut signed = url.to_owned();
    for (name, value) in sorted {
        signed.push_str(name);
        signed.push_str(value);
    }
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()) else { return String::new() };
    mac.update(signed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What the webhooks need to check a request.
#[derive(Clone)]
pub struct SmsHooks {
    /// The signing key; without one every webhook is refused.
    pub auth_token: Option<SecretString>,
    /// The address the provider calls (the server's public URL).
    pub public_url: String,
}

impl SmsHooks {
    /// Whether the signature proves the provider sent this request.
    fn verified(&self, request: &Request, params: &[(String, String)]) -> bool {
        let (Some(token), Some(given)) = (&self.auth_token, request.header("x-twilio-signature")) else {
            return false;
        };
        let path = request.original_uri().path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path}", self.public_url.trim_end_matches('/'));
        let expected = signature(token.expose_secret(), &url, params);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes()).into()
    }
}

/// `/hooks/sms/inbound` and `/hooks/sms/status`.
pub fn hooks(config: SmsHooks) -> impl poem::Endpoint<Output = Response> {
    Route::new()
        .at("/inbound", post(inbound_hook))
        .at("/status", post(status_hook))
        .data(Arc::new(config))
        .map_to_response()
}

fn refused() -> Response {
    petbridge_http::problem_response(Code::InvalidSignature, Some("the webhook signature does not match".into()))
}

/// 400 for a webhook without the fields the provider always sends.
fn missing(fields: &str) -> Response {
    petbridge_http::problem_response(Code::InvalidWebhook, Some(format!("{fields} are required")))
}

/// The empty TwiML answer: nothing more for the provider to do.
fn twiml() -> Response {
    Response::builder().content_type("text/xml").body("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
}

/// A webhook's form parameters, once its signature proves the provider
/// sent them; any other request is refused before it is read further.
struct SignedForm(Vec<(String, String)>);

impl<'a> FromRequest<'a> for SignedForm {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let Form(params) = Form::<Vec<(String, String)>>::from_request(req, body).await?;
        let hooks = req.data::<Arc<SmsHooks>>().ok_or_else(|| poem::Error::from_response(refused()))?;
        if hooks.verified(req, &params) { Ok(SignedForm(params)) } else { Err(poem::Error::from_response(refused())) }
    }
}

impl SignedForm {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The answer to a webhook whose effect `result` is.
fn answer<T>(result: petbridge_domain::DomainResult<T>, done: impl FnOnce(T) -> Response) -> Response {
    result.map_or_else(|err| petbridge_http::ApiError::from(err).into_response(), done)
}

#[handler]
async fn inbound_hook(form: SignedForm, platform: Data<&Platform>) -> Response {
    let (Some(sid), Some(from), Some(to)) = (form.get("MessageSid"), form.get("From"), form.get("To")) else {
        return missing("MessageSid, From and To");
    };
    let inbound = Inbound {
        sid: sid.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        body: form.get("Body").unwrap_or_default().to_owned(),
    };
    answer(texting::keywords::receive(&platform, inbound).await, |outcome| {
        tracing::info!(?outcome, "inbound text");
        twiml()
    })
}

#[handler]
async fn status_hook(form: SignedForm, platform: Data<&Platform>) -> Response {
    let (Some(sid), Some(status)) = (form.get("MessageSid"), form.get("MessageStatus")) else {
        return missing("MessageSid and MessageStatus");
    };
    let report = StatusReport {
        sid: sid.to_owned(),
        status: status.to_owned(),
        error_code: form.get("ErrorCode").filter(|c| !c.is_empty()).map(str::to_owned),
    };
    answer(texting::reports::report(&platform, report).await, |_| StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn signatures_match_the_providers_documented_example() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert_ne!(signature("54321", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    #[test]
    fn errors_are_read_as_the_provider_documents_them() {
        let opted_out = classify(400, &serde_json::json!({ "code": 21610, "message": "unsubscribed" }), None);
        assert!(matches!(opted_out, SendOutcome::Unreachable { .. }), "{opted_out:?}");
        let busy = classify(429, &serde_json::json!({ "code": 20429, "message": "too many" }), Some(2));
        assert!(matches!(busy, SendOutcome::Retry { retry_after: Some(2), .. }), "{busy:?}");
        let bad_number = classify(400, &serde_json::json!({ "code": 21211, "message": "invalid To" }), None);
        assert!(matches!(bad_number, SendOutcome::Invalid { .. }), "{bad_number:?}");
    }
}
