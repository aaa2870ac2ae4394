//! The servers under test, each run as its own process so it can be pinned
//! to a core and run under callgrind.

use std::{io::Write, path::Path};

use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Actor, Origin, Scope,
    kernel::permissions::SecurityLevel,
    practices::{self, NewPractice},
    staff::accounts::{self as staff, LoggedIn, NewStaff},
};
use poem_openapi::{Object, OpenApi, OpenApiService, payload::Json};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

/// The bare baseline's answer.
#[derive(Object)]
struct Hello {
    message: String,
    practice: String,
}

struct BareApi;

#[OpenApi]
impl BareApi {
    /// A JSON answer with no authentication and no database.
    #[oai(path = "/hello", method = "get")]
    async fn hello(&self) -> Json<Hello> {
        Json(Hello { message: "hello".to_owned(), practice: "Demo Animal Hospital".to_owned() })
    }
}

async fn stop_signal(token: CancellationToken) {
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        term.recv().await;
    }
    token.cancel();
}

/// The bare poem-openapi JSON handler.
pub async fn serve_bare(port: u16) -> anyhow::Result<()> {
    let api = OpenApiService::new(BareApi, "bare", "1");
    let token = CancellationToken::new();
    tokio::spawn(stop_signal(token.clone()));
    poem::Server::new(poem::listener::TcpListener::bind(format!("127.0.0.1:{port}")))
        .run_with_graceful_shutdown(api, async move { token.cancelled().await }, None)
        .await?;
    Ok(())
}

/// Petbridge as configured for production on the embedded defaults (info
/// logs included), with one practice and a signed-in administrator.
pub async fn serve_petbridge(port: u16, dir: &Path) -> anyhow::Result<()> {
    let (app, admin) = bench_application(port, dir).await?;
    println!("TOKEN {}", admin.session.token);
    std::io::stdout().flush()?;
    tokio::spawn(stop_signal(app.shutdown_token()));
    app.run_until_stopped().await
}

/// The application every Petbridge bench server runs: a fresh SQLite
/// database in `dir`, no embedded workers, the practice `bench` and its
/// administrator `bench`, signed in.
async fn bench_application(port: u16, dir: &Path) -> anyhow::Result<(Application, LoggedIn)> {
    petbridge::telemetry::init_logs("plain");
    let mut settings = Settings::defaults()?;
    settings.server.port = port;
    settings.database.url = SecretString::from(format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()));
    settings.storage.local_dir = dir.join("files").display().to_string();
    settings.workers.embedded = false;
    settings.bootstrap.demo_practice = false;
    let app = Application::build(settings, Options::default()).await?;
    let platform = &app.platform;
    let practice = practices::create(
        platform,
        NewPractice { slug: "bench".into(), name: "Demo Animal Hospital".into(), time_zone: "America/Chicago".into() },
    )
    .await
    .map_err(failed)?;
    staff::create(
        platform,
        Scope { practice_id: practice.id },
        &Actor::system("bench"),
        &Origin::default(),
        NewStaff {
            username: "bench".into(),
            display_name: "Bench Admin".into(),
            email: None,
            level: SecurityLevel::Administrator,
            password: PASSWORD.into(),
        },
    )
    .await
    .map_err(failed)?;
    let admin = staff::log_in(platform, "bench", "bench", PASSWORD, &Origin::default(), None).await.map_err(failed)?;
    Ok((app, admin))
}

/// Every bench account's password.
const PASSWORD: &str = "correct horse battery staple";

fn failed(e: petbridge_domain::DomainError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The bare baseline for chat: a tokio-tungstenite server that sends every
/// text frame any socket sends to every socket (the sender included), with
/// the same 4 KiB read buffer as ours. `coalesce` feeds what is queued and
/// flushes once; otherwise each frame is flushed on its own.
pub async fn serve_bare_ws(port: u16, coalesce: bool) -> anyhow::Result<()> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(4096)?;
    let (hub, _) = tokio::sync::broadcast::channel::<Message>(4096);
    let token = CancellationToken::new();
    tokio::spawn(stop_signal(token.clone()));
    println!("READY");
    std::io::stdout().flush()?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = token.cancelled() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let hub = hub.clone();
        tokio::spawn(async move {
            let config = WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0);
            let Ok(socket) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else { return };
            let (mut sink, mut stream) = socket.split();
            let mut heard = hub.subscribe();
            loop {
                tokio::select! {
                    incoming = stream.next() => match incoming {
                        Some(Ok(frame @ Message::Text(_))) => { let _ = hub.send(frame); }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                    frame = heard.recv() => {
                        let Ok(frame) = frame else { continue };
                        if !coalesce {
                            if sink.send(frame).await.is_err() { return; }
                            continue;
                        }
                        if sink.feed(frame).await.is_err() { return; }
                        for _ in 1..64 {
                            match heard.try_recv() {
                                Ok(next) => if sink.feed(next).await.is_err() { return; },
                                Err(_) => break,
                            }
                        }
                        if sink.flush().await.is_err() { return; }
                    }
                }
            }
        });
    }
}

/// Petbridge for the chat benchmark, on a fresh SQLite database: a practice,
/// a signed-in administrator (the dashboard sockets' cookie) and a verified
/// owner (whose app token fetches socket tickets). Prints
/// `READY <session> <owner access token>`.
pub async fn serve_petbridge_chat(port: u16, dir: &Path) -> anyhow::Result<()> {
    use petbridge_domain::{
        db::entities::owner_account,
        owners::accounts::{self as owners, SignUp},
    };
    use sea_orm::{EntityTrait, QueryFilter, sea_query::Expr};

    let (app, admin) = bench_application(port, dir).await?;
    let platform = app.platform.clone();
    let owner = owners::sign_up(
        &platform,
        &Origin::default(),
        SignUp {
            practice: "bench".into(),
            email: "owner@bench.test".into(),
            password: PASSWORD.into(),
            first_name: "Pat".into(),
            last_name: "Owner".into(),
        },
    )
    .await
    .map_err(failed)?;
    owner_account::Entity::update_many()
        .col_expr(owner_account::Column::EmailVerifiedAt, Expr::value(chrono::Utc::now()))
        .filter(sea_orm::ColumnTrait::eq(&owner_account::Column::Email, "owner@bench.test"))
        .exec(&platform.db)
        .await?;
    println!("READY {} {}", admin.session.token, owner.access_token);
    std::io::stdout().flush()?;
    tokio::spawn(stop_signal(app.shutdown_token()));
    app.run_until_stopped().await
}
