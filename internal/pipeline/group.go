package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// insertGroup queues the checks asked for at the same time in one insert
// (river's InsertMany, one transaction). On SQLite every transaction is
// an fsync on the one writer connection, beside the group-committed
// writes of the orders themselves; one insert transaction per order
// bounded the production path (docs/benchmarks.md). Like the store's
// group commit it never waits for company: the first job is inserted at
// once, and the jobs queued while that insert runs go in the next one.
// Each caller returns when its own job is in the database.
//
// The inserts run on a goroutine of their own, started when a job waits
// and none runs, and ending when none is left: a request that inserted
// for others would answer its client late, and under constant load
// never.
type insertGroup struct {
	insert func(ctx context.Context, orderIDs []int64) error

	mu      sync.Mutex
	running bool // the inserting goroutine runs
	pending []pendingInsert
}

type pendingInsert struct {
	orderID int64
	done    chan error
}

// enqueue queues a check of the order and waits until it is stored, or
// ctx ends (the job may then still be stored: the insert is shared, so it
// is not cancelled with one caller's request).
func (g *insertGroup) enqueue(ctx context.Context, orderID int64) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.pending = append(g.pending, pendingInsert{orderID: orderID, done: done})
	if !g.running {
		g.running = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run inserts what waits, batch after batch, until nothing is left.
func (g *insertGroup) run() {
	g.mu.Lock()
	for len(g.pending) > 0 {
		batch := g.pending
		g.pending = nil
		g.mu.Unlock()
		err := g.insertBatch(batch)
		for _, p := range batch {
			p.done <- err
		}
		g.mu.Lock()
	}
	g.running = false
	g.mu.Unlock()
}

// insertBatch inserts one batch. A panic in the insert becomes the
// batch's error: the goroutine must live to answer every caller.
func (g *insertGroup) insertBatch(batch []pendingInsert) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("queueing checks: %v", r)
		}
	}()
	ids := make([]int64, len(batch))
	for i, p := range batch {
		ids[i] = p.orderID
	}
	// Bounded, so that a database that stopped answering fails the
	// callers (their orders are checked at the next start) instead of
	// holding every later one.
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	defer cancel()
	return g.insert(ctx, ids)
}

// insertTimeout bounds one grouped insert.
const insertTimeout = 30 * time.Second
