package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmts prepares each query once per pool and keeps it: SQLite spends
// about a tenth of an issuance parsing SQL otherwise (database/sql
// prepares every query it is handed anew). A query seen for the first
// time runs unprepared and is prepared in the background, once a
// connection is free: preparing on the spot could wait for the very
// connection the caller's transaction holds (the writer pool has one).
// Queries are the store's own text, a bounded set; past maxStmts (a
// safety net) no more are kept.
type stmts struct {
	db *sql.DB

	mu        sync.RWMutex
	m         map[string]*sql.Stmt
	pending   map[string]bool
	preparing bool
	closed    bool
	// running is the preparing goroutine: close waits for it, so that
	// no connection is still busy once the database is closed (its
	// files could otherwise appear after the caller removed them).
	running sync.WaitGroup
}

const maxStmts = 1024

func newStmts(db *sql.DB) *stmts {
	return &stmts{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement of query, or nil (the caller runs
// the query as it is) while it is not prepared yet.
func (s *stmts) get(query string) *sql.Stmt {
	s.mu.RLock()
	st := s.m[query]
	s.mu.RUnlock()
	if st != nil {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.m)+len(s.pending) >= maxStmts || s.pending[query] {
		return nil
	}
	s.pending[query] = true
	if !s.preparing {
		s.preparing = true
		s.running.Add(1)
		go s.prepare()
	}
	return nil
}

// prepare prepares the pending queries, one at a time.
func (s *stmts) prepare() {
	defer s.running.Done()
	for {
		s.mu.Lock()
		var query string
		for q := range s.pending {
			query = q
			break
		}
		if query == "" || s.closed {
			s.preparing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		st, err := s.db.PrepareContext(context.Background(), query)
		s.mu.Lock()
		delete(s.pending, query)
		switch {
		case err != nil:
			// A query that does not prepare runs as it is, and reports
			// its error itself.
		case s.closed:
			st.Close()
		default:
			s.m[query] = st
		}
		s.mu.Unlock()
	}
}

func (s *stmts) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.running.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.m {
		st.Close()
	}
	s.m = map[string]*sql.Stmt{}
}

// pool is a connection pool whose queries use the prepared statements.
type pool struct{ *stmts }

func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.get(query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.get(query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.get(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p pool) PingContext(ctx context.Context) error { return p.db.PingContext(ctx) }

// inTx is a statement of the cache bound to tx (database/sql reuses the
// statement already prepared on the transaction's connection), or nil.
func (s *stmts) inTx(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if st := s.get(query); st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}
