//! [`PaymentGateway`] over Stripe's REST API: form-encoded requests, one
//! pinned `Stripe-Version`, the secret key as a bearer token, and an
//! `Idempotency-Key` on every request that moves money.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{
    Card, CardFields, ChargeOutcome, ChargeRequest, GatewayError, IntentState, PaymentGateway, RefundRequest,
    SetupIntent, SetupStatus,
};

/// The API version every request asks for, so Stripe's answers keep the
/// shape this client reads whatever the account's default.
pub const STRIPE_VERSION: &str = "2024-06-20";

/// Where and as whom to call Stripe.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com`; localstripe or a fake on loopback in tests.
    pub base_url: String,
    /// `sk_…`.
    pub secret_key: SecretString,
    /// `pk_…`, for the browser's card fields.
    pub publishable_key: String,
    /// Stripe.js (`https://js.stripe.com/v3/`).
    pub script_url: String,
    /// How long one request may take before it counts as unanswered.
    pub timeout: Duration,
}

/// The SetupIntent metadata naming whose card it is.
const OWNER_KEY: &str = "petbridge_owner";

/// The Stripe client.
pub struct StripeGateway {
    http: reqwest::Client,
    config: StripeConfig,
}

impl StripeGateway {
    /// Prepares the client; no request is made yet.
    pub fn new(config: StripeConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Self { http, config })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.config.base_url.trim_end_matches('/'))
    }

    /// One request; the body of a 2xx, or what the error means.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, GatewayError> {
        let mut request =
            request.bearer_auth(self.config.secret_key.expose_secret()).header("Stripe-Version", STRIPE_VERSION);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|err| GatewayError::Unavailable(describe(&err)))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|err| GatewayError::Unavailable(describe(&err)))?;
        match status {
            200..=299 => Ok(Answer::Ok(body)),
            402 => Ok(Answer::CardError(body)),
            429 | 500..=599 => Err(GatewayError::Unavailable(format!("Stripe answered {status}"))),
            _ => Err(refused(&body["error"])),
        }
    }

    async fn ok(&self, request: reqwest::RequestBuilder, key: Option<&str>) -> Result<Value, GatewayError> {
        match self.call(request, key).await? {
            Answer::Ok(body) => Ok(body),
            Answer::CardError(body) => Err(refused(&body["error"])),
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path))
    }

    fn post(&self, path: &str, form: &[(String, String)]) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).form(form)
    }
}

enum Answer {
    Ok(Value),
    /// 402: a card error, which for a charge is an outcome.
    CardError(Value),
}

/// The error without the request's URL and headers (no secret reaches a log).
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer in time".into()
    } else if err.is_connect() {
        "cannot connect".into()
    } else if err.is_decode() {
        "an answer that is not JSON".into()
    } else {
        "the request failed".into()
    }
}

fn refused(error: &Value) -> GatewayError {
    GatewayError::Refused {
        code: text(&error["code"]).or_else(|| text(&error["type"])).unwrap_or_else(|| "unknown".into()),
        message: text(&error["message"]).unwrap_or_default(),
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// An id field that may hold the id or the whole object (`expand`).
fn id_of(value: &Value) -> Option<String> {
    text(value).or_else(|| text(&value["id"]))
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn setup_intent(body: &Value) -> Result<SetupIntent, GatewayError> {
    let missing = || GatewayError::Unavailable("a SetupIntent without an id".into());
    Ok(SetupIntent {
        id: text(&body["id"]).ok_or_else(missing)?,
        client_secret: text(&body["client_secret"]).unwrap_or_default(),
        status: match body["status"].as_str() {
            Some("succeeded") => SetupStatus::Succeeded,
            Some("canceled") => SetupStatus::Canceled,
            _ => SetupStatus::Pending,
        },
        customer: id_of(&body["customer"]),
        payment_method: id_of(&body["payment_method"]),
        owner: text(&body["metadata"][OWNER_KEY]),
    })
}

/// A PaymentIntent's answer, or a 402's error with the intent it made.
fn charge_outcome(answer: Answer) -> Result<ChargeOutcome, GatewayError> {
    match answer {
        Answer::Ok(intent) => {
            let id =
                text(&intent["id"]).ok_or_else(|| GatewayError::Unavailable("a PaymentIntent without an id".into()))?;
            Ok(match intent["status"].as_str() {
                Some("succeeded") => ChargeOutcome::Succeeded { intent: id },
                Some("requires_action") => ChargeOutcome::AuthenticationRequired { intent: id },
                Some("processing") => ChargeOutcome::Processing { intent: id },
                other => ChargeOutcome::Declined {
                    intent: Some(id),
                    code: "unexpected_status".into(),
                    decline_code: None,
                    message: format!("the PaymentIntent is {}", other.unwrap_or("without a status")),
                },
            })
        }
        Answer::CardError(body) => {
            let error = &body["error"];
            let intent = id_of(&error["payment_intent"]);
            let code = text(&error["code"]).unwrap_or_else(|| "card_declined".into());
            if code == "authentication_required"
                && let Some(intent) = intent.clone()
            {
                return Ok(ChargeOutcome::AuthenticationRequired { intent });
            }
            Ok(ChargeOutcome::Declined {
                intent,
                code,
                decline_code: text(&error["decline_code"]),
                message: text(&error["message"]).unwrap_or_default(),
            })
        }
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn card_fields(&self) -> Option<CardFields> {
        Some(CardFields {
            script_url: self.config.script_url.clone(),
            publishable_key: self.config.publishable_key.clone(),
        })
    }

    async fn create_customer(&self, name: &str, email: Option<&str>) -> Result<String, GatewayError> {
        let mut fields = form(&[("name", name)]);
        if let Some(email) = email {
            fields.push(("email".into(), email.into()));
        }
        let body = self.ok(self.post("customers", &fields), None).await?;
        text(&body["id"]).ok_or_else(|| GatewayError::Unavailable("a customer without an id".into()))
    }

    async fn create_setup_intent(&self, customer: &str, owner: &str) -> Result<SetupIntent, GatewayError> {
        let owner_field = format!("metadata[{OWNER_KEY}]");
        let fields = form(&[
            ("customer", customer),
            ("usage", "off_session"),
            ("payment_method_types[]", "card"),
            (&owner_field, owner),
        ]);
        setup_intent(&self.ok(self.post("setup_intents", &fields), None).await?)
    }

    async fn setup_intent(&self, id: &str) -> Result<SetupIntent, GatewayError> {
        setup_intent(&self.ok(self.get(&format!("setup_intents/{id}")), None).await?)
    }

    async fn card(&self, payment_method: &str) -> Result<Card, GatewayError> {
        let body = self.ok(self.get(&format!("payment_methods/{payment_method}")), None).await?;
        let card = &body["card"];
        let number = |value: &Value| value.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
        Ok(Card {
            id: text(&body["id"]).unwrap_or_else(|| payment_method.to_owned()),
            customer: id_of(&body["customer"]),
            brand: text(&card["brand"]).unwrap_or_else(|| "card".into()),
            last4: text(&card["last4"]).unwrap_or_default(),
            exp_month: number(&card["exp_month"]),
            exp_year: number(&card["exp_year"]),
        })
    }

    async fn detach(&self, payment_method: &str) -> Result<(), GatewayError> {
        self.ok(self.post(&format!("payment_methods/{payment_method}/detach"), &[]), None).await.map(|_| ())
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let amount = request.amount_cents.to_string();
        let mut fields = form(&[
            ("amount", &amount),
            ("currency", &request.currency),
            ("customer", &request.customer),
            ("payment_method", &request.payment_method),
            ("off_session", "true"),
            ("confirm", "true"),
        ]);
        for (key, value) in &request.metadata {
            fields.push((format!("metadata[{key}]"), value.clone()));
        }
        charge_outcome(self.call(self.post("payment_intents", &fields), Some(&request.idempotency_key)).await?)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<String, GatewayError> {
        let amount = request.amount_cents.to_string();
        let fields = form(&[("payment_intent", &request.intent), ("amount", &amount)]);
        let body = self.ok(self.post("refunds", &fields), Some(&request.idempotency_key)).await?;
        text(&body["id"]).ok_or_else(|| GatewayError::Unavailable("a refund without an id".into()))
    }

    async fn payment_intent(&self, id: &str) -> Result<IntentState, GatewayError> {
        let body = self.ok(self.get(&format!("payment_intents/{id}")), None).await?;
        Ok(IntentState {
            status: text(&body["status"]).unwrap_or_default(),
            client_secret: text(&body["client_secret"]).unwrap_or_default(),
        })
    }
}
