//! The test harness: `spawn_app()` builds the real server on port 0 with its
//! own database (a temporary SQLite file, or a fresh PostgreSQL database when
//! `TEST_DATABASE_URL` is set) and its own Redis key prefix (`TEST_REDIS_URL`),
//! with a test clock. Helpers drive it over HTTP, websockets and a browser.
//!
//! Tests never sleep to synchronise: they wait on the bound listener and on
//! state they can observe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod card_scan;
pub mod fake_stripe;
pub mod fakes;
pub mod pictures;
pub mod services;
pub mod ws;

use std::{net::SocketAddr, sync::Arc};

use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Actor, Origin, Platform, Scope,
    db::entities::delivery,
    kernel::{permissions::SecurityLevel, practice::Practice},
    ports::TestClock,
    practices::{self, NewPractice},
    staff::accounts::{self, NewStaff},
};
use petbridge_workers::{DeliveryWorker, Providers, StepOutcome};
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use services::{TestDatabase, poppler, redis_url};

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server and the handles a test needs.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bound address.
    pub address: SocketAddr,
    /// The server's database, ports and policies.
    pub platform: Platform,
    /// The server's clock; move it to test time rules.
    pub clock: TestClock,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The settings the server was built with.
    pub settings: Settings,
    /// What the first start printed, when the settings asked for the demo practice.
    pub first_login: Option<petbridge::bootstrap::FirstLogin>,
    /// The delivery providers the settings named.
    pub providers: Providers,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _database: Arc<TestDatabase>,
}

/// `minutes` after `base`, as the APIs write times (RFC 3339).
pub fn at(base: chrono::DateTime<chrono::Utc>, minutes: i64) -> String {
    (base + chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// Installs the TLS provider once per test process, and the log the card
/// sweep reads when one runs ([`card_scan`]).
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    static LOG: std::sync::Once = std::sync::Once::new();
    LOG.call_once(|| {
        let Some(path) = card_scan::log_file() else { return };
        match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => {
                use tracing_subscriber::{EnvFilter, fmt, prelude::*};
                // Everything our crates say, as a production server at debug would.
                let filter = EnvFilter::new("info,petbridge=debug,sqlx=warn,sea_orm=warn");
                let layer = fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(file));
                let _ = tracing_subscriber::registry().with(filter).with(layer).try_init();
            }
            Err(err) => eprintln!("could not open {}: {err}", path.display()),
        }
    });
}

/// Settings for a test server: port 0, no demo practice, no embedded
/// workers (tests drain the outbox with [`TestApp::deliver_all`]).
pub async fn test_settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::defaults().expect("default settings");
    settings.server.host = "127.0.0.1".into();
    settings.server.port = 0;
    settings.server.shutdown_grace_seconds = 10;
    // Every answer the suite sees is held to its API document.
    settings.server.check_answers = true;
    settings.database.url = SecretString::from(database.url.clone());
    settings.database.max_connections = 5;
    settings.redis.url = redis_url().map(SecretString::from);
    settings.redis.key_prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    settings.storage.local_dir = database.dir.path().join("files").to_string_lossy().into_owned();
    settings.workers.embedded = false;
    settings.workers.dev_mailbox = database.dir.path().join("dev-mailbox").to_string_lossy().into_owned();
    settings.bootstrap.demo_practice = false;
    // Tests log in often from one address; the throttle has its own test.
    settings.sessions.login_attempts_per_minute = 10_000;
    settings
}

/// A server on its own fresh database.
pub async fn spawn_app() -> TestApp {
    init();
    let database = Arc::new(TestDatabase::create().await);
    let settings = test_settings(&database).await;
    spawn_with(settings, database).await
}

/// A server on its own fresh database that takes card payments through `stripe`.
pub async fn spawn_with_stripe(stripe: &fake_stripe::FakeStripe) -> TestApp {
    init();
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    stripe.configure(&mut settings);
    spawn_with(settings, database).await
}

/// A server with the given settings, on `database` (which may be shared
/// with another instance).
pub async fn spawn_with(settings: Settings, database: Arc<TestDatabase>) -> TestApp {
    init();
    let clock = TestClock::at(chrono::Utc::now());
    let options = Options { clock: Arc::new(clock.clone()), providers: None };
    let app = Application::build(settings.clone(), options).await.expect("the server builds");
    let address = app.address;
    let providers = app.providers.clone();
    let first_login = app.first_login.clone();
    let platform = app.platform.clone();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(async move { app.run_until_stopped().await });
    let base = format!("http://{address}");
    TestApp {
        base,
        address,
        platform,
        clock,
        client: client(),
        settings,
        first_login,
        providers,
        shutdown,
        server: Some(server),
        _database: database,
    }
}

/// The value of `<input type="hidden" name="NAME" value="…">` in a page.
pub fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} field in {page}")) + marker.len();
    page[start..].split('"').next().expect("a closing quote").to_owned()
}

/// The `pb_session` value a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("pb_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// A client that keeps cookies and shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    init();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client")
}

/// A practice and its administrator, created through the services.
pub struct PracticeFixture {
    /// The practice.
    pub practice: Practice,
    /// Its administrator's user name.
    pub admin: String,
}

impl TestApp {
    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's current time.
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use petbridge_domain::ports::Clock;
        self.clock.now()
    }

    /// The database this server uses (to share it with a second instance).
    pub fn database(&self) -> Arc<TestDatabase> {
        self._database.clone()
    }

    /// Creates a practice with an administrator `admin`.
    pub async fn practice(&self, code: &str) -> PracticeFixture {
        let practice = practices::create(
            &self.platform,
            NewPractice {
                slug: code.into(),
                name: format!("{code} Veterinary Clinic"),
                time_zone: "America/Denver".into(),
            },
        )
        .await
        .expect("practice");
        self.staff(&practice, "admin", SecurityLevel::Administrator).await;
        PracticeFixture { practice, admin: "admin".into() }
    }

    /// Creates a staff user with [`PASSWORD`].
    pub async fn staff(&self, practice: &Practice, username: &str, level: SecurityLevel) -> uuid::Uuid {
        accounts::create(
            &self.platform,
            Scope { practice_id: practice.id },
            &Actor::system("test"),
            &Origin::default(),
            NewStaff {
                username: username.into(),
                display_name: format!("{username} (test)"),
                email: Some(format!("{username}@{}.test", practice.slug)),
                level,
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("staff user")
        .id
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn login(&self, practice: &str, username: &str) -> String {
        let (status, body) = self.login_attempt(practice, username, PASSWORD).await;
        assert_eq!(status, 200, "login of {username}@{practice}: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Tries a staff login through the API; returns status and JSON body (or Null).
    pub async fn login_attempt(&self, practice: &str, username: &str, password: &str) -> (u16, Value) {
        let body = serde_json::json!({ "practice": practice, "username": username, "password": password });
        let response =
            self.client.post(self.url("/api/dashboard/v1/auth/login")).json(&body).send().await.expect("login");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// The code an authenticator app holding `secret` shows now (by the server's clock).
    pub fn totp_code(&self, secret: &str) -> String {
        let secret = totp_rs::Secret::try_from_base32(secret).expect("a base32 secret");
        let totp = totp_rs::Builder::new().with_secret(secret).with_account_name("test").build().expect("totp");
        totp.generate(u64::try_from(self.clock_now().timestamp()).expect("after 1970")).to_string()
    }

    /// A delivery by id.
    pub async fn delivery(&self, id: uuid::Uuid) -> delivery::Model {
        use sea_orm::EntityTrait;
        delivery::Entity::find_by_id(id).one(&self.platform.db).await.expect("read").expect("the delivery")
    }

    /// A second server instance on this one's database and Redis key
    /// prefix, as a deployment runs several.
    pub async fn second_instance(&self) -> TestApp {
        let mut settings = test_settings(&self.database()).await;
        settings.redis.key_prefix = self.settings.redis.key_prefix.clone();
        spawn_with(settings, self.database()).await
    }

    /// Fills in and posts the login page with `client` (which keeps the
    /// form's CSRF cookie), as a browser does; returns the answer.
    pub async fn submit_login(
        &self,
        client: &reqwest::Client,
        practice: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let form = client.get(self.url("/login")).send().await.expect("login page").text().await.expect("html");
        let csrf = hidden_field(&form, "csrf");
        client
            .post(self.url("/login"))
            .form(&[("practice", practice), ("username", username), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .expect("login post")
    }

    /// Logs in through the login page with a fresh client; returns the
    /// `pb_session` cookie value.
    pub async fn page_login(&self, practice: &str, username: &str) -> String {
        let response = self.submit_login(&client(), practice, username, PASSWORD).await;
        assert_eq!(response.status(), 303, "page login of {username}@{practice}");
        session_cookie(&response).expect("a session cookie")
    }

    /// A dashboard page as the browser holding the `pb_session` cookie
    /// `session` gets it; returns status and HTML.
    pub async fn page(&self, session: &str, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .header("cookie", format!("pb_session={session}"))
            .send()
            .await
            .expect("page request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("page body"))
    }

    /// What a dashboard form marked `data-api` does: the staff API call it
    /// makes with the page's session cookie and the CSRF token the page
    /// carries (`csrf`). Returns status and JSON answer.
    pub async fn page_api(
        &self,
        session: &str,
        csrf: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.url(&format!("/api/dashboard/v1{path}")))
            .header("cookie", format!("pb_session={session}"))
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
            .await
            .expect("page API request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Opens the dashboard's live socket with a session cookie and this site's Origin.
    pub async fn dashboard_socket(&self, session: &str) -> ws::WsClient {
        ws::WsClient::connect(
            &format!("ws://{}/ws/dashboard", self.address),
            &[("cookie", format!("pb_session={session}")), ("origin", self.base.clone())],
        )
        .await
        .expect("the dashboard socket opens")
    }

    /// A verified owner, signed up with `email`; returns the access token.
    pub async fn verified_owner(&self, practice: &str, email: &str) -> String {
        let tokens = self.sign_up(practice, email).await;
        self.verify_owner(email).await;
        tokens["access_token"].as_str().expect("access token").to_owned()
    }

    /// Opens the app's chat socket with a fresh one-time ticket.
    pub async fn app_socket(&self, access_token: &str) -> ws::WsClient {
        let (status, ticket) = self.app_call(reqwest::Method::POST, "/chat/tickets", Some(access_token), None).await;
        assert_eq!(status, 201, "ticket: {ticket}");
        let ticket = ticket["ticket"].as_str().expect("ticket");
        ws::WsClient::connect(&format!("ws://{}/ws/app?ticket={ticket}", self.address), &[])
            .await
            .expect("the app socket opens")
    }

    /// GET with a bearer token; returns status and JSON body (or Null).
    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).bearer_auth(token).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A sync API key for `practice`.
    pub async fn sync_key(&self, practice: &Practice) -> String {
        petbridge_domain::sync::create_key(
            &self.platform,
            Scope { practice_id: practice.id },
            &Actor::system("test"),
            &Origin::default(),
            "test agent",
        )
        .await
        .expect("sync key")
        .secret
    }

    /// Posts a sync batch with `key`; returns status and body.
    pub async fn sync(&self, key: &str, batch: &Value) -> (u16, Value) {
        let response =
            self.client.post(self.url("/api/sync/v1/batches")).bearer_auth(key).json(batch).send().await.expect("sync");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Calls the app API; returns status and JSON body (or Null).
    pub async fn app_call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, self.url(&format!("/api/app/v1{path}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("app request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Calls the staff API with a bearer token; returns status and JSON body (or Null).
    pub fn staff_call<'a>(
        &'a self,
        token: &'a str,
        method: reqwest::Method,
        path: impl Into<String>,
        body: Option<Value>,
    ) -> impl Future<Output = (u16, Value)> + 'a {
        let path = path.into();
        async move {
            let url = self.url(&format!("/api/dashboard/v1{path}"));
            let mut request = self.client.request(method, url).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("staff request");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
    }

    /// Posts to the staff API with a bearer token; returns status and JSON body (or Null).
    pub async fn staff_post(&self, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.staff_call(token, reqwest::Method::POST, path, body).await
    }

    /// Signs an owner up with [`PASSWORD`]; returns the token pair.
    pub async fn sign_up(&self, practice: &str, email: &str) -> Value {
        let body = serde_json::json!({
            "practice": practice, "email": email, "password": PASSWORD, "first_name": "Pat", "last_name": "Owner"
        });
        let (status, tokens) = self.app_call(reqwest::Method::POST, "/auth/sign-up", None, Some(body)).await;
        assert_eq!(status, 201, "sign-up of {email}: {tokens}");
        tokens
    }

    /// Logs an owner in with [`PASSWORD`]; returns status and body.
    pub async fn owner_login(&self, practice: &str, email: &str) -> (u16, Value) {
        let body = serde_json::json!({ "practice": practice, "email": email, "password": PASSWORD });
        self.app_call(reqwest::Method::POST, "/auth/login", None, Some(body)).await
    }

    /// The app account signed up with `email`.
    pub async fn owner_account(&self, email: &str) -> petbridge_domain::db::entities::owner_account::Model {
        use petbridge_domain::db::entities::owner_account;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        owner_account::Entity::find()
            .filter(owner_account::Column::Email.eq(email))
            .one(&self.platform.db)
            .await
            .expect("accounts")
            .unwrap_or_else(|| panic!("no app account for {email}"))
    }

    /// Every delivery to `recipient` (an email, a number, a device token), oldest first.
    pub async fn deliveries_to(&self, recipient: &str) -> Vec<petbridge_domain::db::entities::delivery::Model> {
        use petbridge_domain::db::entities::delivery;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        delivery::Entity::find()
            .filter(delivery::Column::Recipient.eq(recipient))
            .order_by_asc(delivery::Column::CreatedAt)
            .all(&self.platform.db)
            .await
            .expect("outbox")
    }

    /// What the development providers delivered to `recipient`, exactly as
    /// it would arrive (private links included), oldest first: the
    /// recipient's own mailbox, after every due delivery is sent.
    pub async fn mailbox(&self, recipient: &str) -> Vec<Value> {
        self.deliver_all().await;
        let mut messages = Vec::new();
        let Ok(mut files) = tokio::fs::read_dir(&self.settings.workers.dev_mailbox).await else { return messages };
        while let Some(file) = files.next_entry().await.expect("mailbox") {
            // Beside each message (`<id>.json`) lie the files it attaches.
            if file.path().extension().is_none_or(|extension| extension != "json") {
                continue;
            }
            let message: Value =
                serde_json::from_slice(&tokio::fs::read(file.path()).await.expect("a message")).expect("json");
            if message["recipient"] == recipient {
                messages.push(message);
            }
        }
        // The test clock may stand still: ids (UUIDv7) keep the order of queueing.
        let key = |m: &Value| (m["created_at"].as_str().unwrap_or_default().to_owned(), m["id"].to_string());
        messages.sort_by_key(key);
        messages
    }

    /// The token of the newest emailed link of `template` (`verify_email`,
    /// `reset_password`) sent to `email`, read from the recipient's mailbox.
    pub async fn emailed_token(&self, email: &str, template: &str) -> String {
        let messages = self.mailbox(email).await;
        let link = messages
            .iter()
            .rev()
            .find(|m| m["data"]["template"] == template)
            .and_then(|m| m["data"]["link"].as_str())
            .unwrap_or_else(|| panic!("no {template} email to {email}"));
        link.split("token=").nth(1).expect("a token in the link").to_owned()
    }

    /// Verifies an owner's email through the emailed link's token.
    pub async fn verify_owner(&self, email: &str) {
        let token = self.emailed_token(email, "verify_email").await;
        let (status, body) = self
            .app_call(reqwest::Method::POST, "/auth/verify-email", None, Some(serde_json::json!({ "token": token })))
            .await;
        assert_eq!(status, 204, "verify {email}: {body}");
    }

    /// Sends every due delivery through the server's providers (the dev
    /// ones unless the settings say otherwise) until none is left.
    pub async fn deliver_all(&self) -> StepOutcome {
        let worker = DeliveryWorker::new(self.platform.clone(), self.providers.clone(), 64, 64);
        let mut total = StepOutcome::default();
        loop {
            let step = worker.step().await.expect("delivery step");
            if step.is_idle() {
                return total;
            }
            total.add(step);
        }
    }

    /// Runs the timed jobs once (due campaigns, reminders) at the test clock's time.
    pub async fn run_jobs(&self) -> petbridge_workers::JobRun {
        petbridge_workers::Jobs::new(self.platform.clone()).step().await.expect("timed jobs")
    }

    /// Starts a graceful shutdown.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits for the server to stop (after [`TestApp::begin_shutdown`]).
    pub async fn stopped(&mut self) -> anyhow::Result<()> {
        match self.server.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
