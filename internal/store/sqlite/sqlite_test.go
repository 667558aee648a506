package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, open)
}

func TestFileAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "certd.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.CreateAccount(ctx, "kept", storetestNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode %v, want 0600", fi.Mode().Perm())
	}
	// Reopening applies no migration twice and keeps the data.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetAccount(ctx, a.ID)
	if err != nil || got.Name != "kept" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestTwoProcessesShareTheFile(t *testing.T) {
	// The CLI opens the database while the server has it open.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "certd.db")
	server, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cli, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cli.CreateAccount(ctx, "from the cli", storetestNow)
	if err != nil {
		t.Fatal(err)
	}
	cli.Close()
	if got, err := server.GetAccount(ctx, a.ID); err != nil || got.Name != "from the cli" {
		t.Fatalf("server sees %+v, %v", got, err)
	}
}
