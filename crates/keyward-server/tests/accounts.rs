//! Accounts hardened, on SQLite and on PostgreSQL: one regression test per finding of the
//! security probe (the hashing queue, lengths first, failure counting per address, closed
//! registration, answers that tell nobody who exists, idle and revocable sessions, password
//! changes and resets, the password rule, NUL in a username, stream tickets).

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use common::*;
use keyward_core::sync::{DeviceSession, Session, StreamTicket, User};
use keyward_core::*;
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::Limits;
use serde_json::{json, Value};

const WRONG: &str =
    "That username and password do not match. Check them, or ask your site's admin.";
const BUSY: &str = "The server is busy. Try again in a moment.";
const WRONG_CODE: &str = "That set-up code is not right or has expired. The person who runs the server sees a new one each time it starts.";
const SIGNED_OUT: &str = "Your sign-in has ended. Sign in again.";
const STRONG: &str = "violet harbour tractor";

fn addr(n: u32) -> SocketAddr {
    let [a, b, c, d] = (0x0a00_0000 + n).to_be_bytes();
    SocketAddr::from(([a, b, c, d], 40_000))
}

async fn failures(server: &Server) -> i64 {
    server.count("login_failures").await
}

/// Finding 3: argon2 ran unbounded. One hash at a time, two waiting, the rest "busy".
async fn hashing_is_queued(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db
        .server_with(Limits {
            hash_concurrency: 1,
            hash_queue_len: 2,
            ..Limits::default()
        })
        .await;
    let mut device = Device::new(1);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let queue = server.store.sign_in_guards().hashing();
    let before = queue.done();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let server = server.clone();
        let username = admin.username.clone();
        let device = device.id;
        tasks.push(tokio::spawn(async move {
            // Each from an address of its own, so no failure limit is reached.
            server
                .login_from(addr(i), &username, PASSWORD, device)
                .await
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(reply.error(), BUSY);
                assert!(
                    reply.retry_after.is_some(),
                    "a busy answer says when to retry"
                );
                busy += 1;
            }
            other => panic!("{other}: {}", reply.body),
        }
    }
    assert!(ok >= 1, "some got through");
    assert!(
        busy >= 1,
        "some were told the server is busy ({ok} signed in)"
    );
    assert_eq!(queue.peak(), 1, "never more than one hash at once");
    assert_eq!(queue.done() - before, ok, "a busy answer hashed nothing");
    assert_eq!(failures(&server).await, 0, "busy is not a failure");
}

/// Finding 4: huge usernames were hashed and stored. Lengths and characters come first.
async fn lengths_are_checked_before_anything_is_stored(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(2);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let queue = server.store.sign_in_guards().hashing();
    let before = queue.done();
    let long = "a".repeat(65);
    let huge = "b".repeat(1_900_000);
    let long_password = "p".repeat(257);
    for (username, password) in [
        (long.as_str(), PASSWORD),
        (huge.as_str(), PASSWORD),
        (admin.username.as_str(), long_password.as_str()),
        ("tab\there", PASSWORD),
        (admin.username.as_str(), "pass\u{7}word"),
    ] {
        let reply = server.login(username, password, device.id).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(
            reply.error().contains("too long") || reply.error().contains("cannot be typed"),
            "{}",
            reply.error()
        );
    }
    assert_eq!(failures(&server).await, 0, "nothing stored");
    assert_eq!(queue.done(), before, "nothing hashed");
    // A username of exactly 64 characters is an ordinary (failed) sign-in.
    let reply = server.login(&"c".repeat(64), PASSWORD, device.id).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(failures(&server).await, 1);

    // Every endpoint that takes a username checks it the same way.
    let reply = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": long, "name": "X", "role": "staff", "password": STRONG}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for (method, path) in [
        (Method::PUT, format!("/api/users/{long}")),
        (Method::DELETE, format!("/api/users/{long}")),
        (Method::GET, format!("/api/users/{long}/sessions")),
        (Method::PUT, format!("/api/users/{long}/password")),
    ] {
        let body = match method {
            Method::PUT if path.ends_with("password") => Some(json!({"password": STRONG})),
            Method::PUT => Some(json!({"role": "viewer"})),
            _ => None,
        };
        let reply = server.call(method, &path, Some(&admin.token), body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
    }
    assert_eq!(server.count("users").await, 1);
}

/// Finding 12c: a NUL in a username gave a 500 on PostgreSQL. Now 400 everywhere.
async fn nul_in_a_username_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(3);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let reply = server.login("ab\0cd", PASSWORD, device.id).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": "ab\0cd", "name": "X", "role": "staff", "password": STRONG}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": username("x"), "name": "X\0Y", "role": "staff", "password": STRONG}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    for (method, path, body) in [
        (
            Method::PUT,
            "/api/users/ab%00cd",
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, "/api/users/ab%00cd", None),
        (Method::GET, "/api/users/ab%00cd/sessions", None),
        (
            Method::PUT,
            "/api/users/ab%00cd/password",
            Some(json!({"password": STRONG})),
        ),
        (Method::DELETE, "/api/sessions/ab%00cd", None),
    ] {
        let reply = server.call(method, path, Some(&admin.token), body).await;
        assert!(
            reply.status == StatusCode::BAD_REQUEST || reply.status == StatusCode::NOT_FOUND,
            "{path}: {} {}",
            reply.status,
            reply.body
        );
    }
    let site = Device::new(4).create_site("Elsewhere");
    let reply = server
        .post(
            "/api/sites",
            None,
            json!({"site": site, "site_name": "Else\0where", "username": username("a"),
                   "name": "Pat", "password": STRONG, "device": device.id,
                   "setup_code": server.setup_code().await}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(server.count("users").await, 1);
}

/// Finding 5: 60 parallel guesses got one through past the limit of 5.
async fn parallel_guesses_stop_at_the_limit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(5);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let from = addr(1);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let server = server.clone();
        let username = admin.username.clone();
        let device = device.id;
        tasks.push(tokio::spawn(async move {
            let guess = format!("wrong guess {i}");
            server.login_from(from, &username, &guess, device).await
        }));
    }
    let (mut wrong, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::UNAUTHORIZED => wrong += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}: {}", reply.body),
        }
    }
    // Each attempt is recorded before it is checked, so however they interleave at most
    // five are checked (a burst may even see each other and all be refused).
    assert!(wrong <= 5, "{wrong} guesses were checked");
    assert_eq!(wrong + refused, 60);
    assert_eq!(failures(&server).await, wrong, "refusals are not failures");
    // Guessing on one at a time reaches the limit exactly, and then nothing gets through,
    // not even the right password.
    let mut checked = wrong;
    loop {
        let reply = server
            .login_from(from, &admin.username, "one more guess", device.id)
            .await;
        match reply.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("{other}: {}", reply.body),
        }
        assert!(checked <= 5, "a sixth guess was checked");
    }
    assert_eq!(checked, 5);
    let reply = server
        .login_from(from, &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "no success after the limit"
    );
    assert!(
        reply.error().contains("Wait 15 minutes"),
        "{}",
        reply.error()
    );
    assert!(reply.retry_after.is_some());
    assert_eq!(failures(&server).await, 5);
}

/// Finding 6: anyone could lock a user out with five wrong tries. Now only at their address.
async fn one_address_cannot_lock_out_another(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(6);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let (attacker, office) = (addr(1), addr(2));
    for _ in 0..5 {
        let reply = server
            .login_from(attacker, &admin.username, "wrong password", device.id)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = server
        .login_from(attacker, &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        reply
            .error()
            .starts_with("Too many wrong passwords for this username. Wait 15 minutes"),
        "{}",
        reply.error()
    );
    // The office still signs in; its own typo counts for it alone.
    let reply = server
        .login_from(office, &admin.username, "typo password", device.id)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let session: Session = server
        .login_from(office, &admin.username, PASSWORD, device.id)
        .await
        .ok();
    assert_eq!(session.username, admin.username);
    // The office's success cleared its own failures, not the attacker's.
    let reply = server
        .login_from(attacker, &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(failures(&server).await, 5);
}

/// Finding 6, the other limits: per address (any usernames) and per account (all addresses).
async fn address_and_account_limits(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db
        .server_with(Limits {
            failures_per_account_address: 2,
            failures_per_address: 3,
            failures_per_account: 4,
            ..Limits::default()
        })
        .await;
    let mut device = Device::new(7);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    // One address spraying usernames.
    let sprayer = addr(9);
    for name in ["ann", "bob", "cat"] {
        let reply = server
            .login_from(sprayer, name, "wrong password", device.id)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = server
        .login_from(sprayer, &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        reply.error().contains("from this network"),
        "{}",
        reply.error()
    );
    // Guessing one username spread over many addresses.
    for i in 10..14 {
        let reply = server
            .login_from(addr(i), &admin.username, "wrong password", device.id)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = server
        .login_from(addr(20), &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        reply.error().contains("from many places"),
        "{}",
        reply.error()
    );
    // Other usernames from other addresses are untouched.
    let reply = server
        .login_from(addr(21), "dan", "wrong password", device.id)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// Finding 4: every failure was stored and clean-up scanned the whole table. Old rows go,
/// and the table keeps at most `failure_records`.
async fn failure_records_are_bounded(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db
        .server_with(Limits {
            failure_records: 10,
            ..Limits::default()
        })
        .await;
    let mut device = Device::new(8);
    register_site(&server, &mut device, "Northgate School").await;
    for i in 0..30 {
        let reply = server
            .login_from(addr(i), &format!("nobody-{i}"), "wrong password", device.id)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(failures(&server).await <= 10, "after {i}");
    }
    assert_eq!(failures(&server).await, 10);
    // Rows older than the window are deleted by the next process's first clean-up.
    sqlx::query("UPDATE login_failures SET at = at - 3600000")
        .execute(server.store.pool())
        .await
        .unwrap();
    let fresh = db.server().await;
    let reply = fresh
        .login_from(addr(99), "nobody-else", "wrong password", device.id)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(failures(&fresh).await, 1);
}

fn new_site(device: &Device, site: SiteId, username: &str, code: Option<&str>) -> Value {
    let mut body = json!({"site": site, "site_name": "Northgate School", "username": username,
                          "name": "Sam Head", "password": STRONG, "device": device.id});
    if let Some(code) = code {
        body["setup_code"] = json!(code);
    }
    body
}

/// Finding 9: anyone could register a site (first, after the database was lost).
async fn registration_needs_a_set_up_code(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let device = Device::new(9);
    let site = Device::new(10).create_site("Southgate School");
    let name = username("head");
    for code in [
        None,
        Some(""),
        Some("AAAA-BBBB-CCCC"),
        Some("not a code at all"),
    ] {
        let reply = server
            .post("/api/sites", None, new_site(&device, site, &name, code))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{code:?}");
        assert_eq!(reply.error(), WRONG_CODE);
    }
    // An expired code.
    let expired = server.setup_code().await;
    sqlx::query("UPDATE setup_codes SET expires_at = 0")
        .execute(server.store.pool())
        .await
        .unwrap();
    let reply = server
        .post(
            "/api/sites",
            None,
            new_site(&device, site, &name, Some(&expired)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.error(), WRONG_CODE);

    // A good code, typed loosely, works once; it is stored only as a hash.
    let code = server.setup_code().await;
    assert_eq!(code.len(), 14);
    assert_eq!(code.matches('-').count(), 2);
    let hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM setup_codes")
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    assert!(hashes
        .iter()
        .all(|h| h.len() == 64 && !h.contains(&code.replace('-', ""))));
    let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
    let reply = server
        .post(
            "/api/sites",
            None,
            new_site(&device, site, &name, Some(&typed)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let other = Device::new(11).create_site("Westgate School");
    let reply = server
        .post(
            "/api/sites",
            None,
            new_site(&device, other, &username("x"), Some(&code)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "a used code");
    assert_eq!(reply.error(), WRONG_CODE);

    // A chosen code (tests, automation) needs 12 characters.
    assert!(issue_setup_code(&server.store, Some("short-code"))
        .await
        .is_err());
    let chosen = issue_setup_code(&server.store, Some("test-code-1234-abcd"))
        .await
        .unwrap();
    assert_eq!(chosen, "TEST-CODE-1234-ABCD");
    let reply = server
        .post(
            "/api/sites",
            None,
            new_site(&device, other, &username("x"), Some("testcode1234abcd")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(server.count("sites").await, 2);
}

/// Finding 9: without signing in anyone could learn whether a username or site id exists.
async fn answers_do_not_tell_who_exists(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(12);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    let queue = server.store.sign_in_guards().hashing();

    // Sign-in: a wrong password and an unknown username answer alike, after a hash alike.
    let done = queue.done();
    let known = server
        .login_from(addr(1), &admin.username, "wrong password", device.id)
        .await;
    assert_eq!(queue.done(), done + 1);
    let unknown = server
        .login_from(addr(1), "nobody-here", "wrong password", device.id)
        .await;
    assert_eq!(queue.done(), done + 2, "an unknown username is hashed too");
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(known.error(), WRONG);

    // Registration without a code: a site and username that exist, or not.
    let fresh = Device::new(13).create_site("Southgate School");
    let existing = server
        .post(
            "/api/sites",
            None,
            new_site(&device, site, &admin.username, Some("WRONG-CODE-0000")),
        )
        .await;
    let new = server
        .post(
            "/api/sites",
            None,
            new_site(&device, fresh, "nobody-here", Some("WRONG-CODE-0000")),
        )
        .await;
    assert_eq!((existing.status, &existing.body), (new.status, &new.body));
    assert_eq!(existing.status, StatusCode::FORBIDDEN);

    // A non-admin asking about users, and another site's admin.
    let staff = server
        .user(&admin.token, &username("staff"), Role::Staff, device.id)
        .await;
    let mut south = Device::new(14);
    let (_, other_admin) = register_site(&server, &mut south, "Southgate School").await;
    for token in [&staff.token, &other_admin.token] {
        for (method, tail, body) in [
            (Method::GET, "/sessions", None),
            (Method::PUT, "/password", Some(json!({"password": STRONG}))),
            (Method::PUT, "", Some(json!({"role": "viewer"}))),
            (Method::DELETE, "", None),
        ] {
            let there = server
                .call(
                    method.clone(),
                    &format!("/api/users/{}{tail}", admin.username),
                    Some(token),
                    body.clone(),
                )
                .await;
            let nobody = server
                .call(
                    method,
                    &format!("/api/users/nobody-here{tail}"),
                    Some(token),
                    body,
                )
                .await;
            assert_eq!(there.status, nobody.status, "{tail}");
            assert_eq!(
                there.error().replace(&admin.username, "nobody-here"),
                nobody.error(),
                "{tail}"
            );
        }
    }
    // Someone else's session id and one that does not exist.
    let sessions: Vec<DeviceSession> = server.get("/api/sessions", &admin.token).await.ok();
    let theirs = server
        .call(
            Method::DELETE,
            &format!("/api/sessions/{}", sessions[0].id),
            Some(&staff.token),
            None,
        )
        .await;
    let nothing = server
        .call(
            Method::DELETE,
            &format!("/api/sessions/{}", "0".repeat(32)),
            Some(&staff.token),
            None,
        )
        .await;
    assert_eq!(
        (theirs.status, &theirs.body),
        (nothing.status, &nothing.body)
    );
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

/// Finding 10: sessions never expired. One unused for `session_idle` ends.
async fn idle_sessions_end(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db
        .server_with(Limits {
            session_idle: Duration::from_secs(10 * 60),
            ..Limits::default()
        })
        .await;
    let mut device = Device::new(15);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let idle: Session = server
        .login(&admin.username, PASSWORD, device.id)
        .await
        .ok();
    let busy: Session = server
        .login(&admin.username, PASSWORD, device.id)
        .await
        .ok();
    age_session(&server, &idle.token, 11 * 60_000).await;
    age_session(&server, &busy.token, 5 * 60_000).await;
    let reply = server.get("/api/me", &idle.token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), SIGNED_OUT);
    assert_eq!(server.count("sessions").await, 2, "the idle one is deleted");
    // Used within the idle time: it works, and counts as used now.
    assert_eq!(
        server.get("/api/me", &busy.token).await.status,
        StatusCode::OK
    );
    age_session(&server, &busy.token, 6 * 60_000).await;
    assert_eq!(
        server.get("/api/me", &busy.token).await.status,
        StatusCode::OK
    );

    // With a tiny idle time, a second's pause ends a session.
    let quick = db
        .server_with(Limits {
            session_idle: Duration::from_millis(500),
            ..Limits::default()
        })
        .await;
    let session: Session = quick.login(&admin.username, PASSWORD, device.id).await.ok();
    assert_eq!(
        quick.get("/api/me", &session.token).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        quick.get("/api/me", &session.token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn end_session(server: &Server, token: &str, id: &str) -> Reply {
    server
        .call(
            Method::DELETE,
            &format!("/api/sessions/{id}"),
            Some(token),
            None,
        )
        .await
}

/// Finding 10: sessions could not be revoked one by one (the lost phone).
async fn sessions_are_listed_and_ended(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut desk = Device::new(16);
    let (_, admin) = register_site(&server, &mut desk, "Northgate School").await;
    let (phone, tablet, laptop) = (Device::new(17), Device::new(18), Device::new(19));
    let name = username("staff");
    let on_phone = server
        .user(&admin.token, &name, Role::Staff, phone.id)
        .await;
    let on_tablet: Session = server.login(&name, PASSWORD, tablet.id).await.ok();
    let on_laptop: Session = server.login(&name, PASSWORD, laptop.id).await.ok();

    let mine: Vec<DeviceSession> = server.get("/api/sessions", &on_phone.token).await.ok();
    assert_eq!(mine.len(), 3);
    let current: Vec<&DeviceSession> = mine.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].device, phone.id);
    for s in &mine {
        assert_eq!(s.id.len(), 32);
        assert!(![&on_phone.token, &on_tablet.token, &on_laptop.token].contains(&&s.id));
    }
    let id_of = |device: DeviceId| mine.iter().find(|s| s.device == device).unwrap().id.clone();

    // From the phone, end the tablet's session.
    let reply = end_session(&server, &on_phone.token, &id_of(tablet.id)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", &on_tablet.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get("/api/me", &on_phone.token).await.status,
        StatusCode::OK
    );

    // Someone else (not an admin) cannot end it; another site's admin cannot see or end it.
    let other = server
        .user(&admin.token, &username("staff"), Role::Staff, desk.id)
        .await;
    let reply = end_session(&server, &other.token, &id_of(laptop.id)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let mut south = Device::new(20);
    let (_, south_admin) = register_site(&server, &mut south, "Southgate School").await;
    let reply = end_session(&server, &south_admin.token, &id_of(laptop.id)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server
        .get(&format!("/api/users/{name}/sessions"), &south_admin.token)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = server
        .get(&format!("/api/users/{name}/sessions"), &other.token)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.get("/api/me", &on_laptop.token).await.status,
        StatusCode::OK
    );

    // The admin sees the user's devices and ends the lost laptop's.
    let theirs: Vec<DeviceSession> = server
        .get(&format!("/api/users/{name}/sessions"), &admin.token)
        .await
        .ok();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|s| !s.current));
    let reply = end_session(&server, &admin.token, &id_of(laptop.id)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", &on_laptop.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = end_session(&server, &admin.token, &id_of(laptop.id)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "already ended");
    assert_eq!(
        server.get("/api/me", &on_phone.token).await.status,
        StatusCode::OK
    );
}

async fn change_password(server: &Server, token: &str, current: &str, new: &str) -> Reply {
    server
        .call(
            Method::PUT,
            "/api/password",
            Some(token),
            Some(json!({"current": current, "new": new})),
        )
        .await
}

/// Finding 11: nobody could change their own password.
async fn people_change_their_own_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(21);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let name = username("staff");
    let here = server
        .user(&admin.token, &name, Role::Staff, device.id)
        .await;
    let there: Session = server.login(&name, PASSWORD, Device::new(22).id).await.ok();

    let reply = change_password(&server, &here.token, "not my password", STRONG).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply
        .error()
        .starts_with("That is not your current password"));
    let reply = change_password(&server, &here.token, PASSWORD, "password123").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = change_password(&server, &here.token, PASSWORD, STRONG).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    // This session stays; the others end; only the new password signs in.
    assert_eq!(
        server.get("/api/me", &here.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/api/me", &there.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&name, PASSWORD, device.id).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&name, STRONG, device.id).await.status,
        StatusCode::OK
    );

    // Guessing the current password is limited like sign-in.
    for _ in 0..5 {
        let reply = change_password(&server, &here.token, "guess again", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let reply = change_password(&server, &here.token, STRONG, "a brand new passphrase").await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
}

/// Finding 11: an admin resets a forgotten password; all that user's sessions end.
async fn admins_reset_a_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(23);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let name = username("staff");
    let staff = server
        .user(&admin.token, &name, Role::Staff, device.id)
        .await;
    let reset = |token: &str, password: &str| {
        let server = server.clone();
        let (token, path) = (token.to_string(), format!("/api/users/{name}/password"));
        let body = json!({ "password": password });
        async move {
            server
                .call(Method::PUT, &path, Some(&token), Some(body))
                .await
        }
    };
    let reply = reset(&staff.token, STRONG).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = reset(&admin.token, &format!("{name}{name}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let mut south = Device::new(24);
    let (_, south_admin) = register_site(&server, &mut south, "Southgate School").await;
    let reply = reset(&south_admin.token, STRONG).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.get("/api/me", &staff.token).await.status,
        StatusCode::OK
    );

    let reply = reset(&admin.token, STRONG).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(
        server.get("/api/me", &staff.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&name, PASSWORD, device.id).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&name, STRONG, device.id).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/api/me", &admin.token).await.status,
        StatusCode::OK
    );
}

/// Finding 11: "password" and eight spaces were accepted.
async fn weak_passwords_are_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(25);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let name = username("staff");
    let weak = [
        "password",
        "password123",
        "keyward2026",
        "        ",
        "          ",
        "Northgate SchoolNorthgate School",
        "Northgate School 2026",
    ];
    for password in weak
        .map(String::from)
        .into_iter()
        .chain(["{own}{own}".to_string()])
    {
        let own = |username: &str| password.replace("{own}", username);
        let reply = server
            .post(
                "/api/users",
                Some(&admin.token),
                json!({"username": name, "name": "Sam Jones", "role": "staff", "password": own(&name)}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{password:?}");
        assert!(reply.error().starts_with("Choose a"), "{}", reply.error());
        assert!(reply.error().contains("random words"), "{}", reply.error());
        let reply = change_password(&server, &admin.token, PASSWORD, &own(&admin.username)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{password:?}");
        let site = Device::new(26).create_site("Northgate School");
        let mut body = new_site(&device, site, &name, Some(&server.setup_code().await));
        body["password"] = json!(own(&name));
        let reply = server.post("/api/sites", None, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{password:?}");
    }
    for strong in ["orange cloud ladder", "Tulip-Marble-Kettle-9", STRONG] {
        let reply = server
            .post(
                "/api/users",
                Some(&admin.token),
                json!({"username": username("s"), "name": "Sam Jones", "role": "staff", "password": strong}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{strong}: {}",
            reply.body
        );
    }
    let users: Vec<User> = server.get("/api/users", &admin.token).await.ok();
    assert_eq!(users.len(), 4);
}

/// Finding 12: the token went in the event stream's URL. Now a single-use ticket.
async fn the_stream_opens_with_a_ticket_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let other_process = db.server().await;
    let mut device = Device::new(27);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;

    let res = server
        .open(&format!("/api/stream?token={}", admin.token), None)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "no token in the URL"
    );

    let ticket = |server: &Server| {
        let server = server.clone();
        let token = admin.token.clone();
        async move {
            let reply = server
                .post("/api/stream-ticket", Some(&token), json!({}))
                .await;
            assert_eq!(reply.status, StatusCode::CREATED);
            reply.ok::<StreamTicket>().ticket
        }
    };
    let first = ticket(&server).await;
    assert_eq!(first.len(), 64);
    let stored: Vec<String> = sqlx::query_scalar("SELECT ticket_hash FROM stream_tickets")
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], first, "only its hash is stored");
    // Issued by one process, used at another: once.
    let res = other_process
        .open(&format!("/api/stream?ticket={first}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    drop(res);
    let res = server
        .open(&format!("/api/stream?ticket={first}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "used already");

    // Expired after a minute.
    let late = ticket(&server).await;
    sqlx::query("UPDATE stream_tickets SET expires_at = 1")
        .execute(server.store.pool())
        .await
        .unwrap();
    let res = server
        .open(&format!("/api/stream?ticket={late}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "expired");
    // A session that ended takes its tickets' power with it.
    let orphan = ticket(&server).await;
    let reply = server
        .call(Method::POST, "/api/logout", Some(&admin.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let res = server
        .open(&format!("/api/stream?ticket={orphan}"), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "signed out");

    // Clients that can send a header still may.
    let session: Session = server
        .login(&admin.username, PASSWORD, device.id)
        .await
        .ok();
    let res = server.open("/api/stream", Some(&session.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server.open("/api/stream", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Served over TCP with connect info (as `lib.rs` will serve it), the peer's address is the
/// one failures are counted by.
async fn the_peer_address_is_counted_when_served(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(28);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = server.app.clone();
    let serving = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let client = reqwest::Client::new();
    let body =
        json!({"username": admin.username, "password": "wrong password", "device": device.id});
    for _ in 0..5 {
        let res = client
            .post(format!("{base}/api/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
    let addresses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT address FROM login_failures")
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    assert_eq!(addresses, ["127.0.0.1"]);
    let res = client
        .post(format!("{base}/api/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // The same username from elsewhere (a request without that address) still signs in.
    let reply = server
        .login_from(addr(5), &admin.username, PASSWORD, device.id)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    serving.abort();
}

on_both_backends!(
    hashing_is_queued,
    lengths_are_checked_before_anything_is_stored,
    nul_in_a_username_is_refused,
    parallel_guesses_stop_at_the_limit,
    one_address_cannot_lock_out_another,
    address_and_account_limits,
    failure_records_are_bounded,
    registration_needs_a_set_up_code,
    answers_do_not_tell_who_exists,
    idle_sessions_end,
    sessions_are_listed_and_ended,
    people_change_their_own_password,
    admins_reset_a_password,
    weak_passwords_are_refused,
    the_stream_opens_with_a_ticket_once,
    the_peer_address_is_counted_when_served,
);
