-- Keyward's sync server (PostgreSQL). Times are Unix milliseconds; ids are UUID text.

-- A site (tenant): its id is the SiteId of its SiteCreated event; head is the last pos.
CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    head BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- username is stored trimmed and lower case: unique across the server.
CREATE TABLE users (
    username TEXT PRIMARY KEY NOT NULL,
    site TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_by_site ON users (site, username);

-- Only the SHA-256 of a token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    device TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);

-- Failed sign-ins, for the rate limit that every server process shares.
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);

-- A site's log in its one global order.
CREATE TABLE events (
    site TEXT NOT NULL REFERENCES sites (id),
    pos BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    device TEXT NOT NULL,
    n BIGINT NOT NULL,
    body TEXT NOT NULL,
    conflict BOOLEAN NOT NULL,
    PRIMARY KEY (site, pos)
);

-- What became of each pushed change, so a re-push gets the same answer.
CREATE TABLE receipts (
    site TEXT NOT NULL REFERENCES sites (id),
    device TEXT NOT NULL,
    n BIGINT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'conflict', 'rejected')),
    pos BIGINT,
    reason TEXT,
    PRIMARY KEY (site, device, n)
);
