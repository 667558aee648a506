package ca_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/testutil"
)

var issueTime = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func openCA(t *testing.T, kt ca.KeyType, maxDays int) (*ca.Authority, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	a, created, err := ca.Open(ca.Options{Dir: dir, KeyType: kt, PublicURL: "https://ca.test", PKIURL: "http://ca.test", MaxLifetimeDays: maxDays, Now: issueTime})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("first Open did not create the hierarchy")
	}
	return a, dir
}

func TestHierarchy(t *testing.T) {
	for _, kt := range []ca.KeyType{ca.KeyECDSAP256, ca.KeyRSA3072} {
		t.Run(string(kt), func(t *testing.T) {
			a, dir := openCA(t, kt, 0)
			root, inter := a.Root(), a.Intermediate()
			if !root.IsCA || !inter.IsCA || inter.MaxPathLen != 0 || !inter.MaxPathLenZero {
				t.Errorf("CA flags: root %v, intermediate %v pathlen %d", root.IsCA, inter.IsCA, inter.MaxPathLen)
			}
			if err := inter.CheckSignatureFrom(root); err != nil {
				t.Fatal(err)
			}
			if len(inter.ExtKeyUsage) != 1 || inter.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("intermediate EKU = %v", inter.ExtKeyUsage)
			}
			for _, f := range []string{ca.RootKeyFile, ca.IntermediateKeyFile} {
				fi, err := os.Stat(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %v", f, fi.Mode().Perm())
				}
			}
			// A second Open loads the same hierarchy.
			b, created, err := ca.Open(ca.Options{Dir: dir, KeyType: kt, PublicURL: "https://ca.test", Now: issueTime})
			if err != nil || created {
				t.Fatalf("reopen: created=%v err=%v", created, err)
			}
			if !bytes.Equal(b.Root().Raw, root.Raw) || !bytes.Equal(b.Intermediate().Raw, inter.Raw) {
				t.Error("reopen produced another hierarchy")
			}
		})
	}
}

func TestOpenRefusesReadableKey(t *testing.T) {
	_, dir := openCA(t, ca.KeyECDSAP256, 0)
	if err := os.Chmod(filepath.Join(dir, ca.IntermediateKeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	_, _, err := ca.Open(ca.Options{Dir: dir, PublicURL: "https://ca.test", Now: issueTime})
	if !errors.Is(err, ca.ErrKeyPermissions) {
		t.Fatalf("Open with a group-readable key: %v", err)
	}
}

func TestOpenRefusesMismatchedKey(t *testing.T) {
	_, dir := openCA(t, ca.KeyECDSAP256, 0)
	// Swap in the root key as the intermediate key.
	rootKey, err := os.ReadFile(filepath.Join(dir, ca.RootKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ca.IntermediateKeyFile), rootKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.Open(ca.Options{Dir: dir, PublicURL: "https://ca.test", Now: issueTime}); err == nil {
		t.Fatal("Open accepted an intermediate key that does not match its certificate")
	}
}

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]ca.KeyType{"": ca.KeyECDSAP256, "ecdsa": ca.KeyECDSAP256, "rsa": ca.KeyRSA3072, "rsa4096": ca.KeyRSA4096} {
		if got, err := ca.ParseKeyType(in); err != nil || got != want {
			t.Errorf("ParseKeyType(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ca.ParseKeyType("dsa"); err == nil {
		t.Error("ParseKeyType(dsa) succeeded")
	}
}

func TestMaxLifetimeDays(t *testing.T) {
	tests := []struct {
		date string
		days int
	}{
		{"2025-06-01T00:00:00Z", 398},
		{"2026-03-14T23:59:59Z", 398},
		{"2026-03-15T00:00:00Z", 200},
		{"2026-11-29T00:00:00Z", 200},
		{"2027-03-14T23:59:59Z", 200},
		{"2027-03-15T00:00:00Z", 100},
		{"2029-03-14T23:59:59Z", 100},
		{"2029-03-15T00:00:00Z", 47},
		{"2035-01-01T00:00:00Z", 47},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			d, err := time.Parse(time.RFC3339, tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := ca.MaxLifetimeDays(d); got != tt.days {
				t.Fatalf("MaxLifetimeDays(%s) = %d, want %d", tt.date, got, tt.days)
			}
		})
	}
}

func TestPrepareAndSign(t *testing.T) {
	tests := []struct {
		name     string
		kt       ca.KeyType
		key      string
		maxDays  int
		limit    time.Time
		wantDays float64
		ku       x509.KeyUsage
	}{
		{"ecdsa ca, ecdsa key", ca.KeyECDSAP256, "p256", 0, time.Time{}, 200, x509.KeyUsageDigitalSignature},
		{"ecdsa ca, rsa key", ca.KeyECDSAP256, "rsa2048", 0, time.Time{}, 200, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment},
		{"rsa ca", ca.KeyRSA3072, "p384", 0, time.Time{}, 200, x509.KeyUsageDigitalSignature},
		{"operator cap", ca.KeyECDSAP256, "p256", 30, time.Time{}, 30, x509.KeyUsageDigitalSignature},
		{"operator cap above the BRs", ca.KeyECDSAP256, "p256", 500, time.Time{}, 200, x509.KeyUsageDigitalSignature},
		{"order term ends sooner", ca.KeyECDSAP256, "p256", 0, issueTime.Add(10 * 24 * time.Hour), 10 + 1.0/24, x509.KeyUsageDigitalSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := openCA(t, tt.kt, tt.maxDays)
			key := testutil.Key(t, tt.key)
			p, err := a.Prepare(ca.Request{
				PublicKey: key.Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
				Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: issueTime, NotAfterLimit: tt.limit,
			})
			if err != nil {
				t.Fatal(err)
			}
			lint, err := x509.ParseCertificate(p.LintDER)
			if err != nil {
				t.Fatal(err)
			}
			if lint.CheckSignatureFrom(a.Intermediate()) == nil {
				t.Fatal("the lint certificate verifies under the real intermediate")
			}
			// As long as the longest real signature: lints judge the
			// algorithm by the signature's length.
			if want := map[ca.KeyType]int{ca.KeyECDSAP256: 72, ca.KeyRSA3072: 384}[tt.kt]; len(lint.Signature) != want {
				t.Errorf("lint signature %d bytes, want %d", len(lint.Signature), want)
			}
			der, err := a.Sign(p)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(a.Intermediate()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cert.RawTBSCertificate, lint.RawTBSCertificate) {
				t.Fatal("signed and lint certificates differ")
			}
			if cert.SerialNumber.Cmp(p.Serial) != 0 || cert.Subject.Country[0] != "US" {
				t.Errorf("serial %x country %v", cert.SerialNumber, cert.Subject.Country)
			}
			days := (cert.NotAfter.Sub(cert.NotBefore) + time.Second).Hours() / 24
			if days > tt.wantDays+0.001 || days < tt.wantDays-0.001 {
				t.Errorf("lifetime %.4f days, want %.4f", days, tt.wantDays)
			}
			if cert.KeyUsage != tt.ku {
				t.Errorf("key usage %v, want %v", cert.KeyUsage, tt.ku)
			}
		})
	}
}

func TestPrepareRefuses(t *testing.T) {
	a, _ := openCA(t, ca.KeyECDSAP256, 0)
	key := testutil.Key(t, "p256").Public()
	tests := []struct {
		name string
		req  ca.Request
	}{
		{"no key", ca.Request{DNSNames: []string{"a.example.com"}, Now: issueTime}},
		{"no names", ca.Request{PublicKey: key, Now: issueTime}},
		{"term over", ca.Request{PublicKey: key, DNSNames: []string{"a.example.com"}, Now: issueTime, NotAfterLimit: issueTime.Add(-time.Hour)}},
		{"unsupported key", ca.Request{PublicKey: "key", DNSNames: []string{"a.example.com"}, Now: issueTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.Prepare(tt.req); err == nil {
				t.Fatal("Prepare accepted it")
			}
		})
	}
}

func TestNewSerial(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := ca.NewSerial()
		if s.Sign() <= 0 || s.BitLen() < 120 || len(s.Bytes()) != 16 {
			t.Fatalf("serial %x", s)
		}
		if seen[s.String()] {
			t.Fatal("repeated serial")
		}
		seen[s.String()] = true
	}
}

func TestPKCS7(t *testing.T) {
	a, _ := openCA(t, ca.KeyECDSAP256, 0)
	p7, err := ca.PKCS7PEM(a.Intermediate().Raw, a.Root().Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !testutil.HaveOpenSSL() {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p7.pem"), []byte(p7), 0o600); err != nil {
		t.Fatal(err)
	}
	out := testutil.OpenSSL(t, dir, "pkcs7", "-in", "p7.pem", "-print_certs", "-noout")
	if !bytes.Contains([]byte(out), []byte("certd Root CA")) || !bytes.Contains([]byte(out), []byte("certd Issuing CA")) {
		t.Fatalf("pkcs7 content: %s", out)
	}
}

func TestCACertificatesLintClean(t *testing.T) {
	for _, kt := range []ca.KeyType{ca.KeyECDSAP256, ca.KeyRSA3072} {
		t.Run(string(kt), func(t *testing.T) {
			a, _ := openCA(t, kt, 0)
			for name, c := range map[string]struct {
				der []byte
				p   ca.Profile
			}{
				"root":                {a.Root().Raw, ca.ProfileTLS},
				"tls intermediate":    {a.Intermediate().Raw, ca.ProfileTLS},
				"code signing interm": {a.IssuerOf(ca.ProfileCodeSigning).Raw, ca.ProfileCodeSigning},
			} {
				lints, err := a.LintCA(c.der, c.p)
				if err != nil || len(lints) != 0 {
					t.Errorf("%s fails lints %v (%v)", name, lints, err)
				}
			}
		})
	}
}

// TestWrongTemplateRefusedBeforeSigning makes certificates wrong on
// purpose: Prepare refuses them naming the lints, so nothing reaches the
// CA's signature.
func TestWrongTemplateRefusedBeforeSigning(t *testing.T) {
	a, _ := openCA(t, ca.KeyECDSAP256, 0)
	key := testutil.Key(t, "p256").Public()
	tests := []struct {
		name string
		req  ca.Request
		lint string
	}{
		{"OV without locality or province", ca.Request{PublicKey: key, CommonName: "www.example.com", DNSNames: []string{"www.example.com"}, Organization: "Org", Country: "us", Now: issueTime}, "e_sub_cert_locality_name_must_appear"},
		{"EV without registration number", ca.Request{PublicKey: key, CommonName: "www.example.com", DNSNames: []string{"www.example.com"}, Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", EV: true, Now: issueTime}, "e_ev_serial_number_missing"},
		{"internal name under the public profile", ca.Request{PublicKey: key, CommonName: "intranet", DNSNames: []string{"intranet"}, Now: issueTime}, "e_dnsname_not_valid_tld"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Prepare(tt.req)
			var le *ca.LintError
			if !errors.As(err, &le) {
				t.Fatalf("Prepare = %v, want a lint refusal", err)
			}
			found := false
			for _, l := range le.Lints {
				if l == tt.lint {
					found = true
				}
			}
			if !found {
				t.Fatalf("lints %v lack %s", le.Lints, tt.lint)
			}
		})
	}
}

// BenchmarkPrepare measures building and linting one
// TLS certificate; BenchmarkSign the CA signature and the check that
// follows it. Together they are the CA's share of issuance.
//
//	go test -run XXX -bench 'Prepare|Sign' -benchtime 2s ./internal/ca
func BenchmarkPrepare(b *testing.B) {
	a := benchCA(b)
	req := ca.Request{PublicKey: testutil.Key(b, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com", "a.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := a.Prepare(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	a := benchCA(b)
	req := ca.Request{PublicKey: testutil.Key(b, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()}
	p, err := a.Prepare(req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Sign(p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCA(b *testing.B) *ca.Authority {
	b.Helper()
	a, _, err := ca.Open(ca.Options{Dir: filepath.Join(b.TempDir(), "ca"), PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func TestEncryptedKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	pass := []byte("correct horse battery staple")
	opts := ca.Options{Dir: dir, PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: issueTime, Passphrase: pass}
	if _, _, err := ca.Open(opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ca.RootKeyFile, ca.IntermediateKeyFile, ca.CodeSigningKeyFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
			t.Fatalf("%s is not encrypted", f)
		}
	}
	tests := []struct {
		name string
		pass []byte
		err  error
	}{
		{"no passphrase", nil, ca.ErrKeyEncrypted},
		{"wrong passphrase", []byte("wrong"), ca.ErrKeyPassphrase},
		{"right passphrase", pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.Passphrase = tt.pass
			_, _, err := ca.Open(o)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Open = %v, want %v", err, tt.err)
			}
		})
	}
	if testutil.HaveOpenSSL() {
		out := testutil.OpenSSL(t, dir, "pkey", "-in", ca.IntermediateKeyFile, "-passin", "pass:"+string(pass), "-noout", "-text")
		if !bytes.Contains([]byte(out), []byte("Private-Key")) && !bytes.Contains([]byte(out), []byte("priv:")) {
			t.Fatalf("openssl cannot read the encrypted key: %s", out)
		}
	}
}

// TestOfflineRoot runs the CA without its root key, then brings the key
// in for a ceremony that makes a new intermediate.
func TestOfflineRoot(t *testing.T) {
	a, dir := openCA(t, ca.KeyECDSAP256, 0)
	offline := filepath.Join(t.TempDir(), "root.key")
	if err := os.Rename(filepath.Join(dir, ca.RootKeyFile), offline); err != nil {
		t.Fatal(err)
	}
	opts := ca.Options{Dir: dir, PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: issueTime.Add(24 * time.Hour)}
	b, created, err := ca.Open(opts)
	if err != nil || created {
		t.Fatalf("Open without the root key: %v", err)
	}
	if _, err := b.Prepare(ca.Request{PublicKey: testutil.Key(t, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: issueTime}); err != nil {
		t.Fatalf("issuing without the root key: %v", err)
	}
	if _, err := ca.NewIntermediate(opts, filepath.Join(t.TempDir(), "missing.key"), ca.ProfileTLS); err == nil {
		t.Fatal("ceremony without the root key succeeded")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	otherCA, otherDir := openCA(t, ca.KeyECDSAP256, 0)
	_ = otherCA
	data, _ := os.ReadFile(filepath.Join(otherDir, ca.RootKeyFile))
	_ = os.WriteFile(other, data, 0o600)
	if _, err := ca.NewIntermediate(opts, other, ca.ProfileTLS); err == nil {
		t.Fatal("ceremony with another CA's root key succeeded")
	}
	inter, err := ca.NewIntermediate(opts, offline, ca.ProfileTLS)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(inter.Raw, a.Intermediate().Raw) {
		t.Fatal("the intermediate did not change")
	}
	c, _, err := ca.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Intermediate().Raw, inter.Raw) || c.Intermediate().CheckSignatureFrom(c.Root()) != nil {
		t.Fatal("the new intermediate is not in use or not signed by the root")
	}
	if lints, err := c.LintCA(inter.Raw, ca.ProfileTLS); err != nil || len(lints) != 0 {
		t.Fatalf("new intermediate lints: %v %v", lints, err)
	}
	crl, err := c.RootCRL()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseRevocationList(crl)
	if err != nil || parsed.Number.Int64() != 2 || parsed.CheckSignatureFrom(c.Root()) != nil {
		t.Fatalf("root CRL after the ceremony: %v %v", parsed, err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, ca.IntermediateCertFile+".retired-*"))
	if len(matches) != 1 {
		t.Fatalf("retired intermediate files: %v", matches)
	}
}
