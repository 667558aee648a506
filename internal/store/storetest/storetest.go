// Package storetest is the contract every store.Store implementation must
// pass. An engine's own test calls Run with a function that opens a fresh,
// empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/store"
)

// Run runs the contract tests against stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"accounts", testAccounts},
		{"api keys unique", testAPIKeysUnique},
		{"order round trip", testOrderRoundTrip},
		{"order not found", testOrderNotFound},
		{"order optimistic update", testOrderOptimistic},
		{"concurrent updates of one order", testConcurrentUpdates},
		{"order ids increase", testOrderIDs},
		{"certificate reserve and complete", testCertificates},
		{"serials are unique", testSerialUnique},
		{"complete issuance is atomic", testCompleteAtomic},
		{"settings", testSettings},
		{"requests and decisions", testRequests},
		{"renewal links both orders", testRenewal},
		{"revocation", testRevocation},
		{"order listing, filters and pages", testListOrders},
		{"authorizations", testAuthorizations},
		{"organizations", testOrganizations},
		{"audit chain", testAudit},
		{"account request limit", testRequestsPerHour},
		{"rate limit state", testLimits},
		{"idempotency keys", testIdempotency},
		{"pending orders", testPendingOrders},
		{"concurrent idempotency claims", testIdempotencyRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var now = time.Date(2026, 11, 29, 12, 0, 0, 123456789, time.UTC)

func mustAccount(t *testing.T, s store.Store) store.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), "acme", now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	if a.ID <= 0 || a.Name != "acme" {
		t.Fatalf("account = %+v", a)
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil || got.Name != "acme" || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetAccount = %+v, %v", got, err)
	}
	if _, err := s.GetAccount(ctx, a.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
	k, err := s.CreateAPIKey(ctx, store.APIKey{AccountID: a.ID, Hash: []byte("h1"), Role: "admin", CreatedAt: now})
	if err != nil || k.ID == 0 {
		t.Fatalf("CreateAPIKey = %+v, %v", k, err)
	}
	if _, err := s.CreateAPIKey(ctx, store.APIKey{AccountID: a.ID, Hash: []byte("h2"), Role: "viewer", CreatedAt: now, RevokedAt: now}); err != nil {
		t.Fatal(err)
	}
	keys, err := s.APIKeys(ctx, a.ID)
	if err != nil || len(keys) != 2 || string(keys[0].Hash) != "h1" || !keys[0].RevokedAt.IsZero() || keys[1].RevokedAt.IsZero() {
		t.Fatalf("APIKeys = %+v, %v", keys, err)
	}
	if keys, err := s.APIKeys(ctx, a.ID+1000); err != nil || len(keys) != 0 {
		t.Fatalf("keys of a missing account = %v, %v", keys, err)
	}
	if err := s.RevokeAPIKey(ctx, a.ID+1000, k.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking another account's key: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, a.ID, k.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, a.ID, k.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	keys, _ = s.APIKeys(ctx, a.ID)
	if !keys[0].RevokedAt.Equal(now) {
		t.Fatalf("revoked key = %+v", keys[0])
	}
}

func testAPIKeysUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	if _, err := s.CreateAPIKey(ctx, store.APIKey{AccountID: a.ID, Hash: []byte("same"), Role: "admin", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIKey(ctx, store.APIKey{AccountID: a.ID, Hash: []byte("same"), Role: "admin", CreatedAt: now}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate key hash: %v", err)
	}
}

func sampleOrder(accountID int64) *store.Order {
	return &store.Order{
		AccountID: accountID, Product: "ssl", Status: store.StatusPendingIssuance, ValidityYears: 2,
		CommonName: "www.example.com", SANs: []string{"www.example.com", "a.example.com"}, ServerType: 2,
		SignatureHash: "sha256", EV: true, CSR: "-----BEGIN CERTIFICATE REQUEST-----\n...\n",
		Contact:       store.Contact{OrgName: "Tampa Bay Cray LLC", OrgCountry: "us", Email: "joe@example.com"},
		SiteSealToken: "ABCDEFGH", CreatedAt: now, UpdatedAt: now,
	}
}

func testOrderRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	o := sampleOrder(a.ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if o.ID <= 0 || o.Version != 1 {
		t.Fatalf("created order id %d version %d", o.ID, o.Version)
	}
	got, err := s.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.SANs) != fmt.Sprint(o.SANs) || got.Contact != o.Contact || !got.EV || got.Pending != nil ||
		!got.CreatedAt.Equal(now) || !got.ValidFrom.IsZero() || got.CertSerial != "" || got.Version != 1 {
		t.Fatalf("round trip: got %+v", got)
	}
	got.Pending = &store.Reissue{CommonName: "www.example.com", SANs: []string{"b.example.com"}, RequestedAt: now}
	got.ValidFrom, got.ValidTill = now, now.AddDate(2, 0, 0)
	if err := s.UpdateOrder(ctx, &got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Pending == nil || again.Pending.SANs[0] != "b.example.com" || !again.ValidTill.Equal(now.AddDate(2, 0, 0)) || again.Version != 2 {
		t.Fatalf("after update: %+v", again)
	}
}

func testOrderNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.GetOrder(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOrder missing: %v", err)
	}
	o := sampleOrder(mustAccount(t, s).ID)
	o.ID, o.Version = 424242, 1
	if err := s.UpdateOrder(ctx, o); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("UpdateOrder missing: %v", err)
	}
}

func testOrderOptimistic(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sampleOrder(mustAccount(t, s).ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetOrder(ctx, o.ID)
	b, _ := s.GetOrder(ctx, o.ID)
	a.Status = store.StatusIssued
	if err := s.UpdateOrder(ctx, &a); err != nil {
		t.Fatal(err)
	}
	b.CommonName = "stale.example.com"
	if err := s.UpdateOrder(ctx, &b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	got, _ := s.GetOrder(ctx, o.ID)
	if got.CommonName != "www.example.com" || got.Status != store.StatusIssued {
		t.Fatalf("stale update changed the order: %+v", got)
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sampleOrder(mustAccount(t, s).ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := *o
			c.CommonName = fmt.Sprintf("w%d.example.com", i)
			err := s.UpdateOrder(ctx, &c)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("update %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent updates of version 1 won, want exactly 1", wins)
	}
	got, _ := s.GetOrder(ctx, o.ID)
	if got.Version != 2 {
		t.Fatalf("version = %d", got.Version)
	}
}

func testOrderIDs(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	var last int64
	for i := 0; i < 5; i++ {
		o := sampleOrder(a.ID)
		if err := s.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		if o.ID <= last {
			t.Fatalf("order id %d after %d", o.ID, last)
		}
		last = o.ID
	}
}

func testCertificates(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sampleOrder(mustAccount(t, s).ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	c := store.Certificate{Serial: "0A1B", OrderID: o.ID, LintDER: []byte("lint"), NotBefore: now, NotAfter: now.Add(time.Hour), CreatedAt: now}
	if err := s.ReserveCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCertificate(ctx, "0A1B")
	if err != nil || got.Status != store.CertReserved || string(got.LintDER) != "lint" || len(got.DER) != 0 || got.OrderID != o.ID {
		t.Fatalf("reserved = %+v, %v", got, err)
	}
	o.Status, o.CertSerial = store.StatusIssued, "0A1B"
	if err := s.CompleteIssuance(ctx, "0A1B", []byte("der"), now, o); err != nil {
		t.Fatal(err)
	}
	if o.Version != 2 {
		t.Fatalf("order version after issuance = %d", o.Version)
	}
	got, _ = s.GetCertificate(ctx, "0A1B")
	if got.Status != store.CertIssued || string(got.DER) != "der" || !got.IssuedAt.Equal(now) {
		t.Fatalf("issued = %+v", got)
	}
	stored, _ := s.GetOrder(ctx, o.ID)
	if stored.CertSerial != "0A1B" || stored.Status != store.StatusIssued {
		t.Fatalf("order after issuance = %+v", stored)
	}
	if err := s.CompleteIssuance(ctx, "0A1B", []byte("again"), now, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("completing twice: %v", err)
	}
	if _, err := s.GetCertificate(ctx, "FFFF"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing certificate: %v", err)
	}
	// Certificates of certd's own have no order.
	if err := s.ReserveCertificate(ctx, store.Certificate{Serial: "0C", LintDER: []byte("l"), NotBefore: now, NotAfter: now, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteIssuance(ctx, "0C", []byte("d"), now, nil); err != nil {
		t.Fatal(err)
	}
}

func testSerialUnique(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := store.Certificate{Serial: "ABCD", LintDER: []byte("x"), NotBefore: now, NotAfter: now, CreatedAt: now}
	if err := s.ReserveCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveCertificate(ctx, c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate serial: %v", err)
	}
}

func testCompleteAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sampleOrder(mustAccount(t, s).ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveCertificate(ctx, store.Certificate{Serial: "01", OrderID: o.ID, LintDER: []byte("x"), NotBefore: now, NotAfter: now, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	stale := *o
	fresh := *o
	if err := s.UpdateOrder(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	stale.Status, stale.CertSerial = store.StatusIssued, "01"
	if err := s.CompleteIssuance(ctx, "01", []byte("der"), now, &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("issuance onto a stale order: %v", err)
	}
	if stale.Version != o.Version {
		t.Fatalf("failed issuance changed the caller's version to %d", stale.Version)
	}
	got, _ := s.GetCertificate(ctx, "01")
	if got.Status != store.CertReserved || len(got.DER) != 0 {
		t.Fatalf("certificate half-written: %+v", got)
	}
	ord, _ := s.GetOrder(ctx, o.ID)
	if ord.CertSerial != "" {
		t.Fatalf("order half-written: %+v", ord)
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Setting(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing setting: %v", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := s.PutSetting(ctx, "x", v); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Setting(ctx, "x"); err != nil || got != v {
			t.Fatalf("Setting = %q, %v; want %q", got, err, v)
		}
	}
	// Of writers racing to set a value once, one wins for all.
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := s.SettingOnce(ctx, "once", fmt.Sprint("writer ", i))
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}(i)
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || !strings.HasPrefix(v, "writer ") {
			t.Fatalf("SettingOnce answers %q", got)
		}
	}
	if v, err := s.SettingOnce(ctx, "x", "three"); err != nil || v != "two" {
		t.Fatalf("SettingOnce over a value = %q, %v", v, err)
	}
}

func testRequests(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	var ids []int64
	for i := 0; i < 3; i++ {
		r := &store.Request{AccountID: a.ID, Status: store.RequestPending, Product: "ssl", Params: []byte(`{"csr":"x"}`), RequestedBy: 7, CreatedAt: now}
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	r, err := s.GetRequest(ctx, ids[0])
	if err != nil || string(r.Params) != `{"csr":"x"}` || r.RequestedBy != 7 || r.Version != 1 || r.OrderID != 0 {
		t.Fatalf("GetRequest = %+v, %v", r, err)
	}
	if _, err := s.GetRequest(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing request: %v", err)
	}
	stale := r
	r.Status, r.DecidedBy, r.DecidedAt, r.Note = store.RequestApproved, 9, now, "ok"
	o := sampleOrder(a.ID)
	if err := s.DecideRequest(ctx, &r, o); err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || r.OrderID != o.ID || r.Version != 2 {
		t.Fatalf("approval: order %d, request %+v", o.ID, r)
	}
	// A second decision on the stale copy makes no second order.
	stale.Status = store.RequestApproved
	o2 := sampleOrder(a.ID)
	if err := s.DecideRequest(ctx, &stale, o2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second decision: %v", err)
	}
	if o2.ID != 0 {
		t.Fatal("a failed decision left an order id")
	}
	if list, _ := s.ListOrders(ctx, store.ListFilter{AccountID: a.ID}); len(list) != 1 {
		t.Fatalf("orders after a double approval: %d", len(list))
	}
	got, _ := s.GetRequest(ctx, r.ID)
	if got.Status != store.RequestApproved || got.DecidedBy != 9 || got.Note != "ok" || got.OrderID != o.ID || !got.DecidedAt.Equal(now) {
		t.Fatalf("decided request = %+v", got)
	}
	all, err := s.ListRequests(ctx, store.ListFilter{AccountID: a.ID})
	if err != nil || len(all) != 3 || all[0].ID != ids[2] {
		t.Fatalf("ListRequests = %v, %v", all, err)
	}
	pending, _ := s.ListRequests(ctx, store.ListFilter{AccountID: a.ID, Status: store.RequestPending})
	if len(pending) != 2 {
		t.Fatalf("pending = %d", len(pending))
	}
	page, _ := s.ListRequests(ctx, store.ListFilter{AccountID: a.ID, Before: ids[2], Limit: 1})
	if len(page) != 1 || page[0].ID != ids[1] {
		t.Fatalf("page = %+v", page)
	}
	if other, _ := s.ListRequests(ctx, store.ListFilter{AccountID: a.ID + 1000}); len(other) != 0 {
		t.Fatal("another account's requests listed")
	}
}

func testRenewal(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	old := sampleOrder(a.ID)
	if err := s.CreateOrder(ctx, old); err != nil {
		t.Fatal(err)
	}
	renewal := sampleOrder(a.ID)
	renewal.RenewedOrderID = old.ID
	if err := s.CreateRenewal(ctx, renewal, old); err != nil {
		t.Fatal(err)
	}
	gotOld, _ := s.GetOrder(ctx, old.ID)
	gotNew, _ := s.GetOrder(ctx, renewal.ID)
	if gotOld.RenewalOrderID != renewal.ID || gotNew.RenewedOrderID != old.ID {
		t.Fatalf("links: old %d, new %d", gotOld.RenewalOrderID, gotNew.RenewedOrderID)
	}
	stale := *old
	stale.Version = 1
	again := sampleOrder(a.ID)
	if err := s.CreateRenewal(ctx, again, &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("renewal of a stale order: %v", err)
	}
	if list, _ := s.ListOrders(ctx, store.ListFilter{AccountID: a.ID}); len(list) != 2 {
		t.Fatalf("a failed renewal left an order: %d orders", len(list))
	}
}

func testRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := sampleOrder(mustAccount(t, s).ID)
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveCertificate(ctx, store.Certificate{Serial: "0R", OrderID: o.ID, LintDER: []byte("x"), NotBefore: now, NotAfter: now, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeCertificate(ctx, "0R", now, 1, "", nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("revoking a reserved certificate: %v", err)
	}
	o.CertSerial, o.Status = "0R", store.StatusIssued
	if err := s.CompleteIssuance(ctx, "0R", []byte("der"), now, o); err != nil {
		t.Fatal(err)
	}
	o.Status = store.StatusRevoked
	if err := s.RevokeCertificate(ctx, "0R", now, 1, "key leaked", o); err != nil {
		t.Fatal(err)
	}
	c, _ := s.GetCertificate(ctx, "0R")
	if !c.RevokedAt.Equal(now) || c.RevocationReason != 1 || c.RevocationComments != "key leaked" {
		t.Fatalf("revoked = %+v", c)
	}
	if got, _ := s.GetOrder(ctx, o.ID); got.Status != store.StatusRevoked {
		t.Fatalf("order status %q", got.Status)
	}
	if err := s.RevokeCertificate(ctx, "0R", now, 1, "", nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("revoking twice: %v", err)
	}
}

func testListOrders(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	other := mustAccount(t, s)
	var ids []int64
	for i := 0; i < 7; i++ {
		o := sampleOrder(a.ID)
		o.SANs = []string{fmt.Sprintf("n%d.example.com", i), "shared.example.com"}
		o.CommonName = o.SANs[0]
		if i%2 == 0 {
			o.Status = store.StatusIssued
			o.CertNotBefore = now.AddDate(0, 0, i)
			o.CertNotAfter = now.AddDate(0, 0, 100+i)
		}
		if err := s.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
		if i == 3 {
			if err := s.ReserveCertificate(ctx, store.Certificate{Serial: "5E41", OrderID: o.ID, LintDER: []byte("x"), NotBefore: now, NotAfter: now, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	foreign := sampleOrder(other.ID)
	if err := s.CreateOrder(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	idsOf := func(os []store.Order) []int64 {
		var out []int64
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.ListFilter
		want []int64
	}{
		{"all, newest first", store.ListFilter{}, []int64{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"limit", store.ListFilter{Limit: 2}, []int64{ids[6], ids[5]}},
		{"next page", store.ListFilter{Limit: 2, Before: ids[5]}, []int64{ids[4], ids[3]}},
		{"status", store.ListFilter{Status: store.StatusIssued}, []int64{ids[6], ids[4], ids[2], ids[0]}},
		{"name", store.ListFilter{Name: "n3.example.com"}, []int64{ids[3]}},
		{"shared name", store.ListFilter{Name: "shared.example.com", Limit: 3}, []int64{ids[6], ids[5], ids[4]}},
		{"serial", store.ListFilter{Serial: "5E41"}, []int64{ids[3]}},
		{"issued between", store.ListFilter{IssuedFrom: now.AddDate(0, 0, 2), IssuedTo: now.AddDate(0, 0, 5)}, []int64{ids[4], ids[2]}},
		{"expiring between", store.ListFilter{ExpiresFrom: now.AddDate(0, 0, 104)}, []int64{ids[6], ids[4]}},
		{"nothing", store.ListFilter{Name: "absent.example.com"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.AccountID = a.ID
			got, err := s.ListOrders(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(idsOf(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("ids = %v, want %v", idsOf(got), tt.want)
			}
		})
	}
	// An update moves the name index with the order's names: kept,
	// replaced, added to, dropped from.
	for _, step := range []struct {
		sans, gone []string
	}{
		{[]string{"n1.example.com"}, nil},
		{[]string{"renamed.example.com"}, []string{"n1.example.com"}},
		{[]string{"renamed.example.com", "extra.example.com"}, nil},
		{[]string{"extra.example.com"}, []string{"renamed.example.com"}},
		{[]string{"extra.example.com", "extra.example.com"}, []string{"renamed.example.com"}},
	} {
		o, _ := s.GetOrder(ctx, ids[1])
		o.SANs = step.sans
		if err := s.UpdateOrder(ctx, &o); err != nil {
			t.Fatal(err)
		}
		for _, n := range step.sans {
			if got, _ := s.ListOrders(ctx, store.ListFilter{AccountID: a.ID, Name: n}); len(got) != 1 {
				t.Fatalf("names %v: %s matches %d orders", step.sans, n, len(got))
			}
		}
		for _, n := range step.gone {
			if got, _ := s.ListOrders(ctx, store.ListFilter{AccountID: a.ID, Name: n}); len(got) != 0 {
				t.Fatalf("names %v: old name %s still matches", step.sans, n)
			}
		}
	}
}

func testAuthorizations(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	other := mustAccount(t, s)
	mk := func(acct int64, domain string) *store.Authorization {
		z := &store.Authorization{AccountID: acct, Domain: domain, Method: "dns-txt-token", Token: "tok-" + domain, Status: store.AuthzPending,
			CreatedAt: now, TokenExpiresAt: now.AddDate(0, 0, 30)}
		if err := s.CreateAuthorization(ctx, z); err != nil {
			t.Fatal(err)
		}
		return z
	}
	first := mk(a.ID, "example.com")
	second := mk(a.ID, "example.com")
	mk(a.ID, "www.example.net")
	mk(other.ID, "example.com")
	got, err := s.Authorizations(ctx, a.ID, []string{"example.com"})
	if err != nil || len(got) != 2 || got[0].ID != second.ID || got[1].Token != "tok-example.com" {
		t.Fatalf("Authorizations = %+v, %v", got, err)
	}
	if all, _ := s.Authorizations(ctx, a.ID, nil); len(all) != 3 {
		t.Fatalf("all = %d", len(all))
	}
	stale := *first
	first.Status, first.ValidatedAt, first.CheckedAt = store.AuthzValid, now, now
	if err := s.UpdateAuthorization(ctx, first); err != nil || first.Version != 2 {
		t.Fatalf("update: %v, version %d", err, first.Version)
	}
	stale.Status = store.AuthzInvalid
	if err := s.UpdateAuthorization(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	got, _ = s.Authorizations(ctx, a.ID, []string{"example.com"})
	if got[1].Status != store.AuthzValid || !got[1].ValidatedAt.Equal(now) {
		t.Fatalf("after update: %+v", got[1])
	}
	// Orders keep their validation method and holds.
	o := sampleOrder(a.ID)
	o.DCVMethod, o.Holds = "http-token", map[string]string{"www.example.com": "CAA forbids"}
	if err := s.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	back, _ := s.GetOrder(ctx, o.ID)
	if back.DCVMethod != "http-token" || back.Holds["www.example.com"] != "CAA forbids" {
		t.Fatalf("order checks = %q %v", back.DCVMethod, back.Holds)
	}
}

func testOrganizations(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	mk := func(key, status string) *store.Organization {
		o := &store.Organization{AccountID: a.ID, MatchKey: key, Details: store.Contact{OrgName: key}, Status: status, CreatedAt: now}
		if err := s.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	first := mk("acme|1 road", store.OrgRejected)
	second := mk("acme|1 road", store.OrgPending)
	mk("other|2 road", store.OrgPending)
	got, err := s.FindOrganization(ctx, a.ID, "acme|1 road")
	if err != nil || got.ID != second.ID || got.Details.OrgName != "acme|1 road" {
		t.Fatalf("FindOrganization = %+v, %v", got, err)
	}
	if _, err := s.FindOrganization(ctx, a.ID+1000, "acme|1 road"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's organization: %v", err)
	}
	if pending, _ := s.ListOrganizations(ctx, 0, store.OrgPending); len(pending) != 2 {
		t.Fatalf("pending = %d", len(pending))
	}
	if all, _ := s.ListOrganizations(ctx, a.ID, ""); len(all) != 3 || all[0].ID != first.ID {
		t.Fatalf("all = %+v", all)
	}
	stale := *second
	second.Status, second.Note, second.DecidedAt = store.OrgValidated, "ok", now
	if err := s.UpdateOrganization(ctx, second); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateOrganization(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	back, _ := s.GetOrganization(ctx, second.ID)
	if back.Status != store.OrgValidated || back.Note != "ok" || !back.DecidedAt.Equal(now) {
		t.Fatalf("after update = %+v", back)
	}
	if _, err := s.GetOrganization(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// testAudit: concurrent appends make one gapless chain in order; events
// of a failed transaction (a duplicate serial, a stale order) are not
// appended; events of a successful one are.
func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	if seq, hash, err := s.AuditHead(ctx); err != nil || seq != 0 || hash != "" {
		t.Fatalf("empty chain's head = %d %q %v", seq, hash, err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := s.AppendAudit(ctx, store.AuditEvent{Time: now, Type: "test", Data: map[string]any{"i": i}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	ev := func(typ string) store.AuditEvent { return store.AuditEvent{Time: now, Type: typ} }
	c := store.Certificate{Serial: "AB", LintDER: []byte("x"), NotBefore: now, NotAfter: now, CreatedAt: now}
	if err := s.ReserveCertificate(ctx, c, ev("sign.begin")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveCertificate(ctx, c, ev("duplicate")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate serial: %v", err)
	}
	if err := s.CompleteIssuance(ctx, "CD", []byte("der"), now, nil, ev("unreserved")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("completing an unreserved serial: %v", err)
	}
	if err := s.CompleteIssuance(ctx, "AB", []byte("der"), now, nil, ev("sign.done"), ev("second")); err != nil {
		t.Fatal(err)
	}
	lines, err := s.AuditLines(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 23 {
		t.Fatalf("%d lines, want 23", len(lines))
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) || len(l.Line) == 0 || l.Hash == "" {
			t.Fatalf("line %d: %+v", i, l)
		}
	}
	for i, want := range []string{`"type":"sign.begin"`, `"type":"sign.done"`, `"type":"second"`} {
		if got := string(lines[20+i].Line); !strings.Contains(got, want) {
			t.Errorf("line %d = %s, want %s", 21+i, got, want)
		}
	}
	if page, err := s.AuditLines(ctx, 21, 1); err != nil || len(page) != 1 || page[0].Seq != 22 {
		t.Fatalf("page after 21: %+v %v", page, err)
	}
	if seq, hash, err := s.AuditHead(ctx); err != nil || seq != 23 || hash != lines[22].Hash {
		t.Fatalf("head = %d %q %v", seq, hash, err)
	}
	if n, err := audit.Verify(ctx, s, ""); err != nil || n != 23 {
		t.Fatalf("the chain does not verify: %d %v", n, err)
	}
}

func testRequestsPerHour(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	if got, _ := s.GetAccount(ctx, a.ID); got.RequestsPerHour != 0 {
		t.Fatalf("new account's limit %d, want 0 (the default)", got.RequestsPerHour)
	}
	for _, v := range []int{5000, -1, 0} {
		if err := s.SetRequestsPerHour(ctx, a.ID, v); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetAccount(ctx, a.ID); got.RequestsPerHour != v {
			t.Fatalf("limit %d, want %d", got.RequestsPerHour, v)
		}
	}
	if err := s.SetRequestsPerHour(ctx, a.ID+100, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
}

func testLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	later := now.Add(time.Minute)
	check := func(what string, got, want bool, err error) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: %v, %v (want %v)", what, got, err, want)
		}
	}
	if v, err := s.LimitTAT(ctx, "k", now); v != -1 || err != nil {
		t.Fatalf("absent key: %d, %v", v, err)
	}
	ok, err := s.SwapLimitTAT(ctx, "k", 1, 2, later, now)
	check("swap of an absent key", ok, false, err)
	ok, err = s.SetLimitTAT(ctx, "k", 10, later, now)
	check("set", ok, true, err)
	ok, err = s.SetLimitTAT(ctx, "k", 11, later, now)
	check("set over a live value", ok, false, err)
	ok, err = s.SwapLimitTAT(ctx, "k", 9, 12, later, now)
	check("swap from a stale value", ok, false, err)
	ok, err = s.SwapLimitTAT(ctx, "k", 10, 12, later, now)
	check("swap", ok, true, err)
	if v, _ := s.LimitTAT(ctx, "k", now); v != 12 {
		t.Fatalf("value %d, want 12", v)
	}
	// Past its expiry the key counts as absent, and a set takes it over.
	if v, _ := s.LimitTAT(ctx, "k", later); v != -1 {
		t.Fatalf("expired key: %d", v)
	}
	ok, err = s.SwapLimitTAT(ctx, "k", 12, 13, later, later)
	check("swap of an expired value", ok, false, err)
	ok, err = s.SetLimitTAT(ctx, "k", 20, later.Add(time.Minute), later)
	check("set over an expired value", ok, true, err)
	if n, err := s.SweepExpired(ctx, later.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if v, _ := s.LimitTAT(ctx, "k", now); v != -1 {
		t.Fatalf("swept key: %d", v)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	b := mustAccount(t, s)
	rec := store.IdempotencyRecord{AccountID: a.ID, Key: "k1", Fingerprint: "f1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	stale := now.Add(-10 * time.Minute)
	ok, _, err := s.ClaimIdempotencyKey(ctx, rec, stale)
	if err != nil || !ok {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	// The same key of another account is another key.
	other := rec
	other.AccountID = b.ID
	if ok, _, err := s.ClaimIdempotencyKey(ctx, other, stale); err != nil || !ok {
		t.Fatalf("other account's claim: %v %v", ok, err)
	}
	again := rec
	again.Fingerprint = "f2"
	ok, held, err := s.ClaimIdempotencyKey(ctx, again, stale)
	if err != nil || ok || held.Fingerprint != "f1" || held.Status != 0 {
		t.Fatalf("claim of a held key: %v %+v %v", ok, held, err)
	}
	if err := s.FinishIdempotencyKey(ctx, again); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finish with another fingerprint: %v", err)
	}
	done := rec
	done.Status, done.ContentType, done.Body = 201, "application/json", []byte(`{"id":1}`)
	if err := s.FinishIdempotencyKey(ctx, done); err != nil {
		t.Fatal(err)
	}
	ok, held, err = s.ClaimIdempotencyKey(ctx, rec, now.Add(time.Minute))
	if err != nil || ok || held.Status != 201 || string(held.Body) != `{"id":1}` || held.ContentType != "application/json" {
		t.Fatalf("finished key (never stale): %v %+v %v", ok, held, err)
	}
	// A request in progress past staleBefore was a dead node's: taken over.
	rec2 := store.IdempotencyRecord{AccountID: a.ID, Key: "k2", Fingerprint: "f1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if ok, _, _ := s.ClaimIdempotencyKey(ctx, rec2, stale); !ok {
		t.Fatal("claim k2")
	}
	take := rec2
	take.CreatedAt = now.Add(20 * time.Minute)
	if ok, _, err := s.ClaimIdempotencyKey(ctx, take, now.Add(10*time.Minute)); err != nil || !ok {
		t.Fatalf("takeover of a stale claim: %v %v", ok, err)
	}
	// Released, the key is free again.
	if err := s.ReleaseIdempotencyKey(ctx, a.ID, "k2", "f1"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := s.ClaimIdempotencyKey(ctx, rec2, stale); !ok {
		t.Fatal("claim after release")
	}
	// Expired, the key is free, and swept.
	late := rec
	late.CreatedAt, late.ExpiresAt = now.Add(2*time.Hour), now.Add(3*time.Hour)
	if ok, _, err := s.ClaimIdempotencyKey(ctx, late, stale); err != nil || !ok {
		t.Fatalf("claim after expiry: %v %v", ok, err)
	}
	if n, err := s.SweepExpired(ctx, now.Add(2*time.Hour)); err != nil || n != 2 {
		t.Fatalf("sweep: %d %v (want the other account's k1 and k2)", n, err)
	}
}

func testIdempotencyRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	const n = 8
	var wg sync.WaitGroup
	wins := make(chan bool, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, held, err := s.ClaimIdempotencyKey(ctx, store.IdempotencyRecord{AccountID: a.ID, Key: "race", Fingerprint: "f",
				CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now.Add(-time.Minute))
			if err != nil || (!ok && held.Fingerprint != "f") {
				t.Errorf("claim: %v %+v %v", ok, held, err)
			}
			wins <- ok
		}()
	}
	wg.Wait()
	close(wins)
	won := 0
	for ok := range wins {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent claims won, want 1", won, n)
	}
}

func testPendingOrders(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s)
	pending, issued, reissuing := sampleOrder(a.ID), sampleOrder(a.ID), sampleOrder(a.ID)
	issued.Status, reissuing.Status = store.StatusIssued, store.StatusIssued
	reissuing.Pending = &store.Reissue{CSR: "x", SANs: []string{"www.example.com"}, RequestedAt: now}
	for _, o := range []*store.Order{pending, issued, reissuing} {
		if err := s.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.PendingOrders(ctx)
	if err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{pending.ID, reissuing.ID}) {
		t.Fatalf("pending orders %v (%v), want %d and %d", ids, err, pending.ID, reissuing.ID)
	}
}
