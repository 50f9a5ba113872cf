//! `cargo xtask bench abuse`: what a hostile client costs a release keyward-server.
//!
//! Against a fresh release server (started here, with `KEYWARD_SETUP_CODE` set), all at once
//! from 127.0.0.1:
//!
//! - `IDLE` TCP connections opened and left silent, `HALF_HEADER` of them after sending half
//!   a request header;
//! - `BAD_SIGN_INS` concurrent `POST /api/login` with wrong passwords, half for the site's
//!   real admin and half for usernames nobody has;
//!
//! and meanwhile, from another address (127.0.0.2, as a person elsewhere on the network), a
//! normal sign-in and a push of one change. It prints the server's peak memory, the timings,
//! how the sign-ins were answered, whether the person's sign-in and push went through, and
//! how many of the idle connections the server closed and after how long. Nothing is
//! asserted: the figures are for reading.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward_core::sync::{Numbered, PushRequest};
use keyward_core::{Command, Context, DeviceId, Register, SplitMix};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::exec::{cargo, run};
use crate::server::{self, Server};

const IDLE: usize = 1_000;
const HALF_HEADER: usize = 100;
const BAD_SIGN_INS: usize = 400;
/// The set-up code the bench's server is started with and the site registration sends.
const SETUP_CODE: &str = "bench-setup-code-0123456789";
const PASSWORD: &str = "correct horse battery";
/// How long to wait for the server to close the idle connections.
const IDLE_WATCH: Duration = Duration::from_secs(40);
/// The person's address: another loopback address than the flood's.
const PERSON: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Builds the release server, starts it on a fresh data folder with the build in `dist`
/// (or, if there is none, a one-page stand-in), and runs the bench.
pub fn bench(root: &Path) -> Result<(), String> {
    run(cargo()
        .args(["build", "--release", "--package", crate::SERVER_BIN])
        .current_dir(root))?;
    let program = crate::target_dir(root).join("release").join(format!(
        "{}{}",
        crate::SERVER_BIN,
        std::env::consts::EXE_SUFFIX
    ));
    let data = server::fresh_data_dir()?;
    let dist = dist_folder(root, &data)?;
    // Inherited by the server: the set-up code it will ask for.
    std::env::set_var("KEYWARD_SETUP_CODE", SETUP_CODE);
    let server = Server::start(&program, Some(&dist), &data.join("data"))?;
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the bench's runtime: {e}"))
        .and_then(|rt| rt.block_on(abuse(&server)));
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// `root/dist` when the PWA was built, else a folder in `scratch` with a minimal page.
fn dist_folder(root: &Path, scratch: &Path) -> Result<PathBuf, String> {
    let built = root.join("dist");
    if built.join("index.html").is_file() {
        return Ok(built);
    }
    let dist = scratch.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    std::fs::write(
        dist.join("index.html"),
        "<!DOCTYPE html><html><head><title>Keyward</title></head><body></body></html>\n",
    )
    .map_err(|e| format!("cannot write the stand-in page: {e}"))?;
    println!("(no built PWA in dist/: serving a one-page stand-in)");
    Ok(dist)
}

/// The server's memory from `/proc/<pid>/status`, in KiB: (VmRSS, VmHWM).
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// `p50 / p95 / max` of some durations.
fn spread(times: &mut [Duration]) -> String {
    if times.is_empty() {
        return "-".into();
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {} / p95 {} / max {}",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(times[times.len() - 1])
    )
}

fn client(from: Option<IpAddr>) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(from)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// One change the person's device made: creating the site (it must be the first).
struct Change {
    device: DeviceId,
    site: Value,
    site_name: String,
    push: PushRequest,
}

fn site_created() -> Change {
    let now = chrono::Utc::now();
    let mut seed = [0u8; 8];
    // Seeded from the clock: each run registers a site of its own.
    seed.copy_from_slice(&now.timestamp_nanos_opt().unwrap_or(0).to_le_bytes());
    let mut entropy = SplitMix(u64::from_le_bytes(seed));
    let device = DeviceId::generate(now, &mut entropy);
    let site_name = "Abuse Bench School".to_string();
    let mut ctx = Context {
        actor: "Pat Caretaker".into(),
        device,
        now,
        entropy: &mut entropy,
    };
    let event = Register::new()
        .execute(
            Command::CreateSite {
                name: site_name.clone(),
            },
            &mut ctx,
        )
        .expect("a site can be created");
    let site = match &event.change {
        keyward_core::Change::SiteCreated { site, .. } => json!(site),
        other => panic!("{other:?}"),
    };
    Change {
        device,
        site,
        site_name,
        push: PushRequest {
            device,
            changes: vec![Numbered { n: 1, event }],
        },
    }
}

/// A reply's status and JSON body (`Null` if it had none).
async fn send(request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let res = request.send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

async fn abuse(server: &Server) -> Result<(), String> {
    let base = server.url.trim_end_matches('/').to_string();
    let addr: SocketAddr = server
        .addr
        .parse()
        .map_err(|e| format!("the server's address {}: {e}", server.addr))?;
    let pid = server.pid();
    let flood = client(None)?;
    let person = client(Some(PERSON))?;
    let change = site_created();
    let username = format!("bench-admin-{}", std::process::id());

    println!("\n== abuse bench: release keyward-server pid {pid} at {base}");
    let started = Instant::now();
    let (status, body) = send(flood.post(format!("{base}/api/sites")).json(&json!({
        "site": change.site,
        "site_name": change.site_name,
        "username": username,
        "name": "Pat Caretaker",
        "password": PASSWORD,
        "device": change.device,
        "setup_code": SETUP_CODE,
    })))
    .await?;
    if status != 201 {
        return Err(format!("registering the bench's site: {status} {body}"));
    }
    println!("site registered in {}", ms(started.elapsed()));
    let sign_in = |client: &reqwest::Client, username: &str, password: &str| {
        client.post(format!("{base}/api/login")).json(&json!({
            "username": username,
            "password": password,
            "device": change.device,
        }))
    };
    let started = Instant::now();
    let (status, _) = send(sign_in(&person, &username, PASSWORD)).await?;
    println!(
        "a quiet sign-in from {PERSON}: {status} in {}",
        ms(started.elapsed())
    );
    let (rss_before, _) = memory(pid).unwrap_or_default();

    // Memory, sampled while the bench runs.
    let highest = Arc::new(AtomicU64::new(rss_before));
    let sampler = {
        let highest = highest.clone();
        tokio::spawn(async move {
            while let Some((rss, _)) = memory(pid) {
                highest.fetch_max(rss, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    // 1. Idle connections: opened, then silent (some after half a header). Each task
    // reports when the server closed it.
    let started = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    let mut failed_to_open = BTreeMap::<String, usize>::new();
    for i in 0..IDLE {
        match TcpStream::connect(addr).await {
            Ok(mut stream) => {
                let opened = Instant::now();
                if i < HALF_HEADER {
                    let _ = stream
                        .write_all(b"GET /api/me HTTP/1.1\r\nHost: keyward.test\r\nX-Wait: ")
                        .await;
                }
                idle.push(tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    loop {
                        match tokio::time::timeout(IDLE_WATCH, stream.read(&mut buf)).await {
                            Err(_) => return None,
                            Ok(Ok(0) | Err(_)) => return Some(opened.elapsed()),
                            Ok(Ok(_)) => {}
                        }
                    }
                }));
            }
            Err(e) => *failed_to_open.entry(e.kind().to_string()).or_default() += 1,
        }
    }
    println!(
        "opened {} idle connections ({HALF_HEADER} sent half a header) in {}{}",
        idle.len(),
        ms(started.elapsed()),
        if failed_to_open.is_empty() {
            String::new()
        } else {
            format!("; could not open: {failed_to_open:?}")
        }
    );

    // 2. The flood of bad sign-ins, all at once; the person signs in and pushes meanwhile.
    let started = Instant::now();
    let flood_tasks: Vec<_> = (0..BAD_SIGN_INS)
        .map(|i| {
            let name = if i % 2 == 0 {
                username.clone()
            } else {
                format!("nobody-{i}")
            };
            let request = sign_in(&flood, &name, "wrong password!");
            tokio::spawn(async move {
                let t = Instant::now();
                (send(request).await.map(|(s, _)| s), t.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = Instant::now();
    let person_sign_in = send(sign_in(&person, &username, PASSWORD)).await;
    let sign_in_took = t.elapsed();
    let push = match &person_sign_in {
        Ok((200, session)) => {
            let token = session["token"].as_str().unwrap_or_default().to_string();
            let t = Instant::now();
            let reply = send(
                person
                    .post(format!("{base}/api/push"))
                    .bearer_auth(token)
                    .json(&change.push),
            )
            .await;
            Some((reply, t.elapsed()))
        }
        _ => None,
    };

    let mut answered = BTreeMap::<String, usize>::new();
    let mut times = Vec::with_capacity(BAD_SIGN_INS);
    for task in flood_tasks {
        let (status, took) = task.await.map_err(|e| e.to_string())?;
        let key = match status {
            Ok(code) => code.to_string(),
            Err(e) => format!("error ({})", e.chars().take(60).collect::<String>()),
        };
        *answered.entry(key).or_default() += 1;
        times.push(took);
    }
    let flood_took = started.elapsed();
    println!(
        "{BAD_SIGN_INS} bad sign-ins from 127.0.0.1 ({} for the real admin, {} for unknown \
         usernames) answered in {}: {}",
        BAD_SIGN_INS.div_ceil(2),
        BAD_SIGN_INS / 2,
        ms(flood_took),
        answered
            .iter()
            .map(|(k, n)| format!("{k} × {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  each: {}", spread(&mut times));
    match &person_sign_in {
        Ok((200, _)) => println!(
            "the person's sign-in from {PERSON} meanwhile: OK (200) in {}",
            ms(sign_in_took)
        ),
        Ok((status, body)) => println!(
            "the person's sign-in from {PERSON} meanwhile: FAILED, {status} {} in {}",
            body["error"],
            ms(sign_in_took)
        ),
        Err(e) => println!("the person's sign-in from {PERSON} meanwhile: FAILED, {e}"),
    }
    match push {
        Some((Ok((200, body)), took)) => {
            let outcome = &body["receipts"][0]["outcome"];
            println!(
                "the person's push of one change: {} ({outcome}) in {}",
                if outcome == "applied" {
                    "OK"
                } else {
                    "NOT APPLIED"
                },
                ms(took)
            );
        }
        Some((Ok((status, body)), took)) => println!(
            "the person's push of one change: FAILED, {status} {body} in {}",
            ms(took)
        ),
        Some((Err(e), _)) => println!("the person's push of one change: FAILED, {e}"),
        None => println!("the person's push of one change: not tried (no sign-in)"),
    }

    // 3. How the idle connections ended.
    let mut closed = Vec::new();
    let mut still_open = 0;
    for task in idle {
        match task.await.map_err(|e| e.to_string())? {
            Some(after) => closed.push(after),
            None => still_open += 1,
        }
    }
    println!(
        "idle connections closed by the server: {} of {}, after {}{}",
        closed.len(),
        closed.len() + still_open,
        spread(&mut closed),
        if still_open > 0 {
            format!("; {still_open} still open after {}s", IDLE_WATCH.as_secs())
        } else {
            String::new()
        }
    );

    sampler.abort();
    match memory(pid) {
        Some((rss, hwm)) => println!(
            "server memory: peak RSS (VmHWM) {}; RSS before the abuse {}, highest sampled {}, now {}",
            mib(hwm),
            mib(rss_before),
            mib(highest.load(Ordering::Relaxed).max(rss)),
            mib(rss)
        ),
        None => println!("server memory: /proc/{pid}/status unreadable (the server is gone?)"),
    }
    Ok(())
}
