package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestInsertGroup: callers that arrive while an insert runs share the
// next one, each gets that insert's outcome, and a caller that stops
// waiting does not stop the others' insert.
func TestInsertGroup(t *testing.T) {
	errFull := errors.New("database is full")
	for _, tc := range []struct {
		name      string
		secondErr error
	}{
		{"stored", nil},
		{"refused", errFull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := make(chan struct{}) // released when the followers have queued
			var mu sync.Mutex
			var calls [][]int64
			g := &insertGroup{insert: func(ctx context.Context, ids []int64) error {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				mu.Lock()
				calls = append(calls, slices.Clone(ids))
				n := len(calls)
				mu.Unlock()
				if n == 1 {
					<-first
					return nil
				}
				return tc.secondErr
			}}
			leader := make(chan error, 1)
			go func() { leader <- g.enqueue(context.Background(), 1) }()
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 1 })

			// Four followers arrive during the first insert; one of them
			// gives up waiting (its request ended).
			gone, cancel := context.WithCancel(context.Background())
			results := make([]chan error, 4)
			for i := range results {
				results[i] = make(chan error, 1)
				ctx := context.Background()
				if i == 3 {
					ctx = gone
				}
				go func() { results[i] <- g.enqueue(ctx, int64(i+2)) }()
			}
			waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == 4 })
			cancel()
			if err := <-results[3]; !errors.Is(err, context.Canceled) {
				t.Fatalf("caller that stopped waiting: %v", err)
			}
			close(first)
			if err := <-leader; err != nil {
				t.Fatalf("leader: %v", err)
			}
			for i := range 3 {
				if err := <-results[i]; !errors.Is(err, tc.secondErr) {
					t.Errorf("follower %d: %v, want %v", i, err, tc.secondErr)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(calls) != 2 || !slices.Equal(calls[0], []int64{1}) {
				t.Fatalf("inserts %v, want [1] then the four followers in one", calls)
			}
			got := slices.Sorted(slices.Values(calls[1]))
			if !slices.Equal(got, []int64{2, 3, 4, 5}) {
				t.Fatalf("second insert %v, want the four followers (also the one that stopped waiting)", calls[1])
			}
			// The inserting goroutine ends once nothing waits.
			waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return !g.running && len(g.pending) == 0 })
		})
	}
}

// TestInsertGroupAnswersEachCaller: a caller returns once its own job is
// stored, while later jobs are still being inserted (no request inserts
// for the others).
func TestInsertGroupAnswersEachCaller(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	g := &insertGroup{insert: func(context.Context, []int64) error {
		started.Add(1)
		<-release
		return nil
	}}
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { first <- g.enqueue(context.Background(), 1) }()
	waitFor(t, func() bool { return started.Load() == 1 })
	go func() { second <- g.enqueue(context.Background(), 2) }()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == 1 })
	release <- struct{}{} // the first insert ends; the second starts and blocks
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first caller waits for the second caller's insert")
	}
	waitFor(t, func() bool { return started.Load() == 2 })
	select {
	case err := <-second:
		t.Fatalf("second caller returned before its insert ended: %v", err)
	default:
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

// TestInsertGroupPanic: an insert that panics fails its callers with an
// error and leaves the group usable.
func TestInsertGroupPanic(t *testing.T) {
	calls := 0
	g := &insertGroup{insert: func(context.Context, []int64) error {
		calls++
		if calls == 1 {
			panic("driver bug")
		}
		return nil
	}}
	if err := g.enqueue(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "driver bug") {
		t.Fatalf("enqueue with a panicking insert: %v", err)
	}
	if err := g.enqueue(context.Background(), 2); err != nil {
		t.Fatalf("enqueue after the panic: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// TestInsertGroupBoundsInsert: the shared insert has a deadline, so a
// database that stopped answering fails its callers rather than holding
// every later one.
func TestInsertGroupBoundsInsert(t *testing.T) {
	g := &insertGroup{insert: func(ctx context.Context, _ []int64) error {
		d, ok := ctx.Deadline()
		if !ok || time.Until(d) > insertTimeout {
			return errors.New("the insert has no deadline")
		}
		return nil
	}}
	if err := g.enqueue(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}
