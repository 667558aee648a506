package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

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
	// busyCPU says whether goroutines queue for a processor; lingering
	// is worth it only then (see leave).
	busyCPU func() bool
	linger  time.Duration
}

// batch is the outcome of one database transaction.
type batch struct {
	done chan struct{}
	err  error
}

// maxBatch bounds how many writers share one commit, so that under
// constant load a batch still ends and its members return.
const maxBatch = 64

// lingerFor is how long the last member of a batch waits for another
// writer before it commits, when the processors are busy (see leave).
const lingerFor = 250 * time.Microsecond

func newBatcher(db *sql.DB, st *stmts) *batcher {
	b := &batcher{db: db, stmts: st, max: maxBatch, busyCPU: runQueued(), linger: lingerFor}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// runQueued reports whether at least two goroutines per processor are
// waiting to run (the scheduler's own count, read from runtime/metrics
// under the batcher's lock, which the sample needs).
func runQueued() func() bool {
	sample := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	return func() bool {
		metrics.Read(sample)
		v := sample[0].Value
		return v.Kind() == metrics.KindUint64 && v.Uint64() >= uint64(2*runtime.GOMAXPROCS(0))
	}
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
//
// When goroutines queue for the processors, the last member first
// lingers (lingerFor) with the batch still open, and a writer that comes
// meanwhile joins the batch and takes over its commit. Each commit costs
// about 170 us of CPU here (WAL frames and fsync); under a 32-client load
// lingering cut commits from 0.7 to 0.15 per certificate and raised
// issuance by about a sixth (docs/benchmarks.md). On an idle machine no
// one lingers, so a lone writer's latency is what it was; the CPU signal
// matters because lingering whenever batches had company cost up to a
// quarter of the throughput at four clients on two cores, where the
// processors were not saturated. Other users of the writer connection
// (the job queue) wait while a batch lingers: at most maxBatch times
// lingerFor, 16 ms.
func (b *batcher) leave(m *member, wait bool) error {
	b.mu.Lock()
	b.busy = false
	b.members++
	if wait && b.waiting == 0 && b.members < b.max && b.busyCPU() {
		seen := b.members
		b.mu.Unlock()
		time.Sleep(b.linger)
		b.mu.Lock()
		if b.batch != m.batch || b.busy || b.waiting > 0 || b.members != seen {
			// Another writer joined (or already committed the batch):
			// whoever leaves last commits.
			b.mu.Unlock()
			<-m.batch.done
			return m.batch.err
		}
	}
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
