package server_test

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/certd/certd/internal/testutil"
)

func TestOCSP(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	cert, err := e.client().Certificate(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parsePEMCert(t, cert.Certs.Certificate)
	inter := parsePEMCert(t, cert.Certs.Intermediate)
	if len(leaf.OCSPServer) != 1 || !strings.HasPrefix(leaf.OCSPServer[0], "http://") {
		t.Fatalf("OCSP URL = %v", leaf.OCSPServer)
	}
	url := leaf.OCSPServer[0]

	ask := func(serial *big.Int, get bool) *ocsp.Response {
		t.Helper()
		tmpl := *leaf
		tmpl.SerialNumber = serial
		reqDER, err := ocsp.CreateRequest(&tmpl, inter, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		if get {
			resp, err = http.Get(url + "/" + base64.StdEncoding.EncodeToString(reqDER))
		} else {
			resp, err = http.Post(url, "application/ocsp-request", bytes.NewReader(reqDER))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("Content-Type = %q", resp.Header.Get("Content-Type"))
		}
		r, err := ocsp.ParseResponseForCert(body, &tmpl, inter)
		if err != nil {
			t.Fatalf("parse response: %v", err)
		}
		if !r.NextUpdate.After(r.ThisUpdate) {
			t.Fatalf("response window %v..%v", r.ThisUpdate, r.NextUpdate)
		}
		return r
	}
	if r := ask(leaf.SerialNumber, false); r.Status != ocsp.Good {
		t.Fatalf("before revocation: status %d", r.Status)
	}
	if r := ask(leaf.SerialNumber, true); r.Status != ocsp.Good {
		t.Fatalf("GET before revocation: status %d", r.Status)
	}
	if r := ask(big.NewInt(123456789), false); r.Status != ocsp.Unknown {
		t.Fatalf("unknown serial: status %d", r.Status)
	}
	openssl := func(want string) {
		t.Helper()
		if !testutil.HaveOpenSSL() {
			return
		}
		dir := t.TempDir()
		_ = os.WriteFile(filepath.Join(dir, "inter.pem"), []byte(cert.Certs.Intermediate), 0o600)
		_ = os.WriteFile(filepath.Join(dir, "leaf.pem"), []byte(cert.Certs.Certificate), 0o600)
		_ = os.WriteFile(filepath.Join(dir, "chain.pem"), []byte(cert.Certs.Intermediate+cert.Certs.Root), 0o600)
		out := testutil.OpenSSL(t, dir, "ocsp", "-issuer", "inter.pem", "-cert", "leaf.pem", "-url", url, "-CAfile", "chain.pem", "-no_nonce")
		if !strings.Contains(out, "leaf.pem: "+want) || !strings.Contains(out, "Response verify OK") {
			t.Fatalf("openssl ocsp: %s", out)
		}
	}
	openssl("good")

	if r := e.do(req{method: "REVOKE", path: "/order/" + id, headers: jsonCT(), body: `{"reason":"superseded"}`}); r.status != 200 {
		t.Fatalf("REVOKE = %d %s", r.status, r.body)
	}
	r := ask(leaf.SerialNumber, false)
	if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.Superseded || r.RevokedAt.IsZero() {
		t.Fatalf("after revocation: %+v", r)
	}
	openssl("revoked")

	t.Run("malformed", func(t *testing.T) {
		resp, err := http.Post(url, "application/ocsp-request", strings.NewReader("nope"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
			t.Fatalf("malformed request answered %x", body)
		}
	})
	t.Run("another CA", func(t *testing.T) {
		tmpl := *leaf
		reqDER, _ := ocsp.CreateRequest(&tmpl, parsePEMCert(t, cert.Certs.Root), nil)
		resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(reqDER))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, ocsp.UnauthorizedErrorResponse) {
			t.Fatalf("request about another issuer answered %x", body)
		}
	})
}
