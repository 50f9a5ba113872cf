-- Accounts hardened: sessions get a public id (to list and end them one by one, never the
-- token) and a last-used time (idle sessions end); failed sign-ins are counted per address
-- too; set-up codes close site registration; single-use tickets open the event stream.

ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
UPDATE sessions SET id = lower(hex(randomblob(16))), last_used_at = created_at;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);

-- An attempt is recorded before the password is checked and deleted when it was right, so
-- what stays are failures. Rows older than the window are deleted, and at most a set number
-- are kept (the oldest go first).
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, address, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);
CREATE INDEX login_failures_by_time ON login_failures (at);

-- Only the SHA-256 of a set-up code's normal form is kept; a code is deleted when used.
CREATE TABLE setup_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Only the SHA-256 of a ticket; `session` is sessions.id. Deleted when used.
CREATE TABLE stream_tickets (
    ticket_hash TEXT PRIMARY KEY NOT NULL,
    session TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX stream_tickets_by_time ON stream_tickets (expires_at);
