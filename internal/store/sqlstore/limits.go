package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/internal/store"
)

// LimitTAT implements store.Limits.
func (db *DB) LimitTAT(ctx context.Context, key string, now time.Time) (int64, error) {
	var tat int64
	err := db.r.QueryRowContext(ctx, `SELECT tat FROM rate_limits WHERE key = ? AND expires_at > ?`, key, now.UnixNano()).Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	return tat, err
}

// SetLimitTAT implements store.Limits: an insert, or the takeover of a
// row that expired, in one statement so that of two nodes racing one wins.
func (db *DB) SetLimitTAT(ctx context.Context, key string, tat int64, expires, now time.Time) (bool, error) {
	res, err := db.exec(ctx, `INSERT INTO rate_limits (key, tat, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET tat = excluded.tat, expires_at = excluded.expires_at
		WHERE rate_limits.expires_at <= ?`, key, tat, expires.UnixNano(), now.UnixNano())
	return affected(res, err)
}

// SwapLimitTAT implements store.Limits.
func (db *DB) SwapLimitTAT(ctx context.Context, key string, old, tat int64, expires, now time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE rate_limits SET tat = ?, expires_at = ? WHERE key = ? AND tat = ? AND expires_at > ?`,
		tat, expires.UnixNano(), key, old, now.UnixNano())
	return affected(res, err)
}

// ClaimIdempotencyKey implements store.Idempotency: like SetLimitTAT, one
// statement inserts the record or takes over an expired or stale one.
// A record that holds the key can vanish before it is read (its request
// failed and released it), so the claim is tried again.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, r store.IdempotencyRecord, staleBefore time.Time) (bool, store.IdempotencyRecord, error) {
	for attempt := 0; ; attempt++ {
		res, err := db.exec(ctx, `INSERT INTO idempotency_keys (account_id, key, fingerprint, status, content_type, body, created_at, expires_at)
			VALUES (?, ?, ?, 0, '', NULL, ?, ?)
			ON CONFLICT (account_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, content_type = '', body = NULL,
				created_at = excluded.created_at, expires_at = excluded.expires_at
			WHERE idempotency_keys.expires_at <= ? OR (idempotency_keys.status = 0 AND idempotency_keys.created_at < ?)`,
			r.AccountID, r.Key, r.Fingerprint, r.CreatedAt.UnixNano(), r.ExpiresAt.UnixNano(), r.CreatedAt.UnixNano(), staleBefore.UnixNano())
		claimed, err := affected(res, err)
		if err != nil || claimed {
			return claimed, store.IdempotencyRecord{}, err
		}
		held := store.IdempotencyRecord{AccountID: r.AccountID, Key: r.Key}
		var created, expires int64
		err = db.r.QueryRowContext(ctx, `SELECT fingerprint, status, content_type, body, created_at, expires_at FROM idempotency_keys
			WHERE account_id = ? AND key = ?`, r.AccountID, r.Key).Scan(&held.Fingerprint, &held.Status, &held.ContentType, &held.Body, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) && attempt < 3 {
			continue
		}
		if err != nil {
			return false, store.IdempotencyRecord{}, notFound(err, "idempotency key")
		}
		held.CreatedAt, held.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
		return false, held, nil
	}
}

// FinishIdempotencyKey implements store.Idempotency.
func (db *DB) FinishIdempotencyKey(ctx context.Context, r store.IdempotencyRecord) error {
	res, err := db.exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?
		WHERE account_id = ? AND key = ? AND fingerprint = ? AND status = 0`, r.Status, r.ContentType, r.Body, r.AccountID, r.Key, r.Fingerprint)
	if ok, err := affected(res, err); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("idempotency key in progress: %w", store.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey implements store.Idempotency.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, accountID int64, key, fingerprint string) error {
	_, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND fingerprint = ? AND status = 0`, accountID, key, fingerprint)
	return err
}

// SweepExpired implements store.Idempotency.
func (db *DB) SweepExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx Tx) error {
		for _, q := range []string{`DELETE FROM rate_limits WHERE expires_at <= ?`, `DELETE FROM idempotency_keys WHERE expires_at <= ?`} {
			res, err := tx.ExecContext(ctx, q, now.UnixNano())
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return n, err
}

// affected reports whether a statement changed exactly one row.
func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
