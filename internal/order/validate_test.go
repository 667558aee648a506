package order_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/testutil"
	"github.com/certd/certd/internal/validation"
)

func withChecks(t *testing.T, f *fixture, dns *testutil.DNS) {
	t.Helper()
	r := validation.NewResolver(dns.Addr(), time.Second)
	f.svc = order.New(order.Options{Store: f.faulty, CA: f.ca, Now: func() time.Time { return f.now }, Log: discard(),
		Checks: &order.Checks{DNS: r, HTTP: &validation.HTTPChecker{Resolver: r}, CAA: &validation.CAAChecker{Resolver: r, Identities: []string{"certd.test"}},
			AccountURI: func(int64) string { return "" }}})
}

func TestOrdersExpireAfter30Days(t *testing.T) {
	f := newFixture(t, false)
	dns := testutil.NewDNS(t)
	withChecks(t, f, dns)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	if o.DCVMethod != "dns-txt-token" || o.OrgID == 0 {
		t.Fatalf("order = %+v", o)
	}
	done, again, err := f.svc.Validate(ctx, o.ID)
	if err != nil || done || again <= 0 {
		t.Fatalf("Validate = %v, %v, %v; want to wait", done, again, err)
	}
	f.now = f.now.Add(order.OrderLifetime + time.Hour)
	done, _, err = f.svc.Validate(ctx, o.ID)
	if err != nil || !done {
		t.Fatalf("Validate after 30 days = %v, %v", done, err)
	}
	got, _ := f.db.GetOrder(ctx, o.ID)
	if got.Status != store.StatusExpired {
		t.Fatalf("status = %q", got.Status)
	}
	if ids, _ := f.db.WaitingOrders(ctx); len(ids) != 0 {
		t.Fatalf("expired order still waiting: %v", ids)
	}
}

func TestBackoffGrows(t *testing.T) {
	f := newFixture(t, false)
	withChecks(t, f, testutil.NewDNS(t))
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	for _, age := range []time.Duration{time.Minute, 30 * time.Minute, 5 * time.Hour, 3 * 24 * time.Hour} {
		f.now = o.CreatedAt.Add(age)
		_, again, err := f.svc.Validate(ctx, o.ID)
		if err != nil || again < last {
			t.Fatalf("at %v: again %v after %v (%v)", age, again, last, err)
		}
		last = again
	}
	if last != time.Hour {
		t.Fatalf("backoff ends at %v", last)
	}
}

// TestConcurrentChecksSignOnce runs several checks of one ready order at
// once, as the job queue may (the order's own job and one an organization
// decision queued): the order is issued once, and the CA signs once.
func TestConcurrentChecksSignOnce(t *testing.T) {
	f := newFixture(t, false)
	withChecks(t, f, testutil.NewDNS(t))
	ctx := context.Background()
	if _, err := f.svc.PreValidate(ctx, f.account, "example.com"); err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideOrganization(ctx, o.OrgID, true, "checked"); err != nil {
		t.Fatal(err)
	}
	const checks = 6
	var wg sync.WaitGroup
	results := make(chan error, checks)
	for i := 0; i < checks; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.svc.Validate(ctx, o.ID)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("a check failed: %v", err)
		}
	}
	got, err := f.db.GetOrder(ctx, o.ID)
	if err != nil || got.Status != store.StatusIssued || got.Holds[order.LeaseHold] != "" {
		t.Fatalf("order after the checks: %+v, %v", got, err)
	}
	issued, _ := f.db.SerialsInState(ctx, store.CertIssued)
	reserved, _ := f.db.SerialsInState(ctx, store.CertReserved)
	if len(issued)+len(reserved) != 1 {
		t.Fatalf("the CA signed %d certificates (reserved %v, issued %v) for one issuance", len(issued)+len(reserved), reserved, issued)
	}
	// A later check finds nothing to do.
	if done, _, err := f.svc.Validate(ctx, o.ID); err != nil || !done {
		t.Fatalf("check after issuance: %v %v", done, err)
	}
}

// recordingQueue notes what the service asks of the pipeline.
type recordingQueue struct {
	mu       sync.Mutex
	enqueued []int64
	recheck  []int64
}

func (q *recordingQueue) Enqueue(_ context.Context, id int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.enqueued = append(q.enqueued, id)
	return nil
}

func (q *recordingQueue) Recheck(_ context.Context, ids []int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.recheck = append(q.recheck, ids...)
	return nil
}

// TestOnlyNewOrdersAddChecks: a new order gets a check job; a client's
// request for a check and an organization decision only make the
// order's check due (the pipeline keeps one job an order), so that
// repeating them cannot multiply the checks that poll for the order.
func TestOnlyNewOrdersAddChecks(t *testing.T) {
	f := newFixture(t, false)
	withChecks(t, f, testutil.NewDNS(t))
	q := &recordingQueue{}
	f.svc.SetQueue(q)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.svc.Recheck(ctx, f.account, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.DecideOrganization(ctx, o.OrgID, true, "checked"); err != nil {
		t.Fatal(err)
	}
	if len(q.enqueued) != 1 || q.enqueued[0] != o.ID {
		t.Fatalf("new checks queued for %v, want one for order %d", q.enqueued, o.ID)
	}
	if len(q.recheck) != 4 {
		t.Fatalf("checks made due: %v, want order %d four times", q.recheck, o.ID)
	}
	for _, id := range q.recheck {
		if id != o.ID {
			t.Fatalf("checks made due: %v, want only order %d", q.recheck, o.ID)
		}
	}
}
