//! The HTTP benchmark: wrk for requests/s and p99 (server pinned to core 0,
//! wrk to core 1, A/B interleaved), callgrind for instructions per request.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::report::{self, Row, median};

/// Options of `bench http`.
#[derive(clap::Args, Clone)]
pub struct HttpOptions {
    /// Seconds of load per round.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Rounds of A/B (medians are reported, with min–max).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Requests counted under callgrind (0 skips instruction counts).
    #[arg(long, default_value_t = 2000)]
    callgrind_requests: u32,
    /// Where the table goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Bare,
    Petbridge,
}

impl Target {
    fn path(self) -> &'static str {
        match self {
            Target::Bare => "/hello",
            Target::Petbridge => "/api/dashboard/v1/me",
        }
    }
}

struct Running {
    child: Child,
    port: u16,
    token: Option<String>,
    _dir: tempfile::TempDir,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts a server process, optionally under a wrapper (taskset, valgrind).
async fn start(target: Target, wrapper: &[String]) -> anyhow::Result<Running> {
    let exe = std::env::current_exe()?;
    let port = free_port()?;
    let dir = tempfile::tempdir()?;
    let mut args: Vec<String> = wrapper.to_vec();
    args.push(exe.display().to_string());
    match target {
        Target::Bare => args.extend(["serve-bare".into(), "--port".into(), port.to_string()]),
        Target::Petbridge => args.extend([
            "serve-petbridge".into(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.path().display().to_string(),
        ]),
    }
    let mut child = Command::new(&args[0])
        .args(&args[1..])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {args:?}"))?;
    let mut token = None;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    if target == Target::Petbridge {
        while let Some(line) = tokio::time::timeout(Duration::from_secs(600), lines.next_line()).await?? {
            if let Some(value) = line.strip_prefix("TOKEN ") {
                token = Some(value.to_owned());
                break;
            }
        }
        if token.is_none() {
            bail!("the Petbridge server exited before it was ready (see its error above)");
        }
    }
    // Keep draining the server's log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let running = Running { child, port, token, _dir: dir };
    wait_ready(&running, target).await?;
    Ok(running)
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(1).build()?)
}

async fn request(client: &reqwest::Client, running: &Running, target: Target) -> anyhow::Result<()> {
    let mut builder = client.get(format!("http://127.0.0.1:{}{}", running.port, target.path()));
    if let Some(token) = &running.token {
        builder = builder.bearer_auth(token);
    }
    let response = builder.send().await?;
    if !response.status().is_success() {
        bail!("{} answered {}", target.path(), response.status());
    }
    response.bytes().await?;
    Ok(())
}

async fn wait_ready(running: &Running, target: Target) -> anyhow::Result<()> {
    let client = client()?;
    let started = Instant::now();
    loop {
        match request(&client, running, target).await {
            Ok(()) => return Ok(()),
            Err(_) if started.elapsed() < Duration::from_secs(600) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => return Err(err.context("the server never became ready")),
        }
    }
}

async fn stop(mut running: Running) -> anyhow::Result<()> {
    if let Some(pid) = running.child.id() {
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
    }
    tokio::time::timeout(Duration::from_secs(120), running.child.wait()).await??;
    Ok(())
}

/// One wrk run: (requests/s, p99 in ms).
async fn wrk(options: &HttpOptions, running: &Running, target: Target, pin: bool) -> anyhow::Result<(f64, f64)> {
    let mut command = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", "wrk"]);
        c
    } else {
        Command::new("wrk")
    };
    command.args(["-t1", &format!("-c{}", options.connections), &format!("-d{}s", options.duration), "--latency"]);
    if let Some(token) = &running.token {
        command.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    command.arg(format!("http://127.0.0.1:{}{}", running.port, target.path()));
    let output = command.output().await.context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if text.contains("Non-2xx") {
        bail!("wrk saw errors: {text}");
    }
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .ok_or_else(|| anyhow!("no Requests/sec in wrk output: {text}"))?
        .trim()
        .parse::<f64>()?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .ok_or_else(|| anyhow!("no 99% in wrk output: {text}"))?
        .trim();
    Ok((rps, parse_wrk_duration(p99)?))
}

/// `1.23ms`, `850.00us`, `1.02s` → milliseconds.
fn parse_wrk_duration(text: &str) -> anyhow::Result<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| anyhow!("no unit in {text}"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse()?;
    Ok(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        other => bail!("unknown unit {other}"),
    })
}

/// Instructions per request: zero the counters after warm-up, send
/// `requests` one at a time, dump, read the total.
async fn instructions(target: Target, requests: u32) -> anyhow::Result<f64> {
    let dumps = tempfile::tempdir()?;
    let out = dumps.path().join("callgrind.out");
    let wrapper =
        vec!["valgrind".to_owned(), "--tool=callgrind".to_owned(), format!("--callgrind-out-file={}", out.display())];
    let running = start(target, &wrapper).await?;
    let pid = running.child.id().ok_or_else(|| anyhow!("no pid"))?.to_string();
    let client = client()?;
    for _ in 0..200 {
        request(&client, &running, target).await?;
    }
    callgrind_control(&["-z", &pid]).await?;
    for _ in 0..requests {
        request(&client, &running, target).await?;
    }
    callgrind_control(&["-d", &pid]).await?;
    let total = newest_dump_total(dumps.path())?;
    stop(running).await?;
    Ok(total as f64 / f64::from(requests))
}

async fn callgrind_control(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("callgrind_control").args(args).stdout(Stdio::null()).status().await?;
    if !status.success() {
        bail!("callgrind_control {args:?} failed");
    }
    Ok(())
}

fn newest_dump_total(dir: &Path) -> anyhow::Result<u64> {
    let mut dumps: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dumps.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    let newest = dumps.last().ok_or_else(|| anyhow!("callgrind wrote no dump"))?;
    let text = std::fs::read_to_string(newest)?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .ok_or_else(|| anyhow!("no totals in {}", newest.display()))?
        .split_whitespace()
        .next()
        .ok_or_else(|| anyhow!("empty totals"))?
        .parse()
        .context("totals")
}

/// Runs the benchmark and writes its table.
pub async fn run(options: HttpOptions) -> anyhow::Result<()> {
    if !have("wrk") {
        bail!("wrk is needed: apt-get install wrk");
    }
    let pin = have("taskset") && std::thread::available_parallelism().map_or(1, usize::from) >= 2;
    let server_wrapper: Vec<String> = if pin { vec!["taskset".into(), "-c".into(), "0".into()] } else { Vec::new() };

    let mut rps = [Vec::new(), Vec::new()];
    let mut p99 = [Vec::new(), Vec::new()];
    for round in 1..=options.rounds {
        for (i, target) in [Target::Bare, Target::Petbridge].into_iter().enumerate() {
            let running = start(target, &server_wrapper).await?;
            // A short warm-up, then the measured run.
            wrk(&HttpOptions { duration: 2, ..options.clone() }, &running, target, pin).await?;
            let (r, p) = wrk(&options, &running, target, pin).await?;
            eprintln!("round {round} {}: {r:.0} req/s, p99 {p:.2} ms", target.path());
            rps[i].push(r);
            p99[i].push(p);
            stop(running).await?;
        }
    }
    let (instr_bare, instr_pb) = if options.callgrind_requests > 0 && have("valgrind") && have("callgrind_control") {
        let bare = instructions(Target::Bare, options.callgrind_requests).await?;
        let pb = instructions(Target::Petbridge, options.callgrind_requests).await?;
        eprintln!("instructions/request: bare {bare:.0}, petbridge {pb:.0}");
        (Some(bare), Some(pb))
    } else {
        (None, None)
    };

    let range = |v: &[f64], digits: usize| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{min:.digits$}–{max:.digits$}")
    };
    let bare_rps = median(&mut rps[0].clone());
    let pb_rps = median(&mut rps[1].clone());
    let bare_p99 = median(&mut p99[0].clone());
    let pb_p99 = median(&mut p99[1].clone());
    let mut rows = vec![
        Row {
            metric: "requests/s (median)".into(),
            baseline: format!("{bare_rps:.0} ({})", range(&rps[0], 0)),
            petbridge: format!("{pb_rps:.0} ({})", range(&rps[1], 0)),
            ratio: format!("{:.2}", pb_rps / bare_rps),
            target: "≥ 0.35".into(),
            met: Some(pb_rps / bare_rps >= 0.35),
        },
        Row {
            metric: "p99 latency, ms (median)".into(),
            baseline: format!("{bare_p99:.2} ({})", range(&p99[0], 2)),
            petbridge: format!("{pb_p99:.2} ({})", range(&p99[1], 2)),
            ratio: format!("{:.2}", pb_p99 / bare_p99),
            target: "≤ 2 (owner-app reads)".into(),
            met: Some(pb_p99 / bare_p99 <= 2.0),
        },
    ];
    if let (Some(bare), Some(pb)) = (instr_bare, instr_pb) {
        rows.push(Row {
            metric: "instructions/request (callgrind)".into(),
            baseline: format!("{bare:.0}"),
            petbridge: format!("{pb:.0}"),
            ratio: format!("{:.2}", pb / bare),
            target: "≤ 4 (owner-app reads)".into(),
            met: Some(pb / bare <= 4.0),
        });
    }
    let setup = format!(
        "`GET /api/dashboard/v1/me` with a bearer token (session check from the session cache, practice from the practice \
         cache, the staff row read from SQLite, JSON; info-level request logs on, as in production) against a bare poem-openapi handler returning a small JSON object. \
         SQLite (WAL) embedded defaults, release build. wrk: 1 thread, {} connections, {} s per round after a 2 s warm-up, \
         {} rounds interleaved bare/petbridge; {}. Instructions: callgrind over {} sequential requests after 200 warm-up requests.",
        options.connections,
        options.duration,
        options.rounds,
        if pin {
            "server pinned to core 0 and wrk to core 1 with taskset"
        } else {
            "no core pinning (taskset missing or one core)"
        },
        options.callgrind_requests,
    );
    report::write_section(&options.out, "http", "Authenticated JSON read vs bare poem-openapi", &setup, &rows)?;
    eprintln!("wrote {}", options.out.display());
    Ok(())
}
