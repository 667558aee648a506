package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// insertGroup queues the checks asked for at the same time in one insert
// (river's InsertMany, one transaction). On SQLite every transaction is
// an fsync on the one writer connection, beside the group-committed
// writes of the orders themselves; one insert transaction per order
// bounded the production path (docs/benchmarks.md). Like the store's
// group commit it never waits for company: the first caller inserts at
// once, and whoever arrives while that insert runs joins the next one.
// Each caller returns when its own job is in the database.
type insertGroup struct {
	insert func(ctx context.Context, orderIDs []int64) error

	mu      sync.Mutex
	running bool // a caller is inserting
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
	if g.running {
		g.mu.Unlock()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.running = true
	// This caller inserts, its own job first, then whatever arrived
	// meanwhile, until nothing is left.
	ictx := context.WithoutCancel(ctx)
	for len(g.pending) > 0 {
		batch := g.pending
		g.pending = nil
		g.mu.Unlock()
		err := g.insertBatch(ictx, batch)
		for _, p := range batch {
			p.done <- err
		}
		g.mu.Lock()
	}
	g.running = false
	g.mu.Unlock()
	return <-done
}

// insertBatch inserts one batch. A panic in the insert becomes the
// batch's error: a leader that unwound without answering would leave
// every later caller waiting for it.
func (g *insertGroup) insertBatch(ctx context.Context, batch []pendingInsert) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("queueing checks: %v", r)
		}
	}()
	ids := make([]int64, len(batch))
	for i, p := range batch {
		ids[i] = p.orderID
	}
	return g.insert(ctx, ids)
}
