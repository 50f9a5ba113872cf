//! A local SMTP sink for the mail tests: a small SMTP server on 127.0.0.1 that accepts every
//! mail and keeps it, readable as plain text (quoted-printable and base64 bodies decoded).
//! It can be stopped (connections are then refused) and started again on the same port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One mail as the sink received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The headers as sent.
    pub headers: String,
    /// The body, decoded.
    pub body: String,
}

impl Received {
    /// The `Subject:` header's value.
    pub fn subject(&self) -> String {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    }
}

pub struct Sink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Sink {
    /// A sink on a free port of 127.0.0.1.
    pub async fn start() -> Sink {
        Sink::start_at("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_at(addr: SocketAddr) -> Sink {
        let mut sink = Sink {
            addr,
            mails: Arc::default(),
            arrived: Arc::default(),
            task: Mutex::new(None),
        };
        sink.addr = sink.listen(addr).await;
        sink
    }

    async fn listen(&self, addr: SocketAddr) -> SocketAddr {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).unwrap();
        let listener = socket.listen(16).unwrap();
        let bound = listener.local_addr().unwrap();
        let (mails, arrived) = (self.mails.clone(), self.arrived.clone());
        let task = tokio::spawn(async move {
            // One conversation at a time: stopping the task ends them all.
            while let Ok((stream, _)) = listener.accept().await {
                if let Ok(mail) = converse(stream).await {
                    mails.lock().unwrap().extend(mail);
                    arrived.notify_waiters();
                }
            }
        });
        *self.task.lock().unwrap() = Some(task);
        bound
    }

    /// Stops listening: connections to the port are refused until [`Sink::restart`].
    pub async fn stop(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        self.listen(self.addr).await;
    }

    /// `smtp://127.0.0.1:PORT?tls=none`
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    pub fn mails(&self) -> Vec<Received> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until at least `n` mails arrived (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let mails = self.mails();
                assert!(
                    mails.len() >= n,
                    "{} of {n} mails arrived: {mails:#?}",
                    mails.len()
                );
                return mails;
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
    }
}

/// One SMTP conversation; the mails it delivered.
async fn converse(stream: TcpStream) -> std::io::Result<Vec<Received>> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut out = Vec::new();
    let (mut from, mut to) = (String::new(), Vec::new());
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if tokio::time::timeout(Duration::from_secs(10), lines.read_line(&mut line))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??
            == 0
        {
            return Ok(out);
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
            "HELO" | "RSET" | "NOOP" => b"250 OK\r\n",
            "MAIL" => {
                from = angle(&command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(angle(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(out);
                    }
                    let text = line.trim_end_matches(['\r', '\n']);
                    if text == "." {
                        break;
                    }
                    data.push_str(
                        text.strip_prefix('.')
                            .filter(|_| text.starts_with(".."))
                            .unwrap_or(text),
                    );
                    data.push('\n');
                }
                out.push(parse(&from, &to, &data));
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(out);
            }
            _ => b"502 not here\r\n",
        };
        write.write_all(reply).await?;
    }
}

fn angle(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end.max(start)].to_string()
}

fn parse(from: &str, to: &[String], data: &str) -> Received {
    let (headers, body) = data.split_once("\n\n").unwrap_or((data, ""));
    let encoding = headers
        .lines()
        .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap(),
            )
            .unwrap()
        }
        _ => body.to_string(),
    };
    Received {
        from: from.to_string(),
        to: to.to_vec(),
        headers: headers.to_string(),
        body,
    }
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
