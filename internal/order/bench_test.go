package order_test

import (
	"context"
	"testing"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store/postgres"
	"github.com/certd/certd/internal/testutil"
)

// BenchmarkIssue measures the whole issuance step as the API drives it in
// sandbox mode: CSR parsing and checks, order record, serial reservation
// with the lint certificate, the real signature, and the final
// transaction, with the audit chain's events in the reservation and the
// final transaction, on a SQLite file (synchronous=FULL). CSRs are made before
// the timer starts: key generation is the client's cost.
func BenchmarkIssue(b *testing.B) {
	benchIssue(b, newFixture(b, true))
}

// BenchmarkIssuePostgres is BenchmarkIssue on the PostgreSQL store (it
// needs CERTD_TEST_POSTGRES).
func BenchmarkIssuePostgres(b *testing.B) {
	benchIssue(b, newFixtureOn(b, postgresStore(b), true))
}

// postgresStore opens the store on a fresh PostgreSQL database.
func postgresStore(b *testing.B) *postgres.DB {
	db, err := postgres.Open(context.Background(), testutil.PostgresDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchIssue(b *testing.B, f *fixture) {
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
	benchIssueParallel(b, newFixture(b, true))
}

// BenchmarkIssueParallelPostgres is BenchmarkIssueParallel on PostgreSQL.
func BenchmarkIssueParallelPostgres(b *testing.B) {
	benchIssueParallel(b, newFixtureOn(b, postgresStore(b), true))
}

// BenchmarkIssue32 is BenchmarkIssue from 32 goroutines, as many as the
// load generator's clients: the bare issuance step under the concurrency
// the end-to-end figure is measured at (SQLite commits them in groups).
func BenchmarkIssue32(b *testing.B) {
	b.SetParallelism(16) // 16 x GOMAXPROCS(2)
	benchIssueParallel(b, newFixture(b, true))
}

func benchIssueParallel(b *testing.B, f *fixture) {
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
