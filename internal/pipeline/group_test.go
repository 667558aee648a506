package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/certd/certd/internal/store/sqlite"
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

// recordingValidator passes every order at once and notes which it saw;
// WaitingOrders answers the waiting list it was given.
type recordingValidator struct {
	mu      sync.Mutex
	seen    map[int64]int
	waiting []int64
}

func (v *recordingValidator) Validate(_ context.Context, id int64) (bool, time.Duration, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen[id]++
	return true, 0, nil
}

func (v *recordingValidator) WaitingOrders(context.Context) ([]int64, error) { return v.waiting, nil }
func (v *recordingValidator) PublishCRLs(context.Context) error              { return nil }

// TestEveryQueuedOrderIsChecked runs the real queue on SQLite: orders
// waiting at start (more than one insert's worth) and orders queued by
// concurrent requests are each checked once.
func TestEveryQueuedOrderIsChecked(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Small numbers: the race detector makes the queue slow.
	const chunk, atStart, concurrent = 20, 20*2 + 7, 60
	v := &recordingValidator{seen: map[int64]int{}}
	for id := int64(1); id <= atStart; id++ {
		v.waiting = append(v.waiting, id)
	}
	p, err := New(ctx, Options{Driver: riversqlite.New(db.Writer()), Validator: v, Log: slog.New(slog.DiscardHandler), PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.chunk = chunk
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := p.Stop(stop); err != nil {
			t.Error(err)
		}
	}()
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Go(func() {
			if err := p.Enqueue(ctx, int64(atStart+1+i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitFor(t, func() bool { v.mu.Lock(); defer v.mu.Unlock(); return len(v.seen) == atStart+concurrent })
	time.Sleep(200 * time.Millisecond) // a duplicate job would be worked by now
	v.mu.Lock()
	defer v.mu.Unlock()
	for id := int64(1); id <= atStart+concurrent; id++ {
		if v.seen[id] != 1 {
			t.Fatalf("order %d checked %d times", id, v.seen[id])
		}
	}
}

// snoozingValidator never finishes a check: each asks to be looked at
// again in an hour, as an order waiting for its subscriber does.
type snoozingValidator struct {
	recordingValidator
}

func (v *snoozingValidator) Validate(ctx context.Context, id int64) (bool, time.Duration, error) {
	_, _, _ = v.recordingValidator.Validate(ctx, id)
	return false, time.Hour, nil
}

// TestRestartKeepsOneJobPerOrder: jobs survive a restart, so the orders
// still waiting at start that have a job are not queued again (every
// restart would otherwise add a check of each waiting order); one whose
// job is gone is.
func TestRestartKeepsOneJobPerOrder(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v := &snoozingValidator{recordingValidator{seen: map[int64]int{}, waiting: []int64{1, 2, 3}}}
	run := func() *Pipeline {
		p, err := New(ctx, Options{Driver: riversqlite.New(db.Writer()), Validator: v, Log: slog.New(slog.DiscardHandler), PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p.chunk = 2 // the live jobs are listed in two pages
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stop := func(p *Pipeline) {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := p.Stop(sctx); err != nil {
			t.Fatal(err)
		}
	}
	jobs := func(p *Pipeline) map[int64]int {
		res, err := p.client.JobList(ctx, river.NewJobListParams().Kinds(ValidateArgs{}.Kind()).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		n := map[int64]int{}
		for _, j := range res.Jobs {
			var a ValidateArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				t.Fatal(err)
			}
			n[a.OrderID]++
		}
		return n
	}
	p := run()
	waitFor(t, func() bool { v.mu.Lock(); defer v.mu.Unlock(); return len(v.seen) == 3 })
	stop(p)
	// Order 3's job is gone (deleted by hand here; discarded after its
	// attempts, in life).
	if _, err := p.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().IDs(jobID(t, p, 3))); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		p = run()
		got := jobs(p)
		stop(p)
		if got[1] != 1 || got[2] != 1 || got[3] != 1 || len(got) != 3 {
			t.Fatalf("jobs per order after a restart: %v, want one each", got)
		}
	}
}

// jobID is the id of the order's check job.
func jobID(t *testing.T, p *Pipeline, orderID int64) int64 {
	t.Helper()
	res, err := p.client.JobList(context.Background(), river.NewJobListParams().Kinds(ValidateArgs{}.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range res.Jobs {
		var a ValidateArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err == nil && a.OrderID == orderID {
			return j.ID
		}
	}
	t.Fatalf("no job for order %d", orderID)
	return 0
}
