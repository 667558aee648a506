package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/certd/certd/internal/store/sqlstore"
)

// TestAuditMoveFromFile: migration 00005 starts the database's audit
// chain where an older installation's audit.log ended, as its anchor
// setting recorded.
func TestAuditMoveFromFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "certd.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, old, mustSub(migrations, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO settings (key, value) VALUES ('audit_head', '41:abc123')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if seq, hash, err := db.AuditHead(ctx); err != nil || seq != 41 || hash != "abc123" {
		t.Fatalf("head after the move = %d %q %v", seq, hash, err)
	}
}

// TestPendingQueriesUseIndex: the queries of orders awaiting a certificate
// (the pipeline's at every start and sandbox mode's resumption) read the
// orders_pending partial index, not every order.
func TestPendingQueriesUseIndex(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{sqlstore.WaitingOrdersQuery, sqlstore.PendingOrdersQuery} {
		rows, err := db.Writer().QueryContext(ctx, "EXPLAIN QUERY PLAN "+q)
		if err != nil {
			t.Fatal(err)
		}
		plan := ""
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + "; "
		}
		rows.Close()
		if !strings.Contains(plan, "orders_pending") {
			t.Errorf("%s\nplan: %s", q, plan)
		}
	}
}
