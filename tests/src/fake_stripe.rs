//! A local stand-in for Stripe's API, for what localstripe cannot show:
//! declines of each kind on demand, a charge whose answer is lost after the
//! card was charged, and idempotency keys honoured as Stripe honours them.
//! Every request is checked against Stripe's documented shape (bearer
//! secret key, the pinned `Stripe-Version`, form fields); what breaks it
//! is recorded for the test to assert empty.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use petbridge_domain::ports::payments::stripe::STRIPE_VERSION;
use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::StatusCode,
    post,
    web::{Data, Form, Json, Path},
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::fakes::{lock, serve};

/// How the fake answers the next PaymentIntent (whatever the card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeAnswer {
    /// Charged.
    Succeed,
    /// 402 `card_declined` with this `decline_code` (`insufficient_funds`, `lost_card`, …).
    Decline(&'static str),
    /// 402 `authentication_required`: the owner must confirm it.
    RequireAuthentication,
    /// Charges the card, then answers only after `delay` (past the client's timeout).
    TimeoutAfterCharge(Duration),
    /// 503 before doing anything.
    Unavailable,
}

/// A PaymentIntent the fake made.
#[derive(Debug, Clone)]
pub struct Intent {
    /// `pi_…`.
    pub id: String,
    /// In cents.
    pub amount: i64,
    /// `succeeded`, `requires_payment_method`, …
    pub status: String,
    /// The key it was made with.
    pub idempotency_key: String,
    /// Its `metadata[…]` fields.
    pub metadata: HashMap<String, String>,
}

#[derive(Default)]
struct StripeState {
    secret_key: String,
    publishable_key: String,
    latency: Duration,
    serial: Mutex<u64>,
    customers: Mutex<HashMap<String, Value>>,
    setup_intents: Mutex<HashMap<String, Value>>,
    methods: Mutex<HashMap<String, Value>>,
    intents: Mutex<Vec<Intent>>,
    refunds: Mutex<Vec<(String, i64)>>,
    /// Answers already given, by idempotency key: a retry gets the same one.
    answered: Mutex<HashMap<String, (u16, Value)>>,
    script: Mutex<Vec<StripeAnswer>>,
    shape_errors: Mutex<Vec<String>>,
}

impl StripeState {
    fn next_id(&self, prefix: &str) -> String {
        let mut serial = lock(&self.serial);
        *serial += 1;
        format!("{prefix}_fake{:08}", *serial)
    }

    fn shape_error(&self, error: String) {
        lock(&self.shape_errors).push(error);
    }
}

/// The fake Stripe API.
pub struct FakeStripe {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The secret key it takes.
    pub secret_key: String,
    /// The publishable key the "browser" confirms setups with.
    pub publishable_key: String,
    /// The secret its webhooks are signed with.
    pub webhook_secret: String,
    state: Arc<StripeState>,
    stop: CancellationToken,
}

impl FakeStripe {
    /// Starts the fake, answering at once.
    pub async fn start() -> Self {
        Self::with_latency(Duration::ZERO).await
    }

    /// Starts the fake, taking `latency` over each charge as Stripe does.
    pub async fn with_latency(latency: Duration) -> Self {
        let state = Arc::new(StripeState {
            secret_key: format!("sk_test_{}", uuid::Uuid::new_v4().simple()),
            publishable_key: format!("pk_test_{}", uuid::Uuid::new_v4().simple()),
            latency,
            ..StripeState::default()
        });
        let route = Route::new()
            .at("/v1/customers", post(create_customer))
            .at("/v1/setup_intents", post(create_setup_intent))
            .at("/v1/setup_intents/:id", get(read_setup_intent))
            .at("/v1/setup_intents/:id/confirm", post(confirm_setup_intent))
            .at("/v1/payment_methods/:id", get(read_method))
            .at("/v1/payment_methods/:id/detach", post(detach_method))
            .at("/v1/payment_intents", post(create_intent))
            .at("/v1/payment_intents/:id", get(read_intent))
            .at("/v1/payment_intents/:id/confirm", post(confirm_intent))
            .at("/v1/refunds", post(create_refund))
            .at("/js/v3/", get(stripe_js))
            // The page's card fields call the fake from the server's origin.
            .with(poem::middleware::Cors::new())
            .data(state.clone());
        let (address, stop) = serve(route).await;
        Self {
            base: format!("http://{address}"),
            secret_key: state.secret_key.clone(),
            publishable_key: state.publishable_key.clone(),
            webhook_secret: format!("whsec_{}", uuid::Uuid::new_v4().simple()),
            state,
            stop,
        }
    }

    /// Points a server's settings at this fake; a charge unanswered for a
    /// second counts as lost.
    pub fn configure(&self, settings: &mut petbridge::Settings) {
        settings.payments.provider = "stripe".into();
        settings.payments.base_url = self.base.clone();
        settings.payments.secret_key = Some(secrecy::SecretString::from(self.secret_key.clone()));
        settings.payments.publishable_key = self.publishable_key.clone();
        settings.payments.script_url = format!("{}/js/v3/", self.base);
        settings.payments.timeout_seconds = 1;
        settings.payments.webhook_secret = Some(secrecy::SecretString::from(self.webhook_secret.clone()));
    }

    /// An event as Stripe would send it to a webhook endpoint: its JSON and
    /// the `Stripe-Signature` header, signed `at` with `secret`.
    pub fn event(
        secret: &str,
        at: chrono::DateTime<chrono::Utc>,
        id: &str,
        kind: &str,
        object: Value,
    ) -> (String, String) {
        let body = json!({ "id": id, "object": "event", "type": kind, "created": at.timestamp(), "data": { "object": object } })
            .to_string();
        let t = at.timestamp();
        let signature =
            petbridge_domain::kernel::tokens::hmac_sha256_hex(secret.as_bytes(), format!("{t}.{body}").as_bytes());
        (body, format!("t={t},v1={signature}"))
    }

    /// The PaymentIntent the fake made for `attempt_id`.
    pub fn intent_for(&self, attempt_id: &str) -> Option<Intent> {
        self.intents().into_iter().find(|i| i.idempotency_key == attempt_id)
    }

    /// Answers the next PaymentIntents with `answers`, in order (then as the card says).
    pub fn answer_next(&self, answers: impl IntoIterator<Item = StripeAnswer>) {
        lock(&self.state.script).extend(answers);
    }

    /// What the browser does in Stripe.js's `confirmCardSetup`: confirms a
    /// setup with a test card token (`pm_card_visa`, `pm_card_chargeCustomerFail`, …).
    pub async fn confirm_setup(&self, client_secret: &str, test_card: &str) -> Value {
        let setup = client_secret.split("_secret_").next().unwrap_or_default();
        let response = crate::client()
            .post(format!("{}/v1/setup_intents/{setup}/confirm", self.base))
            .bearer_auth(&self.publishable_key)
            .form(&[("payment_method", test_card), ("client_secret", client_secret)])
            .send()
            .await
            .expect("the fake answers");
        assert_eq!(response.status(), 200, "the setup is confirmed");
        response.json().await.expect("JSON")
    }

    /// What the browser does in Stripe.js's `confirmCardPayment`: the owner
    /// confirms with their bank the charge `client_secret` belongs to.
    pub async fn confirm_payment(&self, client_secret: &str) -> Value {
        let intent = client_secret.split("_secret_").next().unwrap_or_default();
        let response = crate::client()
            .post(format!("{}/v1/payment_intents/{intent}/confirm", self.base))
            .bearer_auth(&self.publishable_key)
            .form(&[("client_secret", client_secret)])
            .send()
            .await
            .expect("the fake answers");
        assert_eq!(response.status(), 200, "the charge is confirmed");
        response.json().await.expect("JSON")
    }

    /// The PaymentIntents made, in order.
    pub fn intents(&self) -> Vec<Intent> {
        lock(&self.state.intents).clone()
    }

    /// The charges that took money: succeeded PaymentIntents.
    pub fn charges(&self) -> Vec<Intent> {
        self.intents().into_iter().filter(|i| i.status == "succeeded").collect()
    }

    /// The refunds made: (PaymentIntent, cents).
    pub fn refunds(&self) -> Vec<(String, i64)> {
        lock(&self.state.refunds).clone()
    }

    /// Requests that broke Stripe's documented shape.
    pub fn shape_errors(&self) -> Vec<String> {
        lock(&self.state.shape_errors).clone()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn stripe_error(status: StatusCode, kind: &str, code: &str, message: &str, extra: Value) -> (u16, Value) {
    let mut error = json!({ "type": kind, "code": code, "message": message });
    if let (Some(error), Value::Object(extra)) = (error.as_object_mut(), extra) {
        error.extend(extra);
    }
    (status.as_u16(), json!({ "error": error }))
}

fn answer((status, body): (u16, Value)) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response()
}

/// Checks the secret key (or, for `browser`, the publishable key) and the
/// version; the refusal when the key is wrong.
fn unauthorized(request: &Request, state: &StripeState, browser: bool) -> Option<Response> {
    let key = if browser { &state.publishable_key } else { &state.secret_key };
    if request.header("authorization") != Some(format!("Bearer {key}").as_str()) {
        state.shape_error(format!("{} without the right key", request.uri().path()));
        let error = stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "api_key_invalid",
            "Invalid API Key",
            json!({}),
        );
        return Some(answer(error));
    }
    if !browser && request.header("stripe-version") != Some(STRIPE_VERSION) {
        state.shape_error(format!("{} without Stripe-Version {STRIPE_VERSION}", request.uri().path()));
    }
    None
}

type Fields = Vec<(String, String)>;

fn field<'a>(form: &'a Fields, name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `metadata[key]=value` fields as an object.
fn metadata(form: &Fields) -> serde_json::Map<String, Value> {
    form.iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect()
}

fn missing(state: &StripeState, path: &str, name: &str) -> Response {
    state.shape_error(format!("{path} without {name}"));
    answer(stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "parameter_missing",
        &format!("Missing required param: {name}."),
        json!({ "param": name }),
    ))
}

/// A browser call with another intent's client secret.
fn secret_mismatch() -> Response {
    answer(stripe_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "secret_mismatch",
        "Wrong client secret.",
        json!({}),
    ))
}

fn no_such(kind: &str, id: &str) -> Response {
    answer(stripe_error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "resource_missing",
        &format!("No such {kind}: '{id}'"),
        json!({}),
    ))
}

/// A stand-in for Stripe.js: `Stripe(key).elements().create("card")` draws
/// one field for a Stripe test card token (`pm_card_visa`, …), and
/// `confirmCardSetup` confirms the setup with it, as the browser does with
/// the real script (whose fields live in Stripe's own frame).
const STRIPE_JS: &str = r#"(function () {
  const base = new URL(document.currentScript.src).origin;
  window.Stripe = function (key) {
    return {
      elements() {
        return {
          create() {
            const input = document.createElement("input");
            input.placeholder = "Stripe test card (pm_card_visa)";
            input.setAttribute("data-testid", "fake-stripe-card");
            return { mount(into) { into.append(input); }, token: () => input.value };
          },
        };
      },
      async confirmCardSetup(secret, { payment_method: { card } }) {
        const id = secret.split("_secret_")[0];
        const response = await fetch(`${base}/v1/setup_intents/${id}/confirm`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ payment_method: card.token(), client_secret: secret }),
        });
        const answer = await response.json();
        return response.ok ? { setupIntent: answer } : { error: answer.error };
      },
      async confirmCardPayment(secret) {
        const id = secret.split("_secret_")[0];
        const response = await fetch(`${base}/v1/payment_intents/${id}/confirm`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ client_secret: secret }),
        });
        const answer = await response.json();
        return response.ok ? { paymentIntent: answer } : { error: answer.error };
      },
    };
  };
})();
"#;

#[handler]
fn stripe_js() -> Response {
    Response::builder().content_type("application/javascript").body(STRIPE_JS)
}

#[handler]
fn create_customer(request: &Request, Form(form): Form<Fields>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let id = state.next_id("cus");
    let customer =
        json!({ "id": id, "object": "customer", "name": field(&form, "name"), "email": field(&form, "email") });
    lock(&state.customers).insert(id, customer.clone());
    Json(customer).into_response()
}

#[handler]
fn create_setup_intent(request: &Request, Form(form): Form<Fields>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let Some(customer) = field(&form, "customer") else { return missing(&state, "setup_intents", "customer") };
    if !lock(&state.customers).contains_key(customer) {
        return no_such("customer", customer);
    }
    if field(&form, "usage") != Some("off_session") {
        state.shape_error("a SetupIntent not for off-session charges".into());
    }
    let id = state.next_id("seti");
    let intent = json!({
        "id": id, "object": "setup_intent", "status": "requires_payment_method", "usage": "off_session",
        "client_secret": format!("{id}_secret_{}", uuid::Uuid::new_v4().simple()),
        "customer": customer, "payment_method": null, "metadata": metadata(&form),
    });
    lock(&state.setup_intents).insert(id, intent.clone());
    Json(intent).into_response()
}

#[handler]
fn read_setup_intent(request: &Request, Path(id): Path<String>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    match lock(&state.setup_intents).get(&id) {
        Some(intent) => Json(intent.clone()).into_response(),
        None => no_such("setupintent", &id),
    }
}

/// Stripe's test card tokens: brand, last four, and what charging them does.
fn test_card(token: &str) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    Some(match token {
        "pm_card_visa" => ("visa", "4242", None),
        "pm_card_mastercard" => ("mastercard", "4444", None),
        "pm_card_chargeCustomerFail" => ("visa", "0341", Some("generic_decline")),
        "pm_card_visa_chargeDeclinedInsufficientFunds" => ("visa", "9995", Some("insufficient_funds")),
        "pm_card_visa_chargeDeclinedLostCard" => ("visa", "9987", Some("lost_card")),
        "pm_card_visa_chargeDeclinedStolenCard" => ("visa", "9979", Some("stolen_card")),
        "pm_card_authenticationRequired" => ("visa", "3184", Some("authentication_required")),
        _ => return None,
    })
}

#[handler]
fn confirm_setup_intent(
    request: &Request,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
    state: Data<&Arc<StripeState>>,
) -> Response {
    if let Some(refused) = unauthorized(request, &state, true) {
        return refused;
    }
    let mut intents = lock(&state.setup_intents);
    let Some(intent) = intents.get_mut(&id) else { return no_such("setupintent", &id) };
    if field(&form, "client_secret") != intent["client_secret"].as_str() {
        return secret_mismatch();
    }
    let token = field(&form, "payment_method").unwrap_or_default();
    let Some((brand, last4, behaviour)) = test_card(token) else { return no_such("payment_method", token) };
    let pm = state.next_id("pm");
    let method = json!({
        "id": pm, "object": "payment_method", "type": "card", "customer": intent["customer"],
        "card": { "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034 },
        "fake_behaviour": behaviour,
    });
    lock(&state.methods).insert(pm.clone(), method);
    intent["status"] = json!("succeeded");
    intent["payment_method"] = json!(pm);
    Json(intent.clone()).into_response()
}

#[handler]
fn read_method(request: &Request, Path(id): Path<String>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    match lock(&state.methods).get(&id) {
        Some(method) => {
            let mut method = method.clone();
            if let Some(object) = method.as_object_mut() {
                object.remove("fake_behaviour");
            }
            Json(method).into_response()
        }
        None => no_such("payment_method", &id),
    }
}

#[handler]
fn detach_method(request: &Request, Path(id): Path<String>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let mut methods = lock(&state.methods);
    let Some(method) = methods.get_mut(&id) else { return no_such("payment_method", &id) };
    method["customer"] = Value::Null;
    Json(method.clone()).into_response()
}

/// Stripe's 503: nothing was done, ask again.
fn unavailable() -> Response {
    answer(stripe_error(StatusCode::SERVICE_UNAVAILABLE, "api_error", "unavailable", "Try again.", json!({})))
}

#[handler]
async fn create_intent(request: &Request, Form(form): Form<Fields>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let Some(key) = request.header("idempotency-key").map(str::to_owned) else {
        state.shape_error("a PaymentIntent without an Idempotency-Key".into());
        return missing(&state, "payment_intents", "Idempotency-Key");
    };
    if let Some(first) = lock(&state.answered).get(&key).cloned() {
        return answer(first);
    }
    for (name, wanted) in [("off_session", Some("true")), ("confirm", Some("true")), ("currency", Some("usd"))] {
        if field(&form, name) != wanted {
            state.shape_error(format!("a PaymentIntent with {name}={:?}", field(&form, name)));
        }
    }
    let amount = field(&form, "amount").and_then(|a| a.parse::<i64>().ok()).filter(|a| *a >= 50);
    let Some(amount) = amount else { return missing(&state, "payment_intents", "amount") };
    let method = field(&form, "payment_method").unwrap_or_default();
    let Some(card) = lock(&state.methods).get(method).cloned() else { return no_such("payment_method", method) };
    if card["customer"].as_str() != field(&form, "customer") {
        state.shape_error(format!("{method} charged for a customer it is not attached to"));
    }
    let scripted = {
        let mut script = lock(&state.script);
        (!script.is_empty()).then(|| script.remove(0))
    };
    let behaviour = match scripted {
        Some(answer) => answer,
        None => match card["fake_behaviour"].as_str() {
            None => StripeAnswer::Succeed,
            Some("authentication_required") => StripeAnswer::RequireAuthentication,
            Some(code) => StripeAnswer::Decline(match code {
                "generic_decline" => "generic_decline",
                "insufficient_funds" => "insufficient_funds",
                "lost_card" => "lost_card",
                _ => "stolen_card",
            }),
        },
    };
    if behaviour == StripeAnswer::Unavailable {
        return unavailable();
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let id = state.next_id("pi");
    let status = match behaviour {
        StripeAnswer::Succeed | StripeAnswer::TimeoutAfterCharge(_) => "succeeded",
        StripeAnswer::RequireAuthentication | StripeAnswer::Decline(_) => "requires_payment_method",
        StripeAnswer::Unavailable => "canceled",
    };
    let meta = metadata(&form);
    lock(&state.intents).push(Intent {
        id: id.clone(),
        amount,
        status: status.to_owned(),
        idempotency_key: key.clone(),
        metadata: meta.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect(),
    });
    let intent = json!({
        "id": id, "object": "payment_intent", "amount": amount, "currency": "usd", "status": status,
        "customer": field(&form, "customer"), "payment_method": method, "metadata": meta,
    });
    let reply = match behaviour {
        StripeAnswer::Decline(decline_code) => stripe_error(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            "card_declined",
            "Your card was declined.",
            json!({ "decline_code": decline_code, "payment_intent": intent }),
        ),
        StripeAnswer::RequireAuthentication => stripe_error(
            StatusCode::PAYMENT_REQUIRED,
            "card_error",
            "authentication_required",
            "Your card was declined. This transaction requires authentication.",
            json!({ "decline_code": "authentication_required", "payment_intent": intent }),
        ),
        _ => (200, intent),
    };
    lock(&state.answered).insert(key, reply.clone());
    if let StripeAnswer::TimeoutAfterCharge(delay) = behaviour {
        tokio::time::sleep(delay).await;
    }
    answer(reply)
}

/// The secret a PaymentIntent is confirmed with from the browser.
fn intent_secret(id: &str) -> String {
    format!("{id}_secret_fake")
}

fn intent_json(intent: &Intent) -> Value {
    json!({
        "id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": "usd",
        "status": intent.status, "client_secret": intent_secret(&intent.id),
    })
}

#[handler]
fn read_intent(request: &Request, Path(id): Path<String>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let intents = lock(&state.intents);
    match intents.iter().find(|i| i.id == id) {
        Some(intent) => Json(intent_json(intent)).into_response(),
        None => no_such("payment_intent", &id),
    }
}

/// The owner confirming a charge with their bank (Stripe.js
/// `confirmCardPayment`, with the publishable key): it is charged.
#[handler]
fn confirm_intent(
    request: &Request,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
    state: Data<&Arc<StripeState>>,
) -> Response {
    if let Some(refused) = unauthorized(request, &state, true) {
        return refused;
    }
    let mut intents = lock(&state.intents);
    let Some(intent) = intents.iter_mut().find(|i| i.id == id) else { return no_such("payment_intent", &id) };
    if field(&form, "client_secret") != Some(intent_secret(&id).as_str()) {
        return secret_mismatch();
    }
    intent.status = "succeeded".to_owned();
    Json(intent_json(intent)).into_response()
}

/// A refund takes the next scripted answer too: `Unavailable` refuses it
/// before anything, `TimeoutAfterCharge` refunds and then answers late.
#[handler]
async fn create_refund(request: &Request, Form(form): Form<Fields>, state: Data<&Arc<StripeState>>) -> Response {
    if let Some(refused) = unauthorized(request, &state, false) {
        return refused;
    }
    let Some(key) = request.header("idempotency-key").map(str::to_owned) else {
        return missing(&state, "refunds", "Idempotency-Key");
    };
    if let Some(first) = lock(&state.answered).get(&key).cloned() {
        return answer(first);
    }
    let scripted = {
        let mut script = lock(&state.script);
        (!script.is_empty()).then(|| script.remove(0))
    };
    if scripted == Some(StripeAnswer::Unavailable) {
        return unavailable();
    }
    let intent = field(&form, "payment_intent").unwrap_or_default().to_owned();
    let charged = lock(&state.intents).iter().find(|i| i.id == intent && i.status == "succeeded").map(|i| i.amount);
    let Some(charged) = charged else { return no_such("payment_intent", &intent) };
    let amount = field(&form, "amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(charged);
    let refunded: i64 = lock(&state.refunds).iter().filter(|(i, _)| *i == intent).map(|(_, a)| a).sum();
    if amount <= 0 || refunded + amount > charged {
        return answer(stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "amount_too_large",
            "Refund exceeds the charge.",
            json!({}),
        ));
    }
    lock(&state.refunds).push((intent.clone(), amount));
    let reply = (
        200,
        json!({ "id": state.next_id("re"), "object": "refund", "amount": amount, "payment_intent": intent, "status": "succeeded" }),
    );
    lock(&state.answered).insert(key, reply.clone());
    if let Some(StripeAnswer::TimeoutAfterCharge(delay)) = scripted {
        tokio::time::sleep(delay).await;
    }
    answer(reply)
}
