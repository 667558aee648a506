package pipeline

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClientID(t *testing.T) {
	start := time.Date(2026, 11, 29, 7, 30, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		name, node, want string
	}{
		{"named", "node-a", "node-a_2026_11_29T07_30_00.123456"},
		{"unnamed", "", "certd_2026_11_29T07_30_00.123456"},
		{"long", strings.Repeat("n", 200), strings.Repeat("n", 60) + "_2026_11_29T07_30_00.123456"},
		{"cut inside a character", "x" + strings.Repeat("é", 100), "x" + strings.Repeat("é", 29) + "_2026_11_29T07_30_00.123456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clientID(tc.node, start)
			if got != tc.want {
				t.Errorf("clientID = %q, want %q", got, tc.want)
			}
			if len(got) > 100 || !utf8.ValidString(got) {
				t.Errorf("clientID %q is not a valid river client id", got)
			}
		})
	}
}

// blockingValidator holds every check until released, counting those in
// progress.
type blockingValidator struct {
	mu               sync.Mutex
	running, maxSeen int
	release          chan struct{}
}

func (v *blockingValidator) Validate(ctx context.Context, _ int64) (bool, time.Duration, error) {
	v.mu.Lock()
	v.running++
	v.maxSeen = max(v.maxSeen, v.running)
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.running--
		v.mu.Unlock()
	}()
	select {
	case <-v.release:
		return true, 0, nil
	case <-ctx.Done():
		return false, 0, ctx.Err()
	}
}

func (v *blockingValidator) WaitingOrders(context.Context) ([]int64, error) { return nil, nil }
func (v *blockingValidator) PublishCRLs(context.Context) error              { return nil }

func (v *blockingValidator) counts() (running, maxSeen int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.running, v.maxSeen
}

// TestWorkersCheckOrdersAtOnce: a node checks as many orders at once as it
// has workers (64 by default), so slow checks (a subscriber's server that
// does not answer) hold up only their own orders; --workers bounds it.
func TestWorkersCheckOrdersAtOnce(t *testing.T) {
	const orders = 12
	for _, tc := range []struct {
		name    string
		workers int
		want    int
	}{
		{"default", 0, orders},
		{"three workers", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v := &blockingValidator{release: make(chan struct{})}
			p, stop := startPipeline(t, openDB(t), Options{Validator: v, Workers: tc.workers, PollInterval: time.Second}, 0)
			defer func() {
				close(v.release)
				stop()
			}()
			for id := int64(1); id <= orders; id++ {
				if err := p.Enqueue(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if running, _ := v.counts(); running == tc.want {
					break
				}
				if time.Now().After(deadline) {
					running, _ := v.counts()
					t.Fatalf("%d orders checked at once, want %d", running, tc.want)
				}
			}
			time.Sleep(300 * time.Millisecond) // a fetch more would start a check more
			if _, maxSeen := v.counts(); maxSeen != tc.want {
				t.Fatalf("up to %d orders checked at once, want %d", maxSeen, tc.want)
			}
		})
	}
}
