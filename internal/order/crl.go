package order

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/store"
)

// crlRefresh is how old a CRL may get before it is signed again: a day,
// or a third of a shorter lifetime, well before its nextUpdate.
func (s *Service) crlRefresh() time.Duration {
	if s.crlLifetime > 0 && s.crlLifetime/3 < 24*time.Hour {
		return s.crlLifetime / 3
	}
	return 24 * time.Hour
}

var profiles = []ca.Profile{ca.ProfileTLS, ca.ProfileCodeSigning}

// PublishCRL signs a new CRL for a profile's issuing CA with every
// revoked certificate that has not expired.
func (s *Service) PublishCRL(ctx context.Context, p ca.Profile) (store.CRL, error) {
	issuer := s.ca.IssuerName(p)
	now := s.now().UTC()
	revoked, err := s.store.RevokedCertificates(ctx, issuer, now)
	if err != nil {
		return store.CRL{}, err
	}
	var entries []ca.Revoked
	for _, c := range revoked {
		serial, ok := new(big.Int).SetString(c.Serial, 16)
		if !ok {
			return store.CRL{}, fmt.Errorf("certificate serial %q is not hex", c.Serial)
		}
		entries = append(entries, ca.Revoked{Serial: serial, At: c.RevokedAt, Reason: c.RevocationReason})
	}
	crl, err := s.store.PublishCRL(ctx, issuer, func(number int64) (store.CRL, error) {
		der, err := s.ca.CRL(p, big.NewInt(number), entries, now, s.crlLifetime)
		if err != nil {
			return store.CRL{}, err
		}
		next := ca.CRLLifetime
		if s.crlLifetime > 0 {
			next = s.crlLifetime
		}
		return store.CRL{DER: der, ThisUpdate: now.Truncate(time.Second), NextUpdate: now.Truncate(time.Second).Add(next)}, nil
	})
	if err == nil {
		s.log.Info("CRL published", "issuer", issuer, "number", crl.Number, "entries", len(entries))
	}
	return crl, err
}

// PublishCRLs signs fresh CRLs for every issuing CA: the pipeline's
// periodic job, so that CRLs are renewed well before their nextUpdate
// even when nobody fetches them.
func (s *Service) PublishCRLs(ctx context.Context) error {
	for _, p := range profiles {
		if _, err := s.PublishCRL(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoCRL means no CA of that name publishes a CRL.
var ErrNoCRL = errors.New("no such CRL")

// CRL returns the latest CRL of the issuing CA named name (as in its CRL
// distribution point), signing a new one when there is none or the last
// is a day old; "root" is the root's.
func (s *Service) CRL(ctx context.Context, name string) ([]byte, error) {
	if name == "root" {
		return s.ca.RootCRL()
	}
	for _, p := range profiles {
		if s.ca.IssuerName(p) != name {
			continue
		}
		crl, err := s.store.LatestCRL(ctx, name)
		if err == nil && s.now().Sub(crl.ThisUpdate) < s.crlRefresh() {
			return crl.DER, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		crl, err = s.PublishCRL(ctx, p)
		if err != nil {
			return nil, err
		}
		return crl.DER, nil
	}
	return nil, ErrNoCRL
}
