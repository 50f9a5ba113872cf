//! The sync API on SQLite and on PostgreSQL: every test body runs once per backend (modules
//! `sqlite` and `postgres` at the bottom), each on a fresh database of its own.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use keyward_core::sync::{Numbered, Outcome, PullResponse, Receipt, Session, BATCH};
use keyward_core::sync::{StreamTicket, User};
use keyward_core::*;
use serde_json::json;
use tower::ServiceExt;

const SIGNED_OUT: &str = "Your sign-in has ended. Sign in again.";
const LAST_ADMIN: &str = "A site needs at least one admin. Make someone else admin first.";
const WRONG: &str =
    "That username and password do not match. Check them, or ask your site's admin.";

fn applied_positions(receipts: &[Receipt]) -> Vec<u64> {
    receipts
        .iter()
        .map(|r| match r.outcome {
            Outcome::Applied { pos } => pos,
            ref o => panic!("not applied: {o:?}"),
        })
        .collect()
}

async fn register_a_site(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(1);
    let site = device.create_site("Northgate School");
    let admin = username("Admin");
    let device_id = device.id;
    let code = server.setup_code().await;
    let body = |site: SiteId, username: &str, name: &str, password: &str| {
        json!({"site": site, "site_name": " Northgate  School ", "username": username,
               "name": name, "password": password, "device": device_id,
               "setup_code": code.to_lowercase().replace('-', " ")})
    };

    let reply = server
        .post(
            "/api/sites",
            None,
            body(site, &format!("  {admin} "), "Pat", "short"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .error()
            .starts_with("Choose a longer password, of at least 10 characters"),
        "{}",
        reply.error()
    );
    let reply = server
        .post("/api/sites", None, body(site, "   ", "Pat", PASSWORD))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "Choose a username.");
    let reply = server
        .post("/api/sites", None, body(site, &admin, " ", PASSWORD))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "Enter the person's name.");
    let reply = server
        .post(
            "/api/sites",
            None,
            json!({"site": site, "site_name": "  ", "username": admin, "name": "Pat",
                   "password": PASSWORD, "device": device.id, "setup_code": code}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "Enter the site's name.");
    let reply = server
        .post("/api/sites", None, json!({"site": "not an id"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().ends_with("Update the app and try again."));

    let reply = server
        .post(
            "/api/sites",
            None,
            body(site, &format!("  {admin} "), "Pat  Caretaker", PASSWORD),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let session: Session = reply.ok();
    assert_eq!(session.username, admin.to_lowercase());
    assert_eq!(session.name, "Pat Caretaker");
    assert_eq!(session.role, Role::Admin);
    assert_eq!(session.site, site);
    assert_eq!(session.site_name, "Northgate School");
    assert_eq!(session.token.len(), 64);

    // The same site again, or the same username (any case) for another site, with a new
    // code (the first one is used up).
    let code = server.setup_code().await;
    let body = |site: SiteId, username: &str, name: &str, password: &str| {
        json!({"site": site, "site_name": "Northgate School", "username": username,
               "name": name, "password": password, "device": device_id, "setup_code": code})
    };
    let reply = server
        .post(
            "/api/sites",
            None,
            body(site, &username("other"), "Sam", PASSWORD),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(
        reply.error().contains("already registered"),
        "{}",
        reply.error()
    );
    let other = Device::new(2).create_site("Elsewhere");
    let reply = server
        .post(
            "/api/sites",
            None,
            body(other, &admin.to_uppercase(), "Sam", PASSWORD),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.error(),
        format!(
            "The username \"{}\" is taken. Choose another one.",
            admin.to_lowercase()
        )
    );

    // The token works, is the session, and ends with sign-out.
    let me: Session = server.get("/api/me", &session.token).await.ok();
    assert_eq!(me, session);
    // The log starts empty: the admin's device pushes its SiteCreated.
    let pulled = server.pull(&session.token, 0, 0, device.id).await;
    assert_eq!(pulled.head, 0);
    let pushed = server.push(&session.token, device.id, &device.take()).await;
    assert_eq!(applied_positions(&pushed.receipts), vec![1]);
    let reply = server
        .call(Method::POST, "/api/logout", Some(&session.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = server.get("/api/me", &session.token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), SIGNED_OUT);
}

async fn login_and_rate_limit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(3);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;

    let session: Session = server
        .login(
            &format!(" {} ", admin.username.to_uppercase()),
            PASSWORD,
            device.id,
        )
        .await
        .ok();
    assert_eq!(session.site, site);
    assert_eq!(session.role, Role::Admin);
    assert_ne!(session.token, admin.token);
    let me: Session = server.get("/api/me", &session.token).await.ok();
    assert_eq!(me.username, admin.username);

    let reply = server.login("nobody-at-all", PASSWORD, device.id).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), WRONG);

    for _ in 0..5 {
        let reply = server
            .login(&admin.username, "wrong password", device.id)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.error(), WRONG);
    }
    // The sixth attempt is refused even with the right password, by another process too.
    let reply = server.login(&admin.username, PASSWORD, device.id).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        reply.error().contains("Wait 15 minutes"),
        "{}",
        reply.error()
    );
    let second = db.server().await;
    let reply = second.login(&admin.username, PASSWORD, device.id).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // Sessions already open keep working.
    assert_eq!(
        server.get("/api/me", &session.token).await.status,
        StatusCode::OK
    );

    // Once the window has passed (moved back 16 minutes here), sign-in works again.
    sqlx::query("UPDATE login_failures SET at = at - 960000")
        .execute(server.store.pool())
        .await
        .unwrap();
    let again: Session = server
        .login(&admin.username, PASSWORD, device.id)
        .await
        .ok();
    assert_eq!(again.site, site);
}

async fn token_required(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(4);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let bad = "0".repeat(64);
    for (method, path) in [
        (Method::GET, "/api/me"),
        (Method::POST, "/api/logout"),
        (Method::GET, "/api/users"),
        (Method::PUT, "/api/users/someone"),
        (Method::DELETE, "/api/users/someone"),
        (Method::GET, "/api/pull?after=0"),
        (Method::GET, "/api/stream"),
    ] {
        for token in [None, Some(bad.as_str()), Some("not-a-token")] {
            let reply = server.call(method.clone(), path, token, None).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path} {token:?}");
            assert_eq!(reply.error(), SIGNED_OUT);
        }
    }
    let reply = server
        .post(
            "/api/push",
            None,
            json!({"device": device.id, "changes": []}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), SIGNED_OUT);
    // A token in the stream's URL is no longer accepted (it opens with a ticket or the
    // header); a ticket that is not one is refused.
    let res = server
        .open(&format!("/api/stream?token={}", admin.token), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token in a URL");
    let res = server
        .open(&format!("/api/stream?ticket={bad}"), Some(&admin.token))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the ticket is checked"
    );

    let reply = server.get("/api/nothing/here", &admin.token).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.error().ends_with('.'));
}

async fn users_and_roles(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(5);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    let mut elsewhere = Device::new(6);
    let (_, other_admin) = register_site(&server, &mut elsewhere, "Southgate School").await;

    let staff_name = username("staff");
    let staff = server
        .user(&admin.token, &staff_name, Role::Staff, device.id)
        .await;
    assert_eq!((staff.site, staff.role), (site, Role::Staff));
    let reply = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": staff_name.to_uppercase(), "name": "Again", "role": "viewer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = server
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"username": "x", "name": "X", "role": "boss", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let users: Vec<User> = server.get("/api/users", &admin.token).await.ok();
    let names: Vec<(&str, Role)> = users
        .iter()
        .map(|u| (u.username.as_str(), u.role))
        .collect();
    let mut expected = vec![
        (admin.username.as_str(), Role::Admin),
        (staff_name.as_str(), Role::Staff),
    ];
    expected.sort();
    assert_eq!(names, expected, "only this site's users");
    let others: Vec<User> = server.get("/api/users", &other_admin.token).await.ok();
    assert_eq!(others.len(), 1);

    for (token, role) in [(&staff.token, Role::Staff)] {
        let reply = server.get("/api/users", token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.error(), role.check(Action::ManageUsers).unwrap_err());
        let reply = server
            .post(
                "/api/users",
                Some(token),
                json!({"username": username("x"), "name": "X", "role": "admin", "password": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
}

/// A site with an area, six lockers (one out of service), a person, keys, an issue and a
/// return: nine events with the SiteCreated.
fn set_up(device: &mut Device, site: SiteId) -> (AreaId, Vec<LockerId>, PersonId, Vec<KeyId>) {
    let area = device.area(site, "Main corridor");
    let lockers = device.lockers(site, area, "A-001", "A-006");
    let person = device.person(site, "Sam Jones");
    let keys = device.lock_with_keys(lockers[0], 2);
    device.issue(keys[0], lockers[0], person);
    device.give_back(keys[0]);
    device.run(Command::SetLockerService {
        locker: lockers[5],
        out_of_service: Some("Broken hinge".into()),
    });
    (area, lockers, person, keys)
}

async fn push_applies_in_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(7);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    set_up(&mut device, site);
    let changes = device.take();
    assert_eq!(changes.len(), 9);

    let pushed = server.push(&admin.token, device.id, &changes).await;
    assert_eq!(
        applied_positions(&pushed.receipts),
        (1..=9).collect::<Vec<_>>()
    );
    assert_eq!(pushed.head, 9);
    for (receipt, change) in pushed.receipts.iter().zip(&changes) {
        assert_eq!((receipt.n, receipt.event), (change.n, change.event.id));
    }
    let pulled = server.pull(&admin.token, 0, 0, device.id).await;
    assert_eq!(pulled.head, 9);
    assert_eq!(pulled.receipts, pushed.receipts);
    let events: Vec<&Event> = pulled.events.iter().map(|l| &l.event).collect();
    let sent: Vec<&Event> = changes.iter().map(|c| &c.event).collect();
    assert_eq!(events, sent);
    assert_eq!(
        pulled.events.iter().map(|l| l.pos).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    // The server's fold is the device's.
    let folded = Register::fold(events);
    assert_eq!(folded, device.register);

    // More than a batch is refused whole.
    let too_many: Vec<Numbered> = (0..=BATCH as u64)
        .map(|i| Numbered {
            n: 100 + i,
            event: changes[1].event.clone(),
        })
        .collect();
    let reply = server.push_raw(&admin.token, device.id, &too_many).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("at most 500"), "{}", reply.error());
}

async fn repush_returns_the_same_receipts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(8);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    set_up(&mut device, site);
    // One change the server will refuse, so a rejected receipt is repeated too.
    let stranger = Device::new(99).id;
    let mut foreign = device.outbox[2].event.clone();
    foreign.id = EventId::generate(device.now, &mut device.entropy);
    foreign.device = stranger;
    device.queue(foreign);
    let changes = device.take();

    let first = server.push(&admin.token, device.id, &changes).await;
    let again = server.push(&admin.token, device.id, &changes).await;
    assert_eq!(first, again);
    assert!(matches!(
        first.receipts.last().unwrap().outcome,
        Outcome::Rejected { .. }
    ));
    // A later push that overlaps: old ones answered again, the new one applied.
    let extra = device.person(site, "Ali Khan");
    let _ = extra;
    let mut overlap = changes[5..].to_vec();
    overlap.extend(device.take());
    let third = server.push(&admin.token, device.id, &overlap).await;
    assert_eq!(third.receipts[..overlap.len() - 1], first.receipts[5..]);
    assert_eq!(
        third.receipts.last().unwrap().outcome,
        Outcome::Applied { pos: 10 }
    );

    // The same event under a new number (a device that lost its numbering): same pos.
    let renumbered = [Numbered {
        n: 500,
        event: changes[3].event.clone(),
    }];
    let fourth = server.push(&admin.token, device.id, &renumbered).await;
    assert_eq!(fourth.receipts[0].outcome, Outcome::Applied { pos: 4 });
    assert_eq!(fourth.head, 10);

    let count = |table: &'static str| {
        let pool = server.store.pool().clone();
        async move {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            n
        }
    };
    assert_eq!(count("events").await, 10, "nothing stored twice");
    assert_eq!(count("receipts").await, 12);
    let pulled = server.pull_all(&admin.token).await;
    assert_eq!(pulled.len(), 10);
}

async fn roles_are_checked_per_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut admin_device = Device::new(9);
    let (site, admin) = register_site(&server, &mut admin_device, "Northgate School").await;
    let (_, lockers, person, keys) = set_up(&mut admin_device, site);
    server
        .push(&admin.token, admin_device.id, &admin_device.take())
        .await;

    // A shared tablet: the staff member's token, the tablet's queued changes.
    let mut tablet = Device::new(10);
    let staff = server
        .user(&admin.token, &username("staff"), Role::Staff, tablet.id)
        .await;
    tablet.learn(&server.pull_all(&staff.token).await);
    tablet.person(site, "Ali Khan");
    let area = tablet.register.areas_of(site)[0].id;
    tablet.lockers(site, area, "B-001", "B-002"); // staff may not add lockers
    tablet.issue(keys[1], lockers[0], person);
    let pushed = server.push(&staff.token, tablet.id, &tablet.take()).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 10 });
    assert_eq!(
        pushed.receipts[1].outcome,
        Outcome::Rejected {
            reason: Role::Staff.check(Action::AddLockers).unwrap_err()
        }
    );
    assert_eq!(pushed.receipts[2].outcome, Outcome::Applied { pos: 11 });
    assert_eq!(pushed.head, 11);

    // A viewer's change is rejected with the role's message.
    let viewer = server
        .user(&admin.token, &username("viewer"), Role::Viewer, tablet.id)
        .await;
    tablet.person(site, "Jo Bloggs");
    let pushed = server.push(&viewer.token, tablet.id, &tablet.take()).await;
    assert_eq!(
        pushed.receipts[0].outcome,
        Outcome::Rejected {
            reason: "Your role (viewer) cannot add or edit people. Ask your site's admin if you need to.".into()
        }
    );
    assert_eq!(pushed.head, 11);
    let pulled = server.pull(&viewer.token, 0, 0, tablet.id).await;
    assert_eq!(pulled.events.len(), 11);
    assert_eq!(
        pulled.receipts.len(),
        4,
        "the tablet's receipts, rejected ones too"
    );
}

async fn events_of_another_device_are_rejected(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(11);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    device.area(site, "Main corridor");
    let mut other = Device::new(12);
    other.learn(
        &device
            .outbox
            .iter()
            .map(|c| keyward_core::sync::Logged {
                pos: 0,
                event: c.event.clone(),
                sent: None,
            })
            .collect::<Vec<_>>(),
    );
    let theirs = other.person(site, "Sam Jones");
    let _ = theirs;
    let event = other.take().remove(0).event;
    device.queue(event);
    device.person(site, "Ali Khan");
    let pushed = server.push(&admin.token, device.id, &device.take()).await;
    let outcomes: Vec<&Outcome> = pushed.receipts.iter().map(|r| &r.outcome).collect();
    assert_eq!(outcomes[0], &Outcome::Applied { pos: 1 });
    assert_eq!(outcomes[1], &Outcome::Applied { pos: 2 });
    match outcomes[2] {
        Outcome::Rejected { reason } => assert!(reason.contains("another device"), "{reason}"),
        o => panic!("{o:?}"),
    }
    assert_eq!(outcomes[3], &Outcome::Applied { pos: 3 });

    // A session is bound to the device it was opened on: pushing or pulling under another
    // device's id is refused whole, so nobody can poison that device's receipts (n → refusal)
    // with changes of their own.
    let mut third = Device::new(13);
    third.learn(&server.pull_all(&admin.token).await);
    third.person(site, "Jo Bloggs");
    let pushed = server.push_raw(&admin.token, other.id, &third.take()).await;
    assert_eq!(pushed.status, StatusCode::FORBIDDEN, "{}", pushed.body);
    assert!(
        pushed.error().contains("another device"),
        "{}",
        pushed.error()
    );
    let pulled = server
        .get(
            &format!("/api/pull?after=0&since=0&device={}", other.id),
            &admin.token,
        )
        .await;
    assert_eq!(pulled.status, StatusCode::FORBIDDEN, "{}", pulled.body);
    assert_eq!(server.pull(&admin.token, 0, 0, device.id).await.head, 3);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipts WHERE device = $1")
        .bind(other.id.to_string())
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(
        count, 0,
        "no receipt was stored under the other device's id"
    );
}

async fn sites_do_not_see_each_other(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut north = Device::new(14);
    let (north_site, north_admin) = register_site(&server, &mut north, "Northgate School").await;
    set_up(&mut north, north_site);
    let mut south = Device::new(15);
    let (south_site, south_admin) = register_site(&server, &mut south, "Southgate School").await;
    south.area(south_site, "Sports hall");
    server
        .push(&north_admin.token, north.id, &north.take())
        .await;
    server
        .push(&south_admin.token, south.id, &south.take())
        .await;

    let pulled_north = server.pull(&north_admin.token, 0, 0, north.id).await;
    let pulled_south = server.pull(&south_admin.token, 0, 0, south.id).await;
    assert_eq!((pulled_north.head, pulled_north.events.len()), (9, 9));
    assert_eq!((pulled_south.head, pulled_south.events.len()), (2, 2));
    let south_ids: BTreeSet<EventId> = pulled_south.events.iter().map(|l| l.event.id).collect();
    assert_eq!(pulled_south.receipts.len(), 2);
    assert!(
        pulled_south
            .receipts
            .iter()
            .all(|r| south_ids.contains(&r.event)),
        "north's receipts stay in north"
    );
    assert_eq!(pulled_north.receipts.len(), 9);
    assert!(pulled_south
        .events
        .iter()
        .all(|l| l.event.device == south.id));

    // South cannot write into north: north's area is unknown in south's register, and north's
    // own events pushed to south are refused.
    let north_area = north.register.areas_of(north_site)[0].id;
    south.learn(&pulled_north.events); // as if it had seen them
    south.lockers(north_site, north_area, "Z-1", "Z-2");
    south.run(Command::CreateSite {
        name: "Sneaky".into(),
    });
    let pushed = server
        .push(&south_admin.token, south.id, &south.take())
        .await;
    for receipt in &pushed.receipts {
        assert!(
            matches!(receipt.outcome, Outcome::Rejected { .. }),
            "{receipt:?}"
        );
    }
    let replay: Vec<Numbered> = pulled_north
        .events
        .iter()
        .enumerate()
        .map(|(i, l)| Numbered {
            n: 100 + i as u64,
            event: l.event.clone(),
        })
        .collect();
    let pushed = server.push_raw(&south_admin.token, north.id, &replay).await;
    assert_eq!(pushed.status, StatusCode::FORBIDDEN, "{}", pushed.body);
    let pushed = server.push(&south_admin.token, south.id, &replay).await;
    assert!(pushed
        .receipts
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Rejected { .. })));
    assert_eq!(
        server.pull(&south_admin.token, 0, 0, south.id).await.head,
        2
    );
    assert_eq!(
        server.pull(&north_admin.token, 0, 0, north.id).await.head,
        9
    );
}

async fn the_same_key_issued_twice_is_a_conflict(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut desk = Device::new(16);
    let (site, admin) = register_site(&server, &mut desk, "Northgate School").await;
    let (_, lockers, person, keys) = set_up(&mut desk, site);
    server.push(&admin.token, desk.id, &desk.take()).await;
    let mut phone = Device::new(17);
    let custodian = server
        .user(
            &admin.token,
            &username("custodian"),
            Role::Custodian,
            phone.id,
        )
        .await;
    phone.learn(&server.pull_all(&custodian.token).await);

    // Both offline: the same key to two people.
    let other = phone.person(site, "Ali Khan");
    let first = desk.issue(keys[1], lockers[0], person);
    let second = phone.issue(keys[1], lockers[0], other);
    let pushed = server.push(&admin.token, desk.id, &desk.take()).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 10 });
    let pushed = server.push(&custodian.token, phone.id, &phone.take()).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 11 });
    assert_eq!(pushed.receipts[1].outcome, Outcome::Conflict { pos: 12 });

    let pulled = server.pull(&custodian.token, 9, 0, phone.id).await;
    let ids: Vec<EventId> = pulled.events.iter().map(|l| l.event.id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!((ids[0], ids[2]), (first.id, second.id));
    assert_eq!(pulled.receipts.len(), 2);
    let folded = Register::fold(server.pull_all(&admin.token).await.iter().map(|l| &l.event));
    let conflict = folded
        .conflict(second.id)
        .expect("the later issue is a conflict");
    assert!(matches!(conflict.kind, ConflictKind::KeyNotInStore { .. }));
    assert_eq!(folded.current_loan(keys[1]).unwrap().issue_event, first.id);
}

async fn pull_pages_and_receipts_since(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(18);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    for i in 0..649 {
        device.person(site, &format!("Person {i}"));
    }
    let changes = device.take();
    assert_eq!(changes.len(), 650);
    for chunk in changes.chunks(BATCH) {
        server.push(&admin.token, device.id, chunk).await;
    }
    let page: PullResponse = server.pull(&admin.token, 0, 0, device.id).await;
    assert_eq!(page.head, 650);
    assert_eq!(page.events.len(), BATCH);
    assert_eq!(page.events.last().unwrap().pos, 500);
    assert_eq!(page.receipts.len(), 650);
    let page = server.pull(&admin.token, 500, 600, device.id).await;
    assert_eq!(
        page.events.iter().map(|l| l.pos).collect::<Vec<_>>(),
        (501..=650).collect::<Vec<_>>()
    );
    assert_eq!(
        page.receipts.iter().map(|r| r.n).collect::<Vec<_>>(),
        (601..=650).collect::<Vec<_>>()
    );
    let page = server.pull(&admin.token, 650, 650, device.id).await;
    assert!(page.events.is_empty() && page.receipts.is_empty());
    assert_eq!(page.head, 650);
    // Without a device, no receipts; bad parameters are a clear 400.
    let page: PullResponse = server.get("/api/pull?after=640", &admin.token).await.ok();
    assert_eq!((page.events.len(), page.receipts.len()), (10, 0));
    let reply = server.get("/api/pull?after=minus", &admin.token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().ends_with("Update the app and try again."));
}

/// Reads the stream until an `event: head` arrives; returns its data.
async fn next_head(body: &mut Body, buffer: &mut String) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            if message.contains("event: head") {
                let data = message
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .expect("data line");
                return data.trim().parse().unwrap();
            }
            continue;
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("a head in time")
            .expect("the stream goes on")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
}

async fn stream_sends_the_new_head(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let other_process = db.server().await;
    let mut device = Device::new(19);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    // Each stream opens with a ticket of its own (single use), asked for with the token.
    let open = |server: &common::Server| {
        let server = server.clone();
        let token = admin.token.clone();
        async move {
            let ticket: StreamTicket = server
                .post("/api/stream-ticket", Some(&token), json!({}))
                .await
                .ok();
            let req = Request::builder()
                .uri(format!("/api/stream?ticket={}", ticket.ticket))
                .body(Body::empty())
                .unwrap();
            server.app.clone().oneshot(req).await
        }
    };
    let res = open(&server).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut here = res.into_body();
    let mut there = open(&other_process).await.unwrap().into_body();
    let (mut here_buf, mut there_buf) = (String::new(), String::new());
    assert_eq!(next_head(&mut here, &mut here_buf).await, 0);
    assert_eq!(next_head(&mut there, &mut there_buf).await, 0);

    device.area(site, "Main corridor");
    let started = tokio::time::Instant::now();
    server.push(&admin.token, device.id, &device.take()).await;
    assert_eq!(next_head(&mut here, &mut here_buf).await, 2);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "in-process: at once"
    );
    // The other process hears it from its poll of the database.
    assert_eq!(next_head(&mut there, &mut there_buf).await, 2);

    device.person(site, "Sam Jones");
    other_process
        .push(&admin.token, device.id, &device.take())
        .await;
    assert_eq!(next_head(&mut here, &mut here_buf).await, 3);
    assert_eq!(next_head(&mut there, &mut there_buf).await, 3);

    // Closing ends the stream.
    server.store.close_streams();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = here.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ends when the server shuts down");
}

async fn two_processes_push_concurrently(backend: Backend) {
    const DEVICES: u64 = 4;
    const PER_DEVICE: u64 = 40;
    const PER_PUSH: usize = 5;
    let db = TestDb::new(backend).await;
    let servers = [db.server().await, db.server().await];
    let mut admin_device = Device::new(20);
    let (site, admin) = register_site(&servers[0], &mut admin_device, "Northgate School").await;
    admin_device.area(site, "Main corridor");
    servers[0]
        .push(&admin.token, admin_device.id, &admin_device.take())
        .await;
    let base = servers[1].pull_all(&admin.token).await;

    let mut tasks = Vec::new();
    for d in 0..DEVICES {
        let servers = servers.clone();
        let base = base.clone();
        let admin = admin.username.clone();
        tasks.push(tokio::spawn(async move {
            let mut device = Device::new(100 + d);
            // Each device signs in on itself: a session pushes only its own device's changes.
            let token = servers[0]
                .login(&admin, PASSWORD, device.id)
                .await
                .ok::<Session>()
                .token;
            device.learn(&base);
            for i in 0..PER_DEVICE {
                device.person(site, &format!("Person {d}-{i}"));
            }
            let changes = device.take();
            let mut receipts = Vec::new();
            for (i, chunk) in changes.chunks(PER_PUSH).enumerate() {
                let server = &servers[(i + d as usize) % 2];
                let pushed = server.push(&token, device.id, chunk).await;
                receipts.extend(pushed.receipts);
            }
            (device.id, changes, receipts, token)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let total = 2 + DEVICES * PER_DEVICE;
    let logged = servers[0].pull_all(&admin.token).await;
    assert_eq!(
        logged.iter().map(|l| l.pos).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let by_id: BTreeMap<EventId, u64> = logged.iter().map(|l| (l.event.id, l.pos)).collect();
    assert_eq!(by_id.len() as u64, total, "no event twice");
    let mut positions = BTreeSet::new();
    for (device, changes, receipts, token) in &results {
        let applied = applied_positions(receipts);
        assert!(
            applied.windows(2).all(|w| w[0] < w[1]),
            "a device's changes keep their order"
        );
        for ((change, receipt), pos) in changes.iter().zip(receipts).zip(&applied) {
            assert_eq!((receipt.n, receipt.event), (change.n, change.event.id));
            assert_eq!(by_id[&change.event.id], *pos);
            assert!(positions.insert(*pos));
        }
        let pulled = servers[1].pull(token, 0, 0, *device).await;
        assert_eq!(&pulled.receipts, receipts);
        assert_eq!(pulled.head, total);
    }
    assert_eq!(positions.len() as u64, DEVICES * PER_DEVICE);
    let folded = Register::fold(logged.iter().map(|l| &l.event));
    assert_eq!(folded.people_of(site).len() as u64, DEVICES * PER_DEVICE);
}

fn no_such_user(username: &str) -> String {
    format!("There is no user called \u{201c}{username}\u{201d} at this site.")
}

async fn set_role(server: &Server, token: &str, username: &str, role: &str) -> Reply {
    server
        .call(
            Method::PUT,
            &format!("/api/users/{username}"),
            Some(token),
            Some(json!({ "role": role })),
        )
        .await
}

async fn remove(server: &Server, token: &str, username: &str) -> Reply {
    server
        .call(
            Method::DELETE,
            &format!("/api/users/{username}"),
            Some(token),
            None,
        )
        .await
}

async fn a_new_role_counts_from_the_next_push(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut admin_device = Device::new(30);
    let (site, admin) = register_site(&server, &mut admin_device, "Northgate School").await;
    set_up(&mut admin_device, site);
    server
        .push(&admin.token, admin_device.id, &admin_device.take())
        .await;

    let mut tablet = Device::new(31);
    let staff_name = username("staff");
    let staff = server
        .user(&admin.token, &staff_name, Role::Staff, tablet.id)
        .await;
    tablet.learn(&server.pull_all(&staff.token).await);
    tablet.person(site, "Ali Khan");
    let before = tablet.take();
    let pushed = server.push(&staff.token, tablet.id, &before).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 10 });

    // The admin makes them a viewer: the answer is the user as the list shows it.
    let changed: User = set_role(&server, &admin.token, &staff_name, "viewer")
        .await
        .ok();
    assert_eq!(
        changed,
        User {
            username: staff_name.clone(),
            name: format!("{staff_name} person"),
            role: Role::Viewer,
            email: None,
        }
    );
    let users: Vec<User> = server.get("/api/users", &admin.token).await.ok();
    assert!(users.contains(&changed), "{users:?}");

    // Same token, no new sign-in: the next request sees the new role.
    let me: Session = server.get("/api/me", &staff.token).await.ok();
    assert_eq!(me.role, Role::Viewer);
    tablet.person(site, "Jo Bloggs");
    let pushed = server.push(&staff.token, tablet.id, &tablet.take()).await;
    assert_eq!(
        pushed.receipts[0].outcome,
        Outcome::Rejected {
            reason: "Your role (viewer) cannot add or edit people. Ask your site's admin if you need to.".into()
        }
    );
    assert_eq!(pushed.head, 10);

    // What they did before stays: in the log, and answered the same when pushed again.
    let again = server.push(&staff.token, tablet.id, &before).await;
    assert_eq!(again.receipts[0].outcome, Outcome::Applied { pos: 10 });
    let logged = server.pull_all(&admin.token).await;
    assert_eq!(logged.len(), 10);
    assert_eq!(logged[9].event.id, before[0].event.id);
    let folded = Register::fold(logged.iter().map(|l| &l.event));
    let people: Vec<String> = folded
        .people_of(site)
        .iter()
        .map(|p| p.details.name.clone())
        .collect();
    assert!(people.contains(&"Ali Khan".to_string()), "{people:?}");
    assert!(!people.contains(&"Jo Bloggs".to_string()), "{people:?}");

    // Back to staff (the path's username in any case, with spaces): new changes apply again.
    let changed: User = set_role(
        &server,
        &admin.token,
        &format!("%20{}%20", staff_name.to_uppercase()),
        "staff",
    )
    .await
    .ok();
    assert_eq!(
        (changed.username.as_str(), changed.role),
        (staff_name.as_str(), Role::Staff)
    );
    tablet.person(site, "Sam Smith");
    let pushed = server.push(&staff.token, tablet.id, &tablet.take()).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 11 });

    // A role that does not exist.
    let reply = set_role(&server, &admin.token, &staff_name, "boss").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().ends_with("Update the app and try again."));
}

async fn admins_only_at_their_own_site_and_never_the_last_admin(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut north = Device::new(32);
    let (_, admin) = register_site(&server, &mut north, "Northgate School").await;
    let mut south = Device::new(33);
    let (_, south_admin) = register_site(&server, &mut south, "Southgate School").await;

    // The only admin can neither step down nor be removed.
    for role in ["custodian", "staff", "auditor", "viewer"] {
        let reply = set_role(&server, &admin.token, &admin.username, role).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_eq!(reply.error(), LAST_ADMIN);
    }
    let reply = remove(&server, &admin.token, &admin.username).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error(), LAST_ADMIN);
    let same: User = set_role(&server, &admin.token, &admin.username, "admin")
        .await
        .ok();
    assert_eq!(same.role, Role::Admin, "admin to admin changes nothing");

    // Another site's user, or nobody at all: 404, and nothing changes there.
    for name in [south_admin.username.as_str(), "nobody-here"] {
        let reply = set_role(&server, &admin.token, name, "viewer").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.error(), no_such_user(name));
        let reply = remove(&server, &admin.token, name).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.error(), no_such_user(name));
    }
    let me: Session = server.get("/api/me", &south_admin.token).await.ok();
    assert_eq!(me.role, Role::Admin);

    // Only admins manage users.
    let custodian_name = username("custodian");
    let custodian = server
        .user(&admin.token, &custodian_name, Role::Custodian, north.id)
        .await;
    let staff = server
        .user(&admin.token, &username("staff"), Role::Staff, north.id)
        .await;
    for (token, role) in [
        (&custodian.token, Role::Custodian),
        (&staff.token, Role::Staff),
    ] {
        let refused = role.check(Action::ManageUsers).unwrap_err();
        for reply in [
            set_role(&server, token, &custodian_name, "admin").await,
            set_role(&server, token, &staff.username, "viewer").await,
            remove(&server, token, &staff.username).await,
            remove(&server, token, "nobody-here").await,
        ] {
            assert_eq!(reply.status, StatusCode::FORBIDDEN);
            assert_eq!(reply.error(), refused);
        }
    }

    // With a second admin the first may step down; then the second is the last one.
    let promoted: User = set_role(&server, &admin.token, &custodian_name, "admin")
        .await
        .ok();
    assert_eq!(promoted.role, Role::Admin);
    let stepped: User = set_role(&server, &admin.token, &admin.username, "viewer")
        .await
        .ok();
    assert_eq!(stepped.role, Role::Viewer);
    let reply = set_role(&server, &admin.token, &admin.username, "admin").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "a viewer now");
    let reply = set_role(&server, &custodian.token, &custodian_name, "staff").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error(), LAST_ADMIN);
    let reply = remove(&server, &custodian.token, &custodian_name).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.error(), LAST_ADMIN);
    // A viewer is not an admin, so removing them is fine.
    let reply = remove(&server, &custodian.token, &admin.username).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let users: Vec<User> = server.get("/api/users", &custodian.token).await.ok();
    let admins = users.iter().filter(|u| u.role == Role::Admin).count();
    assert_eq!((users.len(), admins), (2, 1));
}

async fn a_removed_user_is_signed_out_everywhere(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut admin_device = Device::new(34);
    let (site, admin) = register_site(&server, &mut admin_device, "Northgate School").await;
    server
        .push(&admin.token, admin_device.id, &admin_device.take())
        .await;
    let staff_name = username("staff");
    let mut phone = Device::new(35);
    let tablet = Device::new(36);
    let on_phone = server
        .user(&admin.token, &staff_name, Role::Staff, phone.id)
        .await;
    let on_tablet: Session = server.login(&staff_name, PASSWORD, tablet.id).await.ok();
    phone.learn(&server.pull_all(&on_phone.token).await);
    phone.person(site, "Ali Khan");
    let pushed = server.push(&on_phone.token, phone.id, &phone.take()).await;
    assert_eq!(pushed.receipts[0].outcome, Outcome::Applied { pos: 2 });

    let reply = remove(&server, &admin.token, &staff_name.to_uppercase()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.body, serde_json::Value::Null);

    // Every session of theirs has ended, on every server process.
    let other_process = db.server().await;
    for token in [&on_phone.token, &on_tablet.token] {
        for server in [&server, &other_process] {
            let reply = server.get("/api/me", token).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            assert_eq!(reply.error(), SIGNED_OUT);
            let reply = server.get("/api/pull?after=0", token).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
    }
    phone.person(site, "Jo Bloggs");
    let reply = server
        .push_raw(&on_phone.token, phone.id, &phone.take())
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), SIGNED_OUT);
    let reply = server.login(&staff_name, PASSWORD, phone.id).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error(), WRONG);
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE username = $1")
        .bind(&staff_name)
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    // Gone from the list; what they did stays in the log; the admin's session is untouched.
    let users: Vec<User> = server.get("/api/users", &admin.token).await.ok();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, admin.username);
    let logged = server.pull_all(&admin.token).await;
    assert_eq!(logged.len(), 2);
    let reply = remove(&server, &admin.token, &staff_name).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error(), no_such_user(&staff_name));
    // The username is free again.
    let back = server
        .user(&admin.token, &staff_name, Role::Viewer, phone.id)
        .await;
    assert_eq!(back.role, Role::Viewer);
}

/// Content a crafted client could send, refused by the core's own checks (the same the app
/// runs), each with its reason; the good change after them still applies.
async fn crafted_content_is_rejected(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(14);
    let (site, admin) = register_site(&server, &mut device, "Northgate School").await;
    let (area, lockers, _, _) = set_up(&mut device, site);
    server.push(&admin.token, device.id, &device.take()).await;
    let lock = device.register.locker(lockers[0]).unwrap().lock.unwrap();
    let mut entropy = SplitMix(99);
    let mut crafted = |change: Change| Event {
        id: EventId::generate(device.now, &mut entropy),
        actor: "Pat Caretaker".into(),
        device: device.id,
        at: device.now,
        change,
    };
    let bad = vec![
        crafted(Change::LockersAdded {
            site,
            area,
            lockers: vec![NewLocker {
                id: LockerId::generate(device.now, &mut SplitMix(1)),
                number: "<b>A1</b>".into(),
            }],
        }),
        crafted(Change::LockFitted {
            lock: LockId::generate(device.now, &mut SplitMix(2)),
            locker: lockers[1],
            kind: LockKind::Keyed,
            code: "9".repeat(10_000),
            suite: None,
        }),
        crafted(Change::KeysAdded {
            lock,
            kind: KeyKind::User,
            storage: None,
            keys: vec![NewKey {
                id: KeyId::generate(device.now, &mut SplitMix(3)),
                copy: u32::MAX,
                tag: TagId("A".repeat(2_400)),
            }],
        }),
    ];
    for event in bad {
        device.queue(event);
    }
    device.person(site, "Ali Khan");
    let pushed = server.push(&admin.token, device.id, &device.take()).await;
    let reasons: Vec<String> = pushed
        .receipts
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Rejected { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].contains("Remove the “<”"), "{}", reasons[0]);
    assert_eq!(
        reasons[1],
        "The lock's code can be at most 40 characters long. Shorten it, then try again."
    );
    assert!(reasons[2].contains("not well formed"), "{}", reasons[2]);
    assert!(matches!(
        pushed.receipts[3].outcome,
        Outcome::Applied { .. }
    ));
}

on_both_backends!(
    register_a_site,
    login_and_rate_limit,
    token_required,
    users_and_roles,
    push_applies_in_order,
    repush_returns_the_same_receipts,
    roles_are_checked_per_change,
    events_of_another_device_are_rejected,
    sites_do_not_see_each_other,
    the_same_key_issued_twice_is_a_conflict,
    pull_pages_and_receipts_since,
    stream_sends_the_new_head,
    two_processes_push_concurrently,
    a_new_role_counts_from_the_next_push,
    admins_only_at_their_own_site_and_never_the_last_admin,
    a_removed_user_is_signed_out_everywhere,
    crafted_content_is_rejected,
);
