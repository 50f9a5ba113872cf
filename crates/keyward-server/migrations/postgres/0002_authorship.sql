-- What the server vouches for with each stored event: the account whose session pushed it,
-- that account's name then, and when it arrived (server clock, Unix milliseconds). Events
-- stored before this migration have none: they show only what their device claimed.
ALTER TABLE events ADD COLUMN pushed_by TEXT;
ALTER TABLE events ADD COLUMN pushed_name TEXT;
ALTER TABLE events ADD COLUMN received_at BIGINT;
