package testutil

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// HaveOpenSSL reports whether the openssl command is installed.
func HaveOpenSSL() bool {
	_, err := exec.LookPath("openssl")
	return err == nil
}

// OpenSSL runs openssl with args in dir and returns its combined output,
// failing the test if it exits non-zero. It skips nothing: callers decide.
func OpenSSL(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// OpenSSLVerify checks certPEM against the chain with `openssl verify`,
// when openssl is installed (CI installs it).
func OpenSSLVerify(t testing.TB, certPEM, intermediatePEM, rootPEM string) {
	t.Helper()
	OpenSSLVerifyPurpose(t, "sslserver", certPEM, intermediatePEM, rootPEM)
}

// OpenSSLVerifyPurpose is OpenSSLVerify for another purpose ("" for
// none: OpenSSL before 3.2 has no code signing purpose).
func OpenSSLVerifyPurpose(t testing.TB, purpose, certPEM, intermediatePEM, rootPEM string) {
	t.Helper()
	if !HaveOpenSSL() {
		t.Log("openssl not installed; skipping openssl verify")
		return
	}
	dir := t.TempDir()
	for name, data := range map[string]string{"cert.pem": certPEM, "inter.pem": intermediatePEM, "root.pem": rootPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "inter.pem"}
	if purpose != "" {
		args = append(args, "-purpose", purpose)
	}
	out := OpenSSL(t, dir, append(args, "cert.pem")...)
	if !strings.Contains(out, "cert.pem: OK") {
		t.Fatalf("openssl verify: %s", out)
	}
}

// DecodePEM returns the DER of the single PEM block of type typ in s.
func DecodePEM(t testing.TB, s, typ string) []byte {
	t.Helper()
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != typ {
		t.Fatalf("not a PEM %s: %q", typ, s)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("trailing data after PEM %s", typ)
	}
	return block.Bytes
}
