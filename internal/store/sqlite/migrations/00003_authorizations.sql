-- +goose Up
-- Domain-control validations: one per account, domain and attempt. A
-- valid one is reused for the account's later orders within the reuse
-- period.
CREATE TABLE authorizations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    domain           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    token            TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    token_expires_at INTEGER NOT NULL,
    validated_at     INTEGER,
    checked_at       INTEGER,
    version          INTEGER NOT NULL
);
CREATE INDEX authorizations_account_domain ON authorizations(account_id, domain, id);
CREATE INDEX authorizations_token ON authorizations(token);

ALTER TABLE orders ADD COLUMN dcv_method TEXT NOT NULL DEFAULT '';
-- Per-name results of the checks that are not domain control (CAA), as
-- JSON: {"name": "why it is held"}.
ALTER TABLE orders ADD COLUMN holds TEXT NOT NULL DEFAULT '{}';
-- Organizations an account orders for, validated by an operator.
CREATE TABLE organizations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    match_key    TEXT    NOT NULL,
    details      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    version      INTEGER NOT NULL
);
CREATE INDEX organizations_account_key ON organizations(account_id, match_key, id);
CREATE INDEX organizations_status ON organizations(status, id);
ALTER TABLE orders ADD COLUMN org_id INTEGER REFERENCES organizations(id);

-- The orders the validation pipeline works on.
CREATE INDEX orders_waiting ON orders(id)
    WHERE (dcv_method != '' OR org_id IS NOT NULL) AND (status = 'pending issuance' OR pending_reissue IS NOT NULL);

-- +goose Down
DROP INDEX orders_waiting;
ALTER TABLE orders DROP COLUMN org_id;
DROP TABLE organizations;
ALTER TABLE orders DROP COLUMN holds;
ALTER TABLE orders DROP COLUMN dcv_method;
DROP TABLE authorizations;
