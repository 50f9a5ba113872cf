//! Running the server for real: `/healthz` on both databases; the binary stopped by SIGTERM
//! with an event stream open and a push in flight; scheduled backups and their retention;
//! JSON logs without secrets; the systemd unit and its settings file.

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::*;
use keyward_core::sync::{Outcome, PushRequest, PushResponse, Session};
use serde_json::{json, Value};

async fn healthz_answers_while_the_database_does(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let ok = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert_eq!(ok.body, json!({"status": "ok", "database": name}));
    // The database gone from under the process: 503, with a reason and no details.
    server.store.pool().close().await;
    let down = server.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.body["status"], "unavailable");
    assert_eq!(
        down.body["reason"], "the database answered with an error",
        "{}",
        down.body
    );
}

on_both_backends!(healthz_answers_while_the_database_does);

/// One HTTP/1.1 exchange on a new connection: status and JSON body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.to_string();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_answer(&mut stream)
}

fn read_answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {raw}"));
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Waits for `child` to end, at most `within`.
fn wait_for(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn backups(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("backups"))
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.starts_with("keyward-") && n.ends_with(".db"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The real binary, stopped with SIGTERM while a stream is open and a push is half sent: the
/// push is answered, the stream ends, the process exits 0 within seconds. Before that it
/// takes scheduled backups and keeps two, refuses a restore while serving, and logs JSON
/// lines with no secret in them.
#[test]
fn sigterm_finishes_the_push_ends_the_stream_and_exits_cleanly() {
    const CODE: &str = "ABCD-EFGH-JKLM";
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/index.html"), "<!doctype html>").unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
        .args(["--dist", "dist", "--data", "data", "--addr", "127.0.0.1:0"])
        .args(["--setup-code", CODE, "--log-format", "json"])
        // About every 1.1 seconds, two kept.
        .args(["--backup-every", "0.0003", "--backup-keep", "2"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let collector = {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                log.lock().unwrap().push(line.unwrap());
            }
        })
    };
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "{printed}");
        printed.push_str(&line);
        if let Some(at) = line.trim().strip_prefix("Keyward is running at http://") {
            break at.trim_end_matches('/').parse().unwrap();
        }
    };
    assert!(
        printed.contains(&format!("(valid 24 hours, once): {CODE}")),
        "{printed}"
    );

    // A site, its admin on a device.
    let mut device = Device::new(7);
    let site = device.create_site("Northgate");
    let (status, session) = exchange(
        addr,
        "POST",
        "/api/sites",
        None,
        &json!({"site": site, "site_name": "Northgate", "username": username("admin"),
                "name": "Pat Caretaker", "password": PASSWORD, "device": device.id,
                "setup_code": CODE}),
    );
    assert_eq!(status, 201, "{session}");
    let token = serde_json::from_value::<Session>(session).unwrap().token;
    let first = PushRequest {
        device: device.id,
        changes: device.take(),
    };
    let (status, _) = exchange(addr, "POST", "/api/push", Some(&token), &json!(first));
    assert_eq!(status, 200);

    // Scheduled backups: at least three taken, two kept.
    let until = Instant::now() + Duration::from_secs(20);
    while log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("\"backup taken\""))
        .count()
        < 3
    {
        assert!(Instant::now() < until, "{:?}", log.lock().unwrap());
        std::thread::sleep(Duration::from_millis(100));
    }
    let kept = backups(&data);
    assert_eq!(kept.len(), 2, "{kept:?}");

    // No restore while it serves.
    let refused = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
        .args(["restore", "--data", "data"])
        .arg(format!("data/backups/{}", kept[0]))
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // An event stream, open.
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET /api/stream HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut streamed = Vec::new();
    while !String::from_utf8_lossy(&streamed).contains("event: head") {
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        streamed.extend_from_slice(&buf[..n]);
    }

    // A push, half sent.
    device.area(site, "Block B");
    let body = json!(PushRequest {
        device: device.id,
        changes: device.take(),
    })
    .to_string();
    let mut pushing = TcpStream::connect(addr).unwrap();
    pushing
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        pushing,
        "POST /api/push HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let half = body.len() / 2;
    pushing.write_all(&body.as_bytes()[..half]).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let stopped_at = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    // Nobody new is let in…
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after SIGTERM"
    );
    // …but the push in flight is finished and answered.
    pushing.write_all(&body.as_bytes()[half..]).unwrap();
    let (status, answer) = read_answer(&mut pushing);
    assert_eq!(status, 200, "{answer}");
    let answer: PushResponse = serde_json::from_value(answer).unwrap();
    assert!(
        matches!(answer.receipts[0].outcome, Outcome::Applied { .. }),
        "{answer:?}"
    );
    // The stream ends (the server closes it).
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("the stream is closed, not left hanging");
    let exited = wait_for(&mut child, Duration::from_secs(5));
    let Some(exited) = exited else {
        child.kill().unwrap();
        panic!("still running 5 s after SIGTERM");
    };
    assert!(exited.success(), "{exited}");
    println!("exited {:?} after SIGTERM", stopped_at.elapsed());
    assert!(stopped_at.elapsed() < Duration::from_secs(5));
    collector.join().unwrap();

    // The log: JSON lines, the start and stop, nothing secret.
    let log = log.lock().unwrap();
    let events: Vec<Value> = log
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let said = |message: &str| events.iter().find(|e| e["message"] == message);
    let serving = said("serving").unwrap_or_else(|| panic!("{log:?}"));
    assert_eq!(serving["level"], "INFO");
    assert_eq!(serving["address"], format!("http://{addr}/"));
    assert!(said("stopped").is_some(), "{log:?}");
    assert!(said("old backup removed").is_some(), "{log:?}");
    let all = log.join("\n");
    assert!(!all.contains(CODE), "the set-up code is in the log");
    assert!(!all.contains(PASSWORD), "a password is in the log");
    assert!(!all.contains(&token), "a token is in the log");
}

/// deploy/keyward.service passes `systemd-analyze verify` (its binary path pointed at this
/// build), and every variable deploy/keyward.env.example sets is one the binary reads.
#[test]
fn the_systemd_unit_verifies_and_its_settings_are_real() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let unit = std::fs::read_to_string(root.join("keyward.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/keyward-server"));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("keyward.service");
    std::fs::write(
        &copy,
        unit.replace(
            "/usr/local/bin/keyward-server",
            env!("CARGO_BIN_EXE_keyward-server"),
        ),
    )
    .unwrap();
    let verified = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze is needed (Debian: apt install systemd)");
    assert!(
        verified.status.success() && verified.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    let help = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let example = std::fs::read_to_string(root.join("keyward.env.example")).unwrap();
    let mut checked = 0;
    for line in example.lines() {
        let line = line.trim_start_matches('#');
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        if name.contains(' ') || name == "RUST_LOG" {
            continue;
        }
        assert!(
            help.contains(&format!("[env: {name}")),
            "{name} is not read:\n{help}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
}
