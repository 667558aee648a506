package ca_test

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/testutil"
)

func TestPKCS11(t *testing.T) {
	testutil.SoftHSM(t, "certd", "1234")
	// The wrong configurations first: once a session of the process is
	// logged in, the module accepts further logins.
	tests := []struct {
		name, module, token, pin string
		err                      error
	}{
		{"wrong PIN", testutil.SoftHSMModule, "certd", "9999", ca.ErrPKCS11PIN},
		{"wrong token", testutil.SoftHSMModule, "nope", "1234", ca.ErrPKCS11Token},
		{"wrong module", "/nonexistent/libpkcs11.so", "certd", "1234", ca.ErrPKCS11Module},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ca.OpenPKCS11(tt.module, tt.token, tt.pin)
			if err == nil {
				k.Close()
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("OpenPKCS11 = %v, want %v", err, tt.err)
			}
		})
	}
	keys, err := ca.OpenPKCS11(testutil.SoftHSMModule, "certd", "1234")
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	dir := filepath.Join(t.TempDir(), "ca")
	a, created, err := ca.Open(ca.Options{Dir: dir, PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: issueTime, Keys: keys})
	if err != nil || !created {
		t.Fatalf("Open with the HSM: %v", err)
	}
	for _, f := range []string{ca.RootKeyFile, ca.IntermediateKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("%s written to disk with the keys in the HSM", f)
		}
	}
	p, err := a.Prepare(ca.Request{PublicKey: testutil.Key(t, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: issueTime})
	if err != nil {
		t.Fatal(err)
	}
	der, err := a.Sign(p)
	if err != nil {
		t.Fatalf("sign in the HSM: %v", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	if err := leaf.CheckSignatureFrom(a.Intermediate()); err != nil {
		t.Fatal(err)
	}
	// A second Open finds the keys in the token.
	if _, created, err := ca.Open(ca.Options{Dir: dir, PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: issueTime, Keys: keys}); err != nil || created {
		t.Fatalf("reopen: %v", err)
	}

	t.Run("missing key label", func(t *testing.T) {
		if _, err := keys.Load("no-such-key"); !errors.Is(err, ca.ErrPKCS11Key) {
			t.Fatalf("Load = %v", err)
		}
	})
}
