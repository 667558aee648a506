-- +goose Up
-- The schema of SQLite migrations 00001-00004, for PostgreSQL. Times are
-- BIGINT Unix nanoseconds, as in the SQLite engine.
CREATE TABLE accounts (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    key_hash   BYTEA  NOT NULL UNIQUE,
    role       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE organizations (
    id           BIGSERIAL PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    match_key    TEXT   NOT NULL,
    details      TEXT   NOT NULL,
    status       TEXT   NOT NULL,
    note         TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    decided_at   BIGINT,
    version      BIGINT NOT NULL
);
CREATE INDEX organizations_account_key ON organizations(account_id, match_key, id);
CREATE INDEX organizations_status ON organizations(status, id);

CREATE TABLE orders (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT  NOT NULL REFERENCES accounts(id),
    product          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    validity_years   INTEGER NOT NULL,
    common_name      TEXT    NOT NULL,
    sans             TEXT    NOT NULL,
    server_type      INTEGER NOT NULL,
    signature_hash   TEXT    NOT NULL,
    ev               BOOLEAN NOT NULL,
    csr              TEXT    NOT NULL,
    contact          TEXT    NOT NULL,
    site_seal_token  TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    valid_from       BIGINT,
    valid_till       BIGINT,
    cert_serial      TEXT,
    pending_reissue  TEXT,
    renewed_order_id BIGINT,
    renewal_order_id BIGINT,
    business_unit    TEXT    NOT NULL DEFAULT '',
    extra            TEXT    NOT NULL DEFAULT '{}',
    cert_not_before  BIGINT,
    cert_not_after   BIGINT,
    dcv_method       TEXT    NOT NULL DEFAULT '',
    holds            TEXT    NOT NULL DEFAULT '{}',
    org_id           BIGINT REFERENCES organizations(id),
    version          BIGINT  NOT NULL
);
CREATE INDEX orders_account ON orders(account_id, id);
CREATE INDEX orders_account_status ON orders(account_id, status, id);
CREATE INDEX orders_account_issued ON orders(account_id, cert_not_before);
CREATE INDEX orders_account_expires ON orders(account_id, cert_not_after);
CREATE INDEX orders_waiting ON orders(id)
    WHERE (dcv_method != '' OR org_id IS NOT NULL) AND (status = 'pending issuance' OR pending_reissue IS NOT NULL);

CREATE TABLE order_names (
    account_id BIGINT NOT NULL,
    name       TEXT   NOT NULL,
    order_id   BIGINT NOT NULL REFERENCES orders(id),
    PRIMARY KEY (account_id, name, order_id)
);
CREATE INDEX order_names_order ON order_names(order_id);

CREATE TABLE certificates (
    serial              TEXT   PRIMARY KEY,
    order_id            BIGINT REFERENCES orders(id),
    status              TEXT   NOT NULL,
    lint_der            BYTEA  NOT NULL,
    der                 BYTEA,
    not_before          BIGINT NOT NULL,
    not_after           BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    issued_at           BIGINT,
    revoked_at          BIGINT,
    revocation_reason   INTEGER,
    revocation_comments TEXT,
    issuer              TEXT   NOT NULL DEFAULT 'intermediate',
    lint_warnings       TEXT   NOT NULL DEFAULT '[]'
);
CREATE INDEX certificates_order ON certificates(order_id);
CREATE INDEX certificates_revoked ON certificates(issuer, revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE requests (
    id            BIGSERIAL PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    status        TEXT   NOT NULL,
    product       TEXT   NOT NULL,
    params        TEXT   NOT NULL,
    requested_by  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    decided_by    BIGINT,
    decided_at    BIGINT,
    note          TEXT   NOT NULL DEFAULT '',
    order_id      BIGINT REFERENCES orders(id),
    version       BIGINT NOT NULL
);
CREATE INDEX requests_account ON requests(account_id, id);
CREATE INDEX requests_account_status ON requests(account_id, status, id);

CREATE TABLE authorizations (
    id               BIGSERIAL PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts(id),
    domain           TEXT   NOT NULL,
    method           TEXT   NOT NULL,
    token            TEXT   NOT NULL,
    status           TEXT   NOT NULL,
    last_error       TEXT   NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    token_expires_at BIGINT NOT NULL,
    validated_at     BIGINT,
    checked_at       BIGINT,
    version          BIGINT NOT NULL
);
CREATE INDEX authorizations_account_domain ON authorizations(account_id, domain, id);
CREATE INDEX authorizations_token ON authorizations(token);

CREATE TABLE crls (
    issuer      TEXT   PRIMARY KEY,
    number      BIGINT NOT NULL,
    der         BYTEA  NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE crls;
DROP TABLE authorizations;
DROP TABLE requests;
DROP TABLE certificates;
DROP TABLE order_names;
DROP TABLE orders;
DROP TABLE organizations;
DROP TABLE api_keys;
DROP TABLE accounts;
