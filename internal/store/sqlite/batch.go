package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/certd/certd/internal/store/sqlstore"
)

// batcher is group commit for SQLite's one writer: write transactions that
// arrive while another runs join one database transaction, each in a
// savepoint of its own, and the batch commits (one fsync) when no writer
// waits or it holds maxBatch of them. A member's Commit returns only
// after the batch's COMMIT, so what it wrote is on disk, as before; its
// Rollback undoes its savepoint only. Members run one at a time, in the
// order they arrive, as they did on the single connection; what changes
// is that the fsyncs of concurrent writers are shared.
type batcher struct {
	db    *sql.DB
	stmts *stmts // the writer's prepared statements
	max   int

	mu      sync.Mutex
	cond    *sync.Cond
	busy    bool // a member is running
	waiting int  // members waiting to run
	tx      *sql.Tx
	batch   *batch
	members int // members of the open batch
	seq     int // savepoint names
	commits int // batches committed (for tests and curiosity)
}

// batch is the outcome of one database transaction.
type batch struct {
	done chan struct{}
	err  error
}

// maxBatch bounds how many writers share one commit, so that under
// constant load a batch still ends and its members return.
const maxBatch = 64

func newBatcher(db *sql.DB, st *stmts) *batcher {
	b := &batcher{db: db, stmts: st, max: maxBatch}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Begin starts a member transaction.
func (b *batcher) Begin(ctx context.Context) (sqlstore.Tx, error) {
	b.mu.Lock()
	b.waiting++
	for b.busy {
		b.cond.Wait()
	}
	b.waiting--
	if err := ctx.Err(); err != nil {
		b.cond.Signal()
		b.mu.Unlock()
		return nil, err
	}
	if b.tx == nil {
		// The batch is not the member's: one member's cancelled context
		// must not roll back the others' work.
		tx, err := b.db.BeginTx(context.Background(), nil)
		if err != nil {
			b.cond.Signal()
			b.mu.Unlock()
			return nil, err
		}
		b.tx, b.batch, b.members = tx, &batch{done: make(chan struct{})}, 0
	}
	b.busy = true
	b.seq++
	m := &member{b: b, tx: b.tx, batch: b.batch, name: fmt.Sprintf("w%d", b.seq)}
	b.mu.Unlock()
	if _, err := m.tx.Exec("SAVEPOINT " + m.name); err != nil {
		b.leave(m, false)
		return nil, err
	}
	return m, nil
}

// leave ends a member's turn: the batch commits now if no writer waits or
// it is full, else the next writer runs in it. It reports the batch's
// outcome when wait is set (a committed member), nil otherwise.
func (b *batcher) leave(m *member, wait bool) error {
	b.mu.Lock()
	b.busy = false
	b.members++
	if b.waiting == 0 || b.members >= b.max {
		b.batch.err = b.tx.Commit()
		b.commits++
		close(b.batch.done)
		b.tx, b.batch = nil, nil
	}
	b.cond.Signal()
	b.mu.Unlock()
	if !wait {
		return nil
	}
	<-m.batch.done
	return m.batch.err
}

// member is one writer's transaction: a savepoint in the batch.
type member struct {
	b     *batcher
	tx    *sql.Tx
	batch *batch
	name  string
	ended bool
}

// Statements ignore cancellation: SQLite rolls back the whole transaction
// when a write is interrupted, and the transaction is the batch's.
func (m *member) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := m.b.stmts.inTx(ctx, m.tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return m.tx.ExecContext(ctx, query, args...)
}

func (m *member) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := m.b.stmts.inTx(ctx, m.tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return m.tx.QueryContext(ctx, query, args...)
}

func (m *member) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := m.b.stmts.inTx(ctx, m.tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return m.tx.QueryRowContext(ctx, query, args...)
}

// Commit keeps the member's writes and returns once the batch holding
// them is committed.
func (m *member) Commit() error {
	if m.ended {
		return sql.ErrTxDone
	}
	m.ended = true
	if _, err := m.tx.Exec("RELEASE " + m.name); err != nil {
		return errors.Join(err, m.undo())
	}
	return m.b.leave(m, true)
}

// Rollback undoes the member's writes only.
func (m *member) Rollback() error {
	if m.ended {
		return sql.ErrTxDone
	}
	m.ended = true
	return m.undo()
}

func (m *member) undo() error {
	_, err := m.tx.Exec("ROLLBACK TO " + m.name)
	if err == nil {
		_, err = m.tx.Exec("RELEASE " + m.name)
	}
	return errors.Join(err, m.b.leave(m, false))
}
