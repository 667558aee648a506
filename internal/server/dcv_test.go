package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/testutil"
)

// dcvEnv is a non-sandbox certd whose resolver is a test DNS server and
// whose http-token checks reach a test web server.
type dcvEnv struct {
	*env
	dns   *testutil.DNS
	mu    sync.Mutex
	files map[string]string // path -> content served by the web server
}

func startDCV(t *testing.T) *dcvEnv {
	t.Helper()
	d := &dcvEnv{dns: testutil.NewDNS(t), files: map[string]string{}}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		body, ok := d.files[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(web.Close)
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	d.env = start(t, envOptions{dnsResolver: d.dns.Addr(), caaIdentities: []string{"certd.test"}, dcvHTTPPort: p})
	return d
}

// dcvOf returns the order's dcv block.
func (d *dcvEnv) dcvOf(id string) map[string]any {
	d.t.Helper()
	r := d.do(req{method: "GET", path: "/order/" + id})
	if r.status != 200 {
		d.t.Fatalf("GET order = %d %s", r.status, r.body)
	}
	dcv, _ := r.json(d.t)["dcv"].(map[string]any)
	if dcv == nil {
		d.t.Fatalf("order has no dcv block: %s", r.body)
	}
	return dcv
}

func domains(dcv map[string]any) []map[string]any {
	var out []map[string]any
	for _, x := range dcv["domains"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// validateOrgs is the operator validating every organization waiting.
func (d *dcvEnv) validateOrgs() {
	d.t.Helper()
	orgs, err := d.srv.Data().Orders.Organizations(context.Background(), 0, "pending")
	if err != nil {
		d.t.Fatal(err)
	}
	for _, o := range orgs {
		if _, err := d.srv.Data().Orders.DecideOrganization(context.Background(), o.ID, true, "checked the registry"); err != nil {
			d.t.Fatal(err)
		}
	}
}

// waitIssued polls until the order's certificate is available.
func (d *dcvEnv) waitIssued(id string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := d.do(req{method: "GET", path: "/order/" + id + "/certificate"})
		if r.status == 200 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Fatalf("order %s not issued; dcv = %v", id, d.dcvOf(id))
}

func (d *dcvEnv) recheck(id string) {
	d.t.Helper()
	if r := d.do(req{method: "POST", path: "/order/" + id + "/dcv"}); r.status != 200 {
		d.t.Fatalf("recheck = %d %s", r.status, r.body)
	}
}

func TestDomainValidationDNS(t *testing.T) {
	d := startDCV(t)
	id := d.placeOrder(map[string]any{"sans": "api.example.com"})
	d.validateOrgs()
	dcv := d.dcvOf(id)
	if dcv["method"] != "dns-txt-token" {
		t.Fatalf("method = %v", dcv["method"])
	}
	ds := domains(dcv)
	if len(ds) != 2 {
		t.Fatalf("domains = %v", ds)
	}
	for _, dom := range ds {
		if dom["status"] != "pending" || dom["dns_type"] != "TXT" || dom["dns_record"] != "_dnsauth."+dom["name"].(string) || len(dom["value"].(string)) < 22 {
			t.Fatalf("pending domain = %v", dom)
		}
	}
	// Publish one record only: the order waits and says why.
	d.dns.Add(t, `_dnsauth.www.example.com. 60 IN TXT "`+ds[0]["value"].(string)+`"`)
	d.recheck(id)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds = domains(d.dcvOf(id))
		if ds[0]["status"] == "valid" && ds[1]["last_error"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("domains = %v", ds)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(ds[1]["last_error"].(string), "_dnsauth.api.example.com") {
		t.Fatalf("last_error = %v", ds[1]["last_error"])
	}
	if r := d.do(req{method: "GET", path: "/order/" + id + "/certificate"}); r.status != 404 {
		t.Fatalf("issued with one domain unvalidated: %d", r.status)
	}
	d.dns.Add(t, `_dnsauth.api.example.com. 60 IN TXT "`+ds[1]["value"].(string)+`"`)
	d.recheck(id)
	d.waitIssued(id)

	t.Run("reuse for a subdomain", func(t *testing.T) {
		id2 := d.placeOrder(map[string]any{"common_name": "deep.www.example.com", "sans": ""})
		d.waitIssued(id2)
		ds := domains(d.dcvOf(id2))
		if ds[0]["status"] != "valid" || ds[0]["validated_by"] != "www.example.com" {
			t.Fatalf("reused = %v", ds)
		}
	})
	t.Run("domain list", func(t *testing.T) {
		r := d.do(req{method: "GET", path: "/domain"})
		got := r.json(t)["domains"].([]any)
		names := map[string]bool{}
		for _, x := range got {
			names[x.(map[string]any)["domain"].(string)] = true
		}
		if !names["www.example.com"] || !names["api.example.com"] {
			t.Fatalf("validated domains = %s", r.body)
		}
	})
}

func TestDomainValidationHTTP(t *testing.T) {
	d := startDCV(t)
	d.dns.Add(t, `shop.example.net. 60 IN A 127.0.0.1`)
	id := d.placeOrder(map[string]any{"common_name": "shop.example.net", "sans": "", "dcv_method": "http-token"})
	d.validateOrgs()
	ds := domains(d.dcvOf(id))
	u := ds[0]["http_url"].(string)
	if !strings.HasPrefix(u, "http://shop.example.net/.well-known/pki-validation/") || strings.Contains(u, ds[0]["value"].(string)) {
		t.Fatalf("http_url = %q", u)
	}
	d.mu.Lock()
	d.files[strings.TrimPrefix(u, "http://shop.example.net")] = ds[0]["value"].(string) + "\n"
	d.mu.Unlock()
	d.recheck(id)
	d.waitIssued(id)
	if r := d.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "x"), map[string]any{"dcv_method": "carrier-pigeon"})}); r.status != 400 || r.codes(t)[0] != "invalid_param:dcv_method" {
		t.Fatalf("bad method = %d %s", r.status, r.body)
	}
}

func TestCAAHoldsIssuance(t *testing.T) {
	d := startDCV(t)
	d.dns.Add(t, `example.org. 60 IN CAA 0 issue "otherca.test"`)
	id := d.placeOrder(map[string]any{"common_name": "www.example.org", "sans": ""})
	d.validateOrgs()
	ds := domains(d.dcvOf(id))
	d.dns.Add(t, `_dnsauth.www.example.org. 60 IN TXT "`+ds[0]["value"].(string)+`"`)
	d.recheck(id)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds = domains(d.dcvOf(id))
		if caa, _ := ds[0]["caa"].(string); strings.Contains(caa, "otherca.test") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CAA hold: %v", ds)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ds[0]["status"] != "valid" {
		t.Fatalf("domain control should have passed: %v", ds)
	}
	if r := d.do(req{method: "GET", path: "/order/" + id + "/certificate"}); r.status != 404 {
		t.Fatalf("issued despite CAA: %d", r.status)
	}
	// The domain's owner allows certd: the next check issues.
	d.dns.Clear("example.org")
	d.dns.Add(t, `example.org. 60 IN CAA 0 issue "certd.test"`)
	d.recheck(id)
	d.waitIssued(id)
}

func TestPreValidatedDomain(t *testing.T) {
	d := startDCV(t)
	id, _ := strconv.ParseInt(d.creds.AccountID, 10, 64)
	if _, err := d.srv.Data().Orders.PreValidate(context.Background(), id, "corp.example.com"); err != nil {
		t.Fatal(err)
	}
	order := d.placeOrder(map[string]any{"common_name": "intranet.corp.example.com", "sans": "*.corp.example.com"})
	d.validateOrgs()
	d.waitIssued(order)
	other := d.newAccount("other")
	r := d.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), creds: &other, body: orderBody(t, csrFor(t, "x"), map[string]any{"common_name": "intranet.corp.example.com", "sans": ""})})
	otherID := r.json(t)["order_id"].(string)
	time.Sleep(1500 * time.Millisecond)
	if r := d.do(req{method: "GET", path: "/order/" + otherID + "/certificate", creds: &other}); r.status != 404 {
		t.Fatalf("another account used the pre-validation: %d", r.status)
	}
}

func TestOrganizationValidation(t *testing.T) {
	d := startDCV(t)
	id, _ := strconv.ParseInt(d.creds.AccountID, 10, 64)
	if _, err := d.srv.Data().Orders.PreValidate(context.Background(), id, "example.com"); err != nil {
		t.Fatal(err)
	}
	first := d.placeOrder(nil)
	time.Sleep(1500 * time.Millisecond) // the pipeline has run the checks
	m := d.do(req{method: "GET", path: "/order/" + first}).json(t)
	org := m["organization"].(map[string]any)
	if org["status"] != "pending" || org["name"] != "Tampa Bay Cray LLC" || m["certificate_details"].(map[string]any)["status"] != "pending issuance" {
		t.Fatalf("order waiting for its organization = %v", m)
	}
	orgID, _ := strconv.ParseInt(org["id"].(string), 10, 64)
	if _, err := d.srv.Data().Orders.DecideOrganization(context.Background(), orgID, false, ""); err == nil {
		t.Fatal("rejected without a note")
	}
	if _, err := d.srv.Data().Orders.DecideOrganization(context.Background(), orgID, false, "no such company in the registry"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	m = d.do(req{method: "GET", path: "/order/" + first}).json(t)
	if o := m["organization"].(map[string]any); o["status"] != "rejected" || o["note"] != "no such company in the registry" {
		t.Fatalf("rejected organization = %v", o)
	}
	if r := d.do(req{method: "GET", path: "/order/" + first + "/certificate"}); r.status != 404 {
		t.Fatalf("issued for a rejected organization: %d", r.status)
	}
	// The subscriber corrects the organization: a new record to decide;
	// once validated, a later order naming it does not wait.
	second := d.placeOrder(map[string]any{"org_name": "Tampa Bay Cray, LLC"})
	d.validateOrgs()
	d.waitIssued(second)
	third := d.placeOrder(map[string]any{"org_name": "tampa bay cray,  LLC"})
	d.waitIssued(third)
}

// TestRestartResumesChecks stops the server while an order waits, and
// checks that a new server on the same data folder picks the order up by
// itself: nothing is lost on restart.
func TestRestartResumesChecks(t *testing.T) {
	dnsSrv := testutil.NewDNS(t)
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Listen: "127.0.0.1:0", HTTP: true, DNSResolver: dnsSrv.Addr(), CAAIdentities: []string{"certd.test"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	run := func() (*server.Server, context.CancelFunc, chan error) {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := server.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()
		return srv, cancel, done
	}
	first, stop, done := run()
	creds := readCreds(t, dir)
	c := client.New(first.URL(), creds.AccountID, creds.APIKey)
	ctx := context.Background()
	id, err := c.OrderSSL(ctx, sampleSSL(t))
	if err != nil {
		t.Fatal(err)
	}
	accountID, _ := strconv.ParseInt(creds.AccountID, 10, 64)
	orgs, _ := first.Data().Orders.Organizations(ctx, accountID, "pending")
	for _, o := range orgs {
		if _, err := first.Data().Orders.DecideOrganization(ctx, o.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	o, err := first.Data().DB.GetOrder(ctx, mustID(t, id))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := first.Data().Orders.DCV(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// While no server runs, the subscriber publishes the record.
	dnsSrv.Add(t, `_dnsauth.www.example.com. 60 IN TXT "`+ds[0].Token+`"`)
	second, stop2, done2 := run()
	defer func() {
		stop2()
		<-done2
	}()
	c.BaseURL = second.URL()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.WaitForCertificate(wctx, id); err != nil {
		t.Fatalf("the order was not resumed after the restart: %v", err)
	}
}

func readCreds(t *testing.T, dir string) account.Credentials {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	var c account.Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleSSL(t *testing.T) client.OrderSSLRequest {
	return client.OrderSSLRequest{
		CSR: csrFor(t, "www.example.com"), Validity: 1, CommonName: "www.example.com",
		Org: client.Org{
			OrgName: "Tampa Bay Cray LLC", OrgAddr1: "1234 Sesame Street", OrgCity: "Tampa", OrgState: "FL", OrgZip: "33615", OrgCountry: "US",
			OrgContactFirstName: "Joe", OrgContactLastName: "Bloggs", OrgContactEmail: "joe@example.com", OrgContactTelephone: "555-123-1234",
		},
	}
}

func TestApprovalDoesNotSkipValidation(t *testing.T) {
	d := startDCV(t)
	reqID := d.submitRequest(nil)
	r := d.do(req{method: "APPROVE", path: "/request/" + reqID})
	orderID := r.json(t)["order_id"].(string)
	d.validateOrgs()
	time.Sleep(1500 * time.Millisecond)
	if r := d.do(req{method: "GET", path: "/order/" + orderID + "/certificate"}); r.status != 404 {
		t.Fatalf("approval skipped domain validation: %d", r.status)
	}
	ds := domains(d.dcvOf(orderID))
	if ds[0]["status"] != "pending" {
		t.Fatalf("dcv = %v", ds)
	}
	// With the domain pre-validated for the account, approval is enough.
	id, _ := strconv.ParseInt(d.creds.AccountID, 10, 64)
	if _, err := d.srv.Data().Orders.PreValidate(context.Background(), id, "www.example.com"); err != nil {
		t.Fatal(err)
	}
	d.recheck(orderID)
	d.waitIssued(orderID)
}
