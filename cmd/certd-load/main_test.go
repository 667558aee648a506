package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/testutil"
)

// credentials are the bootstrap account of a server's data folder.
type credentials struct {
	AccountID string `json:"account_id"`
	APIKey    string `json:"api_key"`
}

// start runs a real server with cfg (its data folder and listener filled
// in) for the test's lifetime; ctx ends when the test does.
func start(t testing.TB, cfg server.Config) (srv *server.Server, creds credentials, dir string, ctx context.Context) {
	t.Helper()
	dir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.DataDir, cfg.Listen, cfg.Log = dir, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}
	return srv, creds, dir, ctx
}

// TestLoad drives a real sandbox server over HTTPS and checks the report
// against what the server stored.
func TestLoad(t *testing.T) {
	srv, creds, dir, _ := start(t, server.Config{Sandbox: true})

	root := filepath.Join(dir, server.CADir, "root.crt")
	base := []string{"--url", srv.URL(), "--ca-file", root, "--account", creds.AccountID}

	t.Run("orders are placed, fetched and reported", func(t *testing.T) {
		var out, progress strings.Builder
		if err := run(append(base, "--key", creds.APIKey, "-c", "3", "-n", "12", "--json"), &out, &progress); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		var rep Report
		if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		if rep.Orders != 12 || rep.Issued != 12 || rep.Clients != 3 || len(rep.Errors) != 0 || rep.IssuedPerS <= 0 {
			t.Fatalf("report %+v", rep)
		}
		for _, ep := range []string{epOrder, epCert} {
			if l := rep.Endpoints[ep]; l.Count < 12 || l.P50 <= 0 || l.Max < l.P99 {
				t.Errorf("%s: %+v", ep, l)
			}
		}
		if rep.ServerCPUS == nil || *rep.ServerCPUS <= 0 {
			t.Errorf("no server CPU time: %+v", rep)
		}
		// Three write transactions an issuance at most (order,
		// reservation, certificate); fewer when clients share commits.
		if rep.CommitsPerCert == nil || *rep.CommitsPerCert <= 0 || *rep.CommitsPerCert > 3 {
			t.Errorf("SQLite commits per certificate: %v", rep.CommitsPerCert)
		}
		counts, err := srv.Data().DB.CountOrdersByStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.StatusIssued] != 12 {
			t.Fatalf("server holds %v, want 12 issued", counts)
		}
	})
	t.Run("for a duration, as text", func(t *testing.T) {
		var out, progress strings.Builder
		if err := run(append(base, "--key", creds.APIKey, "-c", "2", "-d", "1500ms", "--pool", "50"), &out, &progress); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		for _, want := range []string{"clients 2, nodes 1", "certificates/s", "POST /order/ssl", "p99", "server CPU"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, out.String())
			}
		}
		if !strings.Contains(progress.String(), "issued") {
			t.Errorf("no progress line:\n%s", progress.String())
		}
	})
	t.Run("a wrong key is reported by code", func(t *testing.T) {
		var out strings.Builder
		err := run(append(base, "--key", "wrong", "-n", "2"), &out, io.Discard)
		if err == nil || !strings.Contains(out.String(), "issued 0") || !strings.Contains(out.String(), "error ") {
			t.Fatalf("run with a wrong key: %v\n%s", err, out.String())
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range [][]string{{"-n", "1"}, {"--account", "1", "--key", "k", "-c", "0"}, {"--nope"},
			{"--account", "1", "--key", "k", "-n", "5", "-d", "1s"}, {"--account", "1", "--key", "k", "--ca-file", "/nonexistent"}} {
			if err := run(args, io.Discard, io.Discard); err == nil {
				t.Errorf("run %v succeeded", args)
			}
		}
	})
}

// productionServer starts a server outside sandbox mode (over HTTP
// unless https) whose bootstrap account has example.com pre-validated and
// the organization of the load generator's orders validated (an operator
// validated it when a first order named it): its orders wait only for the
// pipeline's checks (CAA, against a real DNS server that has no records).
func productionServer(t testing.TB, https bool) (*server.Server, credentials, string) {
	t.Helper()
	// No request budget: a load run is thousands of requests.
	srv, creds, dir, ctx := start(t, server.Config{HTTP: !https, DNSResolver: testutil.NewDNS(t).Addr(), RequestsPerHour: -1})
	orders := srv.Data().Orders
	if _, err := orders.PreValidate(ctx, 1, "example.com"); err != nil {
		t.Fatal(err)
	}
	csr, err := newCSR("first.example.com")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(srv.URL(), creds.AccountID, creds.APIKey)
	if https {
		hc, err := httpClient(config{caFile: filepath.Join(dir, "ca", "root.crt"), clients: 1})
		if err != nil {
			t.Fatal(err)
		}
		c.HTTPClient = hc
	}
	if _, err := c.OrderSSL(ctx, order(csr, "first.example.com")); err != nil {
		t.Fatal(err)
	}
	orgs, err := orders.Organizations(ctx, 1, "pending")
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations: %v %v", orgs, err)
	}
	if _, err := orders.DecideOrganization(ctx, orgs[0].ID, true, "load test"); err != nil {
		t.Fatal(err)
	}
	return srv, creds, dir
}

// TestLoadProductionPath runs the load against a server outside sandbox
// mode whose account has its domain and organization validated (an
// operator validated the organization a first order named): orders wait
// for the pipeline, and the generator polls until each is issued.
func TestLoadProductionPath(t *testing.T) {
	srv, creds, _ := productionServer(t, false)
	var out strings.Builder
	if err := run([]string{"--url", srv.URL(), "--account", creds.AccountID, "--key", creds.APIKey, "-c", "2", "-n", "4", "--poll", "50ms", "--json"}, &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	var rep Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	// Each order was fetched more than once: it waited for the pipeline.
	if rep.Issued != 4 || rep.Endpoints[epCert].Count <= 4 {
		t.Fatalf("report %+v", rep)
	}
	// On a server where nothing is validated, an order that is never
	// issued is given up after --max-wait and reported, not waited for
	// forever.
	other, otherCreds, _, _ := start(t, server.Config{HTTP: true, DNSResolver: testutil.NewDNS(t).Addr()})
	out.Reset()
	err := run([]string{"--url", other.URL(), "--account", otherCreds.AccountID, "--key", otherCreds.APIKey, "-n", "1", "--poll", "50ms", "--max-wait", "300ms"}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "error not issued within --max-wait: 1") {
		t.Fatalf("an order that is never issued: %v\n%s", err, out.String())
	}
}

// BenchmarkLoadProductionPath is the load generator's production-path
// figure reproducible without a DNS server of one's own: 32 clients over
// HTTPS place b.N orders on a server (in this process) whose domain and
// organization are validated, so each order is checked and issued by the
// pipeline; it reports issued certificates a second.
//
//	go test -run XXX -bench LoadProductionPath -benchtime 5000x ./cmd/certd-load
func BenchmarkLoadProductionPath(b *testing.B) {
	srv, creds, dir := productionServer(b, true)
	benchLoad(b, srv.URL(), filepath.Join(dir, "ca", "root.crt"), creds.AccountID, creds.APIKey, "--poll", "20ms")
}

// benchLoad runs 32 clients placing b.N orders against url and reports
// issued certificates a second and the POST's p99; every order must be
// issued.
func benchLoad(b *testing.B, url, rootFile, account, key string, extra ...string) {
	var out strings.Builder
	b.ResetTimer()
	err := run(append([]string{"--url", url, "--ca-file", rootFile, "--account", account, "--key", key,
		"-c", "32", "-n", strconv.Itoa(b.N), "--pool", "500", "--json"}, extra...), &out, io.Discard)
	b.StopTimer()
	if err != nil {
		b.Fatalf("run: %v\n%s", err, out.String())
	}
	var rep Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		b.Fatal(err)
	}
	if rep.Issued != int64(b.N) {
		b.Fatalf("issued %d of %d: %+v", rep.Issued, b.N, rep.Errors)
	}
	b.ReportMetric(rep.IssuedPerS, "issued/s")
	b.ReportMetric(rep.Endpoints[epOrder].P99, "POST-p99-ms")
}
