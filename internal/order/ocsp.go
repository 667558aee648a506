package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/store"
)

// ocspCacheTTL bounds how long a signed response is served again; a
// revocation in this process drops it at once.
const ocspCacheTTL = time.Minute

type ocspCache struct {
	mu      sync.Mutex
	entries map[string]ocspEntry
}

type ocspEntry struct {
	der     []byte
	expires time.Time
}

func (c *ocspCache) get(key string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.der, true
}

func (c *ocspCache) put(key string, der []byte, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 100000 {
		c.entries = map[string]ocspEntry{}
	}
	c.entries[key] = ocspEntry{der: der, expires: expires}
}

func (c *ocspCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// OCSP request problems, answered with OCSP error responses.
var (
	ErrOCSPUnauthorized = errors.New("not a certificate of this CA")
	ErrOCSPMalformed    = errors.New("malformed OCSP request")
)

// OCSP answers an OCSP request (RFC 6960, DER): good for a certificate
// certd issued and has not revoked, revoked with time and reason, unknown
// for a serial it never issued.
func (s *Service) OCSP(ctx context.Context, reqDER []byte) ([]byte, error) {
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOCSPMalformed, err)
	}
	profile, ok := s.ca.OCSPIssuer(req)
	if !ok {
		return nil, ErrOCSPUnauthorized
	}
	serial := SerialText(req.SerialNumber)
	key := s.ca.IssuerName(profile) + "/" + serial
	now := s.now()
	if der, ok := s.ocsp.get(key, now); ok {
		return der, nil
	}
	st := ca.OCSPStatus{Serial: req.SerialNumber, Status: ocsp.Unknown}
	c, err := s.store.GetCertificate(ctx, serial)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case c.Status == store.CertIssued && strings.EqualFold(c.Issuer, s.ca.IssuerName(profile)):
		st.Status = ocsp.Good
		if !c.RevokedAt.IsZero() {
			st.Status, st.RevokedAt, st.Reason = ocsp.Revoked, c.RevokedAt, c.RevocationReason
		}
	}
	der, err := s.ca.OCSPResponse(profile, st, now)
	if err != nil {
		return nil, err
	}
	// Check what was signed the way a relying party would (RFC 6960
	// 3.2): it parses, its signature verifies under the issuer, and it
	// speaks of the serial asked about with the status decided.
	issuer := s.ca.IssuerOf(profile)
	check, err := ocsp.ParseResponse(der, issuer)
	if err != nil || check.SerialNumber.Cmp(req.SerialNumber) != 0 || check.Status != st.Status || !check.NextUpdate.After(check.ThisUpdate) {
		return nil, fmt.Errorf("ocsp: the signed response does not check: %v", err)
	}
	s.ocsp.put(key, der, now.Add(ocspCacheTTL))
	return der, nil
}

// forgetOCSP drops a cached response after the certificate's status
// changed.
func (s *Service) forgetOCSP(issuer, serial string) { s.ocsp.drop(issuer + "/" + serial) }
