//! The chat benchmark. Each server runs as its own process pinned to core 0;
//! this client runs on core 1. Servers: Petbridge (SQLite, in-process bus)
//! and two bare tokio-tungstenite broadcast servers (a flush per frame, and
//! coalescing).
//!
//! - Fan-out: N listening sockets (dashboard sockets for Petbridge, all
//!   hearing the practice) and one sender that sends a burst of messages
//!   (an owner's app socket for Petbridge, each message stored before it
//!   is published). Deliveries/s over the burst, and per message the time
//!   until every socket had it.
//! - Owner → staff: one message at a time, from send to the staff socket.
//! - Idle sockets: resident memory added per authenticated owner socket
//!   (ticket, hello, resume), and how many one server holds, the client
//!   addresses spread over 127.0.0.2–127.0.0.9.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig},
};

use crate::report::{self, Row, median};

/// Options of `bench chat`.
#[derive(clap::Args, Clone)]
pub struct ChatOptions {
    /// Listening sockets for the fan-out runs.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000")]
    sockets: Vec<usize>,
    /// Messages sent back to back in one fan-out burst.
    #[arg(long, default_value_t = 100)]
    burst: usize,
    /// Bursts per server and size (each on a fresh server).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Owner → staff messages timed one at a time.
    #[arg(long, default_value_t = 500)]
    latency_samples: usize,
    /// Idle authenticated sockets to open (0 skips the memory run).
    #[arg(long, default_value_t = 100_000)]
    idle: usize,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    BareFlush,
    BareCoalesce,
    Petbridge,
}

impl Target {
    fn label(self) -> &'static str {
        match self {
            Target::BareFlush => "bare, flush each",
            Target::BareCoalesce => "bare, coalescing",
            Target::Petbridge => "petbridge",
        }
    }
}

struct Server {
    /// The server's process; none where another process started it.
    child: Option<Child>,
    port: u16,
    session: String,
    owner_token: String,
    _dir: Option<tempfile::TempDir>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start(target: Target) -> anyhow::Result<Server> {
    start_on(target, "0").await
}

/// Starts a server on `cores` (a taskset list).
async fn start_on(target: Target, cores: &str) -> anyhow::Result<Server> {
    let exe = std::env::current_exe()?;
    let port = free_port()?;
    let dir = tempfile::tempdir()?;
    let mut command = Command::new("taskset");
    command.args(["-c", cores]).arg(exe);
    match target {
        Target::BareFlush => command.args(["serve-bare-ws", "--port", &port.to_string()]),
        Target::BareCoalesce => command.args(["serve-bare-ws", "--coalesce", "--port", &port.to_string()]),
        Target::Petbridge => {
            command.args(["serve-petbridge-chat", "--port", &port.to_string(), "--dir"]).arg(dir.path())
        }
    };
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true).spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix("READY") {
                return Ok::<_, anyhow::Error>(rest.trim().to_owned());
            }
        }
        bail!("the server ended before it was ready")
    })
    .await
    .context("server start")??;
    let mut words = ready.split_whitespace();
    let session = words.next().unwrap_or_default().to_owned();
    let owner_token = words.next().unwrap_or_default().to_owned();
    Ok(Server { child: Some(child), port, session, owner_token, _dir: Some(dir) })
}

async fn stop(server: Server) -> anyhow::Result<()> {
    let Some(mut child) = server.child else { return Ok(()) };
    if let Some(pid) = child.id() {
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let _ = child.kill().await;
    Ok(())
}

fn rss_kib(server: &Server) -> anyhow::Result<u64> {
    let pid = server.child.as_ref().and_then(Child::id).ok_or_else(|| anyhow!("no pid"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS"))
}

type Socket = WebSocketStream<tokio::net::TcpStream>;

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0)
}

/// Opens a socket from `source` (port chosen by the kernel).
async fn connect(target: Target, server: &Server, path: &str, source: IpAddr) -> anyhow::Result<Socket> {
    let address = SocketAddr::from(([127, 0, 0, 1], server.port));
    let tcp = tokio::net::TcpSocket::new_v4()?;
    tcp.bind(SocketAddr::new(source, 0))?;
    let stream = tcp.connect(address).await?;
    stream.set_nodelay(true)?;
    let url = if target == Target::Petbridge { format!("ws://{address}{path}") } else { format!("ws://{address}/") };
    let mut request = url.into_client_request()?;
    if target == Target::Petbridge && path.starts_with("/ws/dashboard") {
        let headers = request.headers_mut();
        headers.insert("cookie", HeaderValue::from_str(&format!("pb_session={}", server.session))?);
        headers.insert("origin", HeaderValue::from_str(&format!("http://{address}"))?);
    }
    let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(client_config())).await?;
    Ok(socket)
}

/// A one-time ticket for the owner's app socket.
async fn ticket(http: &reqwest::Client, server: &Server) -> anyhow::Result<String> {
    let response = http
        .post(format!("http://127.0.0.1:{}/api/app/v1/chat/tickets", server.port))
        .bearer_auth(&server.owner_token)
        .send()
        .await?
        .error_for_status()?;
    let body: serde_json::Value = response.json().await?;
    body["ticket"].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no ticket in {body}"))
}

/// Opens a listening socket and, for Petbridge, waits for `hello` and resumes.
async fn listener(target: Target, server: &Server, source: IpAddr) -> anyhow::Result<Socket> {
    let mut socket = connect(target, server, "/ws/dashboard", source).await?;
    if target == Target::Petbridge {
        hello_and_resume(&mut socket).await?;
    }
    Ok(socket)
}

async fn owner_socket(http: &reqwest::Client, server: &Server, source: IpAddr) -> anyhow::Result<Socket> {
    let ticket = ticket(http, server).await?;
    let mut socket = connect(Target::Petbridge, server, &format!("/ws/app?ticket={ticket}"), source).await?;
    hello_and_resume(&mut socket).await?;
    Ok(socket)
}

async fn hello_and_resume(socket: &mut Socket) -> anyhow::Result<()> {
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains("\"hello\"") => {}
        other => bail!("expected hello, got {other:?}"),
    }
    socket.send(Message::text(r#"{"v":1,"type":"resume","conversations":[]}"#)).await?;
    Ok(())
}

/// The burst index a message frame carries (`"body":"m<k> …"`).
fn burst_index(text: &str) -> Option<usize> {
    if !text.contains("\"type\":\"message\"") {
        return None;
    }
    let start = text.find("\"body\":\"m")? + 9;
    let digits: String = text[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What the listeners heard: per message, the latest arrival (ns after `base`).
struct Heard {
    base: Instant,
    last_arrival: Vec<AtomicU64>,
    count: AtomicUsize,
}

fn spawn_listener(mut socket: Socket, heard: Arc<Heard>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(frame)) = socket.next().await {
            if let Message::Text(text) = frame
                && let Some(k) = burst_index(&text)
                && let Some(slot) = heard.last_arrival.get(k)
            {
                slot.fetch_max(heard.base.elapsed().as_nanos() as u64, Ordering::Relaxed);
                heard.count.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}

/// A message body of about 200 bytes on the wire.
fn body(k: usize) -> String {
    format!("m{k} {}", "x".repeat(60))
}

/// What the sender sends: to Petbridge a `send` frame; to a bare server the
/// `message` frame Petbridge would broadcast for it (same fields, same
/// size), so every server puts the same bytes on every listening socket.
fn outgoing(target: Target, k: usize) -> Message {
    use petbridge_domain::chat::events::{self, ChatMessage, PracticeEvent};
    match target {
        Target::Petbridge => Message::text(
            serde_json::json!({ "v": 1, "type": "send", "client_message_id": format!("b-{k}"), "body": body(k) })
                .to_string(),
        ),
        _ => {
            let message = ChatMessage {
                id: uuid::Uuid::new_v4(),
                conversation_id: uuid::Uuid::new_v4(),
                seq: k as i64 + 1,
                author: "owner".into(),
                author_name: "Pat Owner".into(),
                channel: "app".into(),
                client_message_id: Some(format!("b-{k}")),
                body: body(k),
                attachment_id: None,
                created_at: chrono::Utc::now(),
            };
            let json = events::json(&PracticeEvent::Message { message });
            Message::text(String::from_utf8_lossy(&json).into_owned())
        }
    }
}

struct FanOut {
    deliveries_per_second: f64,
    all_received_ms: Vec<f64>,
    /// The server's CPU time over the burst, per delivery.
    server_cpu_us: f64,
}

/// CPU time of every thread of the server's process so far, from
/// `/proc/<pid>/task/*/schedstat` (nanoseconds on a CPU).
fn server_cpu(server: &Server) -> anyhow::Result<Duration> {
    let pid = server.child.as_ref().and_then(Child::id).ok_or_else(|| anyhow!("no pid"))?;
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += stat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

async fn fan_out(target: Target, sockets: usize, burst: usize) -> anyhow::Result<FanOut> {
    let server = start(target).await?;
    let http = reqwest::Client::new();
    let mut listeners = Vec::with_capacity(sockets);
    for n in 0..sockets {
        listeners.push(listener(target, &server, source_address(n)).await?);
    }
    let sender = match target {
        Target::Petbridge => owner_socket(&http, &server, source_address(sockets)).await?,
        _ => connect(target, &server, "/", source_address(sockets)).await?,
    };
    // The sender hears the bare servers' broadcast too: drain it.
    let heard = Arc::new(Heard {
        base: Instant::now(),
        last_arrival: (0..burst).map(|_| AtomicU64::new(0)).collect(),
        count: AtomicUsize::new(0),
    });
    let tasks: Vec<_> = listeners.into_iter().map(|s| spawn_listener(s, heard.clone())).collect();
    let (mut sink, mut stream) = sender.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    // Warm-up is the connection phase itself; the burst starts now.
    let cpu_before = server_cpu(&server)?;
    let mut sent_at = Vec::with_capacity(burst);
    for k in 0..burst {
        sent_at.push(heard.base.elapsed().as_nanos() as u64);
        sink.feed(outgoing(target, k)).await?;
    }
    sink.flush().await?;
    let expected = sockets * burst;
    let deadline = Instant::now() + Duration::from_secs(120);
    while heard.count.load(Ordering::Relaxed) < expected {
        if Instant::now() > deadline {
            bail!("{}: {} of {expected} deliveries", target.label(), heard.count.load(Ordering::Relaxed));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let cpu = server_cpu(&server)?.saturating_sub(cpu_before);
    let last = heard.last_arrival.iter().map(|a| a.load(Ordering::Relaxed)).max().unwrap_or(0);
    let elapsed = (last - sent_at[0]) as f64 / 1e9;
    let all_received_ms = heard
        .last_arrival
        .iter()
        .zip(&sent_at)
        .map(|(arrived, sent)| (arrived.load(Ordering::Relaxed) - sent) as f64 / 1e6)
        .collect();
    for task in tasks {
        task.abort();
    }
    drain.abort();
    drop(sink);
    stop(server).await?;
    Ok(FanOut {
        deliveries_per_second: expected as f64 / elapsed,
        all_received_ms,
        server_cpu_us: cpu.as_secs_f64() * 1e6 / expected as f64,
    })
}

/// One message at a time from the sender to one listener; milliseconds each.
/// Latencies of messages sent one at a time, ms.
struct OneToOne {
    latencies_ms: Vec<f64>,
    /// The server's CPU time over the timed messages, per message.
    server_cpu_us: f64,
}

async fn one_to_one(target: Target, samples: usize) -> anyhow::Result<OneToOne> {
    let server = start(target).await?;
    let http = reqwest::Client::new();
    let mut staff = listener(target, &server, source_address(0)).await?;
    let sender = match target {
        Target::Petbridge => owner_socket(&http, &server, source_address(1)).await?,
        _ => connect(target, &server, "/", source_address(1)).await?,
    };
    let (mut sink, mut stream) = sender.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let mut latencies = Vec::with_capacity(samples);
    let mut cpu_at_start = Duration::ZERO;
    for k in 0..samples + 50 {
        if k == 50 {
            cpu_at_start = server_cpu(&server)?;
        }
        let started = Instant::now();
        sink.send(outgoing(target, k)).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), staff.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if burst_index(&text) == Some(k) => break,
                Ok(Some(Ok(_))) => {}
                other => bail!("{}: no message {k}: {other:?}", target.label()),
            }
        }
        // The first 50 warm the server up.
        if k >= 50 {
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let cpu = server_cpu(&server)? - cpu_at_start;
    drain.abort();
    stop(server).await?;
    Ok(OneToOne { latencies_ms: latencies, server_cpu_us: cpu.as_secs_f64() * 1e6 / samples.max(1) as f64 })
}

/// 127.0.0.2 … 127.0.0.9: 25,000 client ports each.
fn source_address(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (n / 25_000 % 8) as u8))
}

struct Idle {
    opened: usize,
    kib_per_socket: f64,
    error: Option<String>,
}

/// Idle sockets held open (each read on, so pings are answered); dropping
/// this closes them.
struct Held {
    opened: usize,
    error: Option<String>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Opens sockets `first..first + count` (64 opening at a time, from the
/// source addresses their numbers pick) and holds them; stops at the first
/// failure.
async fn open_idle(target: Target, server: &Arc<Server>, first: usize, count: usize) -> Held {
    let http = reqwest::Client::new();
    let opened = Arc::new(AtomicUsize::new(0));
    let failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel();
    let next = Arc::new(AtomicUsize::new(first));
    let mut workers = Vec::new();
    for _ in 0..64 {
        let (server, http, opened, failure, next, held) =
            (server.clone(), http.clone(), opened.clone(), failure.clone(), next.clone(), held_tx.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= first + count || failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let socket = match target {
                    Target::Petbridge => owner_socket(&http, &server, source_address(n)).await,
                    _ => connect(target, &server, "/", source_address(n)).await,
                };
                match socket {
                    Ok(mut socket) => {
                        opened.fetch_add(1, Ordering::Relaxed);
                        let _ = held.send(tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} }));
                    }
                    Err(err) => {
                        if let Ok(mut failure) = failure.lock() {
                            failure.get_or_insert(format!("socket {n}: {err:#}"));
                        }
                        return;
                    }
                }
            }
        }));
    }
    drop(held_tx);
    for worker in workers {
        let _ = worker.await;
    }
    let mut tasks = Vec::new();
    while let Ok(task) = held_rx.try_recv() {
        tasks.push(task);
    }
    let error = failure.lock().ok().and_then(|f| f.clone());
    Held { opened: opened.load(Ordering::Relaxed), error, tasks }
}

/// A few sockets open and close, so lazily made state is there before
/// memory is measured.
async fn warm_up(target: Target, server: &Server) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for n in 0..16 {
        let socket = match target {
            Target::Petbridge => owner_socket(&http, server, source_address(n)).await?,
            _ => connect(target, server, "/", source_address(n)).await?,
        };
        drop(socket);
    }
    Ok(())
}

/// Opens `count` idle sockets and measures the server's resident memory
/// before and after.
async fn idle(target: Target, count: usize) -> anyhow::Result<Idle> {
    let server = Arc::new(start(target).await?);
    warm_up(target, &server).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(&server)?;
    let held = open_idle(target, &server, 0, count).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(&server)?;
    let (opened, error) = (held.opened, held.error.clone());
    drop(held);
    let server = Arc::try_unwrap(server).map_err(|_| anyhow!("server still shared"))?;
    stop(server).await?;
    Ok(Idle { opened, kib_per_socket: after.saturating_sub(before) as f64 / opened.max(1) as f64, error })
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values.get(index).copied().unwrap_or(f64::NAN)
}

/// Raises this process's open-file limit to `wanted`, or as far as the hard
/// limit lets (raising that needs CAP_SYS_RESOURCE); the servers it starts
/// inherit it. Returns the limit now in force.
fn raise_file_limit(wanted: usize) -> usize {
    let pid = std::process::id().to_string();
    let limits = || {
        let text = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with("Max open files")).unwrap_or_default().to_owned();
        let mut numbers = line.split_whitespace().filter_map(|w| w.parse::<usize>().ok());
        (numbers.next().unwrap_or(1024), numbers.next().unwrap_or(1024))
    };
    let quiet = |limit: String| {
        let _ = std::process::Command::new("prlimit")
            .args(["--pid", &pid, &limit])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    quiet(format!("--nofile={wanted}:{wanted}"));
    let (soft, hard) = limits();
    if soft < wanted {
        quiet(format!("--nofile={hard}:{hard}"));
    }
    limits().0
}

/// Pins every thread of this process to `cores` (`1` while measuring, the
/// servers take core 0).
fn pin_client(cores: &str) -> bool {
    let pid = std::process::id().to_string();
    std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the benchmark and writes its table.
pub async fn run(options: ChatOptions) -> anyhow::Result<()> {
    // Each socket takes a descriptor here and one in the server.
    let files = raise_file_limit(options.idle + 10_000);
    let idle_sockets = options.idle.min(files.saturating_sub(2_000));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pinned = cores >= 2 && pin_client("1");
    let mut rows = Vec::new();
    let targets = [Target::BareFlush, Target::BareCoalesce, Target::Petbridge];
    for &sockets in &options.sockets {
        let mut rates = [Vec::new(), Vec::new(), Vec::new()];
        let mut latencies = [Vec::new(), Vec::new(), Vec::new()];
        let mut cpu = [Vec::new(), Vec::new(), Vec::new()];
        for round in 1..=options.rounds {
            for (i, target) in targets.into_iter().enumerate() {
                let run = fan_out(target, sockets, options.burst).await?;
                let mut all = run.all_received_ms.clone();
                eprintln!(
                    "fan-out {sockets} round {round} {}: {:.0} deliveries/s, all received p99 {:.1} ms, \
                     server CPU {:.2} µs/delivery",
                    target.label(),
                    run.deliveries_per_second,
                    percentile(&mut all, 0.99),
                    run.server_cpu_us
                );
                rates[i].push(run.deliveries_per_second);
                cpu[i].push(run.server_cpu_us);
                latencies[i].extend(run.all_received_ms);
            }
        }
        let flush = median(&mut rates[0]);
        let coalesce = median(&mut rates[1]);
        let ours = median(&mut rates[2]);
        rows.push(Row {
            metric: format!("fan-out to {sockets} sockets, deliveries/s (median of {})", options.rounds),
            baseline: format!("{coalesce:.0} coalescing; {flush:.0} flush each"),
            petbridge: format!("{ours:.0}"),
            ratio: format!("{:.2} of coalescing; {:.2} of flush each", ours / coalesce, ours / flush),
            target: "≥ 0.8 of coalescing, ≥ 1 of flush each".into(),
            met: Some(ours >= 0.8 * coalesce && ours >= flush),
        });
        let (bare_cpu, our_cpu) = (median(&mut cpu[1]), median(&mut cpu[2]));
        rows.push(Row {
            metric: format!("{sockets} sockets: server CPU per delivery, µs"),
            baseline: format!("{bare_cpu:.2} coalescing; {:.2} flush each", median(&mut cpu[0])),
            petbridge: format!("{our_cpu:.2}"),
            ratio: format!("{:.2} of coalescing", our_cpu / bare_cpu),
            target: "".into(),
            met: None,
        });
        let bare_p99 = percentile(&mut latencies[1], 0.99);
        let ours_p99 = percentile(&mut latencies[2], 0.99);
        rows.push(Row {
            metric: format!("{sockets} sockets: all received, p50 / p99 ms"),
            baseline: format!("{:.1} / {bare_p99:.1} (coalescing)", percentile(&mut latencies[1], 0.5)),
            petbridge: format!("{:.1} / {ours_p99:.1}", percentile(&mut latencies[2], 0.5)),
            ratio: format!("{:.2}", ours_p99 / bare_p99),
            target: "p99 ≤ 1.5".into(),
            met: Some(ours_p99 <= 1.5 * bare_p99),
        });
    }

    let mut bare = one_to_one(Target::BareCoalesce, options.latency_samples).await?;
    let mut ours = one_to_one(Target::Petbridge, options.latency_samples).await?;
    let (bare_p99, ours_p99) = (percentile(&mut bare.latencies_ms, 0.99), percentile(&mut ours.latencies_ms, 0.99));
    eprintln!(
        "1 → 1: bare p99 {bare_p99:.2} ms, owner → staff p99 {ours_p99:.2} ms; server CPU {:.1} µs/message (bare {:.1})",
        ours.server_cpu_us, bare.server_cpu_us
    );
    rows.push(Row {
        metric: "owner → staff, stored first, p50 / p99 ms".into(),
        baseline: format!("{:.2} / {bare_p99:.2} (bare 1 → 1)", percentile(&mut bare.latencies_ms, 0.5)),
        petbridge: format!("{:.2} / {ours_p99:.2}", percentile(&mut ours.latencies_ms, 0.5)),
        ratio: format!("{:.2}", ours_p99 / bare_p99),
        target: "p99 ≤ 2 × bare + 1 ms".into(),
        met: Some(ours_p99 <= 2.0 * bare_p99 + 1.0),
    });
    rows.push(Row {
        metric: "owner → staff: server CPU per message, µs".into(),
        baseline: format!("{:.1} (bare 1 → 1)", bare.server_cpu_us),
        petbridge: format!("{:.1}", ours.server_cpu_us),
        ratio: format!("{:.2}", ours.server_cpu_us / bare.server_cpu_us),
        target: String::new(),
        met: None,
    });

    if idle_sockets > 0 {
        let bare = idle(Target::BareCoalesce, idle_sockets).await?;
        let ours = idle(Target::Petbridge, idle_sockets).await?;
        eprintln!(
            "idle: bare {} sockets, {:.1} KiB each; petbridge {} sockets, {:.1} KiB each {:?}",
            bare.opened, bare.kib_per_socket, ours.opened, ours.kib_per_socket, ours.error
        );
        rows.push(Row {
            metric: "resident memory per idle authenticated socket, KiB".into(),
            baseline: format!("{:.1} (bare, same 4 KiB read buffer)", bare.kib_per_socket),
            petbridge: format!("{:.1}", ours.kib_per_socket),
            ratio: format!("{:.2}", ours.kib_per_socket / bare.kib_per_socket),
            target: "≤ 12 KiB".into(),
            met: Some(ours.kib_per_socket <= 12.0),
        });
        rows.push(Row {
            metric: "idle owner sockets one server held".into(),
            baseline: format!("{} (bare)", bare.opened),
            petbridge: match &ours.error {
                Some(error) => format!("{} (then: {error})", ours.opened),
                None => ours.opened.to_string(),
            },
            ratio: format!("{:.2}", ours.opened as f64 / bare.opened.max(1) as f64),
            target: format!("{} sockets", options.idle),
            met: Some(ours.opened >= options.idle),
        });
    }
    if pinned {
        pin_client(&format!("0-{}", cores - 1));
    }

    let setup = format!(
        "Each server is its own process on core 0{}; the client opens every socket. Fan-out: \
         dashboard sockets of one practice listen while an owner's app socket sends {} messages back to back; \
         Petbridge stores each (SQLite) before it publishes it. The bare servers broadcast what they get, \
         which is the message frame Petbridge sends for it (same fields, same size). Server CPU is the sum of \
         its threads' time on a CPU over the burst (`/proc/<pid>/task/*/schedstat`). \
         Owner → staff: one message at a time, {} timed after 50 for warm-up. Idle: app sockets opened with \
         a ticket each, `hello` and `resume`, from 127.0.0.2–127.0.0.9; memory is the server's VmRSS growth \
         divided by the sockets. Open files are limited to {files} per process here (the hard limit; \
         raising it needs CAP_SYS_RESOURCE), which bounds the idle run at {idle_sockets} sockets.",
        if pinned { " and the client on core 1 (taskset)" } else { " (no pinning)" },
        options.burst,
        options.latency_samples,
    );
    report::write_section(&options.out, "chat", "Chat sockets", &setup, &rows)?;
    eprintln!("wrote {}", options.out.display());
    Ok(())
}

/// Options of `bench chat-box`.
#[derive(clap::Args, Clone)]
pub struct BoxOptions {
    /// Idle authenticated app sockets to hold on this box.
    #[arg(long, default_value_t = 100_000)]
    sockets: usize,
    /// Sockets per server process (a process may open 20,000 files here).
    #[arg(long, default_value_t = 15_000)]
    per_server: usize,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// Options of `bench idle-client`, the child `chat-box` starts per server.
#[derive(clap::Args, Clone)]
pub struct IdleClientOptions {
    /// The Petbridge server's port.
    #[arg(long)]
    port: u16,
    /// An owner's access token there.
    #[arg(long)]
    token: String,
    /// Sockets to open.
    #[arg(long)]
    count: usize,
    /// The number of the first socket (it picks the source addresses).
    #[arg(long, default_value_t = 0)]
    first: usize,
}

/// Opens the sockets, says `FAILED <why>` if one would not open, then
/// `OPENED <n>`, and holds them until its standard input closes.
pub async fn idle_client(options: IdleClientOptions) -> anyhow::Result<()> {
    raise_file_limit(options.count + 1_000);
    let server = Arc::new(Server {
        child: None,
        port: options.port,
        session: String::new(),
        owner_token: options.token,
        _dir: None,
    });
    let held = open_idle(Target::Petbridge, &server, options.first, options.count).await;
    if let Some(error) = &held.error {
        println!("FAILED {error}");
    }
    println!("OPENED {}", held.opened);
    // Standard input closes when `chat-box` is done (read off the runtime's thread).
    let _ = tokio::task::spawn_blocking(|| std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1])).await;
    drop(held);
    Ok(())
}

/// How many idle authenticated app sockets this box holds: one file limit
/// per process caps a server at 20,000 here, so `sockets` spread over
/// enough Petbridge processes, each opened by a client process of its own;
/// memory is the servers' VmRSS growth.
pub async fn run_box(options: BoxOptions) -> anyhow::Result<()> {
    let per_server = options.per_server.max(1);
    let count = options.sockets.div_ceil(per_server);
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        // Capacity, not a ratio: every process may use both cores.
        let server = start_on(Target::Petbridge, "0-1").await?;
        warm_up(Target::Petbridge, &server).await?;
        servers.push(server);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = |servers: &[Server]| servers.iter().map(rss_kib).sum::<anyhow::Result<u64>>();
    let before = rss(&servers)?;
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut clients = Vec::with_capacity(count);
    let mut opened = 0;
    let mut failures = Vec::new();
    // One server's sockets at a time, each opened by a client process of
    // its own that holds them while the next opens.
    for (i, server) in servers.iter().enumerate() {
        let first = i * per_server;
        let sockets = per_server.min(options.sockets - first);
        let mut client = Command::new(&exe)
            .args(["idle-client", "--port", &server.port.to_string(), "--token", &server.owner_token])
            .args(["--count", &sockets.to_string(), "--first", &first.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = client.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if let Some(why) = line.strip_prefix("FAILED ") {
                failures.push(why.to_owned());
            } else if let Some(n) = line.strip_prefix("OPENED ") {
                opened += n.trim().parse::<usize>()?;
                break;
            }
        }
        eprintln!(
            "box: server {} holds its sockets; {opened} in all after {:.1} s",
            i + 1,
            started.elapsed().as_secs_f64()
        );
        clients.push(client);
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss(&servers)?;
    let kib_per_socket = after.saturating_sub(before) as f64 / opened.max(1) as f64;
    eprintln!(
        "box: {opened} sockets over {count} servers in {:.1} s, {kib_per_socket:.1} KiB each, {} MiB in all {failures:?}",
        took.as_secs_f64(),
        after / 1024
    );
    for mut client in clients {
        drop(client.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), client.wait()).await;
    }
    for server in servers {
        stop(server).await?;
    }
    let rows = vec![
        Row {
            metric: "idle authenticated app sockets held by one 2-core box".into(),
            baseline: "—".into(),
            petbridge: match failures.first() {
                Some(why) => format!("{opened} over {count} server processes (then: {why})"),
                None => format!("{opened} over {count} server processes, opened in {:.0} s", took.as_secs_f64()),
            },
            ratio: "—".into(),
            target: format!("{} sockets", options.sockets),
            met: Some(opened >= options.sockets),
        },
        Row {
            metric: "their resident memory, KiB per socket (MiB in all)".into(),
            baseline: "—".into(),
            petbridge: format!("{kib_per_socket:.1} ({} MiB)", after / 1024),
            ratio: "—".into(),
            target: "≤ 12 KiB".into(),
            met: Some(kib_per_socket <= 12.0),
        },
    ];
    let setup = format!(
        "{count} Petbridge processes (SQLite, in-process bus) \
         with up to {per_server} sockets each, since the container limits a process to 20,000 open files; \
         a client process per server opens its app sockets with a ticket each, `hello` and `resume`, from \
         127.0.0.2–127.0.0.9, one server after another, and holds them. Servers and clients share both \
         cores (this measures capacity, not speed). Memory is the servers' VmRSS growth while every socket \
         is held; \"in all\" is the servers' whole resident memory."
    );
    report::write_section(&options.out, "chat-box", "Idle sockets on one box", &setup, &rows)?;
    eprintln!("wrote {}", options.out.display());
    Ok(())
}
