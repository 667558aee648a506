// Package sqlite is the embedded storage engine: one SQLite database file
// in WAL mode (modernc.org/sqlite, pure Go), with its schema under
// versioned migrations embedded in the binary.
//
// Writes go through a pool of one connection whose transactions begin
// IMMEDIATE, so writers queue instead of failing with SQLITE_BUSY; reads go
// through a separate pool that WAL lets run beside the writer. Other
// processes (the certd CLI while the server runs) share the file safely:
// SQLite's own locking and a busy timeout order them.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"

	"github.com/pressly/goose/v3"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store on a SQLite file.
type DB struct {
	*sqlstore.DB
	w       *sql.DB // the single writer
	r       *sql.DB // readers
	stmts   []*stmts
	batches *batcher
}

// Commits is how many write transactions (batches of writers) were
// committed since Open.
func (db *DB) Commits() int64 {
	db.batches.mu.Lock()
	defer db.batches.mu.Unlock()
	return int64(db.batches.commits)
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// any migrations it lacks.
func Open(ctx context.Context, path string) (*DB, error) {
	// Create the file owner-only before SQLite does; its -wal and -shm
	// files inherit the mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, err
	} else if err := f.Close(); err != nil {
		return nil, err
	}
	// synchronous(FULL): a transaction that returned is on disk, so a
	// request answered 201 survives a power cut, not only a crash.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := runtime.GOMAXPROCS(0) * 2
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	ws, rs := newStmts(w), newStmts(r)
	b := newBatcher(w, ws)
	return &DB{w: w, r: r, stmts: []*stmts{ws, rs}, batches: b, DB: sqlstore.New(sqlstore.Engine{
		Writer: pool{ws}, Reader: pool{rs}, IsUnique: isUnique,
		Begin: b.Begin,
	})}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Writer is the single-connection pool every write goes through; the job
// queue keeps its tables in the same file through it.
func (db *DB) Writer() *sql.DB { return db.w }

// BackupTo writes a consistent copy of the database, taken while it is in
// use, to a new file at path (SQLite's VACUUM INTO).
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if _, err := db.w.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// Close closes both pools.
func (db *DB) Close() error {
	for _, s := range db.stmts {
		s.close()
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
