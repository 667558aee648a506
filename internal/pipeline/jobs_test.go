package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/testutil"
)

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

// openDB opens a new SQLite database, closed when the test ends.
func openDB(t *testing.T) Database {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return SQLite(db.Writer())
}

// onEachDatabase runs f on a new SQLite database and, when
// CERTD_TEST_POSTGRES is set, on a new PostgreSQL one (the queue's SQL
// differs between the two).
func onEachDatabase(t *testing.T, f func(t *testing.T, db Database)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openDB(t)) })
	t.Run("postgres", func(t *testing.T) {
		db, err := sql.Open("pgx", testutil.PostgresDB(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, PostgreSQL(db))
	})
}

// startPipeline starts a pipeline over db (o's database, log and a 50 ms
// poll filled in; chunk, when not 0, in place of insertChunk); stop lets
// its checks finish and ends it.
func startPipeline(t *testing.T, db Database, o Options, chunk int) (p *Pipeline, stop func()) {
	t.Helper()
	o.Database, o.Log = db, slog.New(slog.DiscardHandler)
	if o.PollInterval == 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if chunk > 0 {
		p.jobs.chunk = chunk
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Error(err)
		}
	}
}

// TestEveryQueuedOrderIsChecked runs the real queue on SQLite: orders
// waiting at start (more than one insert's worth) and orders queued by
// concurrent requests are each checked once.
func TestEveryQueuedOrderIsChecked(t *testing.T) {
	ctx := context.Background()
	// Small numbers: the race detector makes the queue slow.
	const chunk, atStart, concurrent = 20, 20*2 + 7, 60
	v := &recordingValidator{seen: map[int64]int{}}
	for id := int64(1); id <= atStart; id++ {
		v.waiting = append(v.waiting, id)
	}
	p, stop := startPipeline(t, openDB(t), Options{Validator: v}, chunk)
	defer stop()
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

// TestRestartKeepsOneJobPerOrder: jobs survive a restart, so at start an
// order that still waits has its job made due (checked again at once,
// though it had asked for an hour) rather than another queued, which
// would add a check of each waiting order at every restart; an order
// whose job is gone gets one. More orders wait than are looked up one by
// one, so their jobs are listed, in pages.
func TestRestartKeepsOneJobPerOrder(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, q Database) {
		ctx := context.Background()
		const orders = fewOrders + 5
		v := &snoozingValidator{recordingValidator{seen: map[int64]int{}}}
		for id := int64(1); id <= orders; id++ {
			v.waiting = append(v.waiting, id)
		}
		// A chunk of 10: the live jobs are listed in three pages.
		run := func() (*Pipeline, func()) { return startPipeline(t, q, Options{Validator: v}, 10) }
		seenAll := func(n int) func() bool {
			return func() bool {
				v.mu.Lock()
				defer v.mu.Unlock()
				for id := int64(1); id <= orders; id++ {
					if v.seen[id] != n {
						return false
					}
				}
				return true
			}
		}
		p, stop := run()
		waitFor(t, seenAll(1))
		stop()
		// Order 3's job is gone (deleted by hand here; discarded after
		// its attempts, in life).
		if _, err := p.client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().IDs(jobID(t, p, 3))); err != nil {
			t.Fatal(err)
		}
		for restart := 1; restart <= 2; restart++ {
			p, stop = run()
			waitFor(t, seenAll(restart+1))
			got := jobsPerOrder(t, p)
			stop()
			for id := int64(1); id <= orders; id++ {
				if got[id] != 1 {
					t.Fatalf("after restart %d order %d has %d jobs, want one (%v)", restart, id, got[id], got)
				}
			}
		}
	})
}

// jobsPerOrder counts the check jobs of each order, whatever their state.
func jobsPerOrder(t *testing.T, p *Pipeline) map[int64]int {
	t.Helper()
	res, err := p.client.JobList(context.Background(), river.NewJobListParams().Kinds(ValidateArgs{}.Kind()).First(10000))
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

// TestRecheck: asking for checks of waiting orders makes each order's
// waiting job due at once rather than adding another; an order without a
// job gets one, and so does an order whose job is running (it may have
// read the order before the change).
func TestRecheck(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, q Database) {
		ctx := context.Background()
		hold := make(chan struct{})
		v := &holdingValidator{snoozingValidator: snoozingValidator{recordingValidator{seen: map[int64]int{}}}, holdOrder: 4, hold: hold}
		p, stop := startPipeline(t, q, Options{Validator: v}, 0)
		defer func() {
			close(hold)
			stop()
		}()
		seen := func(id int64) int { v.mu.Lock(); defer v.mu.Unlock(); return v.seen[id] }
		for _, id := range []int64{1, 2, 4} {
			if err := p.Enqueue(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		// 1 and 2 are checked and snoozed for an hour; 4's check is
		// running.
		waitFor(t, func() bool { return seen(1) == 1 && seen(2) == 1 && seen(4) == 1 })
		waitFor(t, func() bool {
			live, err := p.jobs.live(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			snoozed := func(id int64) bool { return len(live[id]) == 1 && live[id][0].State == rivertype.JobStateScheduled }
			return snoozed(1) && snoozed(2)
		})
		// The orders' jobs looked up one by one are those of the listing.
		all, err := p.jobs.live(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		some, err := p.jobs.live(ctx, []int64{1, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(some) != 2 || len(some[1]) != 1 || some[1][0].ID != all[1][0].ID || len(some[4]) != 1 || some[4][0].ID != all[4][0].ID {
			t.Fatalf("live jobs of orders 1, 3 and 4: %v, the listing of all: %v", some, all)
		}
		if err := p.Recheck(ctx, []int64{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return seen(1) == 2 && seen(2) == 2 && seen(3) == 1 && seen(4) == 2 })
		live, err := p.jobs.live(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[int64]int{1: 1, 2: 1, 3: 1, 4: 2} {
			if got := len(live[id]); got != want {
				t.Errorf("order %d has %d live jobs, want %d", id, got, want)
			}
		}
	})
}

// holdingValidator snoozes every check, and holds the first check of
// holdOrder until hold closes.
type holdingValidator struct {
	snoozingValidator
	holdOrder int64
	hold      chan struct{}
}

func (v *holdingValidator) Validate(ctx context.Context, id int64) (bool, time.Duration, error) {
	v.mu.Lock()
	first := v.seen[id] == 0
	v.mu.Unlock()
	done, again, err := v.snoozingValidator.Validate(ctx, id)
	if id == v.holdOrder && first {
		select {
		case <-v.hold:
		case <-ctx.Done():
		}
	}
	return done, again, err
}

// BenchmarkStartWithWaitingOrders is a node's start with 2,000 orders
// waiting, each with its job snoozed: Start makes every check due (in
// transactions of insertChunk jobs) before the workers run.
//
//	go test -run XXX -bench StartWithWaitingOrders -benchtime 10x ./internal/pipeline
func BenchmarkStartWithWaitingOrders(b *testing.B) {
	const waiting = 2000
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "certd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v := &snoozingValidator{recordingValidator{seen: map[int64]int{}}}
	for id := int64(1); id <= waiting; id++ {
		v.waiting = append(v.waiting, id)
	}
	o := Options{Database: SQLite(db.Writer()), Validator: v, Log: slog.New(slog.DiscardHandler)}
	b.StopTimer()
	for range b.N {
		p, err := New(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := p.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := p.Stop(sctx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
