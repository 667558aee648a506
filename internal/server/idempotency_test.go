package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/testutil"
)

// orders counts an account's orders in the database.
func (e *env) orders(creds account.Credentials) int {
	e.t.Helper()
	id, _ := account.ParseID(creds.AccountID)
	os, err := e.srv.Data().DB.ListOrders(context.Background(), store.ListFilter{AccountID: id, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(os)
}

func withKey(key string) map[string]string {
	h := jsonCT()
	h["Idempotency-Key"] = key
	return h
}

// TestIdempotencyKey: a retried order with the same Idempotency-Key and
// body is answered with the first answer, byte for byte, and makes no
// second order or certificate; another body, another path or a bad key
// are refused; keys are per account; custom methods and error answers
// replay too.
func TestIdempotencyKey(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	other := e.newAccount("other")
	body := orderBody(t, csrFor(t, "www.example.com"), nil)

	first := e.do(req{method: "POST", path: "/order/ssl", body: body, headers: withKey("order-1")})
	if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v %s", first.status, first.header, first.body)
	}
	for _, path := range []string{"/order/ssl", "/clients/rest/api/order/ssl"} {
		again := e.do(req{method: "POST", path: path, body: body, headers: withKey(`"order-1"`)})
		if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry at %s: %d %v %s", path, again.status, again.header, again.body)
		}
	}
	if n := e.orders(e.creds); n != 1 {
		t.Fatalf("%d orders after a retried order, want 1", n)
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name   string
			req    req
			status int
			code   string
		}{
			{"same key, another body", req{method: "POST", path: "/order/ssl", body: orderBody(t, csrFor(t, "www.example.com"), nil), headers: withKey("order-1")}, 422, "idempotency_key_reused"},
			{"same key, another endpoint", req{method: "POST", path: "/enterprise/certificate/ssl", body: body, headers: withKey("order-1")}, 422, "idempotency_key_reused"},
			{"empty key", req{method: "POST", path: "/order/ssl", body: body, headers: withKey("")}, 400, "invalid_idempotency_key"},
			{"key too long", req{method: "POST", path: "/order/ssl", body: body, headers: withKey(strings.Repeat("k", 256))}, 400, "invalid_idempotency_key"},
			{"key with a space", req{method: "POST", path: "/order/ssl", body: body, headers: withKey("a b")}, 400, "invalid_idempotency_key"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.req)
				if r.status != tt.status || r.codes(t)[0] != tt.code {
					t.Fatalf("%d %s", r.status, r.body)
				}
			})
		}
		t.Run("key sent twice", func(t *testing.T) {
			hr, _ := http.NewRequest("POST", e.url+"/order/ssl", strings.NewReader(body))
			hr.SetBasicAuth(e.creds.AccountID, e.creds.APIKey)
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Add("Idempotency-Key", "a")
			hr.Header.Add("Idempotency-Key", "b")
			resp, err := e.http.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
		})
		if n := e.orders(e.creds); n != 1 {
			t.Fatalf("%d orders after refused retries, want 1", n)
		}
	})

	t.Run("keys are per account", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/order/ssl", body: body, headers: withKey("order-1"), creds: &other})
		if r.status != 201 || r.header.Get("Idempotent-Replayed") != "" || bytes.Equal(r.body, first.body) {
			t.Fatalf("another account's key: %d %s", r.status, r.body)
		}
	})

	t.Run("custom method and error answers replay", func(t *testing.T) {
		id := e.placeOrder(nil)
		rv := req{method: "REVOKE", path: "/order/" + id, headers: withKey("revoke-1"), body: `{"reason":"superseded"}`}
		r1, r2 := e.do(rv), e.do(rv)
		if r1.status != 200 || r2.status != 200 || r2.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r1.body, r2.body) {
			t.Fatalf("revoke twice: %d %d %s", r1.status, r2.status, r2.body)
		}
		// Without the key, a second revocation is a conflict.
		if r := e.do(req{method: "REVOKE", path: "/order/" + id, headers: jsonCT(), body: `{"reason":"superseded"}`}); r.status < 400 {
			t.Fatalf("second revocation without the key: %d", r.status)
		}
		bad := req{method: "POST", path: "/order/ssl", headers: withKey("bad-1"), body: `{"csr":"x"}`}
		b1, b2 := e.do(bad), e.do(bad)
		if b1.status != 400 || b2.status != 400 || b2.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(b1.body, b2.body) {
			t.Fatalf("bad order twice: %d %d", b1.status, b2.status)
		}
	})

	t.Run("concurrent duplicates", func(t *testing.T) {
		before := e.orders(e.creds)
		body := orderBody(t, csrFor(t, "www.example.com"), nil)
		var wg sync.WaitGroup
		results := make([]response, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.do(req{method: "POST", path: "/order/ssl", body: body, headers: withKey("race-1")})
			}()
		}
		wg.Wait()
		var created []byte
		for _, r := range results {
			switch r.status {
			case 201:
				if created != nil && !bytes.Equal(created, r.body) {
					t.Fatalf("two different answers: %s / %s", created, r.body)
				}
				created = r.body
			case 409:
				if r.codes(t)[0] != "idempotency_key_in_progress" || r.header.Get("Retry-After") == "" {
					t.Fatalf("409: %v %s", r.header, r.body)
				}
			default:
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		}
		if n := e.orders(e.creds) - before; n != 1 {
			t.Fatalf("8 concurrent duplicates made %d orders, want 1", n)
		}
	})
}

// TestIdempotencyAcrossNodes: a retry that reaches another node of the
// cluster gets the first node's answer.
func TestIdempotencyAcrossNodes(t *testing.T) {
	url := testutil.PostgresDB(t)
	dir := t.TempDir()
	a := start(t, envOptions{sandbox: true, database: url, dir: dir})
	b := start(t, envOptions{sandbox: true, database: url, dir: dir})
	b.creds = a.creds
	body := orderBody(t, csrFor(t, "www.example.com"), nil)
	r1 := a.do(req{method: "POST", path: "/order/ssl", body: body, headers: withKey("k")})
	r2 := b.do(req{method: "POST", path: "/order/ssl", body: body, headers: withKey("k")})
	if r1.status != http.StatusCreated || r2.status != http.StatusCreated || !bytes.Equal(r1.body, r2.body) || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a: %d %s; b: %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if n := a.orders(a.creds); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
}
