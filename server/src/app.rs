//! `Application::build` wires settings into a running server: database,
//! migrations, bus, storage, workers, routes, listener. Tests build it on
//! port 0 with their own settings.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, anyhow};
use petbridge_domain::{
    Code, Platform,
    kernel::{caller::SessionPolicy, passwords::Passwords, throttle::LoginThrottle},
    ports::{
        Bus, Clock, InProcessBus, NoGateway, PaymentGateway, RedisBus, Storage, SystemClock,
        caches::{self, Caches},
        payments::stripe::{StripeConfig, StripeGateway},
        storage::S3Location,
    },
};
use petbridge_http::{
    ApiContract, BodyLimit, NoCardNumbers, Observe, documents::Published, problem_response, to_problem,
};
use petbridge_migrations::{Migrator, MigratorTrait};
use petbridge_workers::{Providers, StreamRedis, WorkerConfig, email, fcm, payment_hooks, sms};
use poem::{
    EndpointExt, IntoResponse, Response, Server, get, handler,
    listener::TcpAcceptor,
    middleware::{CatchPanic, CookieJarManager},
    web::{Data, Html, Json},
};
use poem_openapi::OpenApiService;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    bootstrap,
    settings::{Settings, redact_url},
    telemetry,
};

/// Listen backlog: bursts of reconnecting sockets must not wait for SYN retries.
const LISTEN_BACKLOG: u32 = 4096;

/// What a caller may vary beyond settings (tests pass a test clock).
#[derive(Clone)]
pub struct Options {
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// Delivery providers; `None` builds them from settings.
    pub providers: Option<Providers>,
}

impl Default for Options {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), providers: None }
    }
}

/// The delivery providers the settings name: development ones that only
/// record, or the real services.
pub fn providers(settings: &Settings) -> anyhow::Result<Providers> {
    let mut providers = Providers::dev_with_mailbox(&settings.workers.dev_mailbox);
    match settings.push.provider.as_str() {
        "dev" => {}
        "fcm" => {
            let fcm = &settings.push.fcm;
            let credentials_file = fcm
                .credentials_file
                .as_deref()
                .ok_or_else(|| anyhow!("push.provider is fcm but push.fcm.credentials_file is not set"))?;
            providers.push = Arc::new(fcm::FcmProvider::new(&fcm::FcmConfig {
                base_url: fcm.base_url.clone(),
                credentials_file: credentials_file.into(),
                project_id: fcm.project_id.clone(),
                timeout: Duration::from_secs(fcm.timeout_seconds.max(1)),
            })?);
        }
        other => return Err(anyhow!("push.provider must be dev or fcm, not {other}")),
    }
    match settings.sms.provider.as_str() {
        "dev" => {}
        "twilio" => {
            let sms = &settings.sms;
            let auth_token = sms
                .auth_token
                .clone()
                .ok_or_else(|| anyhow!("sms.provider is twilio but sms.auth_token is not set"))?;
            providers.sms = Arc::new(sms::SmsProvider::new(sms::SmsConfig {
                base_url: sms.base_url.clone(),
                account_sid: sms.account_sid.clone(),
                auth_token,
                default_from: sms.default_from.clone(),
                status_callback: format!("{}/hooks/sms/status", settings.server.public_url.trim_end_matches('/')),
                per_second: sms.per_second,
            })?);
        }
        other => return Err(anyhow!("sms.provider must be dev or twilio, not {other}")),
    }
    match settings.email.provider.as_str() {
        "dev" => {}
        "smtp" => {
            let email = &settings.email;
            providers.email = Arc::new(email::EmailProvider::new(&email::EmailConfig {
                host: email.host.clone(),
                port: email.port,
                security: email::Security::parse(&email.security)?,
                username: email.username.clone(),
                password: email.password.clone(),
                from: email.from.clone(),
                pool_size: email.pool_size,
                timeout: Duration::from_secs(email.timeout_seconds.max(1)),
            })?);
        }
        other => return Err(anyhow!("email.provider must be dev or smtp, not {other}")),
    }
    Ok(providers)
}

/// Starts this process's delivery workers (on the Redis streams when Redis
/// is configured) until `shutdown`.
pub async fn start_workers(
    settings: &Settings,
    platform: &Platform,
    providers: Providers,
    shutdown: CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let redis = match &settings.redis.url {
        Some(url) => Some(StreamRedis {
            client: redis::Client::open(url.expose_secret())
                .map_err(|err| anyhow!("the Redis URL is not valid: {err}"))?,
            key_prefix: settings.redis.key_prefix.clone(),
        }),
        None => None,
    };
    let workers = &settings.workers;
    let config = WorkerConfig {
        batch: workers.batch.max(1),
        in_flight: workers.in_flight.max(1),
        relays: workers.relays,
        readers: workers.readers.max(1),
        poll: Duration::from_millis(workers.poll_interval_ms.max(10)),
        claim_idle: Duration::from_millis(workers.claim_idle_ms.max(100)),
        block: Duration::from_millis(workers.block_ms.max(10)),
        jobs_interval: Duration::from_millis(workers.jobs_interval_ms.max(100)),
    };
    petbridge_workers::spawn(platform.clone(), providers, redis, config, shutdown)
        .await
        .map_err(|err| anyhow!("cannot start the delivery workers: {err}"))
}

/// A built server, listening, not yet serving.
pub struct Application {
    /// The bound address.
    pub address: std::net::SocketAddr,
    /// The database, ports and policies, shared with handlers and workers.
    pub platform: Platform,
    /// Set on the very first start: how to log in (also printed).
    pub first_login: Option<bootstrap::FirstLogin>,
    /// The delivery providers of this process.
    pub providers: Providers,
    settings: Settings,
    acceptor: TcpAcceptor,
    routes: poem::endpoint::BoxEndpoint<'static, Response>,
    shutdown: CancellationToken,
    workers: Vec<JoinHandle<()>>,
}

/// Connects to the database named in settings, within the connect timeout,
/// with an error that says what was tried and what to fix.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    connect_pool(settings, settings.database.max_connections, None).await
}

/// What the SQLite writer keeps in memory (KiB): a row claimed for the
/// streams is recorded several batches later, and in SQLite's default 2 MiB
/// its pages had been dropped by then and were read back from the WAL.
const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// The connection for [`Platform::writer`]: a pool of one on SQLite, the
/// main pool itself on PostgreSQL.
async fn connect_writer(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<DatabaseConnection> {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => connect_pool(settings, 1, Some(WRITER_CACHE_KIB)).await,
        _ => Ok(db.clone()),
    }
}

/// A pool of `max_connections`; on SQLite each connection caches `cache_kib`
/// of pages, or SQLite's default.
async fn connect_pool(
    settings: &Settings,
    max_connections: u32,
    cache_kib: Option<u32>,
) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database.url.expose_secret();
    let shown = redact_url(&settings.database.url);
    let timeout = Duration::from_secs(settings.database.connect_timeout_seconds.max(1));
    let sqlite_dir = sqlite_file(url).and_then(|path| std::path::Path::new(path).parent());
    if let Some(dir) = sqlite_dir.filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("cannot create the directory {} for the SQLite database {shown}", dir.display())
        })?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .sqlx_logging(false)
        // A local file cannot hang up, and a pooled PostgreSQL connection in
        // use is known good: ping only those idle long enough for a proxy or
        // the server to have dropped them, instead of a round trip per query.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(move |opts| {
            let pragmas = crate::sqlite_checkpoints::PRAGMAS;
            let opts = match cache_kib {
                Some(kib) => opts.pragma("cache_size", format!("-{kib}")),
                None => opts,
            };
            pragmas.iter().fold(
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Rows wait for the caller in a bounded channel: with the
                    // default 50, a claim returning a batch of 1,024 rows woke
                    // the database thread once for every row taken after the 50th.
                    .row_buffer_size(4096),
                |opts, (pragma, value)| opts.pragma(*pragma, *value),
            )
        })
        .map_sqlx_sqlite_pool_opts(|pool| pool.after_connect(|conn, _| Box::pin(crate::sqlite_wait::install(conn))));
    let hint = "check DATABASE_URL (or PETBRIDGE__DATABASE__URL): sqlite://path/to/file.db?mode=rwc or postgres://user:password@host:5432/database";
    match tokio::time::timeout(timeout + Duration::from_secs(1), Database::connect(options)).await {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(err)) => Err(anyhow!("cannot connect to the database at {shown}: {err}; {hint}")),
        Err(_) => Err(anyhow!("no answer from the database at {shown} within {}s; {hint}", timeout.as_secs())),
    }
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Connects the bus: Redis when a URL is set, in-process otherwise.
pub async fn connect_bus(settings: &Settings) -> anyhow::Result<Arc<dyn Bus>> {
    let Some(url) = &settings.redis.url else {
        return Ok(Arc::new(InProcessBus::new()));
    };
    let shown = redact_url(url);
    let hint =
        "check REDIS_URL (or PETBRIDGE__REDIS__URL), e.g. redis://127.0.0.1:6379, or unset it to run on one process";
    let client = redis::Client::open(url.expose_secret())
        .map_err(|err| anyhow!("the Redis URL {shown} is not valid: {err}; {hint}"))?;
    let timeout = Duration::from_secs(settings.database.connect_timeout_seconds.max(1));
    let bus = match tokio::time::timeout(timeout, RedisBus::connect(client, &settings.redis.key_prefix)).await {
        Ok(Ok(bus)) => bus,
        Ok(Err(err)) => return Err(anyhow!("cannot connect to Redis at {shown}: {err}; {hint}")),
        Err(_) => return Err(anyhow!("no answer from Redis at {shown} within {}s; {hint}", timeout.as_secs())),
    };
    bus.ping().await.map_err(|err| anyhow!("Redis at {shown} does not answer PING: {err}; {hint}"))?;
    Ok(Arc::new(bus))
}

fn storage(settings: &Settings) -> anyhow::Result<Storage> {
    let storage = match settings.storage.kind.as_str() {
        "local" => Storage::local(std::path::Path::new(&settings.storage.local_dir)),
        "s3" => {
            let s3 = settings
                .storage
                .s3
                .as_ref()
                .ok_or_else(|| anyhow!("storage.kind is s3 but [storage.s3] is missing"))?;
            Storage::s3(&S3Location {
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                endpoint: s3.endpoint.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.expose_secret().to_owned(),
            })
        }
        other => return Err(anyhow!("storage.kind must be local or s3, not {other}")),
    };
    storage.map_err(|err| anyhow!("cannot set up file storage: {err}"))
}

/// The payment gateway the settings name.
pub fn payment_gateway(settings: &Settings) -> anyhow::Result<Arc<dyn PaymentGateway>> {
    let payments = &settings.payments;
    match payments.provider.as_str() {
        "none" => Ok(Arc::new(NoGateway)),
        "stripe" => {
            let secret_key = payments
                .secret_key
                .clone()
                .ok_or_else(|| anyhow!("payments.provider is stripe but payments.secret_key is not set"))?;
            let gateway = StripeGateway::new(StripeConfig {
                base_url: payments.base_url.clone(),
                secret_key,
                publishable_key: payments.publishable_key.clone(),
                script_url: payments.script_url.clone(),
                timeout: Duration::from_secs(payments.timeout_seconds.max(1)),
            })?;
            Ok(Arc::new(gateway))
        }
        other => Err(anyhow!("payments.provider must be none or stripe, not {other}")),
    }
}

/// What to warn of when channels use the development providers on a
/// deployment that is not the embedded demo (PostgreSQL, or a public
/// address off this machine): nothing on those channels reaches anyone.
pub fn dev_delivery_warning(settings: &Settings) -> Option<String> {
    let dev: Vec<&str> =
        [("push", &settings.push.provider), ("texts", &settings.sms.provider), ("email", &settings.email.provider)]
            .into_iter()
            .filter(|(_, provider)| provider.as_str() == "dev")
            .map(|(channel, _)| channel)
            .collect();
    let postgres = settings.database.url.expose_secret().starts_with("postgres");
    let public = url::Url::parse(&settings.server.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1"));
    (!dev.is_empty() && (postgres || public)).then(|| {
        format!(
            "Development delivery providers for {}: nothing on those channels is really sent to anyone \
             (set push.provider, sms.provider and email.provider).",
            dev.join(", ")
        )
    })
}

/// Connects everything a server or worker process needs and applies migrations.
///
/// Also starts following the cache invalidations other instances announce.
pub async fn platform(settings: &Settings, options: &Options) -> anyhow::Result<Platform> {
    let db = connect_database(settings).await?;
    Migrator::up(&db, None).await.context("applying database migrations")?;
    crate::sqlite_checkpoints::start(&db);
    let writer = connect_writer(settings, &db).await?;
    let parallel = std::thread::available_parallelism().map_or(2, usize::from);
    let platform = Platform {
        db,
        writer,
        clock: options.clock.clone(),
        bus: connect_bus(settings).await?,
        storage: storage(settings)?,
        payments: payment_gateway(settings)?,
        passwords: Passwords::new(parallel).map_err(|err| anyhow!("password hasher: {err}"))?,
        sessions: SessionPolicy {
            idle: chrono::Duration::minutes(settings.sessions.idle_minutes),
            absolute: chrono::Duration::hours(settings.sessions.absolute_hours),
        },
        caches: Caches::default(),
        login_throttle: LoginThrottle::per_minute(settings.sessions.login_attempts_per_minute),
        public_url: settings.server.public_url.clone(),
        dev_delivery_warning: dev_delivery_warning(settings),
    };
    if let Some(warning) = &platform.dev_delivery_warning {
        tracing::warn!("{warning}");
    }
    let announcements = platform.bus.subscribe(caches::TOPIC, petbridge_domain::ports::bus::BUSY_TOPIC);
    tokio::spawn(platform.caches.clone().follow(announcements));
    Ok(platform)
}

async fn bind(address: &str) -> anyhow::Result<(TcpAcceptor, std::net::SocketAddr)> {
    let resolved = tokio::net::lookup_host(address)
        .await
        .with_context(|| format!("cannot resolve {address}"))?
        .next()
        .ok_or_else(|| anyhow!("{address} resolves to nothing"))?;
    let socket = if resolved.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(resolved).with_context(|| format!("cannot listen on {address}: is another server running there?"))?;
    let listener = socket.listen(LISTEN_BACKLOG)?;
    let local = listener.local_addr()?;
    Ok((TcpAcceptor::from_tokio(listener)?, local))
}

impl Application {
    /// Connects, migrates, bootstraps, and binds the listener.
    pub async fn build(settings: Settings, options: Options) -> anyhow::Result<Self> {
        // Install the metrics recorder before the first request is counted.
        telemetry::metrics();
        let platform = platform(&settings, &options).await?;
        let first_login =
            if settings.bootstrap.demo_practice { bootstrap::first_start(&platform).await? } else { None };
        if let Some(login) = &first_login {
            login.print(&settings);
        }
        let (acceptor, address) = bind(&settings.listen_address()).await?;
        let shutdown = CancellationToken::new();
        let providers = match options.providers {
            Some(providers) => providers,
            None => providers(&settings)?,
        };
        let workers = if settings.workers.embedded {
            start_workers(&settings, &platform, providers.clone(), shutdown.child_token()).await?
        } else {
            Vec::new()
        };
        let routes = routes(&settings, &platform);
        Ok(Self { address, platform, first_login, providers, settings, acceptor, routes, shutdown, workers })
    }

    /// Cancel this to stop the server gracefully (in-flight requests finish).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then lets in-flight
    /// requests finish (up to the grace period) and stops the workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.settings.server.shutdown_grace_seconds);
        let shutdown = self.shutdown.clone();
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.routes, async move { shutdown.cancelled().await }, Some(grace))
            .await;
        self.shutdown.cancel();
        for worker in self.workers {
            let _ = worker.await;
        }
        result.context("the HTTP server failed")
    }
}

/// The error codes section every API document carries: each code an answer
/// may hold, its status and what it means (the one table in `Code`).
fn error_codes() -> String {
    let mut text = String::from(
        "\n\n## Error codes\n\nEvery answer that is not a success is `application/problem+json` with one of \
         these in `code`:\n\n| code | status | meaning |\n|---|---|---|\n",
    );
    for code in petbridge_domain::Code::ALL {
        text.push_str(&format!("| `{code}` | {} | {} |\n", code.kind().status(), code.message()));
    }
    text
}

/// Every route of the server.
fn routes(settings: &Settings, platform: &Platform) -> poem::endpoint::BoxEndpoint<'static, Response> {
    let public = settings.server.public_url.trim_end_matches('/');
    let app_api = OpenApiService::new(
        petbridge_mobile_api::routes::app_api(),
        "Petbridge owner app API",
        petbridge_mobile_api::API_VERSION,
    )
        .description(format!(
            "The API behind the practice's branded pet-owner app. Errors are application/problem+json with a stable `code`.{}",
            error_codes()
        ))
        .server(format!("{public}/api/app/v1"));
    let dashboard_api = OpenApiService::new(
        petbridge_dashboard::routes::staff_api(),
        "Petbridge dashboard API",
        petbridge_dashboard::API_VERSION,
    )
    .description(
        "What practice staff do in the dashboard. Errors are application/problem+json with a stable `code`. \
         An operation a staff member's level does not allow answers 403 `forbidden`; it succeeds with a manager's \
         credentials for that one action in the `X-Override-Username` and `X-Override-Password` headers, \
         and `X-Override-Code` when the manager uses a second factor (a manager override, logged with both \
         names, counted against the manager's account as a login is: wrong ones lock it). A refused override \
         answers 403 `override_refused`, whatever was wrong."
            .to_owned()
            + &error_codes(),
    )
    .server(format!("{public}/api/dashboard/v1"));
    let sync_api = OpenApiService::new(
        petbridge_dashboard::routes::sync_api(),
        "Petbridge PMS sync API",
        petbridge_dashboard::API_VERSION,
    )
    .description(format!("For the sync agent that runs beside the practice management software.{}", error_codes()))
    .server(format!("{public}/api/sync/v1"));

    let app_doc = Published::of(&app_api, false);
    let dashboard_doc = Published::of(&dashboard_api, true);
    let sync_doc = Published::of(&sync_api, false);
    // The documents' promises held to: body types and text before any
    // handler, `Allow` on a 405, and (where asked) every answer.
    let contract = ApiContract::default()
        .checking_answers(settings.server.check_answers)
        .with_api("/api/app/v1", &app_doc.document, true)
        .with_api("/api/dashboard/v1", &dashboard_doc.document, true)
        .with_api("/api/sync/v1", &sync_doc.document, false);
    let route = petbridge_dashboard::routes::pages()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .at("/docs", get(docs_index))
        .at("/ws/app", get(petbridge_mobile_api::routes::app_socket))
        .at("/api/app/v1/openapi.json", app_doc.json_endpoint())
        .nest("/api/app/v1/docs", app_doc.ui_endpoint())
        .nest("/api/app/v1", app_api)
        .at("/api/dashboard/v1/openapi.json", dashboard_doc.json_endpoint())
        .nest("/api/dashboard/v1/docs", dashboard_doc.ui_endpoint())
        .nest("/api/dashboard/v1", dashboard_api)
        .at("/api/sync/v1/openapi.json", sync_doc.json_endpoint())
        .nest("/api/sync/v1/docs", sync_doc.ui_endpoint())
        .nest("/api/sync/v1", sync_api)
        .nest(
            "/hooks/payments",
            payment_hooks::hooks(payment_hooks::PaymentHooks { secret: settings.payments.webhook_secret.clone() }),
        )
        .nest(
            "/hooks/sms",
            sms::hooks(sms::SmsHooks {
                auth_token: settings.sms.auth_token.clone(),
                public_url: settings.server.public_url.clone(),
            }),
        );

    route
        .with(contract)
        .with(NoCardNumbers)
        .with(BodyLimit {
            max_bytes: settings.server.body_limit_bytes,
            upload_max_bytes: settings.server.upload_limit_bytes,
            sync_max_bytes: settings.server.sync_limit_bytes,
        })
        .with(CookieJarManager::new())
        .with(CatchPanic::new())
        .catch_all_error(to_problem)
        .with(Observe { trust_proxy: settings.server.trust_proxy })
        .data(platform.clone())
        .map_to_response()
        .boxed()
}

#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[handler]
async fn readyz(platform: Data<&Platform>) -> Response {
    let database = platform.db.ping().await;
    let bus = platform.bus.ping().await;
    match (&database, &bus) {
        (Ok(()), Ok(())) => {
            Json(serde_json::json!({ "status": "ready", "database": "ok", "bus": platform.bus.kind() })).into_response()
        }
        _ => {
            let mut failing = Vec::new();
            if let Err(err) = &database {
                tracing::warn!(error = %err, "readiness: database unreachable");
                failing.push("database");
            }
            if let Err(err) = &bus {
                tracing::warn!(error = %err, "readiness: bus unreachable");
                failing.push(platform.bus.kind());
            }
            problem_response(Code::NotReady, Some(format!("unreachable: {}", failing.join(", "))))
        }
    }
}

#[handler]
fn metrics() -> Response {
    Response::builder().content_type("text/plain; version=0.0.4").body(telemetry::metrics().render())
}

#[handler]
fn docs_index() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
