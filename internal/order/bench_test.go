package order_test

import (
	"context"
	"testing"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/testutil"
)

// BenchmarkIssue measures the whole issuance step as the API drives it in
// sandbox mode: CSR parsing and checks, order record, serial reservation
// with the throwaway-key certificate, the real signature, and the final
// transaction, on a SQLite file (synchronous=FULL). CSRs are made before
// the timer starts: key generation is the client's cost.
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	reqs := make([]order.SSLRequest, 256)
	for i := range reqs {
		reqs[i] = sslRequest(b)
		reqs[i].CSR = testutil.CSR(b, testutil.Key(b, "p256"), "www.example.com")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, err := f.svc.CreateSSL(ctx, f.account, reqs[i%len(reqs)])
		if err != nil {
			b.Fatal(err)
		}
		if o.Status != "issued" {
			b.Fatalf("order %d not issued", o.ID)
		}
	}
}

// BenchmarkIssueParallel is BenchmarkIssue from GOMAXPROCS goroutines.
func BenchmarkIssueParallel(b *testing.B) {
	f := newFixture(b, true)
	ctx := context.Background()
	req := sslRequest(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.CreateSSL(ctx, f.account, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
