package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
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
