// Package validation is certd's validation authority: it checks domain
// control (Baseline Requirements section 3.2.2.4) and CAA (RFC 8659,
// RFC 8657) over the network, through a configurable DNS resolver and
// plain HTTP. It decides nothing about orders: the order service asks it
// whether a domain passed a check and records the answer.
package validation

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"time"
)

// Methods of domain-control validation, by the names certd's API uses.
const (
	// MethodDNSTXT is BRs 3.2.2.4.7 (DNS Change): a TXT record at
	// _dnsauth.<domain> holding the random value.
	MethodDNSTXT = "dns-txt-token"
	// MethodHTTP is BRs 3.2.2.4.18 (Agreed-Upon Change to Website v2): a
	// file at /.well-known/pki-validation/<name>.txt holding it.
	MethodHTTP = "http-token"
	// MethodEmail is BRs 3.2.2.4.4 (Constructed Email to Domain Contact).
	MethodEmail = "email"
)

// DNSPrefix is the label under which the DNS TXT method looks.
const DNSPrefix = "_dnsauth"

// RandomValueLifetime is how long a random value may be used (BRs
// 3.2.2.4: at most 30 days).
const RandomValueLifetime = 30 * 24 * time.Hour

// NewRandomValue returns a random value of 160 bits (BRs 1.6.1 require at
// least 112), as 32 lower-case base32 characters, safe in DNS labels,
// file names and mail.
func NewRandomValue() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return lowerBase32(b)
}

func lowerBase32(b []byte) string {
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	out := []byte(s)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + ('a' - 'A')
		}
	}
	return string(out)
}

// Failure is a check that ran and did not pass: the subscriber has
// something to fix. Any other error is a lookup failure, to retry.
type Failure struct {
	Reason string
}

func (f *Failure) Error() string { return f.Reason }

func failf(reason string) error { return &Failure{Reason: reason} }

// IsFailure reports whether err is a definite failure rather than a
// lookup problem.
func IsFailure(err error) bool {
	var f *Failure
	return errors.As(err, &f)
}
