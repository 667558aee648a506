package order_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store/postgres"
	"github.com/certd/certd/internal/testutil"
)

// BenchmarkIssue measures the whole issuance step as the API drives it in
// sandbox mode: CSR parsing and checks, order record, serial reservation
// with the throwaway-key certificate, the real signature, and the final
// transaction, on a SQLite file (synchronous=FULL). CSRs are made before
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

// BenchmarkIssueParallelAudited and its PostgreSQL twin add the audit log
// as the server has it (a file, each event anchored in the database), to
// measure what the log costs under concurrency.
func BenchmarkIssueParallelAudited(b *testing.B) {
	benchIssueParallel(b, withAudit(b, newFixture(b, true)))
}

func BenchmarkIssueParallelAuditedPostgres(b *testing.B) {
	benchIssueParallel(b, withAudit(b, newFixtureOn(b, postgresStore(b), true)))
}

func withAudit(b *testing.B, f *fixture) *fixture {
	log := audit.Open(filepath.Join(b.TempDir(), "audit.log"), time.Now, func(ctx context.Context, seq int64, hash string) error {
		return f.db.PutSetting(ctx, "audit_head", fmt.Sprintf("%d:%s", seq, hash))
	})
	f.svc = order.New(order.Options{Store: f.faulty, CA: f.ca, Now: func() time.Time { return f.now }, Log: discard(), AutoIssue: true, Audit: log})
	return f
}

// BenchmarkIssueParallelPostgres is BenchmarkIssueParallel on PostgreSQL.
func BenchmarkIssueParallelPostgres(b *testing.B) {
	benchIssueParallel(b, newFixtureOn(b, postgresStore(b), true))
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
