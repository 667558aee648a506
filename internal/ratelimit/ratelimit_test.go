package ratelimit_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/internal/ratelimit"
	"github.com/certd/certd/internal/store/sqlite"
)

// clock is a settable clock shared by the limiters of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccountBudget(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	acct, _ := db.CreateAccount(ctx, "a", time.Now())
	other, _ := db.CreateAccount(ctx, "b", time.Now())
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	// Two limiters over one database are two nodes: they share budgets.
	nodeA := ratelimit.New(ratelimit.Options{Store: db, RequestsPerHour: 6, Now: clk.now})
	nodeB := ratelimit.New(ratelimit.Options{Store: db, RequestsPerHour: 6, Now: clk.now})
	for i := 0; i < 6; i++ {
		n := nodeA
		if i%2 == 1 {
			n = nodeB
		}
		if d, err := n.Request(ctx, acct.ID); err != nil || d.Limited {
			t.Fatalf("request %d: %+v %v", i+1, d, err)
		}
	}
	for _, n := range []*ratelimit.Limiter{nodeA, nodeB} {
		d, err := n.Request(ctx, acct.ID)
		if err != nil || !d.Limited || d.Limit != 6 {
			t.Fatalf("7th request: %+v %v", d, err)
		}
		if d.RetryAfter <= 9*time.Minute || d.RetryAfter > 10*time.Minute {
			t.Fatalf("retry after %v, want about 10 minutes (an hour / 6)", d.RetryAfter)
		}
	}
	// Another account has its own budget.
	if d, _ := nodeA.Request(ctx, other.ID); d.Limited {
		t.Fatal("the other account was limited")
	}
	// The budget refills evenly: one request every ten minutes.
	clk.add(10 * time.Minute)
	if d, _ := nodeB.Request(ctx, acct.ID); d.Limited {
		t.Fatal("limited after the refill")
	}
	if d, _ := nodeA.Request(ctx, acct.ID); !d.Limited {
		t.Fatal("a refill of one allowed two")
	}
}

func TestAccountsOwnLimit(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		def     int // server default
		own     int // the account's setting
		allowed int // requests before the first refusal; -1 none refused in 50
	}{
		{"default applies", 3, 0, 3},
		{"own limit over the default", 3, 5, 5},
		{"unlimited account", 3, -1, -1},
		{"no default", 0, 0, -1},
		{"own limit without a default", 0, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := db.CreateAccount(ctx, tt.name, time.Now())
			if err := db.SetRequestsPerHour(ctx, a.ID, tt.own); err != nil {
				t.Fatal(err)
			}
			l := ratelimit.New(ratelimit.Options{Store: db, RequestsPerHour: tt.def, Now: clk.now})
			for i := 0; i < 50; i++ {
				d, err := l.Request(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Limited {
					if i != tt.allowed {
						t.Fatalf("refused after %d requests, want %d", i, tt.allowed)
					}
					return
				}
			}
			if tt.allowed != -1 {
				t.Fatalf("50 requests allowed, want %d", tt.allowed)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Options{Store: db, Now: clk.now})
	// Asking spends nothing.
	for i := 0; i < 100; i++ {
		if d, err := l.AuthBlocked(ctx, "192.0.2.1"); err != nil || d.Limited {
			t.Fatalf("check %d: %+v %v", i, d, err)
		}
	}
	for i := 0; i < ratelimit.DefaultAuthFailuresPerHour; i++ {
		if d, err := l.AuthFailed(ctx, "192.0.2.1"); err != nil || d.Limited {
			t.Fatalf("failure %d: %+v %v", i+1, d, err)
		}
	}
	d, err := l.AuthBlocked(ctx, "192.0.2.1")
	if err != nil || !d.Limited || d.RetryAfter <= 0 || d.RetryAfter > 3*time.Minute {
		t.Fatalf("after the budget: %+v %v", d, err)
	}
	if d, _ := l.AuthBlocked(ctx, "192.0.2.2"); d.Limited {
		t.Fatal("another address was blocked")
	}
	clk.add(3 * time.Minute)
	if d, _ := l.AuthBlocked(ctx, "192.0.2.1"); d.Limited {
		t.Fatal("still blocked after the refill")
	}
}

// TestConcurrentRequests: many concurrent requests of one account, on two
// nodes, all get an answer (none an error from lost compare-and-swap
// races), and exactly the budget is allowed.
func TestConcurrentRequests(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	acct, _ := db.CreateAccount(ctx, "a", time.Now())
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	nodes := []*ratelimit.Limiter{
		ratelimit.New(ratelimit.Options{Store: db, RequestsPerHour: 100, Now: clk.now}),
		ratelimit.New(ratelimit.Options{Store: db, RequestsPerHour: 100, Now: clk.now}),
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				d, err := nodes[i%2].Request(ctx, acct.ID)
				if err != nil {
					t.Error(err)
					return
				}
				if !d.Limited {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("%d of 160 concurrent requests allowed, want the budget of 100", allowed)
	}
}

// TestAuthFailuresOnAnotherNode: a node remembers for a second that an
// address was within its budget; failures on another node block it here
// after that second, or at once at this node's own next failure.
func TestAuthFailuresOnAnotherNode(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a := ratelimit.New(ratelimit.Options{Store: db, AuthFailuresPerHour: 3, Now: clk.now})
	b := ratelimit.New(ratelimit.Options{Store: db, AuthFailuresPerHour: 3, Now: clk.now})
	if d, _ := b.AuthBlocked(ctx, "192.0.2.9"); d.Limited {
		t.Fatal("blocked before any failure")
	}
	for i := 0; i < 3; i++ {
		if _, err := a.AuthFailed(ctx, "192.0.2.9"); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := a.AuthBlocked(ctx, "192.0.2.9"); !d.Limited {
		t.Fatal("node a: not blocked after the budget")
	}
	if d, _ := b.AuthBlocked(ctx, "192.0.2.9"); d.Limited {
		t.Fatal("node b blocked within the second it remembers (the test's premise)")
	}
	if d, _ := b.AuthFailed(ctx, "192.0.2.9"); !d.Limited {
		t.Fatal("node b: a failure over the budget was not refused")
	}
	if d, _ := b.AuthBlocked(ctx, "192.0.2.9"); !d.Limited {
		t.Fatal("node b: not blocked after its own failure")
	}
	c := ratelimit.New(ratelimit.Options{Store: db, AuthFailuresPerHour: 3, Now: clk.now})
	if d, _ := c.AuthBlocked(ctx, "192.0.2.9"); !d.Limited {
		t.Fatal("a third node: not blocked")
	}
}
