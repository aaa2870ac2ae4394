//! The servers under test, each run as its own process so it can be pinned
//! to a core and run under callgrind.

use std::{io::Write, path::Path};

use petbridge::{Application, Options, Settings};
use petbridge_domain::{
    Actor, Origin, Scope,
    services::{
        practices::{self, NewPractice},
        staff::{self, NewStaff, SecurityLevel},
    },
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
    petbridge::telemetry::init_logs("plain");
    let mut settings = Settings::defaults()?;
    settings.server.port = port;
    settings.database.url = SecretString::from(format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()));
    settings.storage.local_dir = dir.join("files").display().to_string();
    settings.workers.embedded = false;
    settings.bootstrap.demo_practice = false;
    let app = Application::build(settings, Options::default()).await?;
    let platform = app.platform.clone();
    let practice = practices::create(
        &platform,
        NewPractice { slug: "bench".into(), name: "Demo Animal Hospital".into(), time_zone: "America/Chicago".into() },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = "correct horse battery staple";
    staff::create(
        &platform,
        Scope { practice_id: practice.id },
        &Actor::system("bench"),
        &Origin::default(),
        NewStaff {
            username: "bench".into(),
            display_name: "Bench Admin".into(),
            email: None,
            level: SecurityLevel::Administrator,
            password: password.into(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let login = staff::log_in(&platform, "bench", "bench", password, &Origin::default(), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("TOKEN {}", login.session.token);
    std::io::stdout().flush()?;
    tokio::spawn(stop_signal(app.shutdown_token()));
    app.run_until_stopped().await
}
