package ca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"sort"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/certd/certd/internal/testutil"
)

// TestLintAgreesWithZlint: certd's lint loop finds the same errors and
// warnings as zlint.LintCertificateEx, the library's own entry point, on
// good and bad certificates with each lint set.
func TestLintAgreesWithZlint(t *testing.T) {
	a, _, err := Open(Options{Dir: t.TempDir(), PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	key := testutil.Key(t, "p256")
	ov, err := a.Prepare(Request{PublicKey: key.Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	code, err := a.Prepare(Request{Profile: ProfileCodeSigning, PublicKey: key.Public(), CommonName: "Org", Organization: "Org",
		Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	bad := func(tmpl *x509.Certificate) []byte {
		tmpl.SerialNumber, tmpl.NotBefore = big.NewInt(7), now
		der, err := x509.CreateCertificate(rand.Reader, tmpl, a.tls.cert, key.Public(), a.tls.signer)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	certs := map[string][]byte{
		"OV":           ov.LintDER,
		"code signing": code.LintDER,
		"no SAN, internal name, 800 days, CA key usage": bad(&x509.Certificate{Subject: pkix.Name{CommonName: "intranet"},
			NotAfter: now.AddDate(0, 0, 800), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}),
		"EV policy, no subject fields": bad(&x509.Certificate{DNSNames: []string{"www.example.com"}, NotAfter: now.AddDate(0, 0, 90),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Policies: []x509.OID{mustOID(OIDExtendedValidation)}}),
	}
	for name, der := range certs {
		for set, r := range map[string]lint.Registry{"tls": a.lint.tls, "code": a.lint.code, "internal": a.lint.internal} {
			t.Run(name+"/"+set, func(t *testing.T) {
				warns, err := a.lint.lint(der, r)
				var errs []string
				var le *LintError
				if errors.As(err, &le) {
					errs = le.Lints
				} else if err != nil {
					t.Fatal(err)
				}
				c, err := zx509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				var wantErrs, wantWarns []string
				for n, res := range zlint.LintCertificateEx(c, r).Results {
					switch res.Status {
					case lint.Error, lint.Fatal:
						wantErrs = append(wantErrs, n)
					case lint.Warn:
						wantWarns = append(wantWarns, n)
					}
				}
				sort.Strings(wantErrs)
				sort.Strings(wantWarns)
				if !slices.Equal(errs, wantErrs) || !slices.Equal(warns, wantWarns) {
					t.Fatalf("errors %v warnings %v, zlint: errors %v warnings %v", errs, warns, wantErrs, wantWarns)
				}
				if name != "OV" && name != "code signing" && set == "tls" && len(errs) == 0 {
					t.Fatal("a bad certificate passed the TLS lints")
				}
			})
		}
	}
}
