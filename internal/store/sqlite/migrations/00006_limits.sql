-- +goose Up
-- Rate limits and idempotent retries (issue 9), kept in the database so
-- that every node counts against the same budgets and sees the same keys.
--
-- rate_limits: one row per limited key ("account:7", "authfail:192.0.2.1"),
-- the GCRA theoretical arrival time in Unix nanoseconds; a row past
-- expires_at counts as absent and is swept.
CREATE TABLE rate_limits (
    key        TEXT PRIMARY KEY,
    tat        INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);

-- An account's request limit: 0 follows the server's default, -1 is
-- unlimited, a positive number is requests per hour.
ALTER TABLE accounts ADD COLUMN requests_per_hour INTEGER NOT NULL DEFAULT 0;

-- idempotency_keys: a POST or custom method sent with an Idempotency-Key,
-- per account. status 0 while the first request is in progress; then its
-- answer, replayed to retries with the same fingerprint (method, path,
-- body) until expires_at.
CREATE TABLE idempotency_keys (
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT    NOT NULL DEFAULT '',
    body         BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
ALTER TABLE accounts DROP COLUMN requests_per_hour;
DROP TABLE rate_limits;
