package client_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/client"
)

// TestLifecycle drives the calls the examples do not through the real
// server: listing with filters and pages, reissue (waiting for the new
// certificate), renewal, code signing, the account, and a rejected
// request.
func TestLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := connect()

	csr, _ := newCSR("life.example.com", "www.life.example.com")
	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{CSR: csr, Validity: 1, Org: exampleOrg})
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Order(ctx, id)
	if err != nil || o.CertificateDetails.Status != "issued" || o.CertificateDetails.CommonName != "life.example.com" {
		t.Fatalf("Order = %+v, %v", o, err)
	}
	first, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.Orders(ctx, client.OrderFilter{Name: "www.life.example.com"})
	if err != nil || len(page.Orders) != 1 || page.Orders[0].OrderID != id || page.Orders[0].Serial != first.Serial {
		t.Fatalf("Orders by name = %+v, %v", page, err)
	}
	if _, err := c.OrderSSL(ctx, client.OrderSSLRequest{CSR: csr, Validity: 1, Org: exampleOrg}); err != nil {
		t.Fatal(err)
	}
	page, err = c.Orders(ctx, client.OrderFilter{Limit: 1})
	if err != nil || len(page.Orders) != 1 || page.NextCursor == "" {
		t.Fatalf("Orders limit 1 = %+v, %v", page, err)
	}
	next, err := c.Orders(ctx, client.OrderFilter{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(next.Orders) != 1 || next.Orders[0].OrderID == page.Orders[0].OrderID {
		t.Fatalf("second page = %+v, %v", next, err)
	}

	csr2, _ := newCSR("life.example.com", "api.life.example.com")
	re, err := c.Reissue(ctx, id, client.ReissueRequest{CSR: csr2, SANs: []string{"api.life.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(re.PendingNameChanges.AddedNames) != 1 || re.PendingNameChanges.AddedNames[0] != "api.life.example.com" {
		t.Errorf("Reissue = %+v", re)
	}
	again, err := c.WaitForCertificate(ctx, id, client.UntilReissued(), client.WithPollInterval(10*time.Millisecond, 50*time.Millisecond))
	if err != nil || again.Serial == first.Serial {
		t.Fatalf("after reissue: %+v, %v", again, err)
	}

	renewal, err := c.Renew(ctx, id, client.RenewRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ro, err := c.Order(ctx, renewal)
	if err != nil || !ro.CertificateDetails.IsRenewal || ro.CertificateDetails.RenewedOrderID == nil || *ro.CertificateDetails.RenewedOrderID != id {
		t.Fatalf("renewal order = %+v, %v", ro, err)
	}
	if _, err := c.Renew(ctx, id, client.RenewRequest{}); !client.HasCode(err, "order_already_renewed") {
		t.Errorf("second renewal: %v", err)
	}

	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "Example LLC"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	org := exampleOrg
	org.Telephone, org.OrgContactJobTitle = "555-123-1234", "CTO"
	codeID, err := c.OrderCode(ctx, client.OrderCodeRequest{
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), Validity: 1, Platform: "51", Org: org,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cert, err := c.Certificate(ctx, codeID); err != nil || cert.Certs.Certificate == "" {
		t.Fatalf("code signing certificate: %v", err)
	}

	acct, err := c.Account(ctx)
	if err != nil || acct.AccountID != accountID || acct.APIUserRole != "admin" || !acct.APIPermissions.AllowRevoke {
		t.Fatalf("Account = %+v, %v", acct, err)
	}
	if _, err := c.Domains(ctx); err != nil {
		t.Fatalf("Domains: %v", err)
	}

	csr3, _ := newCSR("no.example.com")
	reqID, err := c.SubmitRequest(ctx, client.EnterpriseRequest{OrderSSLRequest: client.OrderSSLRequest{CSR: csr3, Validity: 1, Org: exampleOrg}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RejectRequest(ctx, reqID, ""); !client.HasCode(err, "required_param:note") {
		t.Errorf("reject without a note: %v", err)
	}
	rej, err := c.RejectRequest(ctx, reqID, "not ours")
	if err != nil || rej.Status != "rejected" || rej.Note != "not ours" {
		t.Fatalf("RejectRequest = %+v, %v", rej, err)
	}
	if _, err := c.ApproveRequest(ctx, reqID, ""); !client.HasCode(err, "request_already_decided") {
		t.Errorf("approve after reject: %v", err)
	}
}

// TestErrors: the server's envelope becomes *Error with every problem,
// and bad credentials are 401.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	c := connect()
	_, err := c.OrderSSL(ctx, client.OrderSSLRequest{Validity: 9})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 400 || !e.Has("required_param:csr") || len(e.Errors) < 2 {
		t.Fatalf("bad order: %#v", err)
	}
	if client.StatusOf(err) != 400 || client.StatusOf(errors.New("x")) != 0 {
		t.Error("StatusOf")
	}
	bad := connect()
	bad.APIKey = "wrong"
	if _, err := bad.Account(ctx); client.StatusOf(err) != 401 {
		t.Errorf("wrong key: %v", err)
	}
	if err := bad.TrustRoots([]byte("not a certificate")); err == nil {
		t.Error("TrustRoots took no certificate")
	}
	// Without certd's root, TLS fails: the client does not trust it blindly.
	plain := client.New(certdURL, accountID, apiKey)
	plain.Retries = 0
	if _, err := plain.Account(ctx); err == nil || client.StatusOf(err) != 0 {
		t.Errorf("without the root: %v", err)
	}
}

// TestRetries: calls are tried again after 429/503, a write still in
// progress and network errors, honouring Retry-After; a write carries one
// Idempotency-Key on all its attempts, a read none.
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int    // answered before success
		failures int32  // how many times
		method   string // "get" or "post"
		calls    int32  // server calls expected
		ok       bool
	}{
		{"read after 503", 503, 2, "get", 3, true},
		{"read after 429", 429, 1, "get", 2, true},
		{"read gives up", 503, 10, "get", 4, false},
		{"read not retried on 404", 404, 1, "get", 1, false},
		{"write retried", 503, 1, "post", 2, true},
		{"write in progress retried", 409, 1, "post", 2, true},
		{"write not retried on 400", 400, 1, "post", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var mu sync.Mutex
			keys := map[string]bool{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				keys[r.Header.Get("Idempotency-Key")] = true
				mu.Unlock()
				if calls.Add(1) <= tc.failures {
					if tc.status == http.StatusTooManyRequests {
						w.Header().Set("Retry-After", "1")
					}
					w.WriteHeader(tc.status)
					code := "busy"
					if tc.status == http.StatusConflict {
						code = "idempotency_key_in_progress"
					}
					_, _ = w.Write([]byte(`{"errors":[{"code":"` + code + `","description":"try later"}]}`))
					return
				}
				_, _ = w.Write([]byte(`{"account_id":"000001","order_id":"00000001"}`))
			}))
			defer srv.Close()
			c := client.New(srv.URL, "000001", "k")
			var err error
			if tc.method == "get" {
				_, err = c.Account(context.Background())
			} else {
				_, err = c.OrderSSL(context.Background(), client.OrderSSLRequest{})
			}
			if (err == nil) != tc.ok || calls.Load() != tc.calls {
				t.Fatalf("err %v after %d calls; want ok=%v after %d", err, calls.Load(), tc.ok, tc.calls)
			}
			if len(keys) != 1 || (tc.method == "post") == keys[""] {
				t.Fatalf("Idempotency-Keys sent: %v (want one, empty only for a read)", keys)
			}
		})
	}
	t.Run("network error", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c := client.New(url, "000001", "k")
		c.Retries = 1
		start := time.Now()
		if _, err := c.Account(context.Background()); err == nil || client.StatusOf(err) != 0 {
			t.Fatalf("closed server: %v", err)
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Error("no backoff before the retry")
		}
	})
}

// TestRetriedOrderIsOneOrder: the network loses certd's answer to an
// order (a proxy forwards the request, then drops the connection); the
// client's retry, with the same Idempotency-Key, gets the first answer,
// and the account has one new order, not two.
func TestRetriedOrderIsOneOrder(t *testing.T) {
	ctx := context.Background()
	c := client.New(certdURL, accountID, apiKey)
	if err := c.TrustRoots(rootPEM); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(certdURL)
	forward := httputil.NewSingleHostReverseProxy(target)
	forward.Transport = c.HTTPClient.Transport
	var dropped atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && dropped.CompareAndSwap(false, true) {
			rec := httptest.NewRecorder()
			forward.ServeHTTP(rec, r) // certd does the work ...
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // ... and its answer is lost
			}
			return
		}
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	before, err := c.Orders(ctx, client.OrderFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	via := client.New(proxy.URL, accountID, apiKey)
	csr, _ := newCSR("www.example.com")
	id, err := via.OrderSSL(ctx, client.OrderSSLRequest{CSR: csr, CommonName: "www.example.com", Validity: 1, ServerType: 2, Org: exampleOrg})
	if err != nil {
		t.Fatal(err)
	}
	if !dropped.Load() {
		t.Fatal("the proxy dropped nothing")
	}
	after, err := c.Orders(ctx, client.OrderFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Orders) != len(before.Orders)+1 || after.Orders[0].OrderID != id {
		t.Fatalf("orders %d -> %d (newest %s, answered %s); want one new", len(before.Orders), len(after.Orders), after.Orders[0].OrderID, id)
	}
}
