package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/internal/store"
)

func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// CreateAccount implements store.Accounts.
func (db *DB) CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error) {
	id, err := db.insert(ctx, `INSERT INTO accounts (name, created_at) VALUES (?, ?)`, name, now.UnixNano())
	if err != nil {
		return store.Account{}, err
	}
	return store.Account{ID: id, Name: name, CreatedAt: time.Unix(0, now.UnixNano()).UTC()}, nil
}

// GetAccount implements store.Accounts.
func (db *DB) GetAccount(ctx context.Context, id int64) (store.Account, error) {
	var a store.Account
	var created sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT id, name, created_at, requests_per_hour FROM accounts WHERE id = ?`, id).Scan(&a.ID, &a.Name, &created, &a.RequestsPerHour)
	if err != nil {
		return store.Account{}, notFound(err, "account")
	}
	a.CreatedAt = fromNanos(created)
	return a, nil
}

// CreateAPIKey implements store.Accounts.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	id, err := db.insert(ctx, `INSERT INTO api_keys (account_id, key_hash, role, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
		k.AccountID, k.Hash, k.Role, k.CreatedAt.UnixNano(), nanos(k.RevokedAt))
	if db.isUnique(err) {
		return store.APIKey{}, fmt.Errorf("api key: %w", store.ErrConflict)
	}
	if err != nil {
		return store.APIKey{}, notFound(err, "account")
	}
	k.ID = id
	return k, nil
}

// APIKeys implements store.Accounts.
func (db *DB) APIKeys(ctx context.Context, accountID int64) ([]store.APIKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, account_id, key_hash, role, created_at, revoked_at FROM api_keys WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		var k store.APIKey
		var created, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.AccountID, &k.Hash, &k.Role, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RevokedAt = fromNanos(created), fromNanos(revoked)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// RevokeAPIKey implements store.Accounts.
func (db *DB) RevokeAPIKey(ctx context.Context, accountID, keyID int64, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL`, at.UnixNano(), keyID, accountID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("active api key %d of account %d: %w", keyID, accountID, store.ErrNotFound)
	}
	return nil
}

// SetRequestsPerHour implements store.Accounts.
func (db *DB) SetRequestsPerHour(ctx context.Context, accountID int64, perHour int) error {
	res, err := db.exec(ctx, `UPDATE accounts SET requests_per_hour = ? WHERE id = ?`, perHour, accountID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("account %d: %w", accountID, store.ErrNotFound)
	}
	return nil
}

// ReserveCertificate implements store.Certificates.
func (db *DB) ReserveCertificate(ctx context.Context, c store.Certificate, events ...store.AuditEvent) error {
	var orderID any
	if c.OrderID != 0 {
		orderID = c.OrderID
	}
	issuer := c.Issuer
	if issuer == "" {
		issuer = "intermediate"
	}
	warnings, err := json.Marshal(c.LintWarnings)
	if err != nil {
		return err
	}
	if c.LintWarnings == nil {
		warnings = []byte("[]")
	}
	err = db.tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (serial, order_id, status, lint_der, not_before, not_after, created_at, issuer, lint_warnings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Serial, orderID, store.CertReserved, c.LintDER, c.NotBefore.UnixNano(), c.NotAfter.UnixNano(), c.CreatedAt.UnixNano(), issuer, string(warnings)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, events)
	})
	if db.isUnique(err) {
		return fmt.Errorf("serial %s: %w", c.Serial, store.ErrConflict)
	}
	return err
}

// CompleteIssuance implements store.Certificates.
func (db *DB) CompleteIssuance(ctx context.Context, serial string, der []byte, issuedAt time.Time, o *store.Order, events ...store.AuditEvent) error {
	return db.certificateAndOrder(ctx, o, events, fmt.Errorf("reserved serial %s: %w", serial, store.ErrNotFound),
		`UPDATE certificates SET status = ?, der = ?, issued_at = ? WHERE serial = ? AND status = ?`,
		store.CertIssued, der, issuedAt.UnixNano(), serial, store.CertReserved)
}

// RevokeCertificate implements store.Certificates.
func (db *DB) RevokeCertificate(ctx context.Context, serial string, at time.Time, reason int, comments string, o *store.Order) error {
	return db.certificateAndOrder(ctx, o, nil, fmt.Errorf("issued, unrevoked certificate %s: %w", serial, store.ErrConflict),
		`UPDATE certificates SET revoked_at = ?, revocation_reason = ?, revocation_comments = ?
			WHERE serial = ? AND status = ? AND revoked_at IS NULL`, at.UnixNano(), reason, comments, serial, store.CertIssued)
}

// certificateAndOrder runs an update that must change exactly one
// certificate (else it fails with missing) and, when o is not nil, the
// optimistic update of its order, and appends events to the audit chain,
// in one transaction. On failure o keeps the version it had.
func (db *DB) certificateAndOrder(ctx context.Context, o *store.Order, events []store.AuditEvent, missing error, query string, args ...any) error {
	version := int64(0)
	if o != nil {
		version = o.Version
	}
	err := db.tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return missing
		}
		if o != nil {
			if err := updateOrder(ctx, tx, o); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, events)
	})
	if err != nil && o != nil {
		o.Version = version
	}
	return err
}

// GetCertificate implements store.Certificates.
func (db *DB) GetCertificate(ctx context.Context, serial string) (store.Certificate, error) {
	var c store.Certificate
	var orderID, notBefore, notAfter, created, issued sql.NullInt64
	var revoked, reason sql.NullInt64
	var comments sql.NullString
	var warnings string
	err := db.r.QueryRowContext(ctx, `SELECT serial, order_id, status, lint_der, der, not_before, not_after, created_at, issued_at,
		revoked_at, revocation_reason, revocation_comments, issuer, lint_warnings
		FROM certificates WHERE serial = ?`, serial).Scan(&c.Serial, &orderID, &c.Status, &c.LintDER, &c.DER, &notBefore, &notAfter, &created, &issued,
		&revoked, &reason, &comments, &c.Issuer, &warnings)
	if err != nil {
		return store.Certificate{}, notFound(err, "certificate")
	}
	if err := json.Unmarshal([]byte(warnings), &c.LintWarnings); err != nil {
		return store.Certificate{}, fmt.Errorf("certificate %s lint warnings: %w", serial, err)
	}
	c.OrderID = orderID.Int64
	c.RevokedAt, c.RevocationReason, c.RevocationComments = fromNanos(revoked), int(reason.Int64), comments.String
	c.NotBefore, c.NotAfter, c.CreatedAt, c.IssuedAt = fromNanos(notBefore), fromNanos(notAfter), fromNanos(created), fromNanos(issued)
	return c, nil
}

// Setting implements store.Settings.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return "", notFound(err, "setting "+key)
	}
	return v, nil
}

// PutSetting implements store.Settings.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// SettingOnce implements store.Settings.
func (db *DB) SettingOnce(ctx context.Context, key, value string) (string, error) {
	var v string
	err := db.tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	})
	return v, err
}

// SerialsInState lists the serials whose record is in the given state,
// oldest first: with CertReserved, the certificates that may have been
// signed but whose issuance was never completed (after a crash).
func (db *DB) SerialsInState(ctx context.Context, state string) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT serial FROM certificates WHERE status = ? ORDER BY created_at, serial`, state)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var serials []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		serials = append(serials, s)
	}
	return serials, rows.Err()
}

// RevokedCertificates implements store.CRLs.
func (db *DB) RevokedCertificates(ctx context.Context, issuer string, now time.Time) ([]store.Certificate, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT serial, revoked_at, revocation_reason FROM certificates
		WHERE issuer = ? AND revoked_at IS NOT NULL AND not_after > ? ORDER BY revoked_at, serial`, issuer, now.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Certificate
	for rows.Next() {
		var c store.Certificate
		var at, reason sql.NullInt64
		if err := rows.Scan(&c.Serial, &at, &reason); err != nil {
			return nil, err
		}
		c.RevokedAt, c.RevocationReason, c.Issuer = fromNanos(at), int(reason.Int64), issuer
		out = append(out, c)
	}
	return out, rows.Err()
}

// PublishCRL implements store.CRLs.
func (db *DB) PublishCRL(ctx context.Context, issuer string, sign func(number int64) (store.CRL, error)) (store.CRL, error) {
	var crl store.CRL
	err := db.tx(ctx, func(tx Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT number FROM crls WHERE issuer = ?`, issuer).Scan(&last)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if crl, err = sign(last + 1); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO crls (issuer, number, der, this_update, next_update) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (issuer) DO UPDATE SET number = excluded.number, der = excluded.der,
			this_update = excluded.this_update, next_update = excluded.next_update`,
			issuer, last+1, crl.DER, crl.ThisUpdate.UnixNano(), crl.NextUpdate.UnixNano())
		crl.Issuer, crl.Number = issuer, last+1
		return err
	})
	return crl, err
}

// LatestCRL implements store.CRLs.
func (db *DB) LatestCRL(ctx context.Context, issuer string) (store.CRL, error) {
	c := store.CRL{Issuer: issuer}
	var this, next int64
	err := db.r.QueryRowContext(ctx, `SELECT number, der, this_update, next_update FROM crls WHERE issuer = ?`, issuer).Scan(&c.Number, &c.DER, &this, &next)
	if err != nil {
		return store.CRL{}, notFound(err, "crl")
	}
	c.ThisUpdate, c.NextUpdate = time.Unix(0, this).UTC(), time.Unix(0, next).UTC()
	return c, nil
}
