package order_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/sqlite"
	"github.com/certd/certd/internal/testutil"
)

// faultyStore fails chosen steps of issuance, as a crash or a full disk
// would.
type faultyStore struct {
	store.Store
	failReserve  bool
	failComplete int // how many CompleteIssuance calls fail
}

var errInjected = errors.New("injected fault")

func (f *faultyStore) ReserveCertificate(ctx context.Context, c store.Certificate, events ...store.AuditEvent) error {
	if f.failReserve {
		return errInjected
	}
	return f.Store.ReserveCertificate(ctx, c, events...)
}

func (f *faultyStore) CompleteIssuance(ctx context.Context, serial string, der []byte, at time.Time, o *store.Order, events ...store.AuditEvent) error {
	if f.failComplete > 0 {
		f.failComplete--
		return errInjected
	}
	return f.Store.CompleteIssuance(ctx, serial, der, at, o, events...)
}

// testStore is a store engine as the tests see it: SerialsInState lets
// them inspect the issuance records.
type testStore interface {
	store.Store
	SerialsInState(ctx context.Context, state string) ([]string, error)
}

type fixture struct {
	db      testStore
	faulty  *faultyStore
	svc     *order.Service
	ca      *ca.Authority
	account int64
	now     time.Time
}

func newFixture(t testing.TB, autoIssue bool) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newFixtureOn(t, db, autoIssue)
}

// newFixtureOn is newFixture on a given store.
func newFixtureOn(t testing.TB, db testStore, autoIssue bool) *fixture {
	t.Helper()
	dir := t.TempDir()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	authority, _, err := ca.Open(ca.Options{Dir: filepath.Join(dir, "ca"), PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.CreateAccount(context.Background(), "t", now)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, faulty: &faultyStore{Store: db}, ca: authority, account: a.ID, now: now}
	f.svc = order.New(order.Options{Store: f.faulty, CA: authority, Now: func() time.Time { return f.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AutoIssue: autoIssue})
	return f
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func sslRequest(t testing.TB) order.SSLRequest {
	return order.SSLRequest{
		CSR: testutil.CSR(t, testutil.Key(t, "p256"), "www.example.com"), Validity: "1", CommonName: "www.example.com",
		SANs: []string{"a.example.com"}, SANsGiven: true,
		Contact: store.Contact{OrgName: "Org", OrgAddr1: "1 Street", OrgCity: "Tampa", OrgState: "FL", OrgZip: "33615", OrgCountry: "US",
			FirstName: "Joe", LastName: "Bloggs", Email: "joe@example.com", ContactPhone: "555-123-1234"},
	}
}

func TestIssuanceRecordsBeforeSigning(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reservation fails: nothing signed, order pending", func(t *testing.T) {
		f.faulty.failReserve = true
		defer func() { f.faulty.failReserve = false }()
		if _, err := f.svc.Approve(ctx, o.ID); !errors.Is(err, errInjected) {
			t.Fatalf("Approve = %v", err)
		}
		got, _ := f.db.GetOrder(ctx, o.ID)
		if got.Status != store.StatusPendingIssuance || got.CertSerial != "" {
			t.Fatalf("order = %+v", got)
		}
	})

	t.Run("storing the result fails: the signed certificate is still on record", func(t *testing.T) {
		f.faulty.failComplete = 1
		_, err := f.svc.Approve(ctx, o.ID)
		if !errors.Is(err, errInjected) {
			t.Fatalf("Approve = %v", err)
		}
		got, _ := f.db.GetOrder(ctx, o.ID)
		if got.Status != store.StatusPendingIssuance {
			t.Fatalf("order = %+v", got)
		}
		issued, err := f.db.SerialsInState(ctx, store.CertIssued)
		if err != nil || len(issued) != 1 {
			t.Fatalf("issued records = %v, %v; want the orphaned certificate", issued, err)
		}
		reserved, _ := f.db.SerialsInState(ctx, store.CertReserved)
		if len(reserved) != 0 {
			t.Fatalf("reserved records = %v", reserved)
		}
	})

	issued, err := f.svc.Approve(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.db.GetCertificate(ctx, issued.CertSerial)
	if err != nil {
		t.Fatal(err)
	}
	real, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	lint, err := x509.ParseCertificate(c.LintDER)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(real.RawTBSCertificate, lint.RawTBSCertificate) {
		t.Fatal("the stored lint certificate differs from the issued one")
	}
	if c.Status != store.CertIssued || !c.NotAfter.Equal(real.NotAfter) {
		t.Fatalf("record = %+v", c)
	}
}

func TestCrashLeavesReservedRecord(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	// Both the order update and the fallback record fail: as if the
	// process died right after the CA signed.
	f.faulty.failComplete = 2
	if _, err := f.svc.Approve(ctx, o.ID); err == nil {
		t.Fatal("Approve succeeded")
	}
	rows, err := reservedSerials(f.db)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("reserved records = %v, want 1", rows)
	}
	c, err := f.db.GetCertificate(ctx, rows[0])
	if err != nil {
		t.Fatal(err)
	}
	lint, err := x509.ParseCertificate(c.LintDER)
	if err != nil {
		t.Fatal(err)
	}
	if order.SerialText(lint.SerialNumber) != c.Serial || c.OrderID != o.ID || lint.DNSNames[0] != "www.example.com" {
		t.Fatalf("reserved record does not describe the certificate: %+v", c)
	}
}

func reservedSerials(db testStore) ([]string, error) {
	return db.SerialsInState(context.Background(), store.CertReserved)
}

func TestGetIsolation(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.db.CreateAccount(ctx, "other", f.now)
	for _, call := range []func() error{
		func() error { _, err := f.svc.Get(ctx, other.ID, o.ID); return err },
		func() error { _, err := f.svc.Certificate(ctx, other.ID, o.ID); return err },
		func() error { _, err := f.svc.Reissue(ctx, other.ID, o.ID, order.ReissueRequest{}); return err },
	} {
		if err := call(); problem.KindOf(err) != problem.NotFound {
			t.Fatalf("foreign access: %v", err)
		}
	}
}

func TestReissueAfterTerm(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.AddDate(1, 0, 1)
	_, err = f.svc.Reissue(ctx, f.account, o.ID, order.ReissueRequest{})
	if !errors.Is(err, problem.New(problem.InvalidParam, "order_expired", "")) {
		t.Fatalf("reissue after the term: %v", err)
	}
}

func TestCertificateNeverOutlivesTerm(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	o, err := f.svc.CreateSSL(ctx, f.account, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	// Ten days before the one-year term ends, a reissue gets ten days.
	f.now = o.CreatedAt.AddDate(1, 0, -10)
	if _, err := f.svc.Reissue(ctx, f.account, o.ID, order.ReissueRequest{}); err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Certificate(ctx, f.account, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(testutil.DecodePEM(t, b.Certificate, "CERTIFICATE"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.db.GetOrder(ctx, o.ID)
	if !leaf.NotAfter.Equal(got.ValidTill.Truncate(time.Second)) {
		t.Fatalf("certificate ends %v, term ends %v", leaf.NotAfter, got.ValidTill)
	}
}

func TestProductName(t *testing.T) {
	tests := []struct {
		o    store.Order
		want string
	}{
		{store.Order{CommonName: "a.example.com", SANs: []string{"a.example.com"}}, "SSL Plus"},
		{store.Order{CommonName: "*.example.com", SANs: []string{"*.example.com"}}, "WildCard Plus"},
		{store.Order{CommonName: "a.example.com", SANs: []string{"a.example.com", "b.example.com"}}, "Unified Communications"},
		{store.Order{CommonName: "a.example.com", SANs: []string{"a.example.com"}, EV: true}, "EV SSL Plus"},
		{store.Order{CommonName: "a.example.com", SANs: []string{"a.example.com", "b.example.com"}, EV: true}, "EV Multi-Domain"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := order.ProductName(tt.o); got != tt.want {
				t.Fatalf("ProductName = %q", got)
			}
		})
	}
}

// TestLintRefusalIsRecorded issues under a CA whose profile makes
// certificates fail the lints (AIA over https, which the BRs forbid): the
// CA signs nothing, and the order says why.
func TestLintRefusalIsRecorded(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	authority, _, err := ca.Open(ca.Options{Dir: filepath.Join(dir, "ca"), PublicURL: "https://ca.test", PKIURL: "https://ca.test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := db.CreateAccount(context.Background(), "t", now)
	svc := order.New(order.Options{Store: db, CA: authority, Now: func() time.Time { return now }, Log: discard(), AutoIssue: true})
	o, err := svc.CreateSSL(context.Background(), a.ID, sslRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetOrder(context.Background(), o.ID)
	if got.Status != store.StatusPendingIssuance || !strings.Contains(got.Holds[order.LintHold], "e_aia_ca_issuers_must_have_http_only") {
		t.Fatalf("order after a lint refusal = %q %v", got.Status, got.Holds)
	}
	if issued, _ := db.SerialsInState(context.Background(), store.CertIssued); len(issued) != 0 {
		t.Fatalf("the CA signed %v", issued)
	}
	if reserved, _ := db.SerialsInState(context.Background(), store.CertReserved); len(reserved) != 0 {
		t.Fatalf("a serial was reserved for a refused certificate: %v", reserved)
	}
}
