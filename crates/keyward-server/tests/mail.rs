//! E-mail against a local SMTP sink the tests start (`support/smtp.rs`), on SQLite and on
//! PostgreSQL: the lost-master-key mail reaches the site's admins only; the overdue digest
//! lists the overdue key and goes once a day, even from two server processes; a reset link
//! works once, not twice, and expires; an unknown username gets the same answer and no mail;
//! a mail server that is down gets the mail when it comes back; without SMTP nothing is
//! queued and there is no "forgot" to offer.

#[macro_use]
mod common;
#[path = "support/smtp.rs"]
mod smtp;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{Local, NaiveDate, TimeZone};
use common::*;
use keyward_core::sync::{EmailAddress, MailStatus, Session, User};
use keyward_core::*;
use keyward_server::mail::{self, MailConfig, MailLimits};
use serde_json::json;
use smtp::{Received, Sink};

const STRONG: &str = "violet harbour tractor";
const PUBLIC: &str = "https://keys.example.org";
const LINK_USED: &str = "This link to set a new password has expired or has been used. Ask for a new one with \u{201c}Forgot your password?\u{201d} on the sign-in screen.";
const WAIT: Duration = Duration::from_secs(15);

/// Quick retries, so a test of a mail server that is down takes a second, not minutes.
fn quick() -> MailLimits {
    MailLimits {
        poll: Duration::from_millis(100),
        retry_first: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        ..MailLimits::default()
    }
}

/// A server process over `db` that mails through `sink`.
async fn mailing(db: &TestDb, sink: &Sink) -> Server {
    mailing_with(db, sink, quick()).await
}

async fn mailing_with(db: &TestDb, sink: &Sink, limits: MailLimits) -> Server {
    let server = db.server().await;
    let mut config =
        MailConfig::new(&sink.url(), "Keyward <keyward@test.example.org>", PUBLIC).unwrap();
    config.limits = limits;
    mail::start(&server.store, config).unwrap();
    server
}

async fn set_email(server: &Server, token: &str, email: &str) -> EmailAddress {
    server
        .call(
            Method::PUT,
            "/api/email",
            Some(token),
            Some(json!({ "email": email })),
        )
        .await
        .ok()
}

/// Adds a user with an address (or none) and signs them in.
async fn member(
    server: &Server,
    admin: &str,
    prefix: &str,
    role: Role,
    email: Option<&str>,
    device: DeviceId,
) -> Session {
    let name = username(prefix);
    let added = server
        .post(
            "/api/users",
            Some(admin),
            json!({"username": name, "name": format!("{prefix} person"), "role": role,
                   "password": PASSWORD, "email": email}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let user: User = added.ok();
    assert_eq!(user.email.as_deref(), email);
    server.login(&name, PASSWORD, device).await.ok()
}

async fn outbox(server: &Server) -> i64 {
    server.count("mail_outbox").await
}

/// Nothing more arrives within a short while.
async fn no_more(sink: &Sink, expected: usize) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.mails().len(), expected, "{:#?}", sink.mails());
}

fn to(mails: &[Received]) -> Vec<String> {
    let mut all: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    all.sort();
    all
}

/// The lost-master-key mail: to every admin with an address at once, with which key, the
/// locks and areas it opens, who reported it and when; never to other roles; once.
async fn lost_master_key_mails_the_admins(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    let server = mailing(&db, &sink).await;
    let mut device = Device::new(1);
    let (site, admin) = register_site(&server, &mut device, "St Mary's Hospital").await;
    set_email(&server, &admin.token, "pat@stmarys.example.org").await;
    let other = Device::new(2);
    member(
        &server,
        &admin.token,
        "admin2",
        Role::Admin,
        Some("jo@stmarys.example.org"),
        other.id,
    )
    .await;
    member(&server, &admin.token, "admin3", Role::Admin, None, other.id).await;
    member(
        &server,
        &admin.token,
        "keys",
        Role::Custodian,
        Some("cus@stmarys.example.org"),
        other.id,
    )
    .await;
    member(
        &server,
        &admin.token,
        "staff",
        Role::Staff,
        Some("staff@stmarys.example.org"),
        other.id,
    )
    .await;

    let area = device.area(site, "Ward 7 corridor");
    let lockers = device.lockers(site, area, "C1", "C3");
    let mut locks = Vec::new();
    for (locker, suite) in lockers.iter().zip(["Ward 7", "ward 7", ""]) {
        match device
            .run(Command::FitLock {
                locker: *locker,
                kind: LockKind::Keyed,
                code: "M 100".into(),
                suite: suite.into(),
            })
            .change
        {
            Change::LockFitted { lock, .. } => locks.push(lock),
            c => panic!("{c:?}"),
        }
    }
    let master = match device
        .run(Command::AddKeys {
            lock: locks[0],
            kind: KeyKind::Master,
            count: 1,
            storage: "Key safe, hook 1".into(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        c => panic!("{c:?}"),
    };
    device.run(Command::DefineSuite {
        site,
        name: "Ward 7".into(),
        check_every_days: 7,
        witness_required: false,
    });
    server.push(&admin.token, device.id, &device.take()).await;
    assert_eq!(outbox(&server).await, 0, "nothing lost yet");

    let lost = device.run(Command::ReportMasterKeyLost {
        key: master,
        notes: "Not on its hook at handover".into(),
    });
    let escalation = match lost.change {
        Change::MasterLostReported { escalation, .. } => escalation,
        ref c => panic!("{c:?}"),
    };
    let pushed = device.take();
    server.push(&admin.token, device.id, &pushed).await;
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(
        to(&mails),
        ["jo@stmarys.example.org", "pat@stmarys.example.org"],
        "the admins with an address, and nobody else"
    );
    let tag = device.register.key(master).unwrap().tag.to_string();
    let when = keyward_core::format::uk_date_time(&lost.at.with_timezone(&Local));
    for mail in &mails {
        assert_eq!(mail.from, "keyward@test.example.org");
        assert_eq!(
            mail.subject(),
            format!("Master key {tag} reported lost at St Mary's Hospital")
        );
        for words in [
            "Master key ".to_string() + &tag + " of the suite \"Ward 7\"",
            "Reported by: Pat Caretaker".into(),
            format!("When: {when}"),
            "Notes: Not on its hook at handover".into(),
            "It opens 2 locks of the suite:".into(),
            "  - locker C1 (Ward 7 corridor)".into(),
            "  - locker C2 (Ward 7 corridor)".into(),
            format!("{PUBLIC}/master/escalations/{escalation}"),
        ] {
            assert!(mail.body.contains(&words), "{words:?} in:\n{}", mail.body);
        }
        assert!(!mail.body.contains("locker C3"), "{}", mail.body);
        // A UK date and a 24-hour time.
        assert!(when.len() == 16 && when.as_bytes()[2] == b'/', "{when}");
    }
    // The same push again is answered from the receipts: no second mail.
    server.push(&admin.token, device.id, &pushed).await;
    no_more(&sink, 2).await;
    assert_eq!(outbox(&server).await, 0);
}

/// The digest: the overdue key with its locker, holder and due date, to admins and key
/// custodians with an address; once a day, however many processes look.
async fn digest_lists_overdue_keys_once_a_day(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    let server = mailing(&db, &sink).await;
    let mut device = Device::new(3);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    set_email(&server, &admin.token, "office@northgate.example.org").await;
    let other = Device::new(4);
    member(
        &server,
        &admin.token,
        "keys",
        Role::Custodian,
        Some("keys@northgate.example.org"),
        other.id,
    )
    .await;
    member(
        &server,
        &admin.token,
        "staff",
        Role::Staff,
        Some("staff@northgate.example.org"),
        other.id,
    )
    .await;
    let area = device.area(site, "Science block");
    let lockers = device.lockers(site, area, "A1", "A2");
    let late = device.lock_with_keys(lockers[0], 1)[0];
    let fine = device.lock_with_keys(lockers[1], 1)[0];
    let sam = device.person(site, "Sam Jones");
    let ali = device.person(site, "Ali Khan");
    let today = device.today();
    device.run(Command::IssueKey {
        key: late,
        locker: lockers[0],
        holder: Holder::Person(sam),
        date: today,
        expected_return: Some(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()),
        confirmation: Confirmation::TypedName("Sam Jones".into()),
        notes: String::new(),
        due_time: None,
    });
    device.run(Command::IssueKey {
        key: fine,
        locker: lockers[1],
        holder: Holder::Person(ali),
        date: today,
        expected_return: Some(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()),
        confirmation: Confirmation::TypedName("Ali Khan".into()),
        notes: String::new(),
        due_time: None,
    });
    server.push(&admin.token, device.id, &device.take()).await;

    let morning = Local.with_ymd_and_hms(2026, 11, 28, 7, 30, 0).unwrap();
    assert_eq!(mail::digest::run(&server.store, morning).await.unwrap(), 2);
    // Again, and from a second server process over the same database: not again that day.
    assert_eq!(mail::digest::run(&server.store, morning).await.unwrap(), 0);
    let second = mailing(&db, &sink).await;
    let later = Local.with_ymd_and_hms(2026, 11, 28, 15, 0, 0).unwrap();
    assert_eq!(mail::digest::run(&second.store, later).await.unwrap(), 0);

    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(
        to(&mails),
        ["keys@northgate.example.org", "office@northgate.example.org"]
    );
    let tag = device.register.key(late).unwrap().tag.to_string();
    for mail in &mails {
        assert_eq!(
            mail.subject(),
            "1 overdue key at Northgate School on 28/11/2026"
        );
        for words in [
            "1 key is overdue at Northgate School".to_string(),
            "Science block".into(),
            format!("  - locker A1, key {tag}: Sam Jones, due back 27/11/2026 (7 hours late)"),
            format!("{PUBLIC}/overdue"),
        ] {
            assert!(mail.body.contains(&words), "{words:?} in:\n{}", mail.body);
        }
        assert!(!mail.body.contains("Ali Khan"), "{}", mail.body);
    }
    no_more(&sink, 2).await;

    // The key comes back: the next day nothing is overdue and nothing is sent, and the day
    // is still recorded, so no process looks again that day.
    device.give_back(late);
    server.push(&admin.token, device.id, &device.take()).await;
    let next = Local.with_ymd_and_hms(2026, 11, 29, 7, 0, 0).unwrap();
    assert_eq!(mail::digest::run(&second.store, next).await.unwrap(), 0);
    assert_eq!(server.count("digests_sent").await, 2);
    no_more(&sink, 2).await;
}

/// The token of the reset link in a mail.
fn token_of(mail: &Received) -> String {
    let start = mail
        .body
        .find(&format!("{PUBLIC}/reset#token="))
        .unwrap_or_else(|| panic!("no link in:\n{}", mail.body));
    let token: String = mail.body[start..]
        .split_once('=')
        .unwrap()
        .1
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{}", mail.body);
    token
}

async fn forgot(server: &Server, username: &str) -> StatusCode {
    let reply = server
        .post("/api/password-reset", None, json!({ "username": username }))
        .await;
    assert_eq!(reply.body, serde_json::Value::Null, "the same empty answer");
    reply.status
}

async fn complete(server: &Server, token: &str, password: &str) -> Reply {
    server
        .post(
            "/api/password-reset/complete",
            None,
            json!({ "token": token, "password": password }),
        )
        .await
}

/// The link works once, not twice; a new one replaces the old; it expires; the sessions end;
/// and an admin's reset tells the person.
async fn reset_link_works_once_and_expires(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    let server = mailing(&db, &sink).await;
    let status: MailStatus = server.call(Method::GET, "/api/mail", None, None).await.ok();
    assert!(status.configured);
    let mut device = Device::new(5);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let phone = Device::new(6);
    let sam = member(
        &server,
        &admin.token,
        "sam",
        Role::Staff,
        Some("sam@northgate.example.org"),
        phone.id,
    )
    .await;

    assert_eq!(
        forgot(&server, &sam.username.to_uppercase()).await,
        StatusCode::ACCEPTED
    );
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["sam@northgate.example.org"]);
    assert_eq!(mails[0].subject(), "Set a new Keyward password");
    assert!(mails[0].body.contains(&sam.username), "{}", mails[0].body);
    let token = token_of(&mails[0]);
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_ne!(stored, token, "only the token's hash is kept");

    // The rule still holds, and a refused password leaves the link working.
    let weak = complete(&server, &token, "password123").await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.error().starts_with("Choose a"), "{}", weak.error());
    assert_eq!(
        complete(&server, &token, STRONG).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.get("/api/me", &sam.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&sam.username, PASSWORD, phone.id).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&sam.username, STRONG, phone.id).await.status,
        StatusCode::OK
    );
    let twice = complete(&server, &token, "orange cloud ladder").await;
    assert_eq!(
        (twice.status, twice.error()),
        (StatusCode::BAD_REQUEST, LINK_USED)
    );

    // A second request replaces the first link.
    forgot(&server, &sam.username).await;
    forgot(&server, &sam.username).await;
    let mails = sink.wait_for(3, WAIT).await;
    let (older, newer) = (token_of(&mails[1]), token_of(&mails[2]));
    assert_eq!(
        complete(&server, &older, "orange cloud ladder")
            .await
            .error(),
        LINK_USED
    );
    // An hour later it has expired.
    sqlx::query("UPDATE password_resets SET expires_at = expires_at - 3600000")
        .execute(server.store.pool())
        .await
        .unwrap();
    assert_eq!(
        complete(&server, &newer, "orange cloud ladder")
            .await
            .error(),
        LINK_USED
    );
    assert_eq!(complete(&server, "zz", STRONG).await.error(), LINK_USED);

    // An admin sets Sam's password: Sam is told by mail.
    let reset = server
        .call(
            Method::PUT,
            &format!("/api/users/{}/password", sam.username),
            Some(&admin.token),
            Some(json!({ "password": "kettle marble tulip" })),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
    let mails = sink.wait_for(4, WAIT).await;
    assert_eq!(mails[3].to, ["sam@northgate.example.org"]);
    assert_eq!(mails[3].subject(), "Your Keyward password was changed");
    assert!(
        mails[3]
            .body
            .contains("Pat Caretaker, an admin of Northgate School"),
        "{}",
        mails[3].body
    );
}

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 9, 0, n], 40_000))
}

/// No account, or no address: the same answer and no mail. Requests are counted like
/// sign-ins, without locking anyone out of signing in.
async fn unknown_username_gets_the_same_answer(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    let server = mailing(&db, &sink).await;
    let mut device = Device::new(7);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let quiet = member(&server, &admin.token, "quiet", Role::Staff, None, device.id).await;
    assert_eq!(forgot(&server, "nobody-here").await, StatusCode::ACCEPTED);
    assert_eq!(forgot(&server, &quiet.username).await, StatusCode::ACCEPTED);
    assert_eq!(outbox(&server).await, 0);
    assert_eq!(server.count("password_resets").await, 0);
    no_more(&sink, 0).await;

    let ask = |from: SocketAddr, who: String| {
        let server = server.clone();
        async move {
            server
                .call_from(
                    Some(from),
                    Method::POST,
                    "/api/password-reset",
                    None,
                    Some(json!({ "username": who })),
                )
                .await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            ask(addr(1), "nobody-here".into()).await.status,
            StatusCode::ACCEPTED
        );
    }
    let refused = ask(addr(1), "nobody-here".into()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused
            .error()
            .starts_with("Too many requests for a new password"),
        "{}",
        refused.error()
    );
    // Someone else's requests do not stop this one from signing in.
    for _ in 0..6 {
        ask(addr(2), quiet.username.clone()).await;
    }
    let signed_in = server
        .login_from(addr(2), &quiet.username, PASSWORD, device.id)
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);
    let bad = server
        .call(
            Method::POST,
            "/api/password-reset",
            None,
            Some(json!({ "username": "a\u{0}b" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// With the mail server down the mail waits and is retried; it arrives when the server is
/// back, and nothing the person did waited for it.
async fn mail_waits_for_the_mail_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    sink.stop().await;
    let server = mailing(&db, &sink).await;
    let mut device = Device::new(8);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    set_email(&server, &admin.token, "office@northgate.example.org").await;
    let started = std::time::Instant::now();
    assert_eq!(forgot(&server, &admin.username).await, StatusCode::ACCEPTED);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Several attempts fail, each recorded.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM mail_outbox")
            .fetch_one(server.store.pool())
            .await
            .unwrap();
        if attempts >= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{attempts} attempts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM mail_outbox")
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert!(error.is_some());
    assert!(sink.mails().is_empty());

    sink.restart().await;
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, ["office@northgate.example.org"]);
    token_of(&mails[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox(&server).await, 0, "sent mail leaves the outbox");
    no_more(&sink, 1).await;
}

/// The outbox is bounded: beyond `max_queued` new mail is dropped (the request still
/// answers), and a mail that fails `max_attempts` times is given up.
async fn the_outbox_is_bounded(backend: Backend) {
    let db = TestDb::new(backend).await;
    let sink = Sink::start().await;
    sink.stop().await;
    let server = mailing_with(
        &db,
        &sink,
        MailLimits {
            max_queued: 2,
            max_attempts: 3,
            ..quick()
        },
    )
    .await;
    let mut device = Device::new(12);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let mut people = Vec::new();
    for n in 0..3 {
        let email = format!("p{n}@northgate.example.org");
        let person = member(
            &server,
            &admin.token,
            "p",
            Role::Staff,
            Some(&email),
            device.id,
        )
        .await;
        people.push(person.username);
    }
    for person in &people {
        assert_eq!(forgot(&server, person).await, StatusCode::ACCEPTED);
    }
    assert_eq!(outbox(&server).await, 2, "the third mail does not fit");
    // Three failed attempts each, then given up.
    let deadline = std::time::Instant::now() + WAIT;
    while outbox(&server).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "still waiting: {}",
            outbox(&server).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sink.restart().await;
    no_more(&sink, 0).await;
}

/// Without SMTP: addresses can still be kept, but nothing is queued, there is no "forgot",
/// and the app works as before.
async fn without_smtp_nothing_is_queued(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let status: MailStatus = server.call(Method::GET, "/api/mail", None, None).await.ok();
    assert!(!status.configured);
    let mut device = Device::new(9);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    set_email(&server, &admin.token, "office@northgate.example.org").await;
    let sam = member(
        &server,
        &admin.token,
        "sam",
        Role::Staff,
        Some("sam@northgate.example.org"),
        device.id,
    )
    .await;
    let refused = server
        .post(
            "/api/password-reset",
            None,
            json!({ "username": sam.username }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(
        refused.error().contains("does not send e-mail"),
        "{}",
        refused.error()
    );
    let reset = server
        .call(
            Method::PUT,
            &format!("/api/users/{}/password", sam.username),
            Some(&admin.token),
            Some(json!({ "password": STRONG })),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    let area = device.area(site, "Ward 7");
    let locker = device.lockers(site, area, "C1", "C1")[0];
    let lock = match device
        .run(Command::FitLock {
            locker,
            kind: LockKind::Keyed,
            code: "M 1".into(),
            suite: "Ward 7".into(),
        })
        .change
    {
        Change::LockFitted { lock, .. } => lock,
        c => panic!("{c:?}"),
    };
    let master = match device
        .run(Command::AddKeys {
            lock,
            kind: KeyKind::Master,
            count: 1,
            storage: "Safe".into(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        c => panic!("{c:?}"),
    };
    device.run(Command::DefineSuite {
        site,
        name: "Ward 7".into(),
        check_every_days: 7,
        witness_required: false,
    });
    device.run(Command::ReportMasterKeyLost {
        key: master,
        notes: String::new(),
    });
    let pushed = server.push(&admin.token, device.id, &device.take()).await;
    assert!(pushed.receipts.iter().all(|r| r.outcome.pos().is_some()));
    let morning = Local.with_ymd_and_hms(2026, 11, 28, 7, 30, 0).unwrap();
    assert_eq!(mail::digest::run(&server.store, morning).await.unwrap(), 0);
    assert_eq!(outbox(&server).await, 0);
}

/// Addresses: checked with a sentence; one's own, and an admin's for users of their site only.
async fn addresses_are_checked_and_kept(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(10);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let put = |path: String, token: String, email: &'static str| {
        let server = server.clone();
        async move {
            server
                .call(
                    Method::PUT,
                    &path,
                    Some(&token),
                    Some(json!({ "email": email })),
                )
                .await
        }
    };
    let bad = put("/api/email".into(), admin.token.clone(), "pat@").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.error().contains("whole e-mail address"),
        "{}",
        bad.error()
    );
    let own: EmailAddress = put(
        "/api/email".into(),
        admin.token.clone(),
        " pat@northgate.example.org ",
    )
    .await
    .ok();
    assert_eq!(own.email.as_deref(), Some("pat@northgate.example.org"));
    let read: EmailAddress = server.get("/api/email", &admin.token).await.ok();
    assert_eq!(read, own);
    let sam = member(&server, &admin.token, "sam", Role::Staff, None, device.id).await;
    let set: EmailAddress = put(
        format!("/api/users/{}/email", sam.username),
        admin.token.clone(),
        "sam@northgate.example.org",
    )
    .await
    .ok();
    assert_eq!(set.email.as_deref(), Some("sam@northgate.example.org"));
    let users: Vec<User> = server.get("/api/users", &admin.token).await.ok();
    let listed = users.iter().find(|u| u.username == sam.username).unwrap();
    assert_eq!(listed.email.as_deref(), Some("sam@northgate.example.org"));
    // Staff may not set another's; another site's admin finds no such user.
    let refused = put(
        format!("/api/users/{}/email", admin.username),
        sam.token.clone(),
        "x@example.org",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut elsewhere = Device::new(11);
    let (_, stranger) = register_site(&server, &mut elsewhere, "Southgate Leisure").await;
    let hidden = put(
        format!("/api/users/{}/email", sam.username),
        stranger.token.clone(),
        "x@example.org",
    )
    .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    // Empty removes it.
    let removed: EmailAddress = put("/api/email".into(), admin.token.clone(), "").await.ok();
    assert_eq!(removed.email, None);
    let bad_new = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": username("x"), "name": "X", "role": "staff", "password": PASSWORD, "email": "x@@y"}),
        )
        .await;
    assert_eq!(bad_new.status, StatusCode::BAD_REQUEST, "{}", bad_new.body);
}

on_both_backends!(
    lost_master_key_mails_the_admins,
    digest_lists_overdue_keys_once_a_day,
    reset_link_works_once_and_expires,
    unknown_username_gets_the_same_answer,
    mail_waits_for_the_mail_server,
    the_outbox_is_bounded,
    without_smtp_nothing_is_queued,
    addresses_are_checked_and_kept,
);
