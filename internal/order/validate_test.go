package order_test

import (
	"context"
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
