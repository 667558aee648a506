package v1

import (
	"errors"
	"testing"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/problem"
)

// Fuzz targets of the edge's parsers; .ci/run runs each briefly, and a
// finding becomes a case of the unit tests. For example:
//
//	go test -run XXX -fuzz FuzzDecodeBody -fuzztime 30s ./internal/api/v1

// FuzzDecodeBody: any body with any Content-Type is decoded, or refused
// with a client problem (never an internal one, never a panic), and what
// is decoded is an object no deeper than the limit.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{TypeJSON, `{"common_name":"www.example.com","sans":"a.example.com, b.example.com","validity":2,"server_type":"2","org_name":"Acme","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMII\n-----END CERTIFICATE REQUEST-----"}`},
		{TypeJSON, `{"sans":["a.example.com"],"ev":true,"comments":"x\/y\r\n"}`},
		{TypeXML, `<?xml version="1.0"?><request><common_name>www.example.com</common_name><sans><san>a.example.com</san><san>b.example.com</san></sans></request>`},
		{"application/xml", `<request><reason>keyCompromise</reason><comments>lost</comments></request>`},
		{"", `{"note":"no"}`},
		{"application/x-www-form-urlencoded", `<r><a>1</a></r>`},
		{"text/plain", `hello`},
		{TypeXML, `<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`},
		{TypeJSON, `[[[[[[[[[[1]]]]]]]]]]`},
		{TypeJSON, "\ufeff{}"},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		format, err := bodyFormat(ct, body)
		if err == nil {
			var m map[string]any
			m, err = decodeBody(format, body)
			if err == nil {
				if m == nil {
					t.Fatal("decoded to nil without an error")
				}
				if depth(m) > maxDepth {
					t.Fatalf("decoded deeper than %d", maxDepth)
				}
				return
			}
		}
		clientProblem(t, err)
	})
}

// FuzzNegotiate: any Accept and Content-Type headers pick JSON or XML or
// refuse, without panicking.
func FuzzNegotiate(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"*/*", TypeXML}, {TypeJSON, ""}, {"application/json;q=0.2, application/xml;q=0.8", ""},
		{"application/json;q=0, */*", ""}, {";;;", ""}, {"text/html", "image/png"}, {"application/*", "text/xml; charset=utf-8"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, accept, contentType string) {
		format, _ := negotiate([]string{accept}, contentType)
		if format != JSON && format != XML {
			t.Fatalf("format %v", format)
		}
		_ = acceptDecides([]string{accept})
		if f, err := bodyFormat(contentType, nil); err == nil && f != JSON && f != XML {
			t.Fatalf("body format %v", f)
		}
	})
}

// FuzzParseID: the v1 ids of paths (orders, requests, accounts) are
// positive decimal numbers, and formatting one reads back as itself.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"00000001", "1", "0", "-1", "+1", "1e3", "999999999999999999", "9223372036854775808", " 1", "0x10", "", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := account.ParseID(s)
		if !ok {
			return
		}
		if id <= 0 {
			t.Fatalf("%q parsed to %d", s, id)
		}
		if back, ok := account.ParseID(account.FormatID(id)); !ok || back != id {
			t.Fatalf("%q -> %d -> %q -> %d", s, id, account.FormatID(id), back)
		}
	})
}

// clientProblem fails unless err is a client's problem: a 4xx, not an
// internal error.
func clientProblem(t *testing.T, err error) {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) {
		t.Fatalf("not a problem: %v", err)
	}
	for _, p := range problem.Flatten(err) {
		if s := statusOf(p.Kind); s < 400 || s >= 500 || p.Code == "" || p.Description == "" {
			t.Fatalf("problem %+v would answer %d", p, s)
		}
	}
}
