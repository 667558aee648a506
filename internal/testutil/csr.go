// Package testutil makes the keys and certificate requests that certd's
// tests send, including the legacy shapes (SHA-1 and MD5 signatures) that
// crypto/x509 no longer creates.
package testutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"sync"
	"testing"
)

// keys are generated once per test binary: RSA key generation is slow and
// tests care about the CSR, not the key's freshness.
var (
	keyMu sync.Mutex
	keys  = map[string]crypto.Signer{}
)

// Key returns a cached key: "p256", "p384", "p521", "rsa2048", "rsa1024",
// "rsa4096", or any of them with a suffix ("p256-b") for a second key.
func Key(t testing.TB, name string) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keys[name]; ok {
		return k
	}
	kind := name
	for i, c := range name {
		if c == '-' {
			kind = name[:i]
			break
		}
	}
	var k crypto.Signer
	var err error
	switch kind {
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa3072":
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	case "rsa4096":
		k, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		t.Fatalf("unknown key kind %q", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	keys[name] = k
	return k
}

// CSR returns a PEM CSR for cn and sans signed by key with crypto/x509's
// default algorithm.
func CSR(t testing.TB, key crypto.Signer, cn string, sans ...string) string {
	t.Helper()
	return pemCSR(csrDER(t, key, cn, sans))
}

func csrDER(t testing.TB, key crypto.Signer, cn string, sans []string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: cn},
		DNSNames: sans,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemCSR(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

var (
	oidSHA1WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidMD5WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidECDSAWithSHA1 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
)

// LegacyCSR returns a CSR signed with SHA-1 ("sha1") or MD5 ("md5"), the
// way old clients made them. With corrupt set, the signature is broken.
func LegacyCSR(t testing.TB, key crypto.Signer, hash string, corrupt bool, cn string, sans ...string) string {
	t.Helper()
	parsed, err := x509.ParseCertificateRequest(csrDER(t, key, cn, sans))
	if err != nil {
		t.Fatal(err)
	}
	tbs := parsed.RawTBSCertificateRequest
	var alg pkix.AlgorithmIdentifier
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var h crypto.Hash
		var digest []byte
		if hash == "md5" {
			d := md5.Sum(tbs)
			h, digest, alg.Algorithm = crypto.MD5, d[:], oidMD5WithRSA
		} else {
			d := sha1.Sum(tbs)
			h, digest, alg.Algorithm = crypto.SHA1, d[:], oidSHA1WithRSA
		}
		alg.Parameters = asn1.NullRawValue
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, h, digest)
	case *ecdsa.PrivateKey:
		d := sha1.Sum(tbs)
		alg.Algorithm = oidECDSAWithSHA1
		sig, err = ecdsa.SignASN1(rand.Reader, k, d[:])
	default:
		t.Fatalf("LegacyCSR: unsupported key %T", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	if corrupt {
		sig[len(sig)/2] ^= 0xff
	}
	der, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, alg, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return pemCSR(der)
}
