package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/testutil"
)

// badSigner signs with another key than its issuer certificate names, or
// not at all: a faulty HSM.
type badSigner struct {
	crypto.Signer
	fail bool
}

func (s badSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.fail {
		return nil, io.ErrUnexpectedEOF
	}
	return s.Signer.Sign(r, digest, opts)
}

// TestSign: the CA signs exactly the to-be-signed bytes it linted, the
// result verifies under the intermediate, and a signer that fails or
// signs with the wrong key yields no certificate.
func TestSign(t *testing.T) {
	for _, keyType := range []KeyType{KeyECDSAP256, KeyRSA3072} {
		t.Run(string(keyType), func(t *testing.T) {
			a, _, err := Open(Options{Dir: t.TempDir(), KeyType: keyType, PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			prepare := func() *Prepared {
				p, err := a.Prepare(Request{PublicKey: testutil.Key(t, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com"},
					Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			p := prepare()
			der, err := a.Sign(p)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cert.RawTBSCertificate, p.TBS()) {
				t.Fatal("the signed certificate is not the linted one")
			}
			if err := cert.CheckSignatureFrom(a.Intermediate()); err != nil {
				t.Fatalf("signature: %v", err)
			}
			other, err := generateKey(keyType)
			if err != nil {
				t.Fatal(err)
			}
			for name, signer := range map[string]crypto.Signer{
				"signer fails": badSigner{Signer: p.issuer.signer, fail: true},
				"wrong CA key": badSigner{Signer: other},
			} {
				t.Run(name, func(t *testing.T) {
					p := prepare()
					iss := *p.issuer
					iss.signer = signer
					p.issuer = &iss
					if der, err := a.Sign(p); err == nil || der != nil || !strings.Contains(err.Error(), "ca: ") {
						t.Fatalf("Sign = %d bytes, %v", len(der), err)
					}
				})
			}
		})
	}
}
