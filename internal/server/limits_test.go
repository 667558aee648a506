package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/testutil"
)

// limited checks a 429 answer: the v1 envelope with rate_limit_exceeded
// and a Retry-After of whole seconds within max.
func limited(t *testing.T, r response, max time.Duration) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", r.status, r.body)
	}
	if codes := r.codes(t); len(codes) != 1 || codes[0] != "rate_limit_exceeded" {
		t.Fatalf("codes %v", codes)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > max {
		t.Fatalf("Retry-After %q, want 1s to %v", r.header.Get("Retry-After"), max)
	}
}

// TestAccountRequestLimit: an account's budget is spent by every request
// it makes, whatever the endpoint, and refused past it in the API's own
// envelope (JSON or XML) with Retry-After; other accounts keep theirs;
// an account's own setting overrides the server's.
func TestAccountRequestLimit(t *testing.T) {
	e := start(t, envOptions{sandbox: true, requestsPerHour: 4})
	other := e.newAccount("other")
	big := e.newAccount("big")
	bigID, _ := account.ParseID(big.AccountID)
	if err := e.srv.Data().DB.SetRequestsPerHour(context.Background(), bigID, 10); err != nil {
		t.Fatal(err)
	}
	e.placeOrder(nil)
	for _, path := range []string{"/order", "/account", "/domain"} {
		if r := e.do(req{method: "GET", path: path}); r.status != 200 {
			t.Fatalf("GET %s = %d", path, r.status)
		}
	}
	r := e.do(req{method: "GET", path: "/order"})
	limited(t, r, 15*time.Minute+time.Second) // an hour / 4
	x := e.do(req{method: "GET", path: "/order", headers: map[string]string{"Accept": "application/vnd.digicert.rest-v1+xml"}})
	if x.status != 429 || !strings.Contains(string(x.body), "<code>rate_limit_exceeded</code>") {
		t.Fatalf("XML: %d %s", x.status, x.body)
	}
	if r := e.do(req{method: "POST", path: "/order/ssl", body: orderBody(t, csrFor(t, "www.example.com"), nil), headers: jsonCT()}); r.status != 429 {
		t.Fatalf("an order over the budget: %d", r.status)
	}
	if r := e.do(req{method: "GET", path: "/order", creds: &other}); r.status != 200 {
		t.Fatalf("another account: %d", r.status)
	}
	for i := 0; i < 10; i++ {
		if r := e.do(req{method: "GET", path: "/order", creds: &big}); r.status != 200 {
			t.Fatalf("request %d of an account allowed 10: %d", i+1, r.status)
		}
	}
	limited(t, e.do(req{method: "GET", path: "/order", creds: &big}), 6*time.Minute+time.Second)
}

// TestRequestLimitDefaults: sandbox mode has no account budget unless one
// is configured; otherwise an account may make 1000 requests an hour.
func TestRequestLimitDefaults(t *testing.T) {
	t.Run("sandbox: none", func(t *testing.T) {
		e := start(t, envOptions{sandbox: true})
		for i := 0; i < 50; i++ {
			if r := e.do(req{method: "GET", path: "/account"}); r.status != 200 {
				t.Fatalf("request %d: %d", i+1, r.status)
			}
		}
	})
	t.Run("production: 1000 an hour", func(t *testing.T) {
		e := start(t, envOptions{})
		began := time.Now()
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for refused.Load() == 0 {
					hr, _ := http.NewRequest("GET", e.url+"/account", nil)
					hr.SetBasicAuth(e.creds.AccountID, e.creds.APIKey)
					resp, err := e.http.Do(hr)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case 200:
						ok.Add(1)
					case 429:
						refused.Add(1)
					default:
						t.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		// The budget refills by one each 3.6 s while the test runs.
		if n := ok.Load(); n < 1000 || n > 1001+int64(time.Since(began)/(3600*time.Millisecond)) {
			t.Fatalf("%d requests allowed before the first refusal, want 1000", n)
		}
	})
}

// sourceClient is an HTTP client whose connections come from ip (any
// 127.0.0.0/8 address reaches the loopback listener), so that a test can
// be several source addresses.
func (e *env) sourceClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:     d.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: e.roots},
	}}
}

func getAccount(t *testing.T, c *http.Client, url, user, key string) response {
	t.Helper()
	hr, _ := http.NewRequest("GET", url+"/account", nil)
	if user != "" {
		hr.SetBasicAuth(user, key)
	}
	resp, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestFailedAuthThrottle: a source address that fails to authenticate
// too often is refused, even with the right key, so that keys cannot be
// guessed; other addresses are not; requests without credentials spend
// nothing. On in sandbox mode too.
func TestFailedAuthThrottle(t *testing.T) {
	e := start(t, envOptions{sandbox: true, authFailures: 5})
	guesser := e.sourceClient("127.0.0.2")
	for i := 0; i < 10; i++ {
		if r := getAccount(t, guesser, e.url, "", ""); r.status != 401 {
			t.Fatalf("no credentials: %d", r.status)
		}
	}
	wrong := []struct{ user, key string }{
		{e.creds.AccountID, "wrong"},
		{e.creds.AccountID, strings.ToUpper(e.creds.APIKey)},
		{"999999", e.creds.APIKey},
		{"not-an-id", "x"},
		{e.creds.AccountID, e.creds.APIKey + "a"},
	}
	for _, w := range wrong {
		if r := getAccount(t, guesser, e.url, w.user, w.key); r.status != 401 {
			t.Fatalf("wrong key %q/%q: %d", w.user, w.key, r.status)
		}
	}
	// Over the budget: the right key is refused like a wrong one.
	limited(t, getAccount(t, guesser, e.url, e.creds.AccountID, e.creds.APIKey), 12*time.Minute+time.Second)
	limited(t, getAccount(t, guesser, e.url, e.creds.AccountID, "wrong"), 12*time.Minute+time.Second)
	// Another address is not affected.
	if r := getAccount(t, e.sourceClient("127.0.0.3"), e.url, e.creds.AccountID, e.creds.APIKey); r.status != 200 {
		t.Fatalf("another address: %d %s", r.status, r.body)
	}
}

// TestLimitsAcrossNodes: two nodes on one PostgreSQL database spend from
// the same budgets, for accounts and for failed authentications.
func TestLimitsAcrossNodes(t *testing.T) {
	url := testutil.PostgresDB(t)
	dir := t.TempDir()
	a := start(t, envOptions{sandbox: true, database: url, dir: dir, requestsPerHour: 6, authFailures: 4})
	b := start(t, envOptions{sandbox: true, database: url, dir: dir, requestsPerHour: 6, authFailures: 4})
	b.creds = a.creds
	for i := 0; i < 6; i++ {
		n := a
		if i%2 == 1 {
			n = b
		}
		if r := n.do(req{method: "GET", path: "/account"}); r.status != 200 {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	limited(t, a.do(req{method: "GET", path: "/account"}), 10*time.Minute+time.Second)
	limited(t, b.do(req{method: "GET", path: "/account"}), 10*time.Minute+time.Second)

	other := a.newAccount("other")
	for i := 0; i < 4; i++ {
		n := a
		if i%2 == 1 {
			n = b
		}
		if r := getAccount(t, n.sourceClient("127.0.0.4"), n.url, other.AccountID, fmt.Sprint("guess", i)); r.status != 401 {
			t.Fatalf("guess %d: %d", i+1, r.status)
		}
	}
	for _, n := range []*env{a, b} {
		limited(t, getAccount(t, n.sourceClient("127.0.0.4"), n.url, other.AccountID, other.APIKey), 15*time.Minute+time.Second)
	}
}

// padded is an order body of exactly size bytes.
func padded(t *testing.T, size int) string {
	b := orderBody(t, csrFor(t, "www.example.com"), map[string]any{"x_padding": ""})
	return strings.Replace(b, `"x_padding":""`, `"x_padding":"`+strings.Repeat("p", size-len(b))+`"`, 1)
}

// TestLimitBoundaries: each size limit holds exactly at its value: the
// most names an order may carry (the common name is one of them), a body
// just under and just over 64 KiB, and headers over 64 KiB (refused by
// Go's server with 431 before certd reads them).
func TestLimitBoundaries(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	tests := []struct {
		name   string
		body   func() string
		status int
		code   string
	}{
		{"250 names", func() string {
			return orderBody(t, csrFor(t, "www.example.com"), map[string]any{"sans": manyNames(249)})
		}, 201, ""},
		{"251 names", func() string {
			return orderBody(t, csrFor(t, "www.example.com"), map[string]any{"sans": manyNames(250)})
		}, 400, "invalid_param:sans"},
		// x_padding is not a parameter: unknown parameters are ignored.
		{"body of 64 KiB", func() string { return padded(t, 64<<10) }, 201, ""},
		{"body of 64 KiB + 1", func() string { return padded(t, 64<<10+1) }, 413, "request_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/ssl", body: tt.body(), headers: jsonCT()})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tt.status, r.body)
			}
			if tt.code != "" {
				if codes := r.codes(t); len(codes) == 0 || codes[0] != tt.code {
					t.Fatalf("codes %v, want %s", codes, tt.code)
				}
			}
		})
	}
	t.Run("headers over 64 KiB", func(t *testing.T) {
		// Over HTTP/1.1 (HTTP/2 clients are told the limit in SETTINGS
		// and refuse to send such headers themselves).
		h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
		hr, _ := http.NewRequest("GET", e.url+"/account", nil)
		hr.SetBasicAuth(e.creds.AccountID, e.creds.APIKey)
		hr.Header.Set("X-Padding", strings.Repeat("p", 70<<10))
		resp, err := h1.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.ProtoMajor != 1 {
			t.Fatalf("status %d over HTTP/%d", resp.StatusCode, resp.ProtoMajor)
		}
		if r := e.do(req{method: "GET", path: "/account"}); r.status != 200 {
			t.Fatalf("the server after a refused header: %d", r.status)
		}
	})
}
