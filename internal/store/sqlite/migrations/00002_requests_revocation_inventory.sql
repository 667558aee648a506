-- +goose Up
-- Enterprise certificate requests awaiting an account admin's decision.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    status        TEXT    NOT NULL,
    product       TEXT    NOT NULL,
    params        TEXT    NOT NULL,
    requested_by  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    decided_by    INTEGER,
    decided_at    INTEGER,
    note          TEXT    NOT NULL DEFAULT '',
    order_id      INTEGER REFERENCES orders(id),
    version       INTEGER NOT NULL
);
CREATE INDEX requests_account ON requests(account_id, id);
CREATE INDEX requests_account_status ON requests(account_id, status, id);

-- Renewal links, revocation, and what the inventory filters on.
ALTER TABLE orders ADD COLUMN renewed_order_id INTEGER;
ALTER TABLE orders ADD COLUMN renewal_order_id INTEGER;
ALTER TABLE orders ADD COLUMN business_unit TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN cert_not_before INTEGER;
ALTER TABLE orders ADD COLUMN cert_not_after INTEGER;
DROP INDEX orders_status;
CREATE INDEX orders_account_status ON orders(account_id, status, id);
CREATE INDEX orders_account_issued ON orders(account_id, cert_not_before);
CREATE INDEX orders_account_expires ON orders(account_id, cert_not_after);

CREATE TABLE order_names (
    account_id INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    PRIMARY KEY (account_id, name, order_id)
) WITHOUT ROWID;
CREATE INDEX order_names_order ON order_names(order_id);

ALTER TABLE certificates ADD COLUMN revoked_at INTEGER;
ALTER TABLE certificates ADD COLUMN revocation_reason INTEGER;
ALTER TABLE certificates ADD COLUMN revocation_comments TEXT;

-- +goose Down
ALTER TABLE certificates DROP COLUMN revocation_comments;
ALTER TABLE certificates DROP COLUMN revocation_reason;
ALTER TABLE certificates DROP COLUMN revoked_at;
DROP TABLE order_names;
DROP INDEX orders_account_expires;
DROP INDEX orders_account_issued;
DROP INDEX orders_account_status;
CREATE INDEX orders_status ON orders(status, id);
ALTER TABLE orders DROP COLUMN cert_not_after;
ALTER TABLE orders DROP COLUMN cert_not_before;
ALTER TABLE orders DROP COLUMN extra;
ALTER TABLE orders DROP COLUMN business_unit;
ALTER TABLE orders DROP COLUMN renewal_order_id;
ALTER TABLE orders DROP COLUMN renewed_order_id;
DROP TABLE requests;
