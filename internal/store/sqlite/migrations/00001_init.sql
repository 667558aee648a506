-- +goose Up
CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    key_hash   BLOB    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    product         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    validity_years  INTEGER NOT NULL,
    common_name     TEXT    NOT NULL,
    sans            TEXT    NOT NULL,
    server_type     INTEGER NOT NULL,
    signature_hash  TEXT    NOT NULL,
    ev              INTEGER NOT NULL,
    csr             TEXT    NOT NULL,
    contact         TEXT    NOT NULL,
    site_seal_token TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    valid_from      INTEGER,
    valid_till      INTEGER,
    cert_serial     TEXT,
    pending_reissue TEXT,
    version         INTEGER NOT NULL
);
CREATE INDEX orders_account ON orders(account_id, id);
CREATE INDEX orders_status ON orders(status, id);

CREATE TABLE certificates (
    serial     TEXT    PRIMARY KEY,
    order_id   INTEGER REFERENCES orders(id),
    status     TEXT    NOT NULL,
    lint_der   BLOB    NOT NULL,
    der        BLOB,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    issued_at  INTEGER
);
CREATE INDEX certificates_order ON certificates(order_id);

-- settings the server records for the CLI, such as the public URL.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE certificates;
DROP TABLE orders;
DROP TABLE api_keys;
DROP TABLE accounts;
