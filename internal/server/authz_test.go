package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/certd/certd/internal/account"
)

// TestAuthorizationMatrix sends every endpoint and method as every kind
// of caller (no credentials, a wrong key, a revoked key, and each role),
// at its own account's records and at another account's, and checks the
// status of each cell:
//
//   - no credentials, a wrong or a revoked key: 401 access_denied;
//   - a role below the endpoint's: 403 access_denied:permission (checked
//     before any record is looked up, so it says nothing about records);
//   - an allowed role at another account's record: 404 not_found, the
//     answer for a record that does not exist, so ids cannot be probed;
//   - an allowed role at its own: the endpoint works;
//   - listings never show another account's records.
func TestAuthorizationMatrix(t *testing.T) {
	logos, _ := logoServer(t)
	e := start(t, envOptions{sandbox: true, allowPrivateFetch: true, authFailures: 1 << 20}) // the throttle: TestFailedAuthThrottle
	ctx := context.Background()
	own := e.keys()
	ownID, _ := account.ParseID(e.creds.AccountID)
	revokedKey, err := e.srv.Data().Accounts.CreateKey(ctx, ownID, account.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	keyID, _ := account.ParseID(revokedKey.KeyID)
	if err := e.srv.Data().Accounts.RevokeKey(ctx, ownID, keyID); err != nil {
		t.Fatal(err)
	}
	other := e.newAccount("other")

	// Records made fresh for each cell, in the owner's account.
	order := func(owner *account.Credentials) string {
		r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), nil), creds: owner})
		if r.status != 201 {
			t.Fatalf("order: %d %s", r.status, r.body)
		}
		return r.json(t)["order_id"].(string)
	}
	request := func(owner *account.Credentials) string {
		r := e.do(req{method: "POST", path: "/enterprise/certificate/ssl", headers: jsonCT(),
			body: orderBody(t, csrFor(t, "www.example.com"), map[string]any{"type": "private_ssl"}), creds: owner})
		if r.status != 201 {
			t.Fatalf("request: %d %s", r.status, r.body)
		}
		return r.json(t)["request_id"].(string)
	}
	type endpoint struct {
		name string
		perm string // the weakest role allowed
		// make returns the request at a record of owner's (owner is
		// ignored by endpoints without a record).
		make func(owner *account.Credentials) req
		// okCode is the answer of an allowed call at its own record when
		// it is an error the endpoint gives by design (sandbox orders have
		// nothing to validate).
		okCode string
		record bool
	}
	onOrder := func(method, suffix, body string) func(*account.Credentials) req {
		return func(o *account.Credentials) req {
			return req{method: method, path: "/order/" + order(o) + suffix, headers: jsonCT(), body: body}
		}
	}
	onRequest := func(method, body string) func(*account.Credentials) req {
		return func(o *account.Credentials) req {
			return req{method: method, path: "/request/" + request(o), headers: jsonCT(), body: body}
		}
	}
	fixed := func(method, path, body string) func(*account.Credentials) req {
		return func(*account.Credentials) req { return req{method: method, path: path, headers: jsonCT(), body: body} }
	}
	endpoints := []endpoint{
		{name: "POST /order/ssl", perm: "requester", make: fixed("POST", "/order/ssl", orderBody(t, csrFor(t, "www.example.com"), nil))},
		{name: "POST /order/code", perm: "requester", make: fixed("POST", "/order/code", codeBody(t, map[string]any{"csr": codeCSR(t)}))},
		{name: "POST /order/wfa", perm: "requester", make: fixed("POST", "/order/wfa", wifiBody(t, logos.URL, nil))},
		{name: "GET /order", perm: "viewer", make: fixed("GET", "/order", "")},
		{name: "GET /order/{id}", perm: "viewer", make: onOrder("GET", "", ""), record: true},
		{name: "HEAD /order/{id}", perm: "viewer", make: onOrder("HEAD", "", ""), record: true},
		{name: "REISSUE /order/{id}", perm: "requester", make: onOrder("REISSUE", "", `{"comments":"x"}`), record: true},
		{name: "POST /order/{id} as REISSUE", perm: "requester", record: true, make: func(o *account.Credentials) req {
			r := onOrder("POST", "", `{"comments":"x"}`)(o)
			r.headers["X-HTTP-Method-Override"] = "REISSUE"
			return r
		}},
		{name: "RENEW /order/{id}", perm: "requester", make: onOrder("RENEW", "", ""), record: true},
		{name: "REVOKE /order/{id}", perm: "admin", make: onOrder("REVOKE", "", `{"reason":"superseded"}`), record: true},
		{name: "GET /order/{id}/certificate", perm: "viewer", make: onOrder("GET", "/certificate", ""), record: true},
		{name: "GET /order/{id}/dcv", perm: "viewer", make: onOrder("GET", "/dcv", ""), record: true},
		{name: "POST /order/{id}/dcv", perm: "requester", make: onOrder("POST", "/dcv", ""), record: true, okCode: "nothing_to_check"},
		{name: "GET /domain", perm: "viewer", make: fixed("GET", "/domain", "")},
		{name: "POST /enterprise/certificate/ssl", perm: "requester", make: fixed("POST", "/enterprise/certificate/ssl",
			orderBody(t, csrFor(t, "www.example.com"), map[string]any{"type": "private_ssl"}))},
		{name: "GET /request", perm: "viewer", make: fixed("GET", "/request", "")},
		{name: "GET /request/{id}", perm: "viewer", make: onRequest("GET", ""), record: true},
		{name: "APPROVE /request/{id}", perm: "admin", make: onRequest("APPROVE", ""), record: true},
		{name: "REJECT /request/{id}", perm: "admin", make: onRequest("REJECT", `{"note":"no"}`), record: true},
		{name: "GET /account", perm: "viewer", make: fixed("GET", "/account", "")},
	}
	power := map[string]int{"viewer": 0, "requester": 1, "admin": 2}
	wrong := &account.Credentials{AccountID: e.creds.AccountID, APIKey: "wrong" + e.creds.APIKey[5:]}
	revoked := &account.Credentials{AccountID: revokedKey.AccountID, APIKey: revokedKey.APIKey}
	callers := []struct {
		name  string
		creds *account.Credentials
		role  string // "" for callers that are not authenticated
	}{
		{"no credentials", nil, ""}, {"wrong key", wrong, ""}, {"revoked key", revoked, ""},
		{"viewer", own["viewer"], "viewer"}, {"requester", own["requester"], "requester"}, {"admin", own["admin"], "admin"},
	}
	cells := 0
	for _, ep := range endpoints {
		targets := []string{"own"}
		if ep.record {
			targets = append(targets, "other account's")
		}
		for _, c := range callers {
			for _, target := range targets {
				t.Run(fmt.Sprintf("%s/%s/%s", ep.name, c.name, target), func(t *testing.T) {
					owner := &e.creds
					if target != "own" {
						owner = &other
					}
					rq := ep.make(owner)
					rq.creds, rq.noAuth = c.creds, c.creds == nil
					r := e.do(rq)
					cells++
					want, code := 0, ""
					switch {
					case c.role == "":
						want, code = http.StatusUnauthorized, "access_denied"
					case power[c.role] < power[ep.perm]:
						want, code = http.StatusForbidden, "access_denied:permission"
					case target != "own":
						want, code = http.StatusNotFound, "not_found"
					case ep.okCode != "":
						want, code = http.StatusBadRequest, ep.okCode
					}
					if want == 0 {
						if r.status >= 300 {
							t.Fatalf("allowed: %d %s", r.status, r.body)
						}
						return
					}
					if r.status != want {
						t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
					}
					if rq.method != "HEAD" {
						if codes := r.codes(t); len(codes) != 1 || codes[0] != code {
							t.Fatalf("codes %v, want %s", codes, code)
						}
					}
				})
			}
		}
	}
	t.Logf("%d cells", cells)

	// Listings show only the caller's own records.
	theirs := order(&other)
	theirRequest := request(&other)
	for _, l := range []struct{ path, id string }{
		{"/order", theirs}, {"/order?status=issued", theirs}, {"/order?name=www.example.com", theirs}, {"/request", theirRequest},
	} {
		r := e.do(req{method: "GET", path: l.path})
		if r.status != 200 {
			t.Fatalf("GET %s: %d", l.path, r.status)
		}
		if strings.Contains(string(r.body), `"id":"`+l.id+`"`) || strings.Contains(string(r.body), `"order_id":"`+l.id+`"`) ||
			strings.Contains(string(r.body), `"request_id":"`+l.id+`"`) {
			t.Fatalf("GET %s showed another account's %s: %s", l.path, l.id, r.body)
		}
		mine := e.do(req{method: "GET", path: l.path, creds: &other})
		if !strings.Contains(string(mine.body), `"`+l.id+`"`) {
			t.Fatalf("GET %s does not show the owner its own %s (the check above would prove nothing): %s", l.path, l.id, mine.body)
		}
	}
}
