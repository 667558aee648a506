package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/testutil"
)

func TestAuthentication(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	other := e.newAccount("other")
	otherID := e.do(req{method: "POST", path: "/order/ssl", body: orderBody(t, csrFor(t, "www.example.com"), nil), headers: jsonCT(), creds: &other}).json(t)["order_id"].(string)

	unpadded := account.Credentials{AccountID: strings.TrimLeft(e.creds.AccountID, "0"), APIKey: e.creds.APIKey}
	wrongKey := account.Credentials{AccountID: e.creds.AccountID, APIKey: other.APIKey}
	unknown := account.Credentials{AccountID: "999999", APIKey: e.creds.APIKey}
	garbage := account.Credentials{AccountID: "abc", APIKey: "x"}

	tests := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"no credentials", req{method: "GET", path: "/order/" + id, noAuth: true}, 401, "access_denied"},
		{"wrong key", req{method: "GET", path: "/order/" + id, creds: &wrongKey}, 401, "access_denied"},
		{"unknown account", req{method: "GET", path: "/order/" + id, creds: &unknown}, 401, "access_denied"},
		{"garbage account", req{method: "GET", path: "/order/" + id, creds: &garbage}, 401, "access_denied"},
		{"post without credentials", req{method: "POST", path: "/order/ssl", body: "{}", headers: jsonCT(), noAuth: true}, 401, "access_denied"},
		{"account id without zeros", req{method: "GET", path: "/order/" + id, creds: &unpadded}, 200, ""},
		{"own order", req{method: "GET", path: "/order/" + id}, 200, ""},
		{"foreign order", req{method: "GET", path: "/order/" + otherID}, 404, "not_found"},
		{"foreign certificate", req{method: "GET", path: "/order/" + otherID + "/certificate"}, 404, "not_found"},
		{"foreign reissue", req{method: "REISSUE", path: "/order/" + otherID, body: "{}", headers: jsonCT()}, 404, "not_found"},
		{"missing order", req{method: "GET", path: "/order/99999999"}, 404, "not_found"},
		{"other account sees its own", req{method: "GET", path: "/order/" + otherID, creds: &other}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.r)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.code != "" {
				if codes := r.codes(t); len(codes) != 1 || codes[0] != tt.code {
					t.Fatalf("codes = %v, want %s", codes, tt.code)
				}
			}
			if tt.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without WWW-Authenticate: %v", r.header)
			}
		})
	}
	// A foreign order must be indistinguishable from a missing one.
	foreign := e.do(req{method: "GET", path: "/order/" + otherID})
	missing := e.do(req{method: "GET", path: "/order/99999999"})
	if string(foreign.body) != string(missing.body) {
		t.Errorf("foreign %s != missing %s", foreign.body, missing.body)
	}
}

func TestNegotiation(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	body := orderBody(t, csrFor(t, "www.example.com"), nil)
	xmlBody := `<request><validity>1</validity><csr>` + csrFor(t, "www.example.com") + `</csr><org_name>A</org_name><org_addr1>B</org_addr1><org_city>C</org_city><org_state>D</org_state><org_zip>1</org_zip><org_country>us</org_country><org_contact_firstname>E</org_contact_firstname><org_contact_lastname>F</org_contact_lastname><org_contact_email>e@example.com</org_contact_email><org_contact_telephone>555-123-1234</org_contact_telephone></request>`
	const (
		jsonType = "application/vnd.digicert.rest-v1+json"
		xmlType  = "application/vnd.digicert.rest-v1+xml"
	)
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers map[string]string
		status  int
		ctype   string
	}{
		{"GET no Accept", "GET", "/order/" + id, "", nil, 200, jsonType},
		{"GET Accept */*", "GET", "/order/" + id, "", map[string]string{"Accept": "*/*"}, 200, jsonType},
		{"GET Accept xml", "GET", "/order/" + id, "", map[string]string{"Accept": xmlType}, 200, xmlType},
		{"GET Accept application/xml", "GET", "/order/" + id, "", map[string]string{"Accept": "application/xml"}, 200, xmlType},
		{"GET Accept application/json", "GET", "/order/" + id, "", map[string]string{"Accept": "application/json"}, 200, jsonType},
		{"GET Accept with q", "GET", "/order/" + id, "", map[string]string{"Accept": "application/json;q=0.5, application/xml;q=0.9"}, 200, xmlType},
		{"GET Content-Type xml only", "GET", "/order/" + id, "", map[string]string{"Content-Type": xmlType}, 200, xmlType},
		{"GET Content-Type json ignored for errors", "GET", "/order/" + id, "", map[string]string{"Content-Type": "text/csv"}, 200, jsonType},
		{"GET Accept unservable", "GET", "/order/" + id, "", map[string]string{"Accept": "text/html"}, 406, "application/vnd.digicert.error+json"},
		{"GET Accept unservable with xml body type", "GET", "/order/" + id, "", map[string]string{"Accept": "image/png", "Content-Type": xmlType}, 406, "application/vnd.digicert.error+json"},
		{"GET lower-case header names", "GET", "/order/" + id, "", map[string]string{"accept": xmlType}, 200, xmlType},
		{"POST json", "POST", "/order/ssl", body, map[string]string{"Content-Type": jsonType}, 201, jsonType},
		{"POST application/json", "POST", "/order/ssl", body, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 201, jsonType},
		{"POST json answer xml", "POST", "/order/ssl", body, map[string]string{"Content-Type": jsonType, "Accept": xmlType}, 201, xmlType},
		{"POST xml answers xml", "POST", "/order/ssl", xmlBody, map[string]string{"Content-Type": xmlType}, 201, xmlType},
		{"POST application/xml", "POST", "/order/ssl", xmlBody, map[string]string{"Content-Type": "application/xml"}, 201, xmlType},
		{"POST xml answer json", "POST", "/order/ssl", xmlBody, map[string]string{"Content-Type": xmlType, "Accept": jsonType}, 201, jsonType},
		{"POST curl --data form type", "POST", "/order/ssl", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 201, jsonType},
		{"POST no Content-Type", "POST", "/order/ssl", body, nil, 201, jsonType},
		{"POST xml without Content-Type, Accept */*", "POST", "/order/ssl", xmlBody, map[string]string{"Accept": "*/*"}, 201, xmlType},
		{"POST unsupported type", "POST", "/order/ssl", body, map[string]string{"Content-Type": "text/csv"}, 415, "application/vnd.digicert.error+json"},
		{"POST form type not json", "POST", "/order/ssl", "a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/vnd.digicert.error+json"},
		{"POST xml error in xml", "POST", "/order/ssl", "<request></request>", map[string]string{"Content-Type": xmlType}, 400, "application/vnd.digicert.error+xml"},
		{"POST Expect 100-continue", "POST", "/order/ssl", body, map[string]string{"Content-Type": jsonType, "Expect": "100-continue"}, 201, jsonType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: tt.method, path: tt.path, body: tt.body, headers: tt.headers})
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != tt.ctype {
				t.Fatalf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			if strings.HasSuffix(tt.ctype, "xml") && !strings.Contains(string(r.body), "<") {
				t.Fatalf("XML type but body %s", r.body)
			}
		})
	}
	t.Run("xml error envelope", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/order/ssl", body: "<request></request>", headers: map[string]string{"Content-Type": xmlType}})
		if !strings.Contains(string(r.body), "<errors><error><code>required_param:csr</code><description>") {
			t.Fatalf("XML errors = %s", r.body)
		}
	})
}

func TestValidationErrors(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	csr := csrFor(t, "www.example.com")
	tests := []struct {
		name      string
		overrides map[string]any
		want      []string
	}{
		{"empty body", map[string]any{"csr": nil, "validity": nil, "common_name": nil, "server_type": nil, "org_name": nil, "org_addr1": nil,
			"org_city": nil, "org_state": nil, "org_zip": nil, "org_country": nil, "org_contact_firstname": nil, "org_contact_lastname": nil,
			"org_contact_email": nil, "org_contact_telephone": nil},
			[]string{"required_param:validity", "required_param:csr", "required_param:common_name", "required_param:org_name", "required_param:org_addr1",
				"required_param:org_city", "required_param:org_state", "required_param:org_zip", "required_param:org_country",
				"required_param:org_contact_firstname", "required_param:org_contact_lastname", "required_param:org_contact_email", "required_param:org_contact_telephone"}},
		{"validity 0", map[string]any{"validity": "0"}, []string{"invalid_param:validity"}},
		{"validity 4", map[string]any{"validity": 4}, []string{"invalid_param:validity"}},
		{"validity text", map[string]any{"validity": "two"}, []string{"invalid_param:validity"}},
		{"validity fraction", map[string]any{"validity": 1.5}, []string{"invalid_param:validity"}},
		{"ev validity 3", map[string]any{"ev": true, "validity": "3", "telephone": "555-123-1234", "org_contact_job_title": "CTO", "org_registration_number": "123"}, []string{"invalid_param:validity"}},
		{"ev without phone, title and registration", map[string]any{"ev": "true"}, []string{"required_param:telephone", "required_param:org_contact_job_title", "required_param:org_registration_number"}},
		{"ev wildcard", map[string]any{"ev": true, "telephone": "555-123-1234", "org_contact_job_title": "CTO", "org_registration_number": "123", "sans": "*.example.com"}, []string{"invalid_param:sans"}},
		{"ev business category", map[string]any{"ev": true, "telephone": "555-123-1234", "org_contact_job_title": "CTO", "org_registration_number": "123", "org_business_category": "Club"}, []string{"invalid_param:org_business_category"}},
		{"ev bad value", map[string]any{"ev": "maybe"}, []string{"invalid_param:ev"}},
		{"country unknown", map[string]any{"org_country": "zz"}, []string{"invalid_param:org_country"}},
		{"country three letters", map[string]any{"org_country": "USA"}, []string{"invalid_param:org_country"}},
		{"email", map[string]any{"org_contact_email": "joe at example"}, []string{"invalid_param:org_contact_email"}},
		{"phone", map[string]any{"org_contact_telephone": "call me"}, []string{"invalid_param:org_contact_telephone"}},
		{"org phone", map[string]any{"telephone": "12"}, []string{"invalid_param:telephone"}},
		{"extension", map[string]any{"org_contact_telephone_ext": "x12"}, []string{"invalid_param:org_contact_telephone_ext"}},
		{"org name too long", map[string]any{"org_name": strings.Repeat("a", 65)}, []string{"invalid_param:org_name"}},
		{"common name invalid", map[string]any{"common_name": "www..example.com"}, []string{"invalid_param:common_name"}},
		{"common name too long", map[string]any{"common_name": strings.Repeat("a", 60) + ".example.com"}, []string{"invalid_param:common_name"}},
		{"wildcard in the middle", map[string]any{"sans": "a.*.example.com"}, []string{"invalid_param:sans"}},
		{"two bad sans", map[string]any{"sans": "a_b.example.com, -x.example.com"}, []string{"invalid_param:sans", "invalid_param:sans"}},
		{"ip address", map[string]any{"sans": "10.0.0.1"}, []string{"invalid_param:sans"}},
		{"too many names", map[string]any{"sans": manyNames(250)}, []string{"invalid_param:sans"}},
		{"csr garbage", map[string]any{"csr": "-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----"}, []string{"invalid_param:csr"}},
		{"csr weak key", map[string]any{"csr": testutil.CSR(t, testutil.Key(t, "rsa1024"), "www.example.com")}, []string{"invalid_param:csr"}},
		{"csr P-521", map[string]any{"csr": testutil.CSR(t, testutil.Key(t, "p521"), "www.example.com")}, []string{"invalid_param:csr"}},
		{"csr bad sha1 signature", map[string]any{"csr": testutil.LegacyCSR(t, testutil.Key(t, "rsa2048"), "sha1", true, "www.example.com")}, []string{"invalid_param:csr"}},
		{"csr without names and no common name", map[string]any{"csr": testutil.CSR(t, testutil.Key(t, "p256"), ""), "common_name": nil}, []string{"required_param:common_name"}},
		{"signature hash", map[string]any{"signature_hash": "md5"}, []string{"invalid_param:signature_hash"}},
		{"collection where text expected", map[string]any{"org_name": map[string]any{"a": "b"}}, []string{"invalid_param:org_name", "required_param:org_name"}},
		{"sans of numbers", map[string]any{"sans": []any{1, 2}}, []string{"invalid_param:sans"}},
		{"several at once", map[string]any{"validity": 9, "org_country": "xx", "org_contact_email": "nope"}, []string{"invalid_param:validity", "invalid_param:org_country", "invalid_param:org_contact_email"}},
	}
	_ = csr
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/ssl", body: orderBody(t, csr, tt.overrides), headers: jsonCT()})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d: %s", r.status, r.body)
			}
			got := r.codes(t)
			want := append([]string(nil), tt.want...)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v", got, want)
			}
		})
	}
}

func manyNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.example.com", i)
	}
	return strings.Join(names, ",")
}

func TestLooseValues(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	csr := csrFor(t, "www.example.com", "www.example.com", "csr-san.example.com")
	tests := []struct {
		name       string
		overrides  map[string]any
		raw        func(string) string
		serverType string
		sans       []string
		ev         bool
	}{
		{"validity number", map[string]any{"validity": 2}, nil, "2", nil, false},
		{"validity float", map[string]any{"validity": 2.0}, nil, "2", nil, false},
		{"server_type number", map[string]any{"server_type": 45}, nil, "45", nil, false},
		{"server_type float", map[string]any{"server_type": 2.0}, nil, "2", nil, false},
		{"server_type -1", map[string]any{"server_type": -1}, nil, "-1", nil, false},
		{"server_type unknown", map[string]any{"server_type": "999"}, nil, "-1", nil, false},
		{"server_type name", map[string]any{"server_type": "Apache"}, nil, "2", nil, false},
		{"server_type junk", map[string]any{"server_type": "whatever"}, nil, "-1", nil, false},
		{"server_type absent", map[string]any{"server_type": nil}, nil, "-1", nil, false},
		{"sans comma", map[string]any{"sans": "a.example.com,b.example.com"}, nil, "2", []string{"a.example.com", "b.example.com"}, false},
		{"sans comma space", map[string]any{"sans": "a.example.com, b.example.com"}, nil, "2", []string{"a.example.com", "b.example.com"}, false},
		{"sans array", map[string]any{"sans": []string{"a.example.com", "B.EXAMPLE.COM"}}, nil, "2", []string{"a.example.com", "b.example.com"}, false},
		{"sans empty string", map[string]any{"sans": ""}, nil, "2", []string{}, false},
		{"sans absent uses csr", nil, nil, "2", []string{"csr-san.example.com"}, false},
		{"sans repeat cn", map[string]any{"sans": "www.example.com,a.example.com,a.example.com"}, nil, "2", []string{"a.example.com"}, false},
		{"org_zip number", map[string]any{"org_zip": 33615}, nil, "2", nil, false},
		{"country lower", map[string]any{"org_country": "us"}, nil, "2", nil, false},
		{"ev bool", map[string]any{"ev": true, "telephone": "555-123-1234", "org_contact_job_title": "CTO", "org_registration_number": "HRB 1234", "validity": "1"}, nil, "2", nil, true},
		{"ev string", map[string]any{"ev": "TRUE", "telephone": "555-123-1234", "org_contact_job_title": "CTO", "org_registration_number": "HRB 1234", "org_business_category": "business entity", "validity": "1"}, nil, "2", nil, true},
		{"ev false string", map[string]any{"ev": "false"}, nil, "2", nil, false},
		{"unknown fields", map[string]any{"favourite_colour": "blue", "nested": map[string]any{"x": 1}}, nil, "2", nil, false},
		{"common name from csr", map[string]any{"common_name": nil}, nil, "2", nil, false},
		{"crlf and escaped slashes", nil, func(b string) string {
			return strings.ReplaceAll(strings.ReplaceAll(b, ",", ",\r\n"), "/", `\/`)
		}, "2", nil, false},
		{"csr without line breaks", map[string]any{"csr": strings.ReplaceAll(csr, "\n", "")}, nil, "2", nil, false},
		{"csr sha1", map[string]any{"csr": testutil.LegacyCSR(t, testutil.Key(t, "rsa2048"), "sha1", false, "www.example.com")}, nil, "2", nil, false},
		{"csr md5", map[string]any{"csr": testutil.LegacyCSR(t, testutil.Key(t, "rsa2048"), "md5", false, "www.example.com")}, nil, "2", nil, false},
		{"signature hash sha1", map[string]any{"signature_hash": "sha1"}, nil, "2", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := orderBody(t, csr, tt.overrides)
			if tt.raw != nil {
				body = tt.raw(body)
			}
			r := e.do(req{method: "POST", path: "/order/ssl", body: body, headers: jsonCT()})
			if r.status != http.StatusCreated {
				t.Fatalf("status = %d: %s", r.status, r.body)
			}
			id := r.json(t)["order_id"].(string)
			r = e.do(req{method: "GET", path: "/order/" + id})
			d := r.json(t)["certificate_details"].(map[string]any)
			if d["status"] != "issued" {
				t.Fatalf("status = %v", d["status"])
			}
			if d["server_type"] != tt.serverType {
				t.Errorf("server_type = %v, want %s", d["server_type"], tt.serverType)
			}
			if tt.sans != nil {
				got := []string{}
				for _, s := range d["sans"].([]any) {
					got = append(got, s.(string))
				}
				if !slices.Equal(got, tt.sans) {
					t.Errorf("sans = %v, want %v", got, tt.sans)
				}
			}
			cert, err := e.client().Certificate(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			leaf := parsePEMCert(t, cert.Certs.Certificate)
			if leaf.SignatureAlgorithm.String() != "ECDSA-SHA256" {
				t.Errorf("certificate signed with %v", leaf.SignatureAlgorithm)
			}
			isEV := false
			for _, p := range leaf.Policies {
				if p.String() == "2.23.140.1.1" {
					isEV = true
				}
			}
			if isEV != tt.ev {
				t.Errorf("EV policy = %v, want %v", isEV, tt.ev)
			}
		})
	}
}

func TestMethodsAndRoutes(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		allow  string
		code   string
	}{
		{"HEAD order", "HEAD", "/order/" + id, nil, 200, "", ""},
		{"HEAD certificate", "HEAD", "/order/" + id + "/certificate", nil, 200, "", ""},
		{"OPTIONS order", "OPTIONS", "/order/" + id, nil, 200, "GET, HEAD, OPTIONS, REISSUE, RENEW, REVOKE", ""},
		{"OPTIONS order/ssl", "OPTIONS", "/order/ssl", nil, 200, "OPTIONS, POST", ""},
		{"OPTIONS certificate", "OPTIONS", "/order/" + id + "/certificate", nil, 200, "GET, HEAD, OPTIONS", ""},
		{"DELETE order", "DELETE", "/order/" + id, nil, 405, "GET, HEAD, OPTIONS, REISSUE, RENEW, REVOKE", "method_not_allowed"},
		{"POST order without override", "POST", "/order/" + id, nil, 405, "GET, HEAD, OPTIONS, REISSUE, RENEW, REVOKE", "method_not_allowed"},
		{"POST override unknown", "POST", "/order/" + id, map[string]string{"X-HTTP-Method-Override": "DELETE"}, 405, "GET, HEAD, OPTIONS, REISSUE, RENEW, REVOKE", "method_not_allowed"},
		{"GET order/ssl", "GET", "/order/ssl", nil, 405, "OPTIONS, POST", "method_not_allowed"},
		{"OPTIONS request", "OPTIONS", "/request/1", nil, 200, "APPROVE, GET, HEAD, OPTIONS, REJECT", ""},
		{"PUT certificate", "PUT", "/order/" + id + "/certificate", nil, 405, "GET, HEAD, OPTIONS", "method_not_allowed"},
		{"APPROVE order", "APPROVE", "/order/" + id, nil, 405, "GET, HEAD, OPTIONS, REISSUE, RENEW, REVOKE", "method_not_allowed"},
		{"REISSUE request list", "REISSUE", "/request", nil, 405, "GET, HEAD, OPTIONS", "method_not_allowed"},
		{"unknown path", "GET", "/nothing/here", nil, 404, "", "not_found"},
		{"non-numeric id", "GET", "/order/abc", nil, 404, "", "not_found"},
		{"prefix", "GET", "/clients/rest/api/order/" + id, nil, 200, "", ""},
		{"prefix certificate", "GET", "/clients/rest/api/order/" + id + "/certificate", nil, 200, "", ""},
		{"trailing slash", "GET", "/order/" + id + "/", nil, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: tt.method, path: tt.path, headers: tt.hdr})
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.allow != "" && r.header.Get("Allow") != tt.allow {
				t.Errorf("Allow = %q, want %q", r.header.Get("Allow"), tt.allow)
			}
			if tt.code != "" {
				if codes := r.codes(t); len(codes) != 1 || codes[0] != tt.code {
					t.Errorf("codes = %v", codes)
				}
			}
			if tt.method == "HEAD" && (len(r.body) != 0 || r.header.Get("Etag") == "") {
				t.Errorf("HEAD body %d bytes, ETag %q", len(r.body), r.header.Get("Etag"))
			}
		})
	}
	t.Run("POST to prefix", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/clients/rest/api/order/ssl", body: orderBody(t, csrFor(t, "www.example.com"), nil), headers: jsonCT()})
		if r.status != 201 {
			t.Fatalf("= %d %s", r.status, r.body)
		}
	})
}

func TestETag(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	for _, path := range []string{"/order/" + id, "/order/" + id + "/certificate"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(req{method: "GET", path: path})
			etag := r.header.Get("Etag")
			if r.status != 200 || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("= %d, ETag %q", r.status, etag)
			}
			r = e.do(req{method: "GET", path: path, headers: map[string]string{"If-None-Match": etag}})
			if r.status != http.StatusNotModified || len(r.body) != 0 {
				t.Fatalf("If-None-Match same = %d (%d bytes)", r.status, len(r.body))
			}
			r = e.do(req{method: "GET", path: path, headers: map[string]string{"If-None-Match": `"other"`}})
			if r.status != 200 {
				t.Fatalf("If-None-Match other = %d", r.status)
			}
			r = e.do(req{method: "GET", path: path, headers: map[string]string{"Accept": "application/xml"}})
			if r.header.Get("Etag") == etag {
				t.Fatal("XML and JSON representations share an ETag")
			}
		})
	}
	t.Run("changes after reissue", func(t *testing.T) {
		before := e.do(req{method: "GET", path: "/order/" + id + "/certificate"}).header.Get("Etag")
		if r := e.do(req{method: "REISSUE", path: "/order/" + id}); r.status != 200 {
			t.Fatalf("reissue = %d", r.status)
		}
		r := e.do(req{method: "GET", path: "/order/" + id + "/certificate", headers: map[string]string{"If-None-Match": before}})
		if r.status != 200 {
			t.Fatalf("stale ETag answered %d", r.status)
		}
	})
}

func TestLimits(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	deep := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
	}{
		{"body too large", `{"csr":"` + strings.Repeat("A", 70<<10) + `"}`, "application/json", 413, "request_too_large"},
		{"xml doctype", `<?xml version="1.0"?><!DOCTYPE request [<!ENTITY x "y">]><request><csr>&x;</csr></request>`, "application/xml", 400, "invalid_body"},
		{"xml external entity", `<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><csr>&xxe;</csr></r>`, "application/xml", 400, "invalid_body"},
		{"xml undefined entity", `<r><csr>&xxe;</csr></r>`, "application/xml", 400, "invalid_body"},
		{"xml two roots", `<r></r><s></s>`, "application/xml", 400, "invalid_body"},
		{"xml too deep", strings.Repeat("<a>", 20) + strings.Repeat("</a>", 20), "application/xml", 400, "invalid_body"},
		{"json too deep", deep, "application/json", 400, "invalid_body"},
		{"json malformed", `{"csr":`, "application/json", 400, "invalid_body"},
		{"json array", `[1,2]`, "application/json", 400, "invalid_body"},
		{"json trailing data", `{} {}`, "application/json", 400, "invalid_body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/ssl", body: tt.body, headers: map[string]string{"Content-Type": tt.ctype}})
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %.200s", r.status, tt.status, r.body)
			}
			var env struct {
				Errors []struct{ Code string } `json:"errors"`
			}
			if strings.Contains(tt.ctype, "xml") {
				if !strings.Contains(string(r.body), "<code>"+tt.code+"</code>") {
					t.Fatalf("body = %s", r.body)
				}
				return
			}
			if err := json.Unmarshal(r.body, &env); err != nil || len(env.Errors) == 0 || env.Errors[0].Code != tt.code {
				t.Fatalf("body = %s", r.body)
			}
		})
	}
	t.Run("nothing half-written", func(t *testing.T) {
		// None of the refused requests above may have created an order.
		r := e.do(req{method: "GET", path: "/order/1"})
		if r.status != 404 {
			t.Fatalf("an order exists after refused requests: %d %s", r.status, r.body)
		}
	})
	t.Run("oversized header", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/order/1", headers: map[string]string{"X-Big": strings.Repeat("a", 80<<10)}})
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status = %d", r.status)
		}
	})
	t.Run("basic auth header is not a crash", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/order/1", noAuth: true, headers: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))}})
		if r.status != 401 {
			t.Fatalf("status = %d", r.status)
		}
	})
}
