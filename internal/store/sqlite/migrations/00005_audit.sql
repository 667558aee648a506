-- +goose Up
-- The audit chain moves from the audit.log file into the database, so that
-- each event is written in the transaction of what it records (one commit,
-- not a file fsync and an anchor commit) and every node appends to one
-- chain. audit_events holds each event's line exactly as the file did;
-- audit_head is the chain's end, updated in the same transaction, and
-- starts where the file ended (its anchor in settings), so the chain goes
-- on across the move.
CREATE TABLE audit_events (
    seq  INTEGER PRIMARY KEY,
    line TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
UPDATE audit_head SET
    seq  = (SELECT CAST(substr(value, 1, instr(value, ':') - 1) AS INTEGER) FROM settings WHERE key = 'audit_head'),
    hash = (SELECT substr(value, instr(value, ':') + 1) FROM settings WHERE key = 'audit_head')
WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'audit_head');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
