package ca

import (
	"testing"
	"time"

	"github.com/zmap/zlint/v3/lint"

	"github.com/certd/certd/internal/testutil"
)

// BenchmarkLint measures the lint step alone on a typical OV TLS
// certificate with each lint set, and reports how many lints each runs.
//
//	go test -run XXX -bench Lint -benchtime 2s ./internal/ca
func BenchmarkLint(b *testing.B) {
	a, _, err := Open(Options{Dir: b.TempDir(), PublicURL: "https://ca.test", PKIURL: "http://ca.test", Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	p, err := a.Prepare(Request{PublicKey: testutil.Key(b, "p256").Public(), CommonName: "www.example.com", DNSNames: []string{"www.example.com", "a.example.com"},
		Organization: "Org", Locality: "Tampa", Province: "FL", Country: "us", Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range []struct {
		name string
		r    lint.Registry
	}{{"tls", a.lint.tls}, {"code-signing-set", a.lint.code}, {"rfc-only", a.lint.internal}} {
		b.Run(set.name, func(b *testing.B) {
			b.ReportMetric(float64(len(set.r.Names())), "lints")
			for i := 0; i < b.N; i++ {
				if _, err := a.lint.lint(p.LintDER, set.r); err != nil && set.name == "tls" {
					b.Fatal(err)
				}
			}
		})
	}
}
