package policy_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/testutil"
)

// FuzzParseCSR feeds the CSR reader (PEM in every form clients send,
// line-break-less PEM included) and the key and name policy anything: no
// input may panic them, and a CSR that parses must parse to the same
// request from the other forms of its PEM.
//
//	go test -run XXX -fuzz FuzzParseCSR -fuzztime 30s ./internal/policy
func FuzzParseCSR(f *testing.F) {
	good := testutil.CSR(f, testutil.Key(f, "p256"), "www.example.com", "www.example.com", "a.example.com", "xn--bcher-kva.example")
	for _, s := range []string{
		good,
		strings.ReplaceAll(good, "\n", "\r\n"),
		strings.ReplaceAll(good, "\n", ""),
		strings.ReplaceAll(good, "\n", `\n`),
		strings.ReplaceAll(good, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"),
		good[strings.Index(good, "\n")+1 : strings.Index(good, "-----END")],
		testutil.CSR(f, testutil.Key(f, "rsa2048"), "*.example.com", "*.example.com", "192.0.2.1"),
		testutil.LegacyCSR(f, testutil.Key(f, "p256"), "sha1", false, "www.example.com"),
		"", "-----BEGIN CERTIFICATE REQUEST-----", "-----BEGIN X-----a-----END X-----", "MII",
	} {
		f.Add(s)
	}
	profiles := []policy.NameProfile{}
	for _, name := range []string{"public", "private"} {
		p, err := policy.ParseNameProfile(name)
		if err != nil {
			f.Fatal(err)
		}
		profiles = append(profiles, p)
	}
	f.Fuzz(func(t *testing.T, text string) {
		csr, err := policy.ParseCSR(text)
		if err != nil {
			return
		}
		_ = policy.CheckCSRSignature(csr)
		_ = policy.KeyPolicy{}.Check(csr.PublicKey)
		for _, name := range append(csr.DNSNames, csr.Subject.CommonName) {
			for _, p := range profiles {
				if canon, _, err := p.Normalize(name); err == nil {
					// Normalizing is idempotent.
					if again, _, err := p.Normalize(canon); err != nil || again != canon {
						t.Fatalf("%s: %q normalizes to %q, then to %q (%v)", p, name, canon, again, err)
					}
				}
			}
		}
		if strings.Contains(text, "-----BEGIN") {
			for _, variant := range []string{strings.ReplaceAll(text, "\n", "\r\n"), strings.ReplaceAll(text, "\n", `\n`)} {
				other, err := policy.ParseCSR(variant)
				if err != nil || !bytes.Equal(other.Raw, csr.Raw) {
					t.Fatalf("a form of the same PEM reads differently: %v", err)
				}
			}
		}
	})
}
