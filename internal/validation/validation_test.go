package validation_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/testutil"
	"github.com/certd/certd/internal/validation"
)

func TestRandomValue(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		v := validation.NewRandomValue()
		if len(v) != 32 || strings.ToLower(v) != v || seen[v] {
			t.Fatalf("random value %q", v)
		}
		seen[v] = true
	}
}

func TestCheckDNS(t *testing.T) {
	srv := testutil.NewDNS(t)
	srv.Add(t,
		`_dnsauth.example.com. 60 IN TXT "other" "value"`,
		`_dnsauth.example.com. 60 IN TXT "tok123"`,
		`_dnsauth.split.example. 60 IN TXT "tok" "123"`,
		`_dnsauth.wrong.example. 60 IN TXT "nope"`,
		`_dnsauth.alias.example. 60 IN CNAME _dnsauth.target.example.`,
		`_dnsauth.target.example. 60 IN TXT "tok123"`,
		`www.empty.example. 60 IN A 192.0.2.1`,
	)
	srv.ServFail("_dnsauth.broken.example")
	r := validation.NewResolver(srv.Addr(), 2*time.Second)
	ctx := context.Background()
	tests := []struct {
		domain  string
		failure bool // a definite failure, not a lookup error
		ok      bool
	}{
		{"example.com", false, true},
		{"*.example.com", false, true},
		{"split.example", false, true},
		{"alias.example", false, true},
		{"wrong.example", true, false},
		{"missing.example", true, false},
		{"empty.example", true, false},
		{"broken.example", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			err := r.CheckDNS(ctx, tt.domain, "tok123")
			if tt.ok != (err == nil) || !tt.ok && validation.IsFailure(err) != tt.failure {
				t.Fatalf("CheckDNS = %v (failure %v)", err, validation.IsFailure(err))
			}
		})
	}
	t.Run("unreachable resolver", func(t *testing.T) {
		err := validation.NewResolver("127.0.0.1:1", 300*time.Millisecond).CheckDNS(ctx, "example.com", "tok123")
		if err == nil || validation.IsFailure(err) {
			t.Fatalf("= %v", err)
		}
	})
}

func TestCAA(t *testing.T) {
	srv := testutil.NewDNS(t)
	srv.Add(t,
		`allowed.example. 60 IN CAA 0 issue "certd.test"`,
		`other.example. 60 IN CAA 0 issue "otherca.test"`,
		`nobody.example. 60 IN CAA 0 issue ";"`,
		`wild.example. 60 IN CAA 0 issue "certd.test"`,
		`wild.example. 60 IN CAA 0 issuewild "otherca.test"`,
		`onlywild.example. 60 IN CAA 0 issuewild "certd.test"`,
		`onlywild.example. 60 IN CAA 0 issue ";"`,
		`iodef.example. 60 IN CAA 0 iodef "mailto:sec@iodef.example"`,
		`critical.example. 60 IN CAA 128 tbs "unknown"`,
		`critical.example. 60 IN CAA 0 issue "certd.test"`,
		`noncritical.example. 60 IN CAA 0 tbs "unknown"`,
		`noncritical.example. 60 IN CAA 0 issue "certd.test"`,
		`account.example. 60 IN CAA 0 issue "certd.test; accounturi=https://ca.test/account/000001"`,
		`methods.example. 60 IN CAA 0 issue "certd.test; validationmethods=http-token"`,
		`cname.example. 60 IN CNAME target.other.example.`,
		`target.other.example. 60 IN CAA 0 issue "otherca.test"`,
		`parent.example. 60 IN CAA 0 issue "otherca.test"`,
		`deep.sub.parent.example. 60 IN A 192.0.2.1`,
		`tld. 60 IN CAA 0 issue "otherca.test"`,
		`example.tld. 60 IN A 192.0.2.1`,
	)
	srv.ServFail("failing.example")
	c := &validation.CAAChecker{Resolver: validation.NewResolver(srv.Addr(), 2*time.Second), Identities: []string{"certd.test", "certd.example"}}
	base := validation.CAARequest{AccountURI: "https://ca.test/account/000001", Method: "dns-txt-token"}
	tests := []struct {
		name    string
		req     func(validation.CAARequest) validation.CAARequest
		ok      bool
		failure bool
	}{
		{"no CAA anywhere", nil, true, false},
		{"allowed.example", nil, true, false},
		{"www.allowed.example", nil, true, false},
		{"other.example", nil, false, true},
		{"nobody.example", nil, false, true},
		{"wild.example", nil, true, false},
		{"*.wild.example", nil, false, true},
		{"*.onlywild.example", nil, true, false},
		{"onlywild.example", nil, false, true},
		{"iodef.example", nil, true, false},
		{"critical.example", nil, false, true},
		{"noncritical.example", nil, true, false},
		{"account.example", nil, true, false},
		{"account.example other account", func(r validation.CAARequest) validation.CAARequest {
			r.AccountURI = "https://ca.test/account/000002"
			return r
		}, false, true},
		{"methods.example", nil, false, true},
		{"methods.example by http", func(r validation.CAARequest) validation.CAARequest {
			r.Method = "http-token"
			return r
		}, true, false},
		{"cname.example", nil, false, true},
		{"deep.sub.parent.example", nil, false, true},
		{"example.tld", nil, false, true},
		{"failing.example", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			req.Name = strings.Fields(tt.name)[0]
			if tt.name == "no CAA anywhere" {
				req.Name = "www.unlisted.example"
			}
			if tt.req != nil {
				req = tt.req(req)
			}
			err := c.Check(context.Background(), req)
			if tt.ok != (err == nil) || !tt.ok && validation.IsFailure(err) != tt.failure {
				t.Fatalf("Check(%s) = %v (failure %v)", req.Name, err, validation.IsFailure(err))
			}
		})
	}
}

func TestCheckHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/pki-validation/good.txt", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("tok123\n")) })
	mux.HandleFunc("/.well-known/pki-validation/wrong.txt", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("nope")) })
	mux.HandleFunc("/.well-known/pki-validation/moved.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/.well-known/pki-validation/good.txt", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/.well-known/pki-validation/303.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/.well-known/pki-validation/good.txt", http.StatusSeeOther)
	})
	mux.HandleFunc("/.well-known/pki-validation/port.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.com:8080/.well-known/pki-validation/good.txt", http.StatusFound)
	})
	mux.HandleFunc("/.well-known/pki-validation/ftp.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ftp://example.com/x")
		w.WriteHeader(http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, portText, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portText)
	// Every name resolves to the test server.
	dialer := &net.Dialer{}
	h := &validation.HTTPChecker{Port: port, Timeout: 2 * time.Second, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	tests := []struct {
		file, domain string
		ok           bool
		failure      bool
	}{
		{"good.txt", "example.com", true, false},
		{"moved.txt", "example.com", true, false},
		{"wrong.txt", "example.com", false, true},
		{"missing.txt", "example.com", false, true},
		{"303.txt", "example.com", false, true},
		{"port.txt", "example.com", false, true},
		{"ftp.txt", "example.com", false, true},
		{"good.txt", "*.example.com", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.domain, func(t *testing.T) {
			err := h.Check(context.Background(), tt.domain, tt.file, "tok123")
			if tt.ok != (err == nil) || !tt.ok && validation.IsFailure(err) != tt.failure {
				t.Fatalf("Check = %v (failure %v)", err, validation.IsFailure(err))
			}
		})
	}
}
