-- E-mail: an optional address per account; mails waiting to be sent (the outbox, so a mail
-- server that is down loses nothing and holds up nothing); one-time password-reset links
-- (only the SHA-256 of the token, one per account); the day each site's digest of overdue
-- keys went out (so several server processes send it once).

ALTER TABLE users ADD COLUMN email TEXT;

CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    -- Not tried again before this time (Unix ms).
    next_at BIGINT NOT NULL,
    -- A process sending it holds it until this time; another may take it after.
    claimed_until BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX mail_outbox_by_next ON mail_outbox (next_at);

CREATE TABLE password_resets (
    username TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX password_resets_by_token ON password_resets (token_hash);
CREATE INDEX password_resets_by_time ON password_resets (expires_at);

CREATE TABLE digests_sent (
    site TEXT NOT NULL,
    day TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (site, day)
);
