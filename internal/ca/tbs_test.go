package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/testutil"
)

// TestBuildTBS: the captured to-be-signed bytes are exactly those
// x509.CreateCertificate signs when given the CA's real key, for ECDSA and
// RSA issuers, and CreateCertificate's refusals come back as errors.
func TestBuildTBS(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	for _, keyType := range []KeyType{KeyECDSAP256, KeyRSA3072} {
		t.Run(string(keyType), func(t *testing.T) {
			key, err := generateKey(keyType)
			if err != nil {
				t.Fatal(err)
			}
			parentTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Issuer"},
				NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
				SubjectKeyId: []byte{1, 2, 3}}
			parentDER, err := x509.CreateCertificate(rand.Reader, parentTmpl, parentTmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			parent, err := x509.ParseCertificate(parentDER)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := &x509.Certificate{SerialNumber: NewSerial(), Subject: pkix.Name{CommonName: "www.example.com"},
				DNSNames: []string{"www.example.com"}, NotBefore: now, NotAfter: now.Add(time.Hour)}
			subject := testutil.Key(t, "p256").Public()

			tbs, err := buildTBS(tmpl, parent, subject)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, subject, key)
			if err != nil {
				t.Fatal(err)
			}
			real, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tbs, real.RawTBSCertificate) {
				t.Fatal("captured TBS differs from the one CreateCertificate signs")
			}

			placeholder, err := placeholderSignature(parent.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			_, lintDER, err := lintCertificate(tbs, placeholder)
			if err != nil {
				t.Fatal(err)
			}
			lint, err := x509.ParseCertificate(lintDER) // also checks inner and outer algorithms agree
			if err != nil {
				t.Fatal(err)
			}
			if lint.SignatureAlgorithm != real.SignatureAlgorithm || lint.CheckSignatureFrom(parent) == nil {
				t.Fatalf("lint certificate: algorithm %v, or its placeholder signature verifies", lint.SignatureAlgorithm)
			}

			for name, bad := range map[string]*x509.Certificate{
				"negative serial": {SerialNumber: big.NewInt(-1), NotBefore: now, NotAfter: now.Add(time.Hour)},
				"path length":     {SerialNumber: big.NewInt(2), NotBefore: now, NotAfter: now.Add(time.Hour), BasicConstraintsValid: true, MaxPathLen: 2},
			} {
				if _, err := buildTBS(bad, parent, subject); err == nil || !strings.HasPrefix(err.Error(), "ca: build certificate: x509: ") {
					t.Errorf("%s: buildTBS error %v", name, err)
				}
			}
		})
	}
}

// TestLintCertificateRefusesMalformedTBS: bytes that are not a
// TBSCertificate are not wrapped.
func TestLintCertificateRefusesMalformedTBS(t *testing.T) {
	for name, tbs := range map[string][]byte{
		"empty":          nil,
		"not a SEQUENCE": {0x02, 0x01, 0x01},
		"trailing data":  {0x30, 0x00, 0x00},
		"no algorithm":   {0x30, 0x03, 0x02, 0x01, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := lintCertificate(tbs, []byte{1}); err == nil {
				t.Fatal("wrapped")
			}
		})
	}
}
