//! Local stand-ins for the providers we cannot reach from tests. Each checks
//! every request against the real API's documented shape, records what it
//! accepted, and can be told to fail.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

use base64::Engine as _;
use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, Server, handler,
    http::StatusCode,
    listener::TcpAcceptor,
    post,
    web::{Data, Form, Json},
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves `route` on a free loopback port until the returned token is cancelled.
pub(crate) async fn serve(route: impl poem::Endpoint + 'static) -> (SocketAddr, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a fake");
    let address = listener.local_addr().expect("address");
    let acceptor = TcpAcceptor::from_tokio(listener).expect("acceptor");
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(route, async move { stopped.cancelled().await }, None)
            .await;
    });
    (address, stop)
}

/// The test service account (a throwaway key made for these tests).
const SERVICE_ACCOUNT: &str = include_str!("../fixtures/fcm-service-account.json");

/// How the fake FCM answers one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcmAnswer {
    /// 404 UNREGISTERED: the app was uninstalled.
    Unregistered,
    /// 400 INVALID_ARGUMENT about `message.token`.
    InvalidToken,
    /// 400 INVALID_ARGUMENT about the payload.
    InvalidPayload,
    /// 429 QUOTA_EXCEEDED with `Retry-After`.
    Quota { retry_after: u64 },
    /// 503 UNAVAILABLE.
    Unavailable,
}

/// Accepted messages kept whole: enough for a test to read bodies, while a
/// 100,000-send bench does not hold half a gigabyte of them (the counts by
/// notification id cover every send).
pub const KEPT_MESSAGES: usize = 1_000;

#[derive(Default)]
struct FcmState {
    project: String,
    access_token: String,
    tokens_issued: AtomicUsize,
    /// Sends accepted, by notification id.
    accepted: Mutex<HashMap<String, usize>>,
    /// Sends accepted in all (the serial of the next message id).
    accepted_total: AtomicUsize,
    /// The first [`KEPT_MESSAGES`] messages accepted, in order.
    messages: Mutex<Vec<Value>>,
    /// Requests that broke the documented shape (a test asserts it stays empty).
    shape_errors: Mutex<Vec<String>>,
    /// Answers for particular device tokens, every time.
    by_token: Mutex<HashMap<String, FcmAnswer>>,
    /// Answers for the next sends, whatever their token.
    next: Mutex<VecDeque<FcmAnswer>>,
}

/// A fake FCM HTTP v1 endpoint with its OAuth token endpoint.
pub struct FakeFcm {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A service-account key file whose `token_uri` points here.
    pub credentials_file: PathBuf,
    state: Arc<FcmState>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl FakeFcm {
    /// Starts the fake.
    pub async fn start() -> Self {
        let state = Arc::new(FcmState {
            project: "petbridge-test".into(),
            access_token: format!("ya29.fake-{}", uuid::Uuid::new_v4().simple()),
            ..FcmState::default()
        });
        let route = Route::new().at("/token", post(fcm_token)).at("/v1/*path", post(fcm_send)).data(state.clone());
        let (address, stop) = serve(route).await;
        let base = format!("http://{address}");
        let mut account: Value = serde_json::from_str(SERVICE_ACCOUNT).expect("fixture parses");
        account["token_uri"] = Value::String(format!("{base}/token"));
        let dir = tempfile::tempdir().expect("temp dir");
        let credentials_file = dir.path().join("service-account.json");
        std::fs::write(&credentials_file, account.to_string()).expect("write the key file");
        Self { base, credentials_file, state, stop, _dir: dir }
    }

    /// Points a server's settings at this fake.
    pub fn configure(&self, settings: &mut petbridge::Settings) {
        settings.push.provider = "fcm".into();
        settings.push.fcm.base_url = self.base.clone();
        settings.push.fcm.credentials_file = Some(self.credentials_file.to_string_lossy().into_owned());
        settings.push.fcm.project_id = None;
    }

    /// The environment a `petbridge` process needs to send here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PETBRIDGE__PUSH__PROVIDER", "fcm".into()),
            ("PETBRIDGE__PUSH__FCM__BASE_URL", self.base.clone()),
            ("PETBRIDGE__PUSH__FCM__CREDENTIALS_FILE", self.credentials_file.to_string_lossy().into_owned()),
        ]
    }

    /// Answers every send to `token` with `answer`.
    pub fn answer_for_token(&self, token: &str, answer: FcmAnswer) {
        lock(&self.state.by_token).insert(token.to_owned(), answer);
    }

    /// Answers the next sends, whatever their token, with `answers` in order.
    pub fn answer_next(&self, answers: impl IntoIterator<Item = FcmAnswer>) {
        lock(&self.state.next).extend(answers);
    }

    /// How many times a notification id was accepted.
    pub fn accepted(&self, notification_id: &str) -> usize {
        lock(&self.state.accepted).get(notification_id).copied().unwrap_or(0)
    }

    /// Accepted sends by notification id.
    pub fn accepted_counts(&self) -> HashMap<String, usize> {
        lock(&self.state.accepted).clone()
    }

    /// The accepted messages, whole, up to the first [`KEPT_MESSAGES`].
    pub fn messages(&self) -> Vec<Value> {
        lock(&self.state.messages).clone()
    }

    /// Requests that broke the documented shape.
    pub fn shape_errors(&self) -> Vec<String> {
        lock(&self.state.shape_errors).clone()
    }

    /// How many access tokens were handed out.
    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// Messages accepted so far, all notifications together.
    pub fn accepted_total(&self) -> usize {
        self.state.accepted_total.load(Ordering::SeqCst)
    }

    /// The access token it issues and expects (a bare client's shortcut).
    pub fn access_token(&self) -> &str {
        &self.state.access_token
    }

    /// The Firebase project it serves.
    pub fn project(&self) -> &str {
        &self.state.project
    }
}

impl Drop for FakeFcm {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn fcm_error(status: StatusCode, code: &str, field: Option<&str>) -> Response {
    let mut details =
        vec![json!({ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code })];
    if let Some(field) = field {
        details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{ "field": field, "description": "Invalid value" }]
        }));
    }
    let grpc_status = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "UNAVAILABLE",
    };
    let body =
        json!({ "error": { "code": status.as_u16(), "message": code, "status": grpc_status, "details": details } });
    (status, Json(body)).into_response()
}

fn base64url(part: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

/// Checks the JWT bearer grant as Google's token endpoint would: RS256,
/// signed by the service account's key, for the FCM scope and this audience.
fn check_assertion(assertion: &str, audience: &str) -> Result<(), String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return Err("not a JWT".into()) };
    let header: Value = serde_json::from_slice(&base64url(header).ok_or("header is not base64url")?)
        .map_err(|_| "header is not JSON")?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {} is not RS256", header["alg"]));
    }
    let claims: Value = serde_json::from_slice(&base64url(claims).ok_or("claims are not base64url")?)
        .map_err(|_| "claims are not JSON")?;
    let account: Value = serde_json::from_str(SERVICE_ACCOUNT).map_err(|e| e.to_string())?;
    if claims["iss"] != account["client_email"] {
        return Err(format!("iss {} is not the service account", claims["iss"]));
    }
    if claims["aud"] != audience {
        return Err(format!("aud {} is not {audience}", claims["aud"]));
    }
    let scope = claims["scope"].as_str().unwrap_or_default();
    if !scope.split(' ').any(|s| s == "https://www.googleapis.com/auth/firebase.messaging") {
        return Err(format!("scope {scope} lacks firebase.messaging"));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err("no iat/exp".into());
    };
    if exp <= iat || exp - iat > 3600 {
        return Err("exp must be within an hour of iat".into());
    }
    let pem = account["private_key"].as_str().unwrap_or_default();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(der).map_err(|e| e.to_string())?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| e.to_string())?;
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        ring::signature::KeyPair::public_key(&pair).as_ref().to_vec(),
    );
    let signed = format!("{}.{}", parts[0], parts[1]);
    public
        .verify(signed.as_bytes(), &base64url(signature).ok_or("signature is not base64url")?)
        .map_err(|_| "bad signature".to_owned())
}

#[handler]
fn fcm_token(request: &Request, Form(form): Form<HashMap<String, String>>, state: Data<&Arc<FcmState>>) -> Response {
    let audience = format!("http://{}/token", request.header("host").unwrap_or_default());
    let grant_ok = form.get("grant_type").map(String::as_str) == Some("urn:ietf:params:oauth:grant-type:jwt-bearer");
    let checked = if grant_ok {
        check_assertion(form.get("assertion").map(String::as_str).unwrap_or_default(), &audience)
    } else {
        Err(format!("grant_type {:?}", form.get("grant_type")))
    };
    if let Err(why) = checked {
        lock(&state.shape_errors).push(format!("token request: {why}"));
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant", "error_description": why })))
            .into_response();
    }
    state.tokens_issued.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "access_token": state.access_token, "expires_in": 3599, "token_type": "Bearer" })).into_response()
}

/// What the v1 API requires of a message; `Err` says what is wrong.
fn check_message(body: &Value) -> Result<(String, String), String> {
    let message = body["message"].as_object().ok_or("no message object")?;
    let targets: Vec<&str> =
        ["token", "fid", "topic", "condition"].into_iter().filter(|k| message.contains_key(*k)).collect();
    if targets.len() != 1 {
        return Err(format!("exactly one target expected, got {targets:?}"));
    }
    let device = message[targets[0]].as_str().ok_or("the target is not a string")?.to_owned();
    if let Some(notification) = message.get("notification") {
        for key in ["title", "body", "image"] {
            if notification.get(key).is_some_and(|v| !v.is_string()) {
                return Err(format!("notification.{key} is not a string"));
            }
        }
    }
    let data = message.get("data").and_then(Value::as_object).ok_or("no data map")?;
    if let Some((key, _)) = data.iter().find(|(_, v)| !v.is_string()) {
        return Err(format!("data.{key} is not a string"));
    }
    let id = data.get("notification_id").and_then(Value::as_str).ok_or("no data.notification_id")?.to_owned();
    if let Some(android) = message.get("android") {
        if let Some(priority) = android.get("priority")
            && !matches!(priority.as_str(), Some("NORMAL" | "HIGH"))
        {
            return Err(format!("android.priority {priority}"));
        }
        if let Some(ttl) = android.get("ttl") {
            let text = ttl.as_str().unwrap_or_default();
            let seconds = text.strip_suffix('s').unwrap_or("x");
            if seconds.parse::<f64>().is_err() {
                return Err(format!("android.ttl {ttl} is not a duration like \"3600s\""));
            }
        }
    }
    Ok((device, id))
}

#[handler]
fn fcm_send(request: &Request, body: Json<Value>, state: Data<&Arc<FcmState>>) -> Response {
    let expected_path = format!("/v1/projects/{}/messages:send", state.project);
    if request.uri().path() != expected_path {
        lock(&state.shape_errors).push(format!("path {}", request.uri().path()));
        return fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", None);
    }
    let authorized = request.header("authorization") == Some(&format!("Bearer {}", state.access_token));
    if !authorized {
        lock(&state.shape_errors).push("missing or wrong bearer token".into());
        return fcm_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None);
    }
    let (device, id) = match check_message(&body) {
        Ok(found) => found,
        Err(why) => {
            lock(&state.shape_errors).push(why);
            return fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", Some("message"));
        }
    };
    let answer = lock(&state.by_token).get(&device).cloned().or_else(|| lock(&state.next).pop_front());
    match answer {
        Some(FcmAnswer::Unregistered) => fcm_error(StatusCode::NOT_FOUND, "UNREGISTERED", None),
        Some(FcmAnswer::InvalidToken) => fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", Some("message.token")),
        Some(FcmAnswer::InvalidPayload) => {
            fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", Some("message.notification.image"))
        }
        Some(FcmAnswer::Quota { retry_after }) => {
            let mut response = fcm_error(StatusCode::TOO_MANY_REQUESTS, "QUOTA_EXCEEDED", None);
            if let Ok(value) = retry_after.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
            response
        }
        Some(FcmAnswer::Unavailable) => fcm_error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", None),
        None => {
            let mut accepted = lock(&state.accepted);
            let count = accepted.entry(id).or_default();
            *count += 1;
            drop(accepted);
            let serial = state.accepted_total.fetch_add(1, Ordering::SeqCst) + 1;
            let mut kept = lock(&state.messages);
            if kept.len() < KEPT_MESSAGES {
                kept.push(body.0);
            }
            drop(kept);
            Json(json!({ "name": format!("projects/{}/messages/{serial}", state.project) })).into_response()
        }
    }
}

/// How the fake SMS provider answers one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsAnswer {
    /// 400, code 21610: the number unsubscribed with the carrier.
    OptedOut,
}

#[derive(Default)]
struct SmsState {
    account_sid: String,
    auth_token: String,
    /// Texts accepted per second per sender; one more is answered 429.
    per_second: usize,
    /// Accepted texts: (from, to, body).
    texts: Mutex<Vec<(String, String, String)>>,
    /// When each sender's recent texts arrived.
    recent: Mutex<HashMap<String, VecDeque<std::time::Instant>>>,
    refused_for_rate: AtomicUsize,
    shape_errors: Mutex<Vec<String>>,
    by_to: Mutex<HashMap<String, SmsAnswer>>,
}

/// A fake Twilio-style Messages API.
pub struct FakeSms {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The account it accepts.
    pub account_sid: String,
    /// The account's secret.
    pub auth_token: String,
    state: Arc<SmsState>,
    stop: CancellationToken,
}

impl FakeSms {
    /// Starts the fake, accepting `per_second` texts per sender number.
    pub async fn start(per_second: usize) -> Self {
        let state = Arc::new(SmsState {
            account_sid: format!("AC{}", uuid::Uuid::new_v4().simple()),
            auth_token: format!("token-{}", uuid::Uuid::new_v4().simple()),
            per_second,
            ..SmsState::default()
        });
        let route = Route::new().at("/2010-04-01/Accounts/:sid/Messages.json", post(sms_send)).data(state.clone());
        let (address, stop) = serve(route).await;
        Self {
            base: format!("http://{address}"),
            account_sid: state.account_sid.clone(),
            auth_token: state.auth_token.clone(),
            state,
            stop,
        }
    }

    /// Points a server's settings at this fake, pacing below its limit.
    pub fn configure(&self, settings: &mut petbridge::Settings, per_second: u32) {
        settings.sms.provider = "twilio".into();
        settings.sms.base_url = self.base.clone();
        settings.sms.account_sid = self.account_sid.clone();
        settings.sms.auth_token = Some(secrecy::SecretString::from(self.auth_token.clone()));
        settings.sms.per_second = per_second;
    }

    /// Answers every text to `to` with `answer`.
    pub fn answer_for(&self, to: &str, answer: SmsAnswer) {
        lock(&self.state.by_to).insert(to.to_owned(), answer);
    }

    /// The texts accepted: (from, to, body).
    pub fn texts(&self) -> Vec<(String, String, String)> {
        lock(&self.state.texts).clone()
    }

    /// Texts refused because a sender went over its rate.
    pub fn refused_for_rate(&self) -> usize {
        self.state.refused_for_rate.load(Ordering::SeqCst)
    }

    /// Requests that broke the documented shape.
    pub fn shape_errors(&self) -> Vec<String> {
        lock(&self.state.shape_errors).clone()
    }
}

impl Drop for FakeSms {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn sms_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({ "code": code, "message": message, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16() });
    (status, Json(body)).into_response()
}

fn e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|d| (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

#[handler]
fn sms_send(
    request: &Request,
    poem::web::Path(sid): poem::web::Path<String>,
    Form(form): Form<HashMap<String, String>>,
    state: Data<&Arc<SmsState>>,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", state.account_sid, state.auth_token))
    );
    if sid != state.account_sid || request.header("authorization") != Some(expected.as_str()) {
        lock(&state.shape_errors).push("wrong account or credentials".into());
        return sms_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let (to, from, body) = (field("To"), field("From"), field("Body"));
    let callback_ok = form.get("StatusCallback").is_some_and(|u| url::Url::parse(u).is_ok());
    if !e164(&to) || !e164(&from) || body.is_empty() || body.chars().count() > 1600 || !callback_ok {
        lock(&state.shape_errors).push(format!("bad text: {form:?}"));
        return sms_error(StatusCode::BAD_REQUEST, 21211, "Invalid parameters");
    }
    if lock(&state.by_to).get(&to) == Some(&SmsAnswer::OptedOut) {
        return sms_error(StatusCode::BAD_REQUEST, 21610, "Attempt to send to unsubscribed recipient");
    }
    {
        let now = std::time::Instant::now();
        let mut recent = lock(&state.recent);
        let times = recent.entry(from.clone()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1)) {
            times.pop_front();
        }
        if times.len() >= state.per_second {
            state.refused_for_rate.fetch_add(1, Ordering::SeqCst);
            return sms_error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
        }
        times.push_back(now);
    }
    let mut texts = lock(&state.texts);
    texts.push((from, to.clone(), body));
    let message_sid = format!("SM{:032}", texts.len());
    (StatusCode::CREATED, Json(json!({ "sid": message_sid, "status": "queued", "to": to }))).into_response()
}

/// An email the fake SMTP server accepted.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    /// The envelope sender (`MAIL FROM`).
    pub envelope_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub envelope_to: Vec<String>,
    /// The headers, names lower-cased, values unfolded.
    pub headers: Vec<(String, String)>,
    /// The body after the blank line (dot-unstuffed).
    pub body: String,
}

impl ReceivedEmail {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The parts of a `multipart/…` message (RFC 2046), bodies base64
    /// decoded where they say so.
    pub fn parts(&self) -> Vec<MailPart> {
        use base64::Engine;
        let Some(kind) = self.header("content-type") else { return Vec::new() };
        let Some(boundary) = kind.split(';').find_map(|p| p.trim().strip_prefix("boundary=")) else {
            return Vec::new();
        };
        let delimiter = format!("--{}", boundary.trim_matches('"'));
        let mut parts = Vec::new();
        for chunk in self.body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break; // the closing delimiter
            }
            // The body's lines end in \n here (see `parse_email`).
            let Some((head, body)) = chunk.trim_start_matches('\n').split_once("\n\n") else { continue };
            let part = MailPart { headers: unfold(head.split('\n')), body: Vec::new() };
            let body = if part.header("content-transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("base64")) {
                let text: String = body.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
            } else {
                body.trim_end_matches('\n').as_bytes().to_vec()
            };
            parts.push(MailPart { body, ..part });
        }
        parts
    }
}

/// One part of a multipart email.
#[derive(Debug, Clone)]
pub struct MailPart {
    /// Its headers, names lower-cased, values unfolded.
    pub headers: Vec<(String, String)>,
    /// Its body, decoded.
    pub body: Vec<u8>,
}

impl MailPart {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Header lines as (lower-cased name, value), folded lines joined (RFC 5322 §2.2.3).
fn unfold<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for raw in lines {
        if raw.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(raw.trim());
            }
        } else if let Some((name, value)) = raw.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    headers
}

/// What the fake SMTP server says to the next `RCPT TO`.
#[derive(Debug, Clone, Copy)]
pub enum SmtpAnswer {
    /// 451: try again later.
    Transient,
    /// 550: no such mailbox.
    NoMailbox,
}

#[derive(Default)]
struct SmtpState {
    emails: Mutex<Vec<ReceivedEmail>>,
    shape_errors: Mutex<Vec<String>>,
    next: Mutex<VecDeque<SmtpAnswer>>,
    by_rcpt: Mutex<HashMap<String, SmtpAnswer>>,
}

/// A fake SMTP server (RFC 5321, no TLS, for `email.security = "none"`):
/// it checks each message's headers against RFC 5322 and the
/// List-Unsubscribe rules of RFC 2369 and RFC 8058.
pub struct FakeSmtp {
    /// Its port on 127.0.0.1.
    pub port: u16,
    state: Arc<SmtpState>,
    stop: CancellationToken,
}

impl FakeSmtp {
    /// Starts the fake.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake SMTP server");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(SmtpState::default());
        let stop = CancellationToken::new();
        let (serving, stopped) = (state.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stopped.cancelled() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        tokio::spawn(smtp_session(stream, serving.clone()));
                    }
                }
            }
        });
        Self { port, state, stop }
    }

    /// Points a server's settings at this fake.
    pub fn configure(&self, settings: &mut petbridge::Settings) {
        settings.email.provider = "smtp".into();
        settings.email.host = "127.0.0.1".into();
        settings.email.port = self.port;
        settings.email.security = "none".into();
        settings.email.from = "Valley Vets <no-reply@valley.example>".into();
        settings.email.timeout_seconds = 5;
    }

    /// Answers the next `RCPT TO` with `answer`.
    pub fn answer_next(&self, answer: SmtpAnswer) {
        lock(&self.state.next).push_back(answer);
    }

    /// Answers every `RCPT TO` for `address` with `answer`.
    pub fn answer_for(&self, address: &str, answer: SmtpAnswer) {
        lock(&self.state.by_rcpt).insert(address.to_ascii_lowercase(), answer);
    }

    /// The emails accepted.
    pub fn emails(&self) -> Vec<ReceivedEmail> {
        lock(&self.state.emails).clone()
    }

    /// Messages that broke the documented shape.
    pub fn shape_errors(&self) -> Vec<String> {
        lock(&self.state.shape_errors).clone()
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn angle_address(argument: &str) -> Option<String> {
    let start = argument.find('<')?;
    let end = argument[start..].find('>')? + start;
    Some(argument[start + 1..end].to_owned())
}

async fn smtp_session(stream: tokio::net::TcpStream, state: Arc<SmtpState>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write.write_all(b"220 fake.smtp ESMTP ready\r\n").await.is_err() {
        return;
    }
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !line.ends_with("\r\n") {
            lock(&state.shape_errors).push(format!("command not ended by CRLF: {line:?}"));
        }
        let command = line.trim_end().to_owned();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let answer: String = match verb.as_str() {
            "EHLO" | "HELO" => "250-fake.smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into(),
            "MAIL" => match angle_address(&command) {
                Some(address) => {
                    from = Some(address);
                    to.clear();
                    "250 sender ok\r\n".into()
                }
                None => "501 syntax: MAIL FROM:<address>\r\n".into(),
            },
            "RCPT" if from.is_none() => "503 MAIL first\r\n".into(),
            "RCPT" => match angle_address(&command) {
                Some(address) => {
                    let planned = lock(&state.by_rcpt).get(&address.to_ascii_lowercase()).copied();
                    match planned.or_else(|| lock(&state.next).pop_front()) {
                        Some(SmtpAnswer::Transient) => "451 4.3.0 try again later\r\n".into(),
                        Some(SmtpAnswer::NoMailbox) => "550 5.1.1 no such mailbox\r\n".into(),
                        None => {
                            to.push(address);
                            "250 recipient ok\r\n".into()
                        }
                    }
                }
                None => "501 syntax: RCPT TO:<address>\r\n".into(),
            },
            "DATA" if to.is_empty() => "554 no valid recipients\r\n".into(),
            "DATA" => {
                if write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.is_err() {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let email = parse_email(from.take().unwrap_or_default(), std::mem::take(&mut to), &data);
                for problem in email_shape(&email) {
                    lock(&state.shape_errors).push(problem);
                }
                lock(&state.emails).push(email);
                "250 2.0.0 queued\r\n".into()
            }
            "RSET" => {
                from = None;
                to.clear();
                "250 reset\r\n".into()
            }
            "NOOP" => "250 ok\r\n".into(),
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "502 command not implemented\r\n".into(),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn parse_email(envelope_from: String, envelope_to: Vec<String>, data: &str) -> ReceivedEmail {
    let (head, body) = data.split_once("\r\n\r\n").unwrap_or((data, ""));
    let headers = unfold(head.split("\r\n"));
    let quoted =
        headers.iter().any(|(n, v)| n == "content-transfer-encoding" && v.eq_ignore_ascii_case("quoted-printable"));
    let body = if quoted { unquote(body) } else { body.to_owned() };
    ReceivedEmail { envelope_from, envelope_to, headers, body: body.replace("\r\n", "\n") }
}

/// Decodes quoted-printable (RFC 2045 §6.7): soft line breaks and `=XX` bytes.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What RFC 5322, RFC 2369 and RFC 8058 ask of a message we send.
fn email_shape(email: &ReceivedEmail) -> Vec<String> {
    let mut problems = Vec::new();
    for required in ["from", "to", "subject", "date", "message-id"] {
        if email.header(required).is_none() {
            problems.push(format!("no {required} header"));
        }
    }
    if let Some(to) = email.header("to") {
        for rcpt in &email.envelope_to {
            if !to.to_ascii_lowercase().contains(&rcpt.to_ascii_lowercase()) {
                problems.push(format!("envelope recipient {rcpt} is not in To: {to}"));
            }
        }
    }
    if let Some(id) = email.header("message-id")
        && !(id.starts_with('<') && id.ends_with('>') && id.contains('@'))
    {
        problems.push(format!("Message-ID is not <left@right>: {id}"));
    }
    match (email.header("list-unsubscribe"), email.header("list-unsubscribe-post")) {
        (Some(list), post) => {
            if !(list.starts_with("<http") && list.ends_with('>')) {
                problems.push(format!("List-Unsubscribe is not <http(s) URL>: {list}"));
            }
            if post != Some("List-Unsubscribe=One-Click") {
                problems.push(format!("List-Unsubscribe-Post must be List-Unsubscribe=One-Click, not {post:?}"));
            }
        }
        (None, Some(_)) => problems.push("List-Unsubscribe-Post without List-Unsubscribe".into()),
        (None, None) => {}
    }
    problems
}
