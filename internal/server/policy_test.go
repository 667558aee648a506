package server_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/testutil"
)

// rocaVector is a public key from the ROCA authors' published test
// vectors (a 2048-bit modulus from the vulnerable Infineon library); its
// private key is unknown, so its CSR carries a random signature, which
// does not matter: the key is refused first.
const rocaVector = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnDSwGO+LetuWIPxBrWIV
EZhfr8VB7tnXBnFaNev61bT1lViBUAN8rmMBw2rd/a6Lw4SjDi+3Fc7hpQtccMyr
z3Z52VVsuS1Df94/2GJ2J+B8qw0dTHQoVjPGaOrRads5cjrI1fvgcKNhfwXHd8jh
6fCHwVIruU8E2wgTu91ceTzAODzCe1aWbE0QMYTV11E0t2+vt808AWsYMDOWMIOa
0sFZD1DzQSw1YC74YV92yDGsHA4JNZVl6JB0H21lxENKrkOF9MJx+doXHiEEfwNC
3F7kf2QDd+3oyRcrrGZt9rhfRPQckUnYM495nfaQcHzTXyIySnY0s6PkwbgL4B44
dQIDAQAB
-----END PUBLIC KEY-----`

func TestWeakKeysRefused(t *testing.T) {
	blocked := testutil.Key(t, "p256-compromised")
	h, err := policy.SPKIHash(blocked.Public())
	if err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(t.TempDir(), "blocklist.txt")
	if err := os.WriteFile(list, []byte("# compromised\n"+hex.EncodeToString(h[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, envOptions{sandbox: true, keyBlocklist: list})

	block, _ := pem.Decode([]byte(rocaVector))
	roca, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKeyPEM, err := os.ReadFile(filepath.Join(e.dir, "ca", ca.IntermediateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(caKeyPEM)
	caKey, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	small := testutil.WeakRSA(t, "small-factor")
	fermat := testutil.WeakRSA(t, "fermat")
	odd := testutil.WeakRSA(t, "odd-size")
	tests := []struct {
		name string
		csr  string
		rule string
	}{
		{"small factor", testutil.RawRSACSR(t, small.Public().(*rsa.PublicKey), small, "www.example.com"), "rsa-small-factor"},
		{"fermat-close primes", testutil.RawRSACSR(t, fermat.Public().(*rsa.PublicKey), fermat, "www.example.com"), "rsa-fermat"},
		{"size not a multiple of 8", testutil.RawRSACSR(t, odd.Public().(*rsa.PublicKey), odd, "www.example.com"), "rsa-size"},
		{"roca test vector", testutil.RawRSACSR(t, roca.(*rsa.PublicKey), nil, "www.example.com"), "rsa-roca"},
		{"1024-bit", testutil.CSR(t, testutil.Key(t, "rsa1024"), "www.example.com"), "rsa-size"},
		{"p521", testutil.CSR(t, testutil.Key(t, "p521"), "www.example.com"), "ecdsa-curve"},
		{"blocklisted", testutil.CSR(t, blocked, "www.example.com"), "blocklist"},
		{"the CA's own key", testutil.CSR(t, caKey.(crypto.Signer), "www.example.com"), "ca-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, tt.csr, nil)})
			if r.status != 400 || r.codes(t)[0] != "invalid_param:csr" || !strings.Contains(string(r.body), "rule "+tt.rule) {
				t.Fatalf("= %d %s", r.status, r.body)
			}
		})
	}
	// A sound key made by hand the same way is accepted: the refusals
	// above are the rules', not the hand-made CSRs'.
	good := testutil.Key(t, "rsa2048").(*rsa.PrivateKey)
	raw := &testutil.RawRSAKey{N: good.N, D: good.D, E: good.E}
	if r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, testutil.RawRSACSR(t, &good.PublicKey, raw, "www.example.com"), nil)}); r.status != 201 {
		t.Fatalf("sound hand-made CSR = %d %s", r.status, r.body)
	}
}

func TestPublicNameProfile(t *testing.T) {
	e := start(t, envOptions{sandbox: true})
	for _, tt := range []struct{ cn, sans string }{
		{"co.uk", ""}, {"www.example.com", "*.github.io"}, {"www.example.com", "192.0.2.1"},
		{"intranet.corp", ""}, {"www.example.com", "printer.local"}, {"www.notarealtld", ""},
	} {
		t.Run(tt.cn+" "+tt.sans, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "www.example.com"), map[string]any{"common_name": tt.cn, "sans": tt.sans})})
			if r.status != 400 {
				t.Fatalf("= %d %s", r.status, r.body)
			}
		})
	}
}

func TestPrivateNameProfile(t *testing.T) {
	e := start(t, envOptions{sandbox: true, nameProfile: "private"})
	id := e.placeOrder(map[string]any{"common_name": "intranet", "sans": "db.internal, 10.1.2.3, 2001:db8::7"})
	cert, err := e.client().Certificate(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parsePEMCert(t, cert.Certs.Certificate)
	if strings.Join(leaf.DNSNames, ",") != "intranet,db.internal" || len(leaf.IPAddresses) != 2 ||
		!leaf.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) || !leaf.IPAddresses[1].Equal(net.ParseIP("2001:db8::7")) {
		t.Fatalf("names = %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "db.internal")
	if r := e.do(req{method: "POST", path: "/order/ssl", headers: jsonCT(), body: orderBody(t, csrFor(t, "x"), map[string]any{"common_name": "co.uk", "sans": ""})}); r.status != 400 {
		t.Fatalf("public suffix in the private profile = %d %s", r.status, r.body)
	}
}
