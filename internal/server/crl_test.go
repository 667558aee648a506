package server_test

import (
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/testutil"
)

func fetch(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestCRLs(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	id := e.placeOrder(nil)
	cert, err := e.client().Certificate(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parsePEMCert(t, cert.Certs.Certificate)
	inter := parsePEMCert(t, cert.Certs.Intermediate)
	crlURL := leaf.CRLDistributionPoints[0]
	if !strings.HasPrefix(crlURL, "http://") {
		t.Fatalf("CRL DP %q is not plain http", crlURL)
	}

	parse := func() *x509.RevocationList {
		t.Helper()
		status, der, hdr := fetch(t, crlURL)
		if status != 200 || hdr.Get("Content-Type") != "application/pkix-crl" {
			t.Fatalf("GET CRL = %d %s", status, hdr.Get("Content-Type"))
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(inter); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		if !crl.NextUpdate.After(crl.ThisUpdate) || crl.NextUpdate.Sub(crl.ThisUpdate) > 10*24*60*60*1e9 {
			t.Fatalf("CRL window %v..%v", crl.ThisUpdate, crl.NextUpdate)
		}
		return crl
	}
	before := parse()
	if len(before.RevokedCertificateEntries) != 0 {
		t.Fatalf("CRL lists %d entries before any revocation", len(before.RevokedCertificateEntries))
	}
	if r := e.do(req{method: "REVOKE", path: "/order/" + id, headers: jsonCT(), body: `{"reason":"keyCompromise"}`}); r.status != 200 {
		t.Fatalf("REVOKE = %d %s", r.status, r.body)
	}
	after := parse()
	if after.Number.Cmp(before.Number) <= 0 {
		t.Fatalf("CRL number %v after %v", after.Number, before.Number)
	}
	if len(after.RevokedCertificateEntries) != 1 {
		t.Fatalf("entries = %d", len(after.RevokedCertificateEntries))
	}
	entry := after.RevokedCertificateEntries[0]
	if entry.SerialNumber.Cmp(leaf.SerialNumber) != 0 || entry.ReasonCode != 1 {
		t.Fatalf("entry = %v reason %d, want %v keyCompromise", entry.SerialNumber, entry.ReasonCode, leaf.SerialNumber)
	}
	if testutil.HaveOpenSSL() {
		dir := t.TempDir()
		_, der, _ := fetch(t, crlURL)
		_ = os.WriteFile(filepath.Join(dir, "crl.der"), der, 0o600)
		_ = os.WriteFile(filepath.Join(dir, "inter.pem"), []byte(cert.Certs.Intermediate), 0o600)
		out := testutil.OpenSSL(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "inter.pem", "-noout", "-text")
		if !strings.Contains(out, "verify OK") && !strings.Contains(out, "verify ok") {
			t.Fatalf("openssl crl -verify: %s", out)
		}
		if !strings.Contains(out, strings.ToUpper(leaf.SerialNumber.Text(16))) || !strings.Contains(out, "Key Compromise") {
			t.Fatalf("openssl does not list the revocation: %s", out)
		}
	}

	t.Run("root CRL", func(t *testing.T) {
		url := inter.CRLDistributionPoints[0]
		status, der, _ := fetch(t, url)
		if status != 200 {
			t.Fatalf("GET %s = %d", url, status)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil || crl.CheckSignatureFrom(parsePEMCert(t, cert.Certs.Root)) != nil || crl.Number.Cmp(big.NewInt(1)) != 0 {
			t.Fatalf("root CRL = %+v, %v", crl, err)
		}
	})
	t.Run("unknown CRL", func(t *testing.T) {
		if status, _, _ := fetch(t, strings.Replace(crlURL, "intermediate.crl", "nope.crl", 1)); status != 404 {
			t.Fatalf("= %d", status)
		}
	})
	t.Run("plain HTTP reaches only the PKI paths", func(t *testing.T) {
		plain := strings.Replace(e.url, "https://", "http://", 1)
		if status, body, _ := fetch(t, plain+"/order/"+id); status != 403 || !strings.Contains(string(body), "https_required") {
			t.Fatalf("API over plain HTTP = %d %s", status, body)
		}
		if status, _, _ := fetch(t, plain+"/ca/root.crt"); status != 200 {
			t.Fatalf("root over plain HTTP = %d", status)
		}
	})
}

func TestCRLsPublishedOnSchedule(t *testing.T) {
	e := start(t, envOptions{crlLifetime: 48 * time.Hour})
	// The job publishes one issuer's CRL after another, so wait for each.
	for _, issuer := range []string{"intermediate", "codesign-intermediate"} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			crl, err := e.srv.Data().DB.LatestCRL(t.Context(), issuer)
			if err == nil {
				if d := crl.NextUpdate.Sub(crl.ThisUpdate); d != 48*time.Hour {
					t.Fatalf("%s CRL lifetime %v, want the configured 48h", issuer, d)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pipeline published no %s CRL at start: %v", issuer, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
