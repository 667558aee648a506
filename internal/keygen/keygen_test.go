package keygen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeysAndCSRs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		kind string
		bits int
		algo x509.PublicKeyAlgorithm
	}{
		{"ecdsa", 256, x509.ECDSA},
		{"p384", 384, x509.ECDSA},
		{"rsa2048", 2048, x509.RSA},
		{"rsa3072", 3072, x509.RSA},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			key, err := New(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.kind+".key")
			if err := Write(path, key); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, %v", fi.Mode(), err)
			}
			if err := Write(path, key); err == nil || !strings.Contains(err.Error(), "not replacing a key") {
				t.Fatalf("second write: %v", err)
			}
			back, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			csrPEM, err := CSR(back, "www.example.com", []string{"www.example.com", "192.0.2.7"})
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode([]byte(csrPEM))
			csr, err := x509.ParseCertificateRequest(block.Bytes)
			if err != nil || csr.CheckSignature() != nil {
				t.Fatalf("CSR: %v", err)
			}
			if csr.PublicKeyAlgorithm != tc.algo || csr.Subject.CommonName != "www.example.com" ||
				len(csr.DNSNames) != 1 || len(csr.IPAddresses) != 1 {
				t.Fatalf("CSR %+v", csr)
			}
			switch k := csr.PublicKey.(type) {
			case *rsa.PublicKey:
				if k.N.BitLen() != tc.bits {
					t.Errorf("%d bits", k.N.BitLen())
				}
			case *ecdsa.PublicKey:
				if k.Curve.Params().BitSize != tc.bits {
					t.Errorf("curve %s", k.Curve.Params().Name)
				}
			}
			// openssl reads both files.
			if _, err := exec.LookPath("openssl"); err == nil {
				csrPath := filepath.Join(dir, tc.kind+".csr")
				if err := os.WriteFile(csrPath, []byte(csrPEM), 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command("openssl", "req", "-in", csrPath, "-verify", "-noout").CombinedOutput(); err != nil {
					t.Fatalf("openssl req: %v %s", err, out)
				}
				if out, err := exec.Command("openssl", "pkey", "-in", path, "-noout").CombinedOutput(); err != nil {
					t.Fatalf("openssl pkey: %v %s", err, out)
				}
			}
		})
	}
	if _, err := New("dsa"); err == nil {
		t.Error("made a DSA key")
	}
}

func TestReadFormats(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name, text, err string
	}{
		{"SEC 1", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), ""},
		{"PKCS#1 after a certificate block", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" +
			string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})), ""},
		{"encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "the key is encrypted"},
		{"no key", "hello", "no PEM private key"},
		{"garbage key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "garbage.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "")+".key")
			if tc.name == "garbage key" {
				path = filepath.Join(dir, "garbage.key")
			}
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Read = %v, want %q", err, tc.err)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "absent")); err == nil {
		t.Error("read a missing file")
	}
}
