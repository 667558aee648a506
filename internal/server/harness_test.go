package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/client"
	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/testutil"
)

// env is a running certd on a real listener with a real database file.
type env struct {
	t       testing.TB
	srv     *server.Server
	url     string
	dir     string
	creds   account.Credentials
	http    *http.Client
	roots   *x509.CertPool
	stopped chan error
	cancel  context.CancelFunc
}

type envOptions struct {
	sandbox           bool
	http              bool
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	idleTimeout       time.Duration
	allowPrivateFetch bool
	nameProfile       string
	keyBlocklist      string
	dnsResolver       string
	caaIdentities     []string
	dcvHTTPPort       int
	smtpRelay         string
	crlLifetime       time.Duration
	database          string
	dir               string // reuse a data folder (a restart)
	requestsPerHour   int
	authFailures      int
}

func start(t testing.TB, opts envOptions) *env {
	t.Helper()
	dir := opts.dir
	if dir == "" {
		dir = t.TempDir()
	}
	if opts.dnsResolver == "" && !opts.sandbox {
		// Validation must never ask the machine's resolver: tests talk
		// to loopback only.
		opts.dnsResolver = testutil.NewDNS(t).Addr()
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Config{
		DataDir: dir,
		Listen:  "127.0.0.1:0",
		HTTP:    opts.http,
		Sandbox: opts.sandbox,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),

		ReadHeaderTimeout: opts.readHeaderTimeout,
		ReadTimeout:       opts.readTimeout,
		IdleTimeout:       opts.idleTimeout,
		AllowPrivateFetch: opts.allowPrivateFetch,
		NameProfile:       opts.nameProfile,
		KeyBlocklist:      opts.keyBlocklist,
		DNSResolver:       opts.dnsResolver,
		CAAIdentities:     opts.caaIdentities,
		DCVHTTPPort:       opts.dcvHTTPPort,
		SMTPRelay:         opts.smtpRelay,
		CRLLifetime:       opts.crlLifetime,
		Database:          opts.database,

		RequestsPerHour:     opts.requestsPerHour,
		AuthFailuresPerHour: opts.authFailures,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, url: srv.URL(), dir: dir, stopped: make(chan error, 1), cancel: cancel}
	go func() { e.stopped <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-e.stopped; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &e.creds); err != nil {
		t.Fatal(err)
	}
	e.roots = x509.NewCertPool()
	e.roots.AddCert(srv.Data().CA.Root())
	e.http = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots}},
	}
	return e
}

func (e *env) client() *client.Client {
	c := client.New(e.url, e.creds.AccountID, e.creds.APIKey)
	c.HTTPClient = e.http
	return c
}

// newAccount creates a second account through the service, as the CLI does.
func (e *env) newAccount(name string) account.Credentials {
	e.t.Helper()
	creds, err := e.srv.Data().Accounts.Create(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return creds
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return m
}

// codes returns the error codes of a v1 error envelope.
func (r response) codes(t testing.TB) []string {
	t.Helper()
	var env struct {
		Errors []struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("error body is not a JSON envelope (%v): %s", err, r.body)
	}
	var codes []string
	for _, e := range env.Errors {
		if e.Description == "" {
			t.Errorf("error %s has no description", e.Code)
		}
		codes = append(codes, e.Code)
	}
	return codes
}

type req struct {
	method  string
	path    string
	body    string
	headers map[string]string
	noAuth  bool
	creds   *account.Credentials
}

func (e *env) do(r req) response {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.url+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if !r.noAuth {
		c := e.creds
		if r.creds != nil {
			c = *r.creds
		}
		hr.SetBasicAuth(c.AccountID, c.APIKey)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	resp, err := e.http.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// orderBody is the reference's sample request with a real CSR.
func orderBody(t testing.TB, csr string, overrides map[string]any) string {
	t.Helper()
	m := map[string]any{
		"server_type": "2", "validity": "2", "common_name": "www.example.com",
		"org_name": "Tampa Bay Cray LLC", "org_addr1": "1234 Sesame Street", "org_city": "Tampa",
		"org_state": "FL", "org_zip": "33615", "org_country": "US",
		"org_contact_firstname": "Joe", "org_contact_lastname": "Bloggs",
		"org_contact_email": "joe@example.com", "org_contact_telephone": "555-123-1234",
		"csr": csr,
	}
	for k, v := range overrides {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonCT() map[string]string {
	return map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+json"}
}

func csrFor(t testing.TB, cn string, sans ...string) string {
	return testutil.CSR(t, testutil.Key(t, "p256"), cn, sans...)
}

// placeOrder creates an order through the API and returns its id.
func (e *env) placeOrder(overrides map[string]any) string {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/order/ssl", body: orderBody(e.t, csrFor(e.t, "www.example.com"), overrides), headers: jsonCT()})
	if r.status != http.StatusCreated {
		e.t.Fatalf("POST /order/ssl = %d: %s", r.status, r.body)
	}
	id, _ := r.json(e.t)["order_id"].(string)
	if id == "" {
		e.t.Fatalf("no order_id in %s", r.body)
	}
	return id
}

// verifyChain checks a certificate against the returned chain with
// crypto/x509 and, where installed, openssl.
func verifyChain(t *testing.T, certPEM, intermediatePEM, rootPEM string, dnsName string) *x509.Certificate {
	t.Helper()
	leaf := parsePEMCert(t, certPEM)
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(parsePEMCert(t, rootPEM))
	inters.AddCert(parsePEMCert(t, intermediatePEM))
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("crypto/x509 verify: %v", err)
	}
	testutil.OpenSSLVerify(t, certPEM, intermediatePEM, rootPEM)
	return leaf
}

func parsePEMCert(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	der := testutil.DecodePEM(t, s, "CERTIFICATE")
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
