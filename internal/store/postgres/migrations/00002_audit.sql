-- +goose Up
-- The audit chain in the database (see SQLite's 00005_audit.sql): each
-- event written in the transaction of what it records; audit_head's row
-- lock orders appends from every node into one chain.
CREATE TABLE audit_events (
    seq  BIGINT PRIMARY KEY,
    line TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
UPDATE audit_head SET seq = split_part(s.value, ':', 1)::BIGINT, hash = split_part(s.value, ':', 2)
FROM settings s WHERE s.key = 'audit_head';

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
