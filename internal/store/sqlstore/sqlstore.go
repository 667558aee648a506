// Package sqlstore is the store.Store that both SQL engines share: every
// query written once, with "?" placeholders and SQL that SQLite and
// PostgreSQL both accept, over an Engine that supplies the connections
// (PostgreSQL's number their placeholders and return inserted ids) and
// says how the engine reports a uniqueness violation. The sqlite and
// postgres packages open an engine, apply its migrations and wrap this.
package sqlstore

import (
	"context"
	"database/sql"
)

// Conn runs queries: a pool or a transaction.
type Conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Pool is a connection pool.
type Pool interface {
	Conn
	PingContext(ctx context.Context) error
}

// Tx is a transaction.
type Tx interface {
	Conn
	Commit() error
	Rollback() error
}

// Engine is what a SQL engine provides.
type Engine struct {
	// Writer takes every write; Reader the reads (SQLite keeps one
	// writer connection and a pool of read-only ones; PostgreSQL uses one
	// pool for both).
	Writer, Reader Pool
	// Begin starts a write transaction.
	Begin func(ctx context.Context) (Tx, error)
	// IsUnique reports whether err is a uniqueness violation.
	IsUnique func(err error) bool
}

// DB is every method of a store.Store but Close, which the engine's
// package adds.
type DB struct {
	w, r     Pool
	begin    func(ctx context.Context) (Tx, error)
	isUnique func(err error) bool
}

// New returns the store over e.
func New(e Engine) *DB {
	return &DB{w: e.Writer, r: e.Reader, begin: e.Begin, isUnique: e.IsUnique}
}

// insertID runs an INSERT and returns the new row's id; both engines
// accept RETURNING.
func insertID(ctx context.Context, c Conn, query string, args ...any) (int64, error) {
	var id int64
	err := c.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// exec runs one write statement in a transaction of its own: every write
// goes through the engine's Begin (which on SQLite commits concurrent
// writers' transactions together).
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.tx(ctx, func(tx Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// insert runs one INSERT in a transaction of its own and returns the new
// row's id.
func (db *DB) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := db.tx(ctx, func(tx Tx) error {
		var err error
		id, err = insertID(ctx, tx, query, args...)
		return err
	})
	return id, err
}

// tx runs fn in a transaction, committed if fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
