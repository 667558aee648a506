package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/certd/certd/internal/store"
)

// orderFields are the order columns after id, in the order orderValues
// returns them.
var orderFields = []string{"account_id", "product", "status", "validity_years", "common_name", "sans", "server_type",
	"signature_hash", "ev", "csr", "contact", "site_seal_token", "created_at", "updated_at", "valid_from", "valid_till",
	"cert_serial", "pending_reissue", "renewed_order_id", "renewal_order_id", "business_unit", "extra",
	"cert_not_before", "cert_not_after", "dcv_method", "holds", "org_id"}

var (
	orderSelect = "SELECT id, " + strings.Join(orderFields, ", ") + ", version FROM orders"
	orderInsert = "INSERT INTO orders (" + strings.Join(orderFields, ", ") + ", version) VALUES (" +
		strings.Repeat("?, ", len(orderFields)) + "1)"
	orderUpdate = "UPDATE orders SET " + strings.Join(orderFields[1:], " = ?, ") + " = ?, version = version + 1 WHERE id = ? AND version = ?"
)

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func orderValues(o *store.Order) ([]any, error) {
	sans, err := json.Marshal(o.SANs)
	if err != nil {
		return nil, err
	}
	contact, err := json.Marshal(o.Contact)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(o.Extra)
	if err != nil {
		return nil, err
	}
	var pending any
	if o.Pending != nil {
		b, err := json.Marshal(o.Pending)
		if err != nil {
			return nil, err
		}
		pending = string(b)
	}
	holds := []byte("{}")
	if len(o.Holds) > 0 {
		if holds, err = json.Marshal(o.Holds); err != nil {
			return nil, err
		}
	}
	var serial any
	if o.CertSerial != "" {
		serial = o.CertSerial
	}
	return []any{o.AccountID, o.Product, o.Status, o.ValidityYears, o.CommonName, string(sans), o.ServerType,
		o.SignatureHash, o.EV, o.CSR, string(contact), o.SiteSealToken, o.CreatedAt.UnixNano(), o.UpdatedAt.UnixNano(),
		nanos(o.ValidFrom), nanos(o.ValidTill), serial, pending, nullID(o.RenewedOrderID), nullID(o.RenewalOrderID),
		o.BusinessUnit, string(extra), nanos(o.CertNotBefore), nanos(o.CertNotAfter), o.DCVMethod, string(holds), nullID(o.OrgID)}, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanOrder(row scanner) (store.Order, error) {
	var o store.Order
	var sans, contact, extra, holds string
	var created, updated, from, till, renewed, renewal, certFrom, certTill, orgID sql.NullInt64
	var serial, pending sql.NullString
	err := row.Scan(&o.ID, &o.AccountID, &o.Product, &o.Status, &o.ValidityYears, &o.CommonName, &sans, &o.ServerType,
		&o.SignatureHash, &o.EV, &o.CSR, &contact, &o.SiteSealToken, &created, &updated, &from, &till,
		&serial, &pending, &renewed, &renewal, &o.BusinessUnit, &extra, &certFrom, &certTill, &o.DCVMethod, &holds, &orgID, &o.Version)
	if err != nil {
		return store.Order{}, notFound(err, "order")
	}
	if err := json.Unmarshal([]byte(sans), &o.SANs); err != nil {
		return store.Order{}, fmt.Errorf("order %d sans: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(contact), &o.Contact); err != nil {
		return store.Order{}, fmt.Errorf("order %d contact: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(extra), &o.Extra); err != nil {
		return store.Order{}, fmt.Errorf("order %d extra: %w", o.ID, err)
	}
	if holds != "{}" {
		if err := json.Unmarshal([]byte(holds), &o.Holds); err != nil {
			return store.Order{}, fmt.Errorf("order %d holds: %w", o.ID, err)
		}
	}
	if pending.Valid {
		o.Pending = new(store.Reissue)
		if err := json.Unmarshal([]byte(pending.String), o.Pending); err != nil {
			return store.Order{}, fmt.Errorf("order %d pending reissue: %w", o.ID, err)
		}
	}
	o.CreatedAt, o.UpdatedAt, o.ValidFrom, o.ValidTill = fromNanos(created), fromNanos(updated), fromNanos(from), fromNanos(till)
	o.CertNotBefore, o.CertNotAfter = fromNanos(certFrom), fromNanos(certTill)
	o.CertSerial = serial.String
	o.RenewedOrderID, o.RenewalOrderID, o.OrgID = renewed.Int64, renewal.Int64, orgID.Int64
	return o, nil
}

func insertOrder(ctx context.Context, db Conn, o *store.Order) error {
	vals, err := orderValues(o)
	if err != nil {
		return err
	}
	id, err := insertID(ctx, db, orderInsert, vals...)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	if err := insertNames(ctx, db, id, o); err != nil {
		return err
	}
	o.ID, o.Version = id, 1
	return nil
}

// writeNames keeps order_names, the index of the inventory's name
// filter, equal to the order's current names. Most updates (issuance,
// holds, revocation) keep the names: reading them is cheaper than
// rewriting them, which every update did before.
func writeNames(ctx context.Context, db Conn, id int64, o *store.Order) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM order_names WHERE order_id = ?`, id)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	same := true
	want := map[string]bool{}
	for _, n := range o.Names() {
		want[n] = true
		same = same && have[n]
	}
	if same && len(want) == len(have) {
		return nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM order_names WHERE order_id = ?`, id); err != nil {
		return err
	}
	return insertNames(ctx, db, id, o)
}

func insertNames(ctx context.Context, db Conn, id int64, o *store.Order) error {
	for _, n := range o.Names() {
		if _, err := db.ExecContext(ctx, `INSERT INTO order_names (account_id, name, order_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, o.AccountID, n, id); err != nil {
			return err
		}
	}
	return nil
}

func updateOrder(ctx context.Context, db Conn, o *store.Order) error {
	vals, err := orderValues(o)
	if err != nil {
		return err
	}
	// account_id (the first value) never changes; the rest are set.
	args := append(vals[1:], o.ID, o.Version)
	res, err := db.ExecContext(ctx, orderUpdate, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("order %d version %d: %w", o.ID, o.Version, store.ErrConflict)
	}
	if err := writeNames(ctx, db, o.ID, o); err != nil {
		return err
	}
	o.Version++
	return nil
}

// CreateOrder implements store.Orders.
func (db *DB) CreateOrder(ctx context.Context, o *store.Order) error {
	return db.tx(ctx, func(tx Tx) error { return insertOrder(ctx, tx, o) })
}

// GetOrder implements store.Orders.
func (db *DB) GetOrder(ctx context.Context, id int64) (store.Order, error) {
	return scanOrder(db.r.QueryRowContext(ctx, orderSelect+` WHERE id = ?`, id))
}

// UpdateOrder implements store.Orders.
func (db *DB) UpdateOrder(ctx context.Context, o *store.Order) error {
	version := o.Version
	err := db.tx(ctx, func(tx Tx) error { return updateOrder(ctx, tx, o) })
	if err != nil {
		o.Version = version
	}
	return err
}

// CreateRenewal implements store.Orders.
func (db *DB) CreateRenewal(ctx context.Context, renewal, old *store.Order) error {
	version := old.Version
	err := db.tx(ctx, func(tx Tx) error {
		if err := insertOrder(ctx, tx, renewal); err != nil {
			return err
		}
		old.RenewalOrderID = renewal.ID
		return updateOrder(ctx, tx, old)
	})
	if err != nil {
		old.Version, old.RenewalOrderID, renewal.ID = version, 0, 0
	}
	return err
}

// ListOrders implements store.Orders. Every filter is served by an index:
// (account_id, id) for the plain listing, (account_id, status, id) for a
// status, order_names for a name, the certificates' primary key for a
// serial, and (account_id, cert_not_before|cert_not_after) for dates.
func (db *DB) ListOrders(ctx context.Context, f store.ListFilter) ([]store.Order, error) {
	where := []string{"account_id = ?"}
	args := []any{f.AccountID}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Name != "" {
		where = append(where, "id IN (SELECT order_id FROM order_names WHERE account_id = ? AND name = ?)")
		args = append(args, f.AccountID, f.Name)
	}
	if f.Serial != "" {
		where, args = append(where, "id IN (SELECT order_id FROM certificates WHERE serial = ?)"), append(args, f.Serial)
	}
	for _, c := range []struct {
		cond string
		t    any
	}{
		{"cert_not_before >= ?", nanos(f.IssuedFrom)}, {"cert_not_before < ?", nanos(f.IssuedTo)},
		{"cert_not_after >= ?", nanos(f.ExpiresFrom)}, {"cert_not_after < ?", nanos(f.ExpiresTo)},
	} {
		if c.t != nil {
			where, args = append(where, c.cond), append(args, c.t)
		}
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, orderSelect+" WHERE "+strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// WaitingOrders implements store.Orders, through the orders_pending
// partial index (its condition is the query's second term, word for word,
// which is what lets SQLite use it).
func (db *DB) WaitingOrders(ctx context.Context) ([]int64, error) {
	return db.ids(ctx, WaitingOrdersQuery)
}

// WaitingOrdersQuery and PendingOrdersQuery are the queries of
// WaitingOrders and PendingOrders (the SQLite tests check their plans).
const (
	WaitingOrdersQuery = `SELECT id FROM orders
		WHERE (dcv_method != '' OR org_id IS NOT NULL) AND (status = 'pending issuance' OR pending_reissue IS NOT NULL) ORDER BY id`
	PendingOrdersQuery = `SELECT id FROM orders WHERE status = 'pending issuance' OR pending_reissue IS NOT NULL ORDER BY id`
)

// PendingOrders implements store.Orders, through the orders_pending
// partial index.
func (db *DB) PendingOrders(ctx context.Context) ([]int64, error) {
	return db.ids(ctx, PendingOrdersQuery)
}

// ids runs a query of one id column.
func (db *DB) ids(ctx context.Context, query string) ([]int64, error) {
	rows, err := db.r.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Ping implements store.Health.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return err
	}
	return db.w.PingContext(ctx)
}

// CountOrdersByStatus implements store.Health.
func (db *DB) CountOrdersByStatus(ctx context.Context) (map[string]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
