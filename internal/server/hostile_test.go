package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	v1 "github.com/certd/certd/internal/api/v1"
	"github.com/certd/certd/internal/store"
)

// send makes one request and reads the whole answer; it returns an error
// only for what the client refused to send (a method that is not a token).
func send(t testing.TB, e *env, method, path string, hdr map[string]string, body []byte) (response, error) {
	t.Helper()
	hr, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	for k, v := range hdr {
		hr.Header.Set(k, v)
	}
	if _, ok := hdr["Authorization"]; !ok {
		hr.SetBasicAuth(e.creds.AccountID, e.creds.APIKey)
	}
	resp, err := e.http.Do(hr)
	if err != nil {
		if strings.Contains(err.Error(), "invalid method") || strings.Contains(err.Error(), "invalid header") || strings.Contains(err.Error(), "invalid URL") {
			return response{}, err
		}
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// checkAnswer holds for every answer certd gives to any request: never a
// server error; an error is a v1 envelope, in JSON or XML as its
// Content-Type says, with a code and a description for each problem.
func checkAnswer(t testing.TB, method, what string, r response) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("%s: %d: %s", what, r.status, r.body)
	}
	if r.status < 400 || r.status == http.StatusRequestHeaderFieldsTooLarge {
		return
	}
	var env struct {
		Errors []struct {
			Code        string `json:"code" xml:"code"`
			Description string `json:"description" xml:"description"`
		} `json:"errors" xml:"error"`
	}
	ct := r.header.Get("Content-Type")
	if strings.EqualFold(method, "HEAD") && len(r.body) == 0 && (ct == v1.TypeErrorJSON || ct == v1.TypeErrorXML) {
		return // the headers of an error, without its body
	}
	var err error
	switch ct {
	case v1.TypeErrorJSON:
		err = json.Unmarshal(r.body, &env)
	case v1.TypeErrorXML:
		err = xml.Unmarshal(r.body, &env)
	default:
		t.Fatalf("%s: %d with Content-Type %q: %s", what, r.status, ct, r.body)
	}
	if err != nil || len(env.Errors) == 0 {
		t.Fatalf("%s: %d, not an error envelope (%v): %s", what, r.status, err, r.body)
	}
	for _, e := range env.Errors {
		if e.Code == "" || e.Description == "" {
			t.Fatalf("%s: an error without code or description: %s", what, r.body)
		}
	}
}

// createdID is the id of the order a 2xx answer created, from its JSON
// or XML body (Accept chooses), as "id" or "order_id".
func createdID(t testing.TB, what string, r response) string {
	t.Helper()
	var id string
	var err error
	if strings.HasPrefix(r.header.Get("Content-Type"), v1.TypeXML) {
		var v struct {
			ID      string `xml:"id"`
			OrderID string `xml:"order_id"`
		}
		err = xml.Unmarshal(r.body, &v)
		id = cmp.Or(v.ID, v.OrderID)
	} else {
		var v map[string]any
		err = json.Unmarshal(r.body, &v)
		for _, k := range []string{"id", "order_id"} {
			if x, ok := v[k]; ok && id == "" {
				id = fmt.Sprint(x)
			}
		}
	}
	if err != nil || id == "" {
		t.Fatalf("%s: %d without an order id (%v): %s", what, r.status, err, r.body)
	}
	return id
}

// counts are the account's orders and requests in the database.
func (e *env) counts(t testing.TB) (orders, requests int) {
	t.Helper()
	ctx := context.Background()
	os, err := e.srv.Data().DB.ListOrders(ctx, store.ListFilter{AccountID: 1, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.srv.Data().DB.ListRequests(ctx, store.ListFilter{AccountID: 1, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return len(os), len(rs)
}

// creates says whether a success (2xx) of this request makes an order
// or an enterprise request.
func creates(method, path string) (order, request bool) {
	p := strings.TrimPrefix(path, v1.Prefix)
	switch {
	case method == "POST" && (p == "/order/ssl" || p == "/order/code" || p == "/order/wfa"):
		return true, false
	case method == "POST" && p == "/enterprise/certificate/ssl":
		return false, true
	case method == "RENEW", method == "APPROVE":
		return true, false
	}
	return false, false
}

// FuzzRequest sends anything through the whole edge (methods, custom
// methods and their override header, negotiation, paths, bodies) to a real
// server: every answer must pass checkAnswer, and what a request created
// is exactly what its 201 says.
//
//	go test -run XXX -fuzz FuzzRequest -fuzztime 60s ./internal/server
func FuzzRequest(f *testing.F) {
	e := start(f, envOptions{sandbox: true, authFailures: 1 << 30})
	id := e.placeOrder(nil)
	order := orderBody(f, csrFor(f, "www.example.com"), nil)
	seeds := []struct {
		method, path, override, accept, ct, body string
	}{
		{"POST", "/order/ssl", "", "", v1.TypeJSON, order},
		{"POST", "/order/ssl", "", v1.TypeXML, "", `<request><common_name>www.example.com</common_name></request>`},
		{"POST", "/order/" + id, "REISSUE", "", "application/json", `{"comments":"x"}`},
		{"REVOKE", "/order/" + id, "", "*/*", "application/xml", `<r><reason>superseded</reason></r>`},
		{"GET", "/order?status=issued&limit=2", "", "application/json;q=0, */*", "", ""},
		{"APPROVE", "/request/00000001", "", "", "", ""},
		{"POST", "/enterprise/certificate/ssl", "", "", v1.TypeJSON, order},
		{"OPTIONS", v1.Prefix + "/order/ssl", "", "", "", ""},
		{"HEAD", "/order/" + id + "/certificate", "", v1.TypeXML, "", ""},
		{"POST", "/order/" + id + "/dcv", "", "", "", "{"},
		{"PATCH", "/account", "DELETE", "text/html", "text/plain", "x"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.override, s.accept, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, override, accept, ct string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		hdr := map[string]string{}
		for k, v := range map[string]string{"X-HTTP-Method-Override": override, "Accept": accept, "Content-Type": ct} {
			if v != "" {
				hdr[k] = v
			}
		}
		orders, requests := e.counts(t)
		r, err := send(t, e, method, path, hdr, body)
		if err != nil {
			return // not a request an HTTP client sends
		}
		checkAnswer(t, method, fmt.Sprintf("%s %q", method, path), r)
		o, q := e.counts(t)
		m := strings.ToUpper(method)
		if m == "POST" && override != "" {
			m = strings.ToUpper(strings.TrimSpace(override))
		}
		newOrder, newRequest := creates(m, strings.SplitN(path, "?", 2)[0])
		wantO, wantQ := orders, requests
		ok := r.status >= 200 && r.status < 300
		if ok && newOrder {
			wantO++
		}
		if ok && newRequest {
			wantQ++
		}
		if o != wantO || q != wantQ {
			t.Fatalf("%s %s answered %d: orders %d -> %d, requests %d -> %d", method, path, r.status, orders, o, requests, q)
		}
	})
}

// TestBadRequestsProperty sends hundreds of requests made from the real
// request shapes by random damage (a field dropped, a value of the wrong
// type, too long, control characters, a cut or flipped body, a wrong
// Content-Type, a bad id, a body over the limit, a deep nesting): every
// answer passes checkAnswer, every order or request the database gained
// was answered 201, and each is readable whole. The seed is fixed so that
// a failure can be replayed; CERTD_PROPERTY_SEED-style variation is what
// FuzzRequest is for.
func TestBadRequestsProperty(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	rnd := rand.New(rand.NewPCG(20261129, 9))
	csr := csrFor(t, "www.example.com")
	base := func() map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(orderBody(t, csr, nil)), &m)
		return m
	}
	shapes := []struct {
		method, path string
		body         func() map[string]any
	}{
		{"POST", "/order/ssl", base},
		{"POST", "/enterprise/certificate/ssl", func() map[string]any { m := base(); m["type"] = "private_ssl"; return m }},
		{"REISSUE", "/order/" + id, func() map[string]any {
			return map[string]any{"csr": csr, "comments": "rotate", "sans": "www.example.com"}
		}},
		{"REVOKE", "/order/" + id, func() map[string]any { return map[string]any{"reason": "superseded", "comments": "x"} }},
		{"POST", "/order/" + id + "/dcv", func() map[string]any { return map[string]any{} }},
		{"RENEW", "/order/" + id, func() map[string]any { return map[string]any{"csr": csr} }},
	}
	junk := []any{nil, true, 12345678901234567890.0, -1, "", strings.Repeat("a", 70000), "\x00\x01\x1b[31m", "ü\u202e\ufeff", []any{1, "x"},
		map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": map[string]any{"f": map[string]any{"g": map[string]any{"h": 1}}}}}}}},
		"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", "999", "0", "00000000", "*.*.example.com", "a..example.com"}
	types := []string{v1.TypeJSON, v1.TypeXML, "application/json; charset=utf-16", "text/xml", "multipart/form-data", "", "application/x-www-form-urlencoded", ";;"}
	paths := []string{"/order/abc", "/order/0", "/order/99999999", "/order/-1", "/order/1.5", "/order/%00", "/request/x", "/order/" + id + "/certificate/extra", "/ORDER/SSL"}
	created := []string{}
	before, beforeReq := e.counts(t)
	wantOrders, wantRequests := before, beforeReq
	for i := 0; i < 400; i++ {
		s := shapes[rnd.IntN(len(shapes))]
		method, path, m := s.method, s.path, s.body()
		hdr := map[string]string{"Content-Type": v1.TypeJSON}
		var body []byte
		for n := 1 + rnd.IntN(3); n > 0; n-- {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys) // map order is random: the seed alone picks the key
			switch op := rnd.IntN(8); {
			case op == 0 && len(keys) > 0:
				delete(m, keys[rnd.IntN(len(keys))])
			case op <= 2 && len(keys) > 0:
				m[keys[rnd.IntN(len(keys))]] = junk[rnd.IntN(len(junk))]
			case op == 3:
				hdr["Content-Type"] = types[rnd.IntN(len(types))]
			case op == 4:
				path = paths[rnd.IntN(len(paths))]
			case op == 5:
				hdr["X-HTTP-Method-Override"] = []string{"REISSUE", "revoke", "DELETE", "GET", "TRACE", "APPROVE"}[rnd.IntN(6)]
				method = "POST"
			case op == 6:
				hdr["Accept"] = []string{"text/html", v1.TypeXML, "application/*;q=0", "*/*"}[rnd.IntN(4)]
			default:
				m["x"+fmt.Sprint(rnd.IntN(5))] = junk[rnd.IntN(len(junk))]
			}
		}
		body, _ = json.Marshal(m)
		switch rnd.IntN(6) {
		case 0:
			body = body[:rnd.IntN(len(body)+1)]
		case 1:
			if len(body) > 0 {
				body[rnd.IntN(len(body))] ^= byte(1 + rnd.IntN(255))
			}
		}
		r, err := send(t, e, method, path, hdr, body)
		if err != nil {
			t.Fatalf("request %d not sent: %v", i, err)
		}
		what := fmt.Sprintf("request %d: %s %s %v %.200s", i, method, path, hdr, body)
		checkAnswer(t, method, what, r)
		m2 := method
		if method == "POST" && hdr["X-HTTP-Method-Override"] != "" {
			m2 = strings.ToUpper(hdr["X-HTTP-Method-Override"])
		}
		if r.status >= 200 && r.status < 300 {
			o, q := creates(m2, path)
			if o {
				wantOrders++
				created = append(created, createdID(t, what, r))
			}
			if q {
				wantRequests++
			}
		}
	}
	o, q := e.counts(t)
	if o != wantOrders || q != wantRequests {
		t.Fatalf("orders %d -> %d (want %d), requests %d -> %d (want %d)", before, o, wantOrders, beforeReq, q, wantRequests)
	}
	for _, oid := range created {
		if r := e.do(req{method: "GET", path: "/order/" + oid}); r.status != 200 {
			t.Fatalf("created order %q: %d", oid, r.status)
		}
	}
	t.Logf("%d orders and %d requests created of 400 damaged requests", o-before, q-beforeReq)
}
