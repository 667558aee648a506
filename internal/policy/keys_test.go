package policy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/testutil"
)

// rocaVector is a public key from the ROCA authors' published test
// vectors (crocs-muni/roca, as carried by github.com/titanous/rocacheck's
// tests): a 2048-bit modulus made by the vulnerable Infineon library.
const rocaVector = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlze9c7qGdjDLVR/ntk+4
ZkfMcYsAnmfTFHfe3Xv7jRQqPCXCULtr0y0jG3aRJmEenoXO9uDveqr43gFB9yvA
dLEhu0aJqpB7lNZ+yXsvfVp/96dkSN8oWYL/dd9Z7GQOvVniHUY3Xsd7zdw2eYOy
HSXhhA2Ttwnj3c1jEYfC0y9q1cU99aL0ogGDqolcOvlkJu+mGb+6+WyboFa1gwRu
kYxBHZWKiHCt/eihvXsPTzTlXmTXWdGJtA1xZDnCBWuZ90b5R0agXVIESTl0cCyH
aQM/tLZmktJIU+Eu7ALBXemPg9kh3SCnYd3/YvDGCtYSXOWthHwlP5CImRBcQaNn
cQIDAQAB
-----END PUBLIC KEY-----`

func rocaKey(t *testing.T) *rsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode([]byte(rocaVector))
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PublicKey)
}

func TestKeyPolicy(t *testing.T) {
	good := testutil.Key(t, "rsa2048").Public().(*rsa.PublicKey)
	ec := testutil.Key(t, "p256").Public().(*ecdsa.PublicKey)
	blocked := testutil.Key(t, "p256-blocked").Public()
	caKey := testutil.Key(t, "p384-ca").Public()
	blockedHash, _ := policy.SPKIHash(blocked)
	caHash, _ := policy.SPKIHash(caKey)
	p := policy.KeyPolicy{Blocked: map[[32]byte]bool{blockedHash: true}, CAKeys: map[[32]byte]bool{caHash: true}}

	// Invalid points can only be made from raw coordinates, which is what
	// the deprecation of X and Y guards against: here it is the point.
	//lint:ignore SA1019 building an invalid key on purpose
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).Set(ec.X), Y: new(big.Int).Add(ec.Y, big.NewInt(1))}
	//lint:ignore SA1019 building an invalid key on purpose
	infinity := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(0), Y: big.NewInt(0)}
	tests := []struct {
		name string
		key  any
		rule string
	}{
		{"rsa 2048", good, ""},
		{"rsa 4096", testutil.Key(t, "rsa4096").Public(), ""},
		{"p256", ec, ""},
		{"p384", testutil.Key(t, "p384").Public(), ""},
		{"rsa 1024", testutil.Key(t, "rsa1024").Public(), "rsa-size"},
		{"rsa not a multiple of 8", testutil.WeakRSA(t, "odd-size").Public(), "rsa-size"},
		{"exponent 3", &rsa.PublicKey{N: good.N, E: 3}, "rsa-exponent"},
		{"exponent 65539", &rsa.PublicKey{N: good.N, E: 65539}, "rsa-exponent"},
		{"small factor", testutil.WeakRSA(t, "small-factor").Public(), "rsa-small-factor"},
		{"even modulus", &rsa.PublicKey{N: new(big.Int).SetBit(new(big.Int).Set(good.N), 0, 0), E: 65537}, "rsa-small-factor"},
		{"fermat-close primes", testutil.WeakRSA(t, "fermat").Public(), "rsa-fermat"},
		{"roca", rocaKey(t), "rsa-roca"},
		{"p521", testutil.Key(t, "p521").Public(), "ecdsa-curve"},
		{"point off the curve", offCurve, "ecdsa-point"},
		{"point at infinity", infinity, "ecdsa-point"},
		{"blocklisted", blocked, "blocklist"},
		{"the CA's own key", caKey, "ca-key"},
		{"ed25519", testutil.Ed25519(t), "key-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Check(tt.key)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("refused a good key: %v", err)
				}
				return
			}
			var ke *policy.KeyError
			if !errors.As(err, &ke) || ke.Rule != tt.rule {
				t.Fatalf("Check = %v, want rule %s", err, tt.rule)
			}
		})
	}
	t.Run("code signing minimum", func(t *testing.T) {
		var ke *policy.KeyError
		if err := (policy.KeyPolicy{MinRSABits: 3072}).Check(good); !errors.As(err, &ke) || ke.Rule != "rsa-size" {
			t.Fatalf("2048-bit key for code signing: %v", err)
		}
	})
}

func TestParseBlocklist(t *testing.T) {
	h, _ := policy.SPKIHash(testutil.Key(t, "p256").Public())
	list, err := policy.ParseBlocklist([]byte("# compromised keys\n\n" + hexOf(h) + "\n  " + hexOf([32]byte{1}) + "  \n"))
	if err != nil || len(list) != 2 || !list[h] {
		t.Fatalf("ParseBlocklist = %v, %v", list, err)
	}
	for _, bad := range []string{"abc", "zz" + hexOf(h)[2:], hexOf(h) + "00"} {
		if _, err := policy.ParseBlocklist([]byte(bad)); err == nil {
			t.Errorf("ParseBlocklist(%q) accepted", bad)
		}
	}
}

func hexOf(b [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
