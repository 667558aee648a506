package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/certd/certd/internal/store"
)

const authzSelect = `SELECT id, account_id, domain, method, token, status, last_error, created_at, token_expires_at,
	validated_at, checked_at, version FROM authorizations`

func scanAuthz(row scanner) (store.Authorization, error) {
	var a store.Authorization
	var created, expires, validated, checked sql.NullInt64
	if err := row.Scan(&a.ID, &a.AccountID, &a.Domain, &a.Method, &a.Token, &a.Status, &a.LastError, &created, &expires,
		&validated, &checked, &a.Version); err != nil {
		return store.Authorization{}, notFound(err, "authorization")
	}
	a.CreatedAt, a.TokenExpiresAt, a.ValidatedAt, a.CheckedAt = fromNanos(created), fromNanos(expires), fromNanos(validated), fromNanos(checked)
	return a, nil
}

// CreateAuthorization implements store.Authorizations.
func (db *DB) CreateAuthorization(ctx context.Context, a *store.Authorization) error {
	id, err := db.insert(ctx, `INSERT INTO authorizations (account_id, domain, method, token, status, last_error, created_at,
		token_expires_at, validated_at, checked_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		a.AccountID, a.Domain, a.Method, a.Token, a.Status, a.LastError, a.CreatedAt.UnixNano(), a.TokenExpiresAt.UnixNano(),
		nanos(a.ValidatedAt), nanos(a.CheckedAt))
	if err != nil {
		return err
	}
	a.ID, a.Version = id, 1
	return nil
}

// UpdateAuthorization implements store.Authorizations.
func (db *DB) UpdateAuthorization(ctx context.Context, a *store.Authorization) error {
	res, err := db.exec(ctx, `UPDATE authorizations SET status = ?, last_error = ?, validated_at = ?, checked_at = ?,
		method = ?, token = ?, token_expires_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		a.Status, a.LastError, nanos(a.ValidatedAt), nanos(a.CheckedAt), a.Method, a.Token, a.TokenExpiresAt.UnixNano(), a.ID, a.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("authorization %d version %d: %w", a.ID, a.Version, store.ErrConflict)
	}
	a.Version++
	return nil
}

// Authorizations implements store.Authorizations.
func (db *DB) Authorizations(ctx context.Context, accountID int64, domains []string) ([]store.Authorization, error) {
	query := authzSelect + ` WHERE account_id = ?`
	args := []any{accountID}
	if len(domains) > 0 {
		query += ` AND domain IN (?` + strings.Repeat(", ?", len(domains)-1) + `)`
		for _, d := range domains {
			args = append(args, d)
		}
	}
	rows, err := db.r.QueryContext(ctx, query+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Authorization
	for rows.Next() {
		a, err := scanAuthz(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AuthorizationByToken implements store.Authorizations.
func (db *DB) AuthorizationByToken(ctx context.Context, token string) (store.Authorization, error) {
	return scanAuthz(db.r.QueryRowContext(ctx, authzSelect+` WHERE token = ? ORDER BY id DESC LIMIT 1`, token))
}
