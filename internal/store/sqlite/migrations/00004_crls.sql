-- +goose Up
-- Which issuing CA signed each certificate, for its CRL.
ALTER TABLE certificates ADD COLUMN issuer TEXT NOT NULL DEFAULT 'intermediate';
CREATE INDEX certificates_revoked ON certificates(issuer, revoked_at) WHERE revoked_at IS NOT NULL;
-- Lint warnings recorded with the certificate, as JSON.
ALTER TABLE certificates ADD COLUMN lint_warnings TEXT NOT NULL DEFAULT '[]';

-- The latest CRL of each issuing CA; numbers only grow (RFC 5280 5.2.3),
-- allocated in the same transaction that stores the CRL.
CREATE TABLE crls (
    issuer      TEXT    PRIMARY KEY,
    number      INTEGER NOT NULL,
    der         BLOB    NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE certificates DROP COLUMN lint_warnings;
DROP INDEX certificates_revoked;
ALTER TABLE certificates DROP COLUMN issuer;
