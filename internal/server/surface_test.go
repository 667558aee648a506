package server_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/certd/certd/internal/account"
)

// keys makes one key of each role for the bootstrap account.
func (e *env) keys() map[string]*account.Credentials {
	e.t.Helper()
	id, _ := account.ParseID(e.creds.AccountID)
	out := map[string]*account.Credentials{"admin": &e.creds}
	for _, role := range []string{account.RoleRequester, account.RoleViewer} {
		k, err := e.srv.Data().Accounts.CreateKey(context.Background(), id, role)
		if err != nil {
			e.t.Fatal(err)
		}
		out[role] = &account.Credentials{AccountID: k.AccountID, APIKey: k.APIKey}
	}
	return out
}

func (e *env) submitRequest(overrides map[string]any) string {
	e.t.Helper()
	if overrides == nil {
		overrides = map[string]any{}
	}
	if _, ok := overrides["type"]; !ok {
		overrides["type"] = "private_ssl"
	}
	r := e.do(req{method: "POST", path: "/enterprise/certificate/ssl", headers: jsonCT(), body: orderBody(e.t, csrFor(e.t, "www.example.com"), overrides)})
	if r.status != http.StatusCreated {
		e.t.Fatalf("POST /enterprise/certificate/ssl = %d %s", r.status, r.body)
	}
	return r.json(e.t)["request_id"].(string)
}

func TestEnterpriseFlow(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.submitRequest(map[string]any{"business_unit": "Web", "comments": "for the shop", "signature_hash": "sha256", "unknown_field": 1})

	r := e.do(req{method: "GET", path: "/request/" + strings.TrimLeft(id, "0")})
	if r.status != 200 {
		t.Fatalf("GET request = %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["status"] != "pending" || m["type"] != "private_ssl" || m["business_unit"] != "Web" || m["common_name"] != "www.example.com" || m["order_id"] != "" || m["decided_by"] != nil {
		t.Fatalf("pending request = %v", m)
	}

	t.Run("approve without a body", func(t *testing.T) {
		r := e.do(req{method: "APPROVE", path: "/request/" + id})
		if r.status != 200 {
			t.Fatalf("APPROVE = %d %s", r.status, r.body)
		}
		orderID := r.json(t)["order_id"].(string)
		if len(orderID) != 8 {
			t.Fatalf("order_id = %q", orderID)
		}
		got := e.do(req{method: "GET", path: "/request/" + id}).json(t)
		if got["status"] != "approved" || got["order_id"] != orderID || got["date_decided"] == "" {
			t.Fatalf("approved request = %v", got)
		}
		if by := got["decided_by"].(map[string]any); by["api_key_id"] != "1" {
			t.Fatalf("decided_by = %v", by)
		}
		o := e.do(req{method: "GET", path: "/order/" + orderID}).json(t)["certificate_details"].(map[string]any)
		if o["status"] != "issued" || o["business_unit"] != "Web" {
			t.Fatalf("order from request = %v", o)
		}
	})

	t.Run("deciding twice", func(t *testing.T) {
		for _, rq := range []req{
			{method: "APPROVE", path: "/request/" + id},
			{method: "POST", path: "/request/" + id, headers: map[string]string{"X-HTTP-Method-Override": "REJECT", "Content-Type": "application/json"}, body: `{"note":"too late"}`},
		} {
			r := e.do(rq)
			if r.status != 400 || r.codes(t)[0] != "request_already_decided" {
				t.Fatalf("%s again = %d %s", rq.method, r.status, r.body)
			}
		}
		if list := e.do(req{method: "GET", path: "/order"}).json(t)["orders"].([]any); len(list) != 1 {
			t.Fatalf("%d orders after deciding twice", len(list))
		}
	})

	t.Run("approve with override and a note", func(t *testing.T) {
		id2 := e.submitRequest(nil)
		r := e.do(req{method: "POST", path: "/request/" + id2, body: `{"note":"fine"}`, headers: map[string]string{
			"X-HTTP-Method-Override": "APPROVE", "Content-Type": "application/vnd.digicert.rest-v1+json", "Accept": "application/vnd.digicert.rest-v1+json"}})
		if r.status != 200 || r.json(t)["order_id"] == "" {
			t.Fatalf("override APPROVE = %d %s", r.status, r.body)
		}
		if got := e.do(req{method: "GET", path: "/request/" + id2}).json(t); got["note"] != "fine" {
			t.Fatalf("note = %v", got["note"])
		}
	})

	t.Run("reject needs a note", func(t *testing.T) {
		id3 := e.submitRequest(nil)
		for _, body := range []string{"", `{}`, `{"note":"  "}`} {
			r := e.do(req{method: "REJECT", path: "/request/" + id3, body: body, headers: jsonCT()})
			if r.status != 400 || r.codes(t)[0] != "required_param:note" {
				t.Fatalf("REJECT %q = %d %s", body, r.status, r.body)
			}
		}
		r := e.do(req{method: "REJECT", path: "/request/" + id3, body: `{"note":"not ours"}`, headers: jsonCT()})
		if r.status != 200 {
			t.Fatalf("REJECT = %d %s", r.status, r.body)
		}
		if m := r.json(t); m["status"] != "rejected" || m["request_id"] != id3 {
			t.Fatalf("REJECT body = %v", m)
		}
		if r := e.do(req{method: "APPROVE", path: "/request/" + id3}); r.status != 400 || r.codes(t)[0] != "request_already_decided" {
			t.Fatalf("approve after reject = %d %s", r.status, r.body)
		}
	})

	t.Run("reject in XML", func(t *testing.T) {
		id4 := e.submitRequest(nil)
		r := e.do(req{method: "REJECT", path: "/request/" + id4, body: `<request><note>no</note></request>`, headers: map[string]string{"Content-Type": "application/xml"}})
		if r.status != 200 || !strings.Contains(string(r.body), "<status>rejected</status>") {
			t.Fatalf("XML REJECT = %d %s", r.status, r.body)
		}
		r = e.do(req{method: "REJECT", path: "/request/" + id4, body: `<request></request>`, headers: map[string]string{"Content-Type": "application/xml"}})
		if r.status != 400 || !strings.Contains(string(r.body), "<code>request_already_decided</code>") {
			t.Fatalf("XML REJECT again = %d %s", r.status, r.body)
		}
	})

	t.Run("list and filter", func(t *testing.T) {
		all := e.do(req{method: "GET", path: "/request"}).json(t)["requests"].([]any)
		if len(all) != 4 {
			t.Fatalf("%d requests", len(all))
		}
		for status, n := range map[string]int{"pending": 0, "approved": 2, "rejected": 2} {
			got := e.do(req{method: "GET", path: "/request?status=" + status}).json(t)["requests"].([]any)
			if len(got) != n {
				t.Errorf("status %s: %d requests, want %d", status, len(got), n)
			}
		}
		page := e.do(req{method: "GET", path: "/request?limit=3"}).json(t)
		if len(page["requests"].([]any)) != 3 || page["next_cursor"] == "" {
			t.Fatalf("page = %v", page)
		}
		rest := e.do(req{method: "GET", path: "/request?limit=3&cursor=" + page["next_cursor"].(string)}).json(t)
		if len(rest["requests"].([]any)) != 1 || rest["next_cursor"] != "" {
			t.Fatalf("second page = %v", rest)
		}
		if r := e.do(req{method: "GET", path: "/request?status=maybe"}); r.status != 400 || r.codes(t)[0] != "invalid_param:status" {
			t.Fatalf("bad status = %d %s", r.status, r.body)
		}
		xr := e.do(req{method: "GET", path: "/request?status=rejected", headers: map[string]string{"Accept": "application/xml"}})
		var v struct {
			Requests []struct {
				ID     string `xml:"request_id"`
				Status string `xml:"status"`
			} `xml:"requests>request"`
		}
		if err := xml.Unmarshal(xr.body, &v); err != nil || len(v.Requests) != 2 || v.Requests[0].Status != "rejected" {
			t.Fatalf("XML list = %v %s", err, xr.body)
		}
	})

	t.Run("bad submissions", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/enterprise/certificate/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), map[string]any{"validity": 7, "type": strings.Repeat("x", 100)})})
		if r.status != 400 || fmt.Sprint(r.codes(t)) != "[invalid_param:validity invalid_param:type]" {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})

	t.Run("isolation", func(t *testing.T) {
		other := e.newAccount("other")
		for _, rq := range []req{
			{method: "GET", path: "/request/" + id, creds: &other},
			{method: "APPROVE", path: "/request/" + id, creds: &other},
			{method: "REJECT", path: "/request/" + id, body: `{"note":"x"}`, headers: jsonCT(), creds: &other},
		} {
			if r := e.do(rq); r.status != 404 {
				t.Fatalf("%s by another account = %d %s", rq.method, r.status, r.body)
			}
		}
		if got := e.do(req{method: "GET", path: "/request", creds: &other}).json(t)["requests"].([]any); len(got) != 0 {
			t.Fatalf("another account lists %d requests", len(got))
		}
	})
}

func TestEnterpriseSubmitXML(t *testing.T) {
	e := start(t, envOptions{})
	body := `<request><type>private_ssl</type><validity>1</validity><common_name>intranet.example.com</common_name>
<csr>` + csrFor(t, "intranet.example.com") + `</csr><org_name>A</org_name><org_addr1>B</org_addr1><org_city>C</org_city><org_state>D</org_state>
<org_zip>1</org_zip><org_country>us</org_country><org_contact_firstname>E</org_contact_firstname><org_contact_lastname>F</org_contact_lastname>
<org_contact_email>e@example.com</org_contact_email><org_contact_telephone>555-123-1234</org_contact_telephone><business_unit>IT</business_unit></request>`
	r := e.do(req{method: "POST", path: "/enterprise/certificate/ssl", body: body, headers: map[string]string{"Content-Type": "application/vnd.digicert.rest-v1+xml"}})
	if r.status != 201 || !strings.Contains(string(r.body), "<request_id>") {
		t.Fatalf("XML submit = %d %s", r.status, r.body)
	}
	var created struct {
		ID string `xml:"request_id"`
	}
	if err := xml.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	r = e.do(req{method: "APPROVE", path: "/request/" + created.ID, headers: map[string]string{"Accept": "application/xml"}})
	if r.status != 200 || !strings.Contains(string(r.body), "<order_id>") {
		t.Fatalf("XML approve = %d %s", r.status, r.body)
	}
	// Outside sandbox mode the order the approval made awaits issuance.
	var approved struct {
		OrderID string `xml:"order_id"`
	}
	if err := xml.Unmarshal(r.body, &approved); err != nil {
		t.Fatal(err)
	}
	if st := e.do(req{method: "GET", path: "/order/" + approved.OrderID}).json(t)["certificate_details"].(map[string]any)["status"]; st != "pending issuance" {
		t.Fatalf("status = %v", st)
	}
}

// TestRoles checks every role against every kind of endpoint.
func TestRoles(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	keys := e.keys()
	orderID := e.placeOrder(nil)
	type action struct {
		name string
		perm string // the weakest role allowed
		make func() req
	}
	actions := []action{
		{"view order", "viewer", func() req { return req{method: "GET", path: "/order/" + orderID} }},
		{"list orders", "viewer", func() req { return req{method: "GET", path: "/order"} }},
		{"view certificate", "viewer", func() req { return req{method: "GET", path: "/order/" + orderID + "/certificate"} }},
		{"view account", "viewer", func() req { return req{method: "GET", path: "/account"} }},
		{"list requests", "viewer", func() req { return req{method: "GET", path: "/request"} }},
		{"order", "requester", func() req {
			return req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), nil)}
		}},
		{"submit request", "requester", func() req {
			return req{method: "POST", path: "/enterprise/certificate/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), nil)}
		}},
		{"reissue", "requester", func() req { return req{method: "REISSUE", path: "/order/" + orderID} }},
		{"renew", "requester", func() req { return req{method: "RENEW", path: "/order/" + e.placeOrder(nil)} }},
		{"approve", "admin", func() req { return req{method: "APPROVE", path: "/request/" + e.submitRequest(nil)} }},
		{"reject", "admin", func() req {
			return req{method: "REJECT", path: "/request/" + e.submitRequest(nil), headers: jsonCT(), body: `{"note":"no"}`}
		}},
		{"revoke", "admin", func() req { return req{method: "REVOKE", path: "/order/" + e.placeOrder(nil)} }},
	}
	power := map[string]int{"viewer": 0, "requester": 1, "admin": 2}
	for _, a := range actions {
		for _, role := range []string{"viewer", "requester", "admin"} {
			t.Run(a.name+" as "+role, func(t *testing.T) {
				rq := a.make()
				rq.creds = keys[role]
				r := e.do(rq)
				allowed := power[role] >= power[a.perm]
				if allowed && r.status >= 400 {
					t.Fatalf("allowed action failed: %d %s", r.status, r.body)
				}
				if !allowed {
					if r.status != http.StatusForbidden || r.codes(t)[0] != "access_denied:permission" {
						t.Fatalf("forbidden action = %d %s", r.status, r.body)
					}
				}
			})
		}
	}
}

func TestAccountEndpoint(t *testing.T) {
	e := start(t, envOptions{})
	keys := e.keys()
	for role, creds := range keys {
		t.Run(role, func(t *testing.T) {
			m := e.do(req{method: "GET", path: "/account", creds: creds}).json(t)
			perms := m["api_permissions"].(map[string]any)
			if m["account_id"] != e.creds.AccountID || m["name"] != "bootstrap" || m["api_user_role"] != role || m["account_balance"] != 0.0 {
				t.Fatalf("account = %v", m)
			}
			if perms["allow_ev"] != (role != "viewer") || perms["allow_revoke"] != (role == "admin") {
				t.Fatalf("permissions = %v", perms)
			}
		})
	}
	r := e.do(req{method: "GET", path: "/account", headers: map[string]string{"Accept": "application/xml"}})
	if !strings.Contains(string(r.body), "<api_user_role>admin</api_user_role>") || !strings.Contains(string(r.body), "<allow_ev>true</allow_ev>") {
		t.Fatalf("XML account = %s", r.body)
	}
}

func TestRevokedKeyRefused(t *testing.T) {
	e := start(t, envOptions{})
	id, _ := account.ParseID(e.creds.AccountID)
	k, err := e.srv.Data().Accounts.CreateKey(context.Background(), id, account.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	creds := &account.Credentials{AccountID: k.AccountID, APIKey: k.APIKey}
	if r := e.do(req{method: "GET", path: "/account", creds: creds}); r.status != 200 {
		t.Fatalf("before revocation = %d", r.status)
	}
	keyID, _ := account.ParseID(k.KeyID)
	if err := e.srv.Data().Accounts.RevokeKey(context.Background(), id, keyID); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "GET", path: "/account", creds: creds}); r.status != 401 {
		t.Fatalf("after revocation = %d", r.status)
	}
}

func TestRenewAndRevoke(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	c := e.client()
	ctx := context.Background()
	id := e.placeOrder(map[string]any{"sans": "a.example.com"})
	before, err := c.Certificate(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("renew", func(t *testing.T) {
		r := e.do(req{method: "RENEW", path: "/order/" + id, headers: jsonCT(), body: `{"validity":"1","sans":"b.example.com","csr":` + jsonString(csrFor(t, "www.example.com")) + `}`})
		if r.status != 201 {
			t.Fatalf("RENEW = %d %s", r.status, r.body)
		}
		newID := r.json(t)["order_id"].(string)
		renewed := e.do(req{method: "GET", path: "/order/" + newID}).json(t)["certificate_details"].(map[string]any)
		if renewed["is_renewal"] != true || renewed["renewed_order_id"] != id || renewed["validity"] != "1 Year(s)" || renewed["status"] != "issued" {
			t.Fatalf("renewal = %v", renewed)
		}
		if sans := renewed["sans"].([]any); len(sans) != 1 || sans[0] != "b.example.com" {
			t.Fatalf("renewal sans = %v", sans)
		}
		old := e.do(req{method: "GET", path: "/order/" + id}).json(t)["certificate_details"].(map[string]any)
		if old["renewal_order_id"] != newID || old["is_renewal"] != false {
			t.Fatalf("renewed order = %v", old)
		}
		if r := e.do(req{method: "POST", path: "/order/" + id, headers: map[string]string{"X-HTTP-Method-Override": "RENEW"}}); r.status != 400 || r.codes(t)[0] != "order_already_renewed" {
			t.Fatalf("renew twice = %d %s", r.status, r.body)
		}
		xr := e.do(req{method: "RENEW", path: "/order/" + newID, headers: map[string]string{"Content-Type": "application/xml"}, body: `<request><validity>2</validity></request>`})
		if xr.status != 201 || !strings.Contains(string(xr.body), "<order_id>") {
			t.Fatalf("XML RENEW = %d %s", xr.status, xr.body)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		for _, body := range []string{`{"reason":"sometimes"}`, `{"reason":"certificateHold"}`, `{"reason":"cACompromise"}`} {
			if r := e.do(req{method: "REVOKE", path: "/order/" + id, headers: jsonCT(), body: body}); r.status != 400 || r.codes(t)[0] != "invalid_param:reason" {
				t.Fatalf("REVOKE %s = %d %s", body, r.status, r.body)
			}
		}
		r := e.do(req{method: "POST", path: "/order/" + id, headers: map[string]string{"X-HTTP-Method-Override": "REVOKE", "Content-Type": "application/json"}, body: `{"reason":"keyCompromise","comments":"laptop stolen"}`})
		if r.status != 200 {
			t.Fatalf("REVOKE = %d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["status"] != "revoked" || m["reason"] != "keyCompromise" || m["serial"] != before.Serial {
			t.Fatalf("REVOKE body = %v", m)
		}
		d := e.do(req{method: "GET", path: "/order/" + id}).json(t)["certificate_details"].(map[string]any)
		if d["status"] != "revoked" || d["revocation"].(map[string]any)["reason"] != "keyCompromise" {
			t.Fatalf("revoked order = %v", d)
		}
		rec, err := e.srv.Data().DB.GetCertificate(ctx, before.Serial)
		if err != nil || rec.RevokedAt.IsZero() || rec.RevocationReason != 1 || rec.RevocationComments != "laptop stolen" {
			t.Fatalf("revocation record = %+v, %v", rec, err)
		}
		if r := e.do(req{method: "GET", path: "/order/" + id + "/certificate"}); r.status != 404 || r.codes(t)[0] != "cert_revoked" {
			t.Fatalf("certificate of a revoked order = %d %s", r.status, r.body)
		}
		if r := e.do(req{method: "REVOKE", path: "/order/" + id}); r.status != 400 || r.codes(t)[0] != "order_already_revoked" {
			t.Fatalf("revoke twice = %d %s", r.status, r.body)
		}
		if r := e.do(req{method: "REISSUE", path: "/order/" + id}); r.status != 400 || r.codes(t)[0] != "order_revoked" {
			t.Fatalf("reissue after revocation = %d %s", r.status, r.body)
		}
		xr := e.do(req{method: "REVOKE", path: "/order/" + e.placeOrder(nil), headers: map[string]string{"Content-Type": "application/xml"}, body: `<request><reason>superseded</reason></request>`})
		if xr.status != 200 || !strings.Contains(string(xr.body), "<reason>superseded</reason>") {
			t.Fatalf("XML REVOKE = %d %s", xr.status, xr.body)
		}
	})

	t.Run("pending orders", func(t *testing.T) {
		p := start(t, envOptions{})
		pid := p.placeOrder(nil)
		for _, m := range []string{"RENEW", "REVOKE"} {
			if r := p.do(req{method: m, path: "/order/" + pid}); r.status != 400 || r.codes(t)[0] != "order_not_issued" {
				t.Fatalf("%s of a pending order = %d %s", m, r.status, r.body)
			}
		}
	})
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer("\\", "\\\\", "\n", "\\n", `"`, `\"`).Replace(s) + `"`
}

func TestOrderInventory(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.placeOrder(map[string]any{"sans": fmt.Sprintf("n%d.example.com", i)}))
	}
	other := e.newAccount("other")
	e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), nil), creds: &other})
	if r := e.do(req{method: "REVOKE", path: "/order/" + ids[1]}); r.status != 200 {
		t.Fatal(r.status)
	}
	cert, err := e.client().Certificate(context.Background(), ids[3])
	if err != nil {
		t.Fatal(err)
	}
	list := func(q string) ([]string, string) {
		t.Helper()
		r := e.do(req{method: "GET", path: "/order?" + q})
		if r.status != 200 {
			t.Fatalf("GET /order?%s = %d %s", q, r.status, r.body)
		}
		m := r.json(t)
		var got []string
		for _, o := range m["orders"].([]any) {
			got = append(got, o.(map[string]any)["order_id"].(string))
		}
		return got, m["next_cursor"].(string)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
		{"status=issued", []string{ids[4], ids[3], ids[2], ids[0]}},
		{"status=revoked", []string{ids[1]}},
		{"status=pending_issuance", nil},
		{"name=n2.example.com", []string{ids[2]}},
		{"name=N2.EXAMPLE.COM.", []string{ids[2]}},
		{"name=www.example.com&limit=2", []string{ids[4], ids[3]}},
		{"serial=" + cert.Serial, []string{ids[3]}},
		{"serial=" + strings.ToLower(cert.Serial), []string{ids[3]}},
		{"issued_from=2000-01-01&issued_to=2100-01-01&status=issued", []string{ids[4], ids[3], ids[2], ids[0]}},
		{"expires_to=2000-01-01", nil},
		{"expires_from=01-JAN-2000", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, _ := list(tt.q)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		var all []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			q := "limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			got, next := list(q)
			all = append(all, got...)
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(all) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
			t.Fatalf("paged = %v", all)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		for q, code := range map[string]string{"limit=0": "invalid_param:limit", "limit=5000": "invalid_param:limit", "cursor=x": "invalid_param:cursor",
			"name=a..b": "invalid_param:name", "issued_from=yesterday": "invalid_param:issued_from", "status=lost": "invalid_param:status"} {
			r := e.do(req{method: "GET", path: "/order?" + q})
			if r.status != 400 || r.codes(t)[0] != code {
				t.Errorf("%s = %d %s", q, r.status, r.body)
			}
		}
	})
	t.Run("xml", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/order?limit=2", headers: map[string]string{"Accept": "application/xml"}})
		var v struct {
			Orders []struct {
				ID     string   `xml:"order_id"`
				Serial string   `xml:"serial"`
				SANs   []string `xml:"sans>san"`
			} `xml:"orders>order"`
			Next string `xml:"next_cursor"`
		}
		if err := xml.Unmarshal(r.body, &v); err != nil || len(v.Orders) != 2 || v.Orders[0].ID != ids[4] || v.Orders[0].Serial == "" || v.Next == "" {
			t.Fatalf("XML inventory = %+v %v\n%s", v, err, r.body)
		}
	})
}
