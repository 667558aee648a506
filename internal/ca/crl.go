package ca

import (
	"sort"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// RootCRLFile is the root's CRL, signed when the hierarchy is made (the
// root revokes nothing until an intermediate is retired) and valid for a
// year.
const RootCRLFile = "root.crl"

// Revoked is one entry of a CRL.
type Revoked struct {
	Serial *big.Int
	At     time.Time
	Reason int
}

// CRLLifetime is how long a CRL of an issuing CA is valid (its nextUpdate
// after thisUpdate, BRs 4.9.7: at most 10 days); certd regenerates it
// well before.
const CRLLifetime = 7 * 24 * time.Hour

// CRL signs a CRL (RFC 5280 section 5) of the profile's issuing CA with
// the given number and entries, valid for lifetime (CRLLifetime when
// zero). It is linted (zlint's CRL lints) before it is returned: a CRL
// that fails is not published.
func (a *Authority) CRL(p Profile, number *big.Int, revoked []Revoked, now time.Time, lifetime time.Duration) ([]byte, error) {
	iss := a.issuer(p)
	if lifetime <= 0 {
		lifetime = CRLLifetime
	}
	der, err := signCRL(iss.cert, iss.signer, number, revoked, now, lifetime)
	if err != nil {
		return nil, err
	}
	zcrl, err := zx509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("ca: lint CRL: parse: %w", err)
	}
	var errs []string
	for name, r := range zlint.LintRevocationList(zcrl).Results {
		if r.Status == lint.Error || r.Status == lint.Fatal {
			errs = append(errs, name)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, &LintError{Lints: errs}
	}
	return der, nil
}

// IssuerName is the name of a profile's issuing CA in CRL paths
// ("intermediate", "codesign-intermediate").
func (a *Authority) IssuerName(p Profile) string { return a.issuer(p).name }

func signCRL(issuer *x509.Certificate, key crypto.Signer, number *big.Int, revoked []Revoked, now time.Time, lifetime time.Duration) ([]byte, error) {
	now = now.UTC().Truncate(time.Second)
	tmpl := &x509.RevocationList{
		Number:     number,
		ThisUpdate: now,
		NextUpdate: now.Add(lifetime),
	}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: r.Serial, RevocationTime: r.At.UTC(), ReasonCode: r.Reason,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign CRL: %w", err)
	}
	return der, nil
}

func writeRootCRL(opts Options, root *x509.Certificate, rootKey crypto.Signer) error {
	der, err := signCRL(root, rootKey, big.NewInt(1), nil, opts.Now, 365*24*time.Hour)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(opts.Dir, RootCRLFile), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}

// RootCRL returns the root's CRL (DER).
func (a *Authority) RootCRL() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(a.dir, RootCRLFile))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s is not PEM", RootCRLFile)
	}
	return block.Bytes, nil
}
