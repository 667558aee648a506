package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/certd/certd/internal/store"
)

const orgSelect = `SELECT id, account_id, match_key, details, status, note, created_at, decided_at, version FROM organizations`

func scanOrg(row scanner) (store.Organization, error) {
	var o store.Organization
	var details string
	var created, decided sql.NullInt64
	if err := row.Scan(&o.ID, &o.AccountID, &o.MatchKey, &details, &o.Status, &o.Note, &created, &decided, &o.Version); err != nil {
		return store.Organization{}, notFound(err, "organization")
	}
	if err := json.Unmarshal([]byte(details), &o.Details); err != nil {
		return store.Organization{}, fmt.Errorf("organization %d: %w", o.ID, err)
	}
	o.CreatedAt, o.DecidedAt = fromNanos(created), fromNanos(decided)
	return o, nil
}

// CreateOrganization implements store.Organizations.
func (db *DB) CreateOrganization(ctx context.Context, o *store.Organization) error {
	details, err := json.Marshal(o.Details)
	if err != nil {
		return err
	}
	id, err := db.insert(ctx, `INSERT INTO organizations (account_id, match_key, details, status, note, created_at, decided_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1)`, o.AccountID, o.MatchKey, string(details), o.Status, o.Note, o.CreatedAt.UnixNano(), nanos(o.DecidedAt))
	if err != nil {
		return err
	}
	o.ID, o.Version = id, 1
	return nil
}

// GetOrganization implements store.Organizations.
func (db *DB) GetOrganization(ctx context.Context, id int64) (store.Organization, error) {
	return scanOrg(db.r.QueryRowContext(ctx, orgSelect+` WHERE id = ?`, id))
}

// FindOrganization implements store.Organizations.
func (db *DB) FindOrganization(ctx context.Context, accountID int64, matchKey string) (store.Organization, error) {
	return scanOrg(db.r.QueryRowContext(ctx, orgSelect+` WHERE account_id = ? AND match_key = ? ORDER BY id DESC LIMIT 1`, accountID, matchKey))
}

// ListOrganizations implements store.Organizations.
func (db *DB) ListOrganizations(ctx context.Context, accountID int64, status string) ([]store.Organization, error) {
	query, args := orgSelect+` WHERE 1 = 1`, []any{}
	if accountID != 0 {
		query, args = query+` AND account_id = ?`, append(args, accountID)
	}
	if status != "" {
		query, args = query+` AND status = ?`, append(args, status)
	}
	rows, err := db.r.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Organization
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateOrganization implements store.Organizations.
func (db *DB) UpdateOrganization(ctx context.Context, o *store.Organization) error {
	details, err := json.Marshal(o.Details)
	if err != nil {
		return err
	}
	res, err := db.exec(ctx, `UPDATE organizations SET details = ?, status = ?, note = ?, decided_at = ?, version = version + 1
		WHERE id = ? AND version = ?`, string(details), o.Status, o.Note, nanos(o.DecidedAt), o.ID, o.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("organization %d version %d: %w", o.ID, o.Version, store.ErrConflict)
	}
	o.Version++
	return nil
}
