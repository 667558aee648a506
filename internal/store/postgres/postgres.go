// Package postgres is the storage engine for several certd nodes: the
// same records and contract as the embedded SQLite engine, on PostgreSQL
// through pgx (github.com/jackc/pgx/v5, via its database/sql driver),
// with migrations applied under an advisory lock so that nodes starting
// together do not race.
//
// The queries are internal/store/sqlstore's, shared with SQLite and
// written with "?" placeholders; the connection wrappers below number
// them for PostgreSQL.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store on PostgreSQL.
type DB struct {
	*sqlstore.DB
	pool *sql.DB
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at url (postgres://...) and applies any
// migrations it lacks, holding a session advisory lock meanwhile.
func Open(ctx context.Context, url string) (*DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(16)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		pool.Close()
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		pool.Close()
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, pool, sub, goose.WithSessionLocker(locker))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	d := &pdb{pool}
	return &DB{pool: pool, DB: sqlstore.New(sqlstore.Engine{
		Writer: d, Reader: d, IsUnique: isUnique,
		Begin: func(ctx context.Context) (sqlstore.Tx, error) {
			tx, err := pool.BeginTx(ctx, nil)
			if err != nil {
				return nil, err
			}
			return &ptx{tx}, nil
		},
	})}, nil
}

// Pool is the connection pool, for river's job tables beside the store's.
func (db *DB) Pool() *sql.DB { return db.pool }

// Close closes the pool.
func (db *DB) Close() error { return db.pool.Close() }

// isUnique reports whether err is a uniqueness violation (SQLSTATE 23505).
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// rebind numbers "?" placeholders as $1, $2, ... (no query of sqlstore
// has a "?" inside a string literal).
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pdb is the pool with PostgreSQL placeholders.
type pdb struct{ *sql.DB }

func (d *pdb) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, rebind(q), args...)
}

func (d *pdb) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, rebind(q), args...)
}

func (d *pdb) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, rebind(q), args...)
}

// ptx is a transaction with PostgreSQL placeholders.
type ptx struct{ *sql.Tx }

func (t *ptx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, rebind(q), args...)
}

func (t *ptx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, rebind(q), args...)
}

func (t *ptx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, rebind(q), args...)
}
