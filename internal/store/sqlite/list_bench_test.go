package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/certd/certd/internal/store"
)

// BenchmarkListOrders measures the inventory's queries on a database of
// one account with CERTD_BENCH_ORDERS orders (default one million), each
// with two names and a certificate record, as GET /order runs them (one
// page of 100, newest first). Seeding takes a while; it is not timed.
//
//	go test -run XXX -bench ListOrders -benchtime 200x ./internal/store/sqlite
//
// CERTD_BENCH_DB=FILE seeds FILE (which must not exist) and keeps it, to
// serve from (docs/benchmarks.md measures start-up and GET /order on it).
func BenchmarkListOrders(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("CERTD_BENCH_ORDERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "certd.db")
	if keep := os.Getenv("CERTD_BENCH_DB"); keep != "" {
		if _, err := os.Stat(keep); err == nil {
			b.Fatalf("CERTD_BENCH_DB %s exists", keep)
		}
		path = keep
	}
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	acct, err := db.CreateAccount(ctx, "bench", start)
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Seeding through the store's own CreateOrder, one transaction per
	// order, is only bearable without an fsync per commit; the setting
	// sticks because the writer pool has one connection, and the reopen
	// below restores FULL.
	if _, err := db.w.ExecContext(ctx, "PRAGMA synchronous=OFF"); err != nil {
		b.Fatal(err)
	}
	const batch = 10_000
	for done := 0; done < n; done += batch {
		var orders []*store.Order
		for i := done; i < done+batch && i < n; i++ {
			issued := base.Add(time.Duration(i) * time.Minute)
			o := &store.Order{
				AccountID: acct.ID, Product: "ssl", Status: store.StatusIssued, ValidityYears: 1,
				CommonName: fmt.Sprintf("host%d.example.com", i), ServerType: -1, CSR: "-",
				SANs:      []string{fmt.Sprintf("host%d.example.com", i), fmt.Sprintf("alt%d.example.net", i%1000)},
				CreatedAt: issued, UpdatedAt: issued, ValidFrom: issued, ValidTill: issued.AddDate(1, 0, 0),
				CertSerial: fmt.Sprintf("%032X", i), CertNotBefore: issued, CertNotAfter: issued.AddDate(0, 0, 200),
			}
			if i%10 == 0 {
				o.Status = store.StatusPendingIssuance
			}
			if err := db.CreateOrder(ctx, o); err != nil {
				b.Fatal(err)
			}
			orders = append(orders, o)
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range orders {
			if _, err := tx.ExecContext(ctx, `INSERT INTO certificates (serial, order_id, status, lint_der, not_before, not_after, created_at)
				VALUES (?, ?, 'issued', x'00', ?, ?, ?)`, o.CertSerial, o.ID, o.CreatedAt.UnixNano(), o.CertNotAfter.UnixNano(), o.CreatedAt.UnixNano()); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d orders in %v", n, time.Since(start).Round(time.Second))
	if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}

	// A cold start on the populated file: open, check migrations, first query.
	db.Close()
	t0 := time.Now()
	db, err = Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.ListOrders(ctx, store.ListFilter{AccountID: acct.ID, Limit: 1}); err != nil {
		b.Fatal(err)
	}
	b.Logf("open + first query with %d orders: %v", n, time.Since(t0))

	mid := base.Add(time.Duration(n/2) * time.Minute)
	filters := []struct {
		name string
		f    store.ListFilter
	}{
		{"newest", store.ListFilter{}},
		{"deep page", store.ListFilter{Before: int64(n / 2)}},
		{"status", store.ListFilter{Status: store.StatusPendingIssuance}},
		{"name", store.ListFilter{Name: fmt.Sprintf("host%d.example.com", n/3)}},
		{"shared name", store.ListFilter{Name: "alt7.example.net"}},
		{"serial", store.ListFilter{Serial: fmt.Sprintf("%032X", n/4)}},
		{"expiring in a week", store.ListFilter{ExpiresFrom: mid.AddDate(0, 0, 200), ExpiresTo: mid.AddDate(0, 0, 207)}},
		{"issued in a day", store.ListFilter{IssuedFrom: mid, IssuedTo: mid.AddDate(0, 0, 1)}},
	}
	for _, tt := range filters {
		b.Run(tt.name, func(b *testing.B) {
			f := tt.f
			f.AccountID, f.Limit = acct.ID, 100
			for i := 0; i < b.N; i++ {
				os, err := db.ListOrders(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(os) == 0 {
					b.Fatal("no orders")
				}
			}
		})
	}
}
