package sqlstore

import (
	"context"

	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/store"
)

// appendAudit seals events onto the chain inside tx. It comes last in
// every transaction that calls it: taking the head row (a row lock on
// PostgreSQL, which orders the appends of every node) last keeps lock
// order one way, so transactions cannot deadlock on it.
func appendAudit(ctx context.Context, tx Tx, events []store.AuditEvent) error {
	for _, ev := range events {
		var seq int64
		var prev string
		if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev); err != nil {
			return err
		}
		line, hash, err := audit.Seal(seq, prev, ev.Time, ev.Type, ev.Data)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (seq, line, hash) VALUES (?, ?, ?)`, seq, string(line), hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = ? WHERE id = 1`, hash); err != nil {
			return err
		}
	}
	return nil
}

// AppendAudit implements store.Audit.
func (db *DB) AppendAudit(ctx context.Context, events ...store.AuditEvent) error {
	return db.tx(ctx, func(tx Tx) error { return appendAudit(ctx, tx, events) })
}

// AuditLines implements store.Audit.
func (db *DB) AuditLines(ctx context.Context, after int64, limit int) ([]store.AuditLine, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT seq, line, hash FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditLine
	for rows.Next() {
		var l store.AuditLine
		var line string
		if err := rows.Scan(&l.Seq, &line, &l.Hash); err != nil {
			return nil, err
		}
		l.Line = []byte(line)
		out = append(out, l)
	}
	return out, rows.Err()
}

// AuditHead implements store.Audit.
func (db *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := db.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, err
}
