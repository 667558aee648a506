package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/certd/certd/internal/store"
)

const requestSelect = `SELECT id, account_id, status, product, params, requested_by, created_at, decided_by, decided_at,
	note, order_id, version FROM requests`

func scanRequest(row scanner) (store.Request, error) {
	var r store.Request
	var created, decidedBy, decidedAt, orderID sql.NullInt64
	var params string
	err := row.Scan(&r.ID, &r.AccountID, &r.Status, &r.Product, &params, &r.RequestedBy, &created, &decidedBy, &decidedAt,
		&r.Note, &orderID, &r.Version)
	if err != nil {
		return store.Request{}, notFound(err, "request")
	}
	r.Params = []byte(params)
	r.CreatedAt, r.DecidedAt = fromNanos(created), fromNanos(decidedAt)
	r.DecidedBy, r.OrderID = decidedBy.Int64, orderID.Int64
	return r, nil
}

// CreateRequest implements store.Requests.
func (db *DB) CreateRequest(ctx context.Context, r *store.Request) error {
	id, err := db.insert(ctx, `INSERT INTO requests (account_id, status, product, params, requested_by, created_at, note, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1)`, r.AccountID, r.Status, r.Product, string(r.Params), r.RequestedBy, r.CreatedAt.UnixNano(), r.Note)
	if err != nil {
		return err
	}
	r.ID, r.Version = id, 1
	return nil
}

// GetRequest implements store.Requests.
func (db *DB) GetRequest(ctx context.Context, id int64) (store.Request, error) {
	return scanRequest(db.r.QueryRowContext(ctx, requestSelect+` WHERE id = ?`, id))
}

// ListRequests implements store.Requests.
func (db *DB) ListRequests(ctx context.Context, f store.ListFilter) ([]store.Request, error) {
	where := []string{"account_id = ?"}
	args := []any{f.AccountID}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, requestSelect+" WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DecideRequest implements store.Requests.
func (db *DB) DecideRequest(ctx context.Context, r *store.Request, o *store.Order) error {
	version, orderID := r.Version, r.OrderID
	err := db.tx(ctx, func(tx Tx) error {
		if o != nil {
			if err := insertOrder(ctx, tx, o); err != nil {
				return err
			}
			r.OrderID = o.ID
		}
		res, err := tx.ExecContext(ctx, `UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, note = ?, order_id = ?,
			version = version + 1 WHERE id = ? AND version = ?`, r.Status, nullID(r.DecidedBy), nanos(r.DecidedAt), r.Note, nullID(r.OrderID), r.ID, r.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("request %d version %d: %w", r.ID, r.Version, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		r.Version, r.OrderID = version, orderID
		if o != nil {
			o.ID = 0
		}
		return err
	}
	r.Version++
	return nil
}
