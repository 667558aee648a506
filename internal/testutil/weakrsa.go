package testutil

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
)

// RawRSAKey is an RSA key pair built from chosen primes, which
// crypto/rsa would refuse to make or use: the weak keys a CA must refuse.
type RawRSAKey struct {
	N, D *big.Int
	E    int
}

// Public returns the public half.
func (k *RawRSAKey) Public() crypto.PublicKey { return &rsa.PublicKey{N: k.N, E: k.E} }

// WeakRSA makes a 2048-bit-class RSA key with a chosen weakness:
// "small-factor" (one prime is 751), "fermat" (primes so close that
// Fermat's method factors the modulus at once), "odd-size" (a 2052-bit
// modulus).
func WeakRSA(t testing.TB, kind string) *RawRSAKey {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := weakKeys[kind]; ok {
		return k
	}
	var p, q *big.Int
	var err error
	switch kind {
	case "small-factor":
		p = big.NewInt(751)
		for {
			if q, err = rand.Prime(rand.Reader, 2038); err != nil {
				t.Fatal(err)
			}
			if new(big.Int).Mul(p, q).BitLen() == 2048 {
				break
			}
		}
	case "fermat":
		if p, err = rand.Prime(rand.Reader, 1024); err != nil {
			t.Fatal(err)
		}
		p.SetBit(p, 1023, 1).SetBit(p, 1022, 1)
		for !p.ProbablyPrime(20) {
			p.Add(p, big.NewInt(2))
		}
		q = new(big.Int).Add(p, big.NewInt(2))
		for !q.ProbablyPrime(20) {
			q.Add(q, big.NewInt(2))
		}
	case "odd-size":
		if p, err = rand.Prime(rand.Reader, 1026); err != nil {
			t.Fatal(err)
		}
		for {
			if q, err = rand.Prime(rand.Reader, 1026); err != nil {
				t.Fatal(err)
			}
			if new(big.Int).Mul(p, q).BitLen() == 2052 {
				break
			}
		}
	default:
		t.Fatalf("unknown weak key %q", kind)
	}
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
	d := new(big.Int).ModInverse(big.NewInt(65537), phi)
	if d == nil {
		t.Fatalf("65537 is not invertible for %s key", kind)
	}
	k := &RawRSAKey{N: n, D: d, E: 65537}
	weakKeys[kind] = k
	return k
}

var weakKeys = map[string]*RawRSAKey{}

// Ed25519 returns an Ed25519 public key, a type TLS certificates may not
// carry.
func Ed25519(t testing.TB) crypto.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

var oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}

// RawRSACSR builds a PKCS#10 request for cn with the public key pub,
// signed by hand with SHA-256 and PKCS#1 v1.5 using k (when k is nil the
// signature is random bytes: for keys whose private half nobody has, such
// as published ROCA test vectors).
func RawRSACSR(t testing.TB, pub *rsa.PublicKey, k *RawRSAKey, cn string) string {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := asn1.Marshal(pkix.Name{CommonName: cn}.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	tbs, err := asn1.Marshal(struct {
		Version    int
		Subject    asn1.RawValue
		PublicKey  asn1.RawValue
		Attributes asn1.RawValue
	}{0, asn1.RawValue{FullBytes: subject}, asn1.RawValue{FullBytes: spki},
		asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true}})
	if err != nil {
		t.Fatal(err)
	}
	size := (pub.N.BitLen() + 7) / 8
	sig := make([]byte, size)
	if k == nil {
		_, _ = rand.Read(sig[1:])
	} else {
		digest := sha256.Sum256(tbs)
		// EMSA-PKCS1-v1_5 (RFC 8017 section 9.2) with SHA-256's DigestInfo prefix.
		prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
		em := make([]byte, size)
		em[1] = 1
		tLen := len(prefix) + len(digest)
		for i := 2; i < size-tLen-1; i++ {
			em[i] = 0xff
		}
		copy(em[size-tLen:], append(prefix, digest[:]...))
		s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
		s.FillBytes(sig)
	}
	der, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, pkix.AlgorithmIdentifier{Algorithm: oidSHA256WithRSA, Parameters: asn1.NullRawValue}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return pemCSR(der)
}
