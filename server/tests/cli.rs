//! The `petbridge` binary as an operator runs it: first start, restarts,
//! admin commands, and failing fast on bad settings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

const BIN: &str = env!("CARGO_BIN_EXE_petbridge");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The binary, run in `dir` on the embedded defaults and `port`.
fn petbridge(dir: &std::path::Path, port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("PETBRIDGE__SERVER__PORT", port.to_string())
        .env("PETBRIDGE__SERVER__PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Reads the child's output until a line contains `marker`; returns all lines read.
async fn read_until(child: &mut Child, marker: &str) -> Vec<String> {
    let stdout = child.stdout.as_mut().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let deadline = Duration::from_secs(60);
    loop {
        let line = tokio::time::timeout(deadline, lines.next_line()).await.expect("output in time").unwrap();
        let Some(line) = line else { panic!("output ended before {marker:?}: {seen:?}") };
        let done = line.contains(marker);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

fn field(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|line| line.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {lines:?}"))
        .trim()
        .to_owned()
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Polls `/healthz` until the server answers (observable readiness, bounded).
async fn wait_healthy(port: u16) {
    let client = client();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(response) = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server on {port} never became healthy");
}

async fn login(port: u16, practice: &str, user: &str, password: &str) -> u16 {
    client()
        .post(format!("http://127.0.0.1:{port}/api/dashboard/v1/auth/login"))
        .json(&serde_json::json!({ "practice": practice, "username": user, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn stop(mut child: Child) -> String {
    let pid = child.id().expect("running");
    let status = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
    assert!(status.success());
    let output = tokio::time::timeout(Duration::from_secs(30), async {
        let status = child.wait().await.unwrap();
        let mut rest = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut rest).await.unwrap();
        }
        (status, rest)
    })
    .await
    .expect("SIGTERM stops the server");
    assert!(output.0.success(), "a clean exit after SIGTERM: {:?}", output.0);
    output.1
}

async fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let output = petbridge(dir, free_port()).args(args).output().await.unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

#[tokio::test]
async fn first_start_prints_working_credentials_and_later_starts_reuse_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();

    let mut first = petbridge(dir.path(), port).spawn().unwrap();
    let banner = read_until(&mut first, "Password:").await;
    assert_eq!(field(&banner, "Dashboard:"), format!("http://127.0.0.1:{port}/login"));
    let practice = field(&banner, "Practice code:");
    let user = field(&banner, "User name:");
    let password = field(&banner, "Password:");
    assert_eq!(practice, "demo-animal-hospital");
    wait_healthy(port).await;
    assert_eq!(login(port, &practice, &user, &password).await, 200);
    assert_eq!(login(port, &practice, &user, "not it").await, 401);
    stop(first).await;
    assert!(dir.path().join("data").is_dir(), "SQLite lives under ./data");

    let created = run(
        dir.path(),
        &["admin", "create-user", "--username", "jdoe", "--display-name", "Jane Doe", "--level", "manager"],
    )
    .await;
    let created = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(created.contains("created jdoe (Manager) in Demo Animal Hospital"), "{created}");
    let jdoe_password =
        created.lines().find_map(|l| l.strip_prefix("password: ")).expect("a generated password").to_owned();

    let demo = run(dir.path(), &["demo"]).await;
    let demo = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(demo.contains("demo data added to Demo Animal Hospital"), "{demo}");
    assert!(demo.contains("mgarcia:"), "{demo}");
    let again = run(dir.path(), &["demo"]).await;
    assert!(!String::from_utf8_lossy(&again.stdout).contains("mgarcia:"), "running demo twice adds nothing twice");

    let second = petbridge(dir.path(), port).spawn().unwrap();
    wait_healthy(port).await;
    assert_eq!(login(port, &practice, &user, &password).await, 200, "the first password still works");
    assert_eq!(login(port, &practice, "jdoe", &jdoe_password).await, 200);
    let rest = stop(second).await;
    assert!(!rest.contains("Password:"), "a second start prints no new credentials: {rest}");
}

#[tokio::test]
async fn a_bad_database_url_fails_within_seconds_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = petbridge(dir.path(), free_port())
        .env("DATABASE_URL", "postgres://petbridge:s3cret-pw@127.0.0.1:1/petbridge")
        .env("PETBRIDGE__DATABASE__CONNECT_TIMEOUT_SECONDS", "2")
        .output()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("127.0.0.1:1") && stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[tokio::test]
async fn sync_import_applies_csv_and_json_exports_and_reports_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let demo = run(dir.path(), &["demo"]).await;
    let demo = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(demo.contains("320 client households"), "{demo}");

    let clients = dir.path().join("clients.csv");
    std::fs::write(
        &clients,
        "pms_id,updated_at,first_name,last_name,email,phone,last_transaction_on\n\
         X1,2026-01-02T03:04:05Z,Ida,Import,ida@example.com,303-555-0199,2026-01-02\n\
         X2,2026-01-02T03:04:05Z,Bad,Mail,nope,,2026-01-02\n\
         X3,2026-01-02T03:04:05Z,Cy,Import,,,\n",
    )
    .unwrap();
    let output = run(dir.path(), &["sync", "import", "clients.csv"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("imported 3 records from clients.csv into Demo Animal Hospital"), "{text}");
    assert!(text.contains("clients: 3 received, 2 created, 0 updated, 0 unchanged, 0 stale, 1 rejected"), "{text}");
    assert!(text.contains("rejected clients #1 (X2)"), "{text}");

    let pets = dir.path().join("export.json");
    std::fs::write(
        &pets,
        serde_json::json!({ "pets": [{ "pms_id": "XP1", "updated_at": "2026-01-02T03:04:05Z", "client_pms_id": "X1", "name": "Tilly" }] })
            .to_string(),
    )
    .unwrap();
    let output = run(dir.path(), &["sync", "import", "export.json"]).await;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("pets: 1 received, 1 created"), "{text}");
    let again = run(dir.path(), &["sync", "import", "clients.csv"]).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("2 unchanged"), "importing twice changes nothing");

    let unknown = dir.path().join("stuff.csv");
    std::fs::write(&unknown, "a,b\n1,2\n").unwrap();
    let output = petbridge(dir.path(), free_port()).args(["sync", "import", "stuff.csv"]).output().await.unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--kind"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn request_logs_never_show_the_token_of_a_signed_link() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = petbridge(dir.path(), port).env("RUST_LOG", "info").spawn().unwrap();
    wait_healthy(port).await;
    let token = "PbSecretLinkToken0123456789abcdefghijklmnopq";
    for path in [
        format!("/preferences/{token}"),
        format!("/preferences/{token}/unsubscribe"),
        format!("/media/selfies/{token}.jpg"),
    ] {
        let status = client().get(format!("http://127.0.0.1:{port}{path}")).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}: a forged link opens nothing");
    }
    let log = stop(server).await;
    assert!(log.contains("/preferences/[redacted]/unsubscribe"), "the request is logged: {log}");
    assert!(log.contains("/media/selfies/[redacted]"), "{log}");
    assert!(!log.contains(token), "a link's token reached the log: {log}");
}

#[tokio::test]
async fn a_public_deployment_on_the_development_providers_warns_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server =
        petbridge(dir.path(), port).env("PETBRIDGE__SERVER__PUBLIC_URL", "https://vets.example.com").spawn().unwrap();
    let lines = read_until(&mut server, "Development delivery providers").await;
    let warning = lines.last().unwrap();
    assert!(warning.contains("push, texts, email") && warning.contains("nothing on those channels is really sent"));
    wait_healthy(port).await;
    stop(server).await;
}

#[tokio::test]
async fn demo_runs_ten_times_beside_a_live_server_under_traffic() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The per-address login throttle would turn this traffic away: it has a test of its own.
    let mut server =
        petbridge(dir.path(), port).env("PETBRIDGE__SESSIONS__LOGIN_ATTEMPTS_PER_MINUTE", "1000000").spawn().unwrap();
    let banner = read_until(&mut server, "Password:").await;
    let (practice, user, password) =
        (field(&banner, "Practice code:"), field(&banner, "User name:"), field(&banner, "Password:"));
    wait_healthy(port).await;

    // Staff logging in and reading while the demo writes: each login writes
    // an attempt, a session and an activity entry. Bounded in count and time.
    let done = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let done = done.clone();
        async move {
            let client = client();
            let (mut requests, mut failures) = (0u32, Vec::new());
            while !done.load(Ordering::Relaxed) && requests < 20_000 {
                let body = serde_json::json!({ "practice": practice, "username": user, "password": password });
                let url = format!("http://127.0.0.1:{port}/api/dashboard/v1/auth/login");
                let response = client.post(url).json(&body).send().await.unwrap();
                requests += 1;
                if response.status() != 200 {
                    failures.push(format!(
                        "login: {} {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    ));
                    continue;
                }
                let token: serde_json::Value = response.json().await.unwrap();
                let me = client
                    .get(format!("http://127.0.0.1:{port}/api/dashboard/v1/me"))
                    .bearer_auth(token["token"].as_str().unwrap())
                    .send()
                    .await
                    .unwrap();
                requests += 1;
                if me.status() != 200 {
                    failures.push(format!("me: {}", me.status()));
                }
            }
            (requests, failures)
        }
    });
    let mut outcomes = Vec::new();
    for round in 1..=10 {
        let output = petbridge(dir.path(), free_port()).arg("demo").output().await.unwrap();
        outcomes.push((round, output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    done.store(true, Ordering::Relaxed);
    let (requests, failures) = traffic.await.unwrap();
    stop(server).await;
    let failed: Vec<_> = outcomes.iter().filter(|(_, ok, _)| !ok).collect();
    println!("demo runs: 10, failed: {}; live requests: {requests}, failed: {}", failed.len(), failures.len());
    assert!(failed.is_empty(), "demo runs that failed beside the live server: {failed:?}");
    assert!(requests > 10, "the traffic ran alongside ({requests} requests)");
    assert!(failures.is_empty(), "live requests that failed meanwhile: {failures:?}");
}
