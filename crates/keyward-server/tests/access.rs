//! Who may call what: every endpoint × every kind of caller (no token, another site's admin,
//! each role at the site, a token whose session went idle, a token whose session an admin
//! ended), on SQLite and PostgreSQL. Each cell gets fresh accounts and targets, so one call
//! cannot change what the next one sees; every mismatch is listed before the test fails.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use keyward_core::sync::{DeviceSession, Session, StreamTicket};
use keyward_core::*;
use serde_json::{json, Value};

const STRONG: &str = "violet harbour tractor";
/// Longer than the default `session_idle` (60 days).
const IDLE_MS: i64 = 61 * 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Nobody,
    OtherSite,
    Admin,
    Custodian,
    Staff,
    Auditor,
    Viewer,
    Expired,
    Revoked,
}

const CALLERS: [Caller; 9] = [
    Caller::Nobody,
    Caller::OtherSite,
    Caller::Admin,
    Caller::Custodian,
    Caller::Staff,
    Caller::Auditor,
    Caller::Viewer,
    Caller::Expired,
    Caller::Revoked,
];

#[derive(Clone, Copy, Debug)]
enum Endpoint {
    RegisterSite,
    Login,
    Logout,
    Me,
    ListUsers,
    AddUser,
    ChangeRole,
    RemoveUser,
    UserSessions,
    ResetPassword,
    OwnSessions,
    EndOwnSession,
    EndOthersSession,
    ChangePassword,
    StreamTicket,
    StreamByTicket,
    StreamByHeader,
    StreamTokenInUrl,
    Push,
    Pull,
    OwnEmail,
    SetOwnEmail,
    SetUserEmail,
    MailStatus,
    ForgotPassword,
    CompleteReset,
}

/// Expected statuses, in the order of [`CALLERS`]: nobody, another site's admin, admin,
/// custodian, staff, auditor, viewer, idle-expired, revoked.
fn expected(endpoint: Endpoint) -> [u16; 9] {
    use Endpoint::*;
    // Any signed-in person, at their own site.
    let anyone = |ok: u16| [401, ok, ok, ok, ok, ok, ok, 401, 401];
    // Admins of this site only: other roles are refused by the role table, another site's
    // admin is told there is no such user at their site.
    let admins = |ok: u16| [401, 404, ok, 403, 403, 403, 403, 401, 401];
    match endpoint {
        RegisterSite => [201; 9],
        Login => [200; 9],
        Logout => anyone(204),
        Me => anyone(200),
        // Another site's admin sees and adds to their own site.
        ListUsers => [401, 200, 200, 403, 403, 403, 403, 401, 401],
        AddUser => [401, 201, 201, 403, 403, 403, 403, 401, 401],
        ChangeRole => admins(200),
        RemoveUser => admins(204),
        UserSessions => admins(200),
        ResetPassword => admins(204),
        OwnSessions => anyone(200),
        EndOwnSession => anyone(204),
        EndOthersSession => [401, 404, 204, 404, 404, 404, 404, 401, 401],
        ChangePassword => anyone(204),
        StreamTicket => anyone(201),
        StreamByTicket => anyone(200),
        StreamByHeader => anyone(200),
        StreamTokenInUrl => [401; 9],
        Push => anyone(200),
        Pull => anyone(200),
        OwnEmail => anyone(200),
        SetOwnEmail => anyone(200),
        SetUserEmail => admins(200),
        MailStatus => [200; 9],
        // This server sends no mail: said alike to everyone.
        ForgotPassword => [404; 9],
        // A token that was never mailed.
        CompleteReset => [400; 9],
    }
}

const ENDPOINTS: [Endpoint; 26] = [
    Endpoint::RegisterSite,
    Endpoint::Login,
    Endpoint::Logout,
    Endpoint::Me,
    Endpoint::ListUsers,
    Endpoint::AddUser,
    Endpoint::ChangeRole,
    Endpoint::RemoveUser,
    Endpoint::UserSessions,
    Endpoint::ResetPassword,
    Endpoint::OwnSessions,
    Endpoint::EndOwnSession,
    Endpoint::EndOthersSession,
    Endpoint::ChangePassword,
    Endpoint::StreamTicket,
    Endpoint::StreamByTicket,
    Endpoint::StreamByHeader,
    Endpoint::StreamTokenInUrl,
    Endpoint::Push,
    Endpoint::Pull,
    Endpoint::OwnEmail,
    Endpoint::SetOwnEmail,
    Endpoint::SetUserEmail,
    Endpoint::MailStatus,
    Endpoint::ForgotPassword,
    Endpoint::CompleteReset,
];

struct World {
    server: Server,
    admin: Session,
    other_admin: Session,
    device: Device,
}

impl World {
    /// A user of `role` added by `by` (an admin) and signed in.
    async fn account(&self, by: &Session, role: Role) -> Session {
        self.server
            .user(&by.token, &username("u"), role, self.device.id)
            .await
    }

    /// The caller's token (and session), made fresh for one call.
    async fn caller(&self, caller: Caller) -> Option<Session> {
        let role = match caller {
            Caller::Nobody => return None,
            Caller::OtherSite => {
                return Some(self.account(&self.other_admin, Role::Admin).await);
            }
            Caller::Admin => Role::Admin,
            Caller::Custodian => Role::Custodian,
            Caller::Staff | Caller::Expired | Caller::Revoked => Role::Staff,
            Caller::Auditor => Role::Auditor,
            Caller::Viewer => Role::Viewer,
        };
        let session = self.account(&self.admin, role).await;
        match caller {
            Caller::Expired => age_session(&self.server, &session.token, IDLE_MS).await,
            Caller::Revoked => {
                let id = own_session_id(&self.server, &session.token).await;
                let reply = self
                    .server
                    .call(
                        Method::DELETE,
                        &format!("/api/sessions/{id}"),
                        Some(&self.admin.token),
                        None,
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::NO_CONTENT);
            }
            _ => {}
        }
        Some(session)
    }
}

async fn own_session_id(server: &Server, token: &str) -> String {
    let sessions: Vec<DeviceSession> = server.get("/api/sessions", token).await.ok();
    sessions.into_iter().find(|s| s.current).unwrap().id
}

/// Makes the call of `endpoint` as `token` would; its status.
async fn call(world: &World, endpoint: Endpoint, token: Option<&str>) -> u16 {
    let server = &world.server;
    let device = world.device.id;
    let send = |method: Method, path: String, body: Option<Value>| async move {
        server
            .call(method, &path, token, body)
            .await
            .status
            .as_u16()
    };
    let open = |path: String, header: bool| async move {
        server
            .open(&path, if header { token } else { None })
            .await
            .status()
            .as_u16()
    };
    match endpoint {
        Endpoint::RegisterSite => {
            let mut seed = [0u8; 8];
            getrandom::fill(&mut seed).unwrap();
            let site = Device::new(u64::from_le_bytes(seed)).create_site("Westgate School");
            let body = json!({"site": site, "site_name": "Westgate School",
                              "username": username("head"), "name": "Sam Head",
                              "password": STRONG, "device": device,
                              "setup_code": server.setup_code().await});
            send(Method::POST, "/api/sites".into(), Some(body)).await
        }
        Endpoint::Login => {
            let target = world.account(&world.admin, Role::Staff).await;
            let body = json!({"username": target.username, "password": PASSWORD, "device": device});
            send(Method::POST, "/api/login".into(), Some(body)).await
        }
        Endpoint::Logout => send(Method::POST, "/api/logout".into(), None).await,
        Endpoint::Me => send(Method::GET, "/api/me".into(), None).await,
        Endpoint::ListUsers => send(Method::GET, "/api/users".into(), None).await,
        Endpoint::AddUser => {
            let body = json!({"username": username("new"), "name": "New Person",
                              "role": "staff", "password": STRONG});
            send(Method::POST, "/api/users".into(), Some(body)).await
        }
        Endpoint::ChangeRole
        | Endpoint::RemoveUser
        | Endpoint::UserSessions
        | Endpoint::SetUserEmail
        | Endpoint::ResetPassword => {
            let target = world.account(&world.admin, Role::Staff).await.username;
            let (method, path, body) = match endpoint {
                Endpoint::ChangeRole => (
                    Method::PUT,
                    format!("/api/users/{target}"),
                    Some(json!({"role": "viewer"})),
                ),
                Endpoint::RemoveUser => (Method::DELETE, format!("/api/users/{target}"), None),
                Endpoint::UserSessions => {
                    (Method::GET, format!("/api/users/{target}/sessions"), None)
                }
                Endpoint::SetUserEmail => (
                    Method::PUT,
                    format!("/api/users/{target}/email"),
                    Some(json!({"email": "someone@northgate.example.org"})),
                ),
                _ => (
                    Method::PUT,
                    format!("/api/users/{target}/password"),
                    Some(json!({ "password": STRONG })),
                ),
            };
            send(method, path, body).await
        }
        Endpoint::OwnSessions => send(Method::GET, "/api/sessions".into(), None).await,
        Endpoint::OwnEmail => send(Method::GET, "/api/email".into(), None).await,
        Endpoint::SetOwnEmail => {
            let body = json!({"email": "me@northgate.example.org"});
            send(Method::PUT, "/api/email".into(), Some(body)).await
        }
        Endpoint::MailStatus => send(Method::GET, "/api/mail".into(), None).await,
        Endpoint::ForgotPassword => {
            let target = world.account(&world.admin, Role::Staff).await.username;
            let body = json!({ "username": target });
            send(Method::POST, "/api/password-reset".into(), Some(body)).await
        }
        Endpoint::CompleteReset => {
            let body = json!({"token": "ab".repeat(32), "password": STRONG});
            send(
                Method::POST,
                "/api/password-reset/complete".into(),
                Some(body),
            )
            .await
        }
        Endpoint::EndOwnSession => {
            // One's own session when signed in; someone's otherwise (still refused).
            let id = match token {
                Some(t) if server.get("/api/me", t).await.status == StatusCode::OK => {
                    own_session_id(server, t).await
                }
                _ => {
                    let target = world.account(&world.admin, Role::Staff).await;
                    own_session_id(server, &target.token).await
                }
            };
            send(Method::DELETE, format!("/api/sessions/{id}"), None).await
        }
        Endpoint::EndOthersSession => {
            let target = world.account(&world.admin, Role::Staff).await;
            let id = own_session_id(server, &target.token).await;
            send(Method::DELETE, format!("/api/sessions/{id}"), None).await
        }
        Endpoint::ChangePassword => {
            let body = json!({"current": PASSWORD, "new": STRONG});
            send(Method::PUT, "/api/password".into(), Some(body)).await
        }
        Endpoint::StreamTicket => send(Method::POST, "/api/stream-ticket".into(), None).await,
        Endpoint::StreamByTicket => {
            let reply = server
                .call(Method::POST, "/api/stream-ticket", token, None)
                .await;
            let ticket = if reply.status == StatusCode::CREATED {
                reply.ok::<StreamTicket>().ticket
            } else {
                "f".repeat(64)
            };
            open(format!("/api/stream?ticket={ticket}"), false).await
        }
        Endpoint::StreamByHeader => open("/api/stream".into(), true).await,
        Endpoint::StreamTokenInUrl => {
            open(format!("/api/stream?token={}", token.unwrap_or("")), false).await
        }
        Endpoint::Push => {
            let body = json!({"device": device, "changes": []});
            send(Method::POST, "/api/push".into(), Some(body)).await
        }
        Endpoint::Pull => send(Method::GET, "/api/pull?after=0".into(), None).await,
    }
}

async fn every_endpoint_for_every_caller(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = db.server().await;
    let mut device = Device::new(1);
    let (_, admin) = register_site(&server, &mut device, "Northgate School").await;
    let mut south = Device::new(2);
    let (_, other_admin) = register_site(&server, &mut south, "Southgate School").await;
    let world = World {
        server,
        admin,
        other_admin,
        device,
    };

    let mut wrong = Vec::new();
    for endpoint in ENDPOINTS {
        let want = expected(endpoint);
        for (caller, want) in CALLERS.iter().zip(want) {
            let session = world.caller(*caller).await;
            let got = call(&world, endpoint, session.as_ref().map(|s| s.token.as_str())).await;
            if got != want {
                wrong.push(format!(
                    "{endpoint:?} as {caller:?}: {got}, expected {want}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // The fixed admins were never touched by a cell's call.
    let me = world.server.get("/api/me", &world.admin.token).await;
    assert_eq!(me.status, StatusCode::OK);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_endpoint_for_every_caller() {
        super::every_endpoint_for_every_caller(super::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_endpoint_for_every_caller() {
        super::every_endpoint_for_every_caller(super::Backend::Postgres).await
    }
}
