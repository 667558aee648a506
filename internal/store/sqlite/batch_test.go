package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openBatcher opens a database file with a table t and a batcher on its
// writer, and a reader of its own.
func openBatcher(t *testing.T) (*batcher, *sql.DB) {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.w.Exec(`CREATE TABLE t (v INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return newBatcher(db.w, newStmts(db.w)), db.r
}

func count(t *testing.T, r *sql.DB) int {
	t.Helper()
	var n int
	if err := r.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBatcher(t *testing.T) {
	ctx := context.Background()
	t.Run("waiting writers share a commit, and each is durable when Commit returns", func(t *testing.T) {
		b, r := openBatcher(t)
		first, err := b.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const writers = 20
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := 1; i <= writers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				tx, err := b.Begin(ctx)
				if err == nil {
					_, err = tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, i)
				}
				if err == nil {
					err = tx.Commit()
				}
				if err == nil && count(t, r) < 1 {
					err = errors.New("committed, but a reader does not see it")
				}
				errs <- err
			}(i)
		}
		// Every writer queues behind the first member.
		for deadline := time.Now().Add(10 * time.Second); ; {
			b.mu.Lock()
			w := b.waiting
			b.mu.Unlock()
			if w == writers {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writers waiting", w)
			}
			time.Sleep(time.Millisecond)
		}
		if _, err := first.ExecContext(ctx, `INSERT INTO t (v) VALUES (0)`); err != nil {
			t.Fatal(err)
		}
		if err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, r); n != writers+1 {
			t.Fatalf("%d rows, want %d", n, writers+1)
		}
		if b.commits != 1 {
			t.Fatalf("%d commits for %d writers that waited together, want 1", b.commits, writers+1)
		}
	})
	t.Run("a rollback undoes only its member", func(t *testing.T) {
		b, r := openBatcher(t)
		first, _ := b.Begin(ctx)
		done := make(chan error)
		go func() {
			tx, err := b.Begin(ctx)
			if err != nil {
				done <- err
				return
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (2)`); err != nil {
				done <- err
				return
			}
			done <- tx.Commit()
		}()
		for {
			b.mu.Lock()
			w := b.waiting
			b.mu.Unlock()
			if w == 1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if _, err := first.ExecContext(ctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		if err := first.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var v int
		if err := r.QueryRow(`SELECT v FROM t`).Scan(&v); err != nil || v != 2 || count(t, r) != 1 {
			t.Fatalf("rows after one rollback and one commit: v=%d %v", v, err)
		}
		if err := first.Commit(); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("commit after rollback: %v", err)
		}
	})
	t.Run("a failed statement fails its member only", func(t *testing.T) {
		b, r := openBatcher(t)
		tx, _ := b.Begin(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1)`); err == nil {
			t.Fatal("duplicate key accepted")
		}
		_ = tx.Rollback()
		tx, _ = b.Begin(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil || count(t, r) != 1 {
			t.Fatalf("commit after a failed member: %v, %d rows", err, count(t, r))
		}
	})
	t.Run("cancelled contexts", func(t *testing.T) {
		b, r := openBatcher(t)
		cctx, cancel := context.WithCancel(ctx)
		tx, err := b.Begin(cctx)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		// The member's statements go on: interrupting one would roll
		// back the whole batch, other writers' work with it.
		if _, err := tx.ExecContext(cctx, `INSERT INTO t (v) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil || count(t, r) != 1 {
			t.Fatalf("commit: %v, %d rows", err, count(t, r))
		}
		if _, err := b.Begin(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Begin with a cancelled context: %v", err)
		}
		// The batcher is still usable.
		tx, err = b.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatcherLinger: when the processors are busy, the last member of a
// batch waits a moment and a writer that comes meanwhile shares its
// commit; when they are idle, or no one comes, each commits at once.
func TestBatcherLinger(t *testing.T) {
	ctx := context.Background()
	write := func(b *batcher, v int) error {
		tx, err := b.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, v); err != nil {
			return err
		}
		return tx.Commit()
	}
	commits := func(b *batcher) int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.commits
	}
	t.Run("a writer that comes during the linger joins the batch", func(t *testing.T) {
		b, r := openBatcher(t)
		var asked atomic.Int32
		// Busy for the first member only: the second commits at once.
		b.busyCPU = func() bool { return asked.Add(1) == 1 }
		b.linger = time.Second
		first := make(chan error, 1)
		go func() { first <- write(b, 1) }()
		// The first member has left its turn and the batch is still open.
		for deadline := time.Now().Add(10 * time.Second); ; {
			b.mu.Lock()
			lingering := b.tx != nil && !b.busy && b.members == 1
			b.mu.Unlock()
			if lingering {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the first member never lingered")
			}
			time.Sleep(time.Millisecond)
		}
		if err := write(b, 2); err != nil {
			t.Fatal(err)
		}
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if n := commits(b); n != 1 {
			t.Fatalf("%d commits for two writers, want one", n)
		}
		if n := count(t, r); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
	for _, busy := range []bool{false, true} {
		t.Run(fmt.Sprintf("writers one after another, busy processors %v: a commit each", busy), func(t *testing.T) {
			b, r := openBatcher(t)
			b.busyCPU = func() bool { return busy }
			b.linger = 10 * time.Millisecond
			for v := 1; v <= 3; v++ {
				if err := write(b, v); err != nil {
					t.Fatal(err)
				}
				if n := count(t, r); n != v {
					t.Fatalf("after Commit returned, a reader sees %d rows, want %d", n, v)
				}
			}
			if n := commits(b); n != 3 {
				t.Fatalf("%d commits, want 3", n)
			}
		})
	}
}

// TestStmts: a query runs unprepared the first time and from its
// prepared statement once the background preparation is done, inside a
// writer transaction too; a query that does not prepare still reports
// its own error.
func TestStmts(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws := db.stmts[0]
	b := newBatcher(db.w, ws)
	const q = `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	for i := 0; i < 50; i++ {
		tx, err := b.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, "k", i); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if ws.get(q) != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ws.get(q) == nil {
		t.Fatal("the query was never prepared")
	}
	p := pool{db.stmts[1]}
	var v string
	if err := p.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, "k").Scan(&v); err != nil || v == "" {
		t.Fatalf("read: %q %v", v, err)
	}
	if _, err := p.ExecContext(ctx, `SELEKT nonsense`); err == nil {
		t.Fatal("bad SQL accepted")
	}
}

// TestRunQueued: the scheduler's count of runnable goroutines is there to
// read, and goroutines spinning on every processor make runQueued true.
func TestRunQueued(t *testing.T) {
	s := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("runnable goroutines metric: kind %v", s[0].Value.Kind())
	}
	busy := runQueued()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 8*runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				runtime.Gosched()
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); !busy(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("runQueued never saw a queue")
		}
	}
}
