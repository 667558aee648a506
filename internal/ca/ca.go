// Package ca issues certificates: it owns the CA hierarchy (a root and an
// issuing intermediate), builds certificates from issuance requests, and
// signs them in the crash-safe, lint-gated order DESIGN.md describes.
//
// The package knows nothing about orders or accounts: the order service
// hands it a Request (a public key, names, subject fields, a lifetime) and
// records what it returns.
package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Paths of the hierarchy's files below the CA folder.
const (
	RootCertFile         = "root.crt"
	RootKeyFile          = "root.key"
	IntermediateCertFile = "intermediate.crt"
	IntermediateKeyFile  = "intermediate.key"
)

// Authority is a loaded CA hierarchy ready to sign. It is safe for
// concurrent use: all of its fields are read-only after Open.
type Authority struct {
	root         *x509.Certificate
	intermediate *x509.Certificate
	signer       crypto.Signer

	// lintIssuer mirrors the intermediate (same subject, same key id, same
	// key algorithm) with a throwaway key, so that every certificate can be
	// signed once with a key that matters to no one before the real
	// signature; see Prepare.
	lintIssuer *x509.Certificate
	lintKey    crypto.Signer

	issuerURL string
	maxDays   int
}

// Options configure Open.
type Options struct {
	// Dir holds the hierarchy's keys and certificates; created if missing.
	Dir string
	// KeyType is used only when the hierarchy is created.
	KeyType KeyType
	// PublicURL is the base URL clients reach certd at; certificates name
	// PublicURL + "/ca/intermediate.crt" as their CA-issuers location.
	PublicURL string
	// MaxLifetimeDays lowers the CA/Browser Forum cap on certificate
	// lifetime; zero or a higher value means the cap in force.
	MaxLifetimeDays int
	// Now is the clock used when the hierarchy is created.
	Now time.Time
}

// Open loads the hierarchy from opts.Dir, creating a root and an issuing
// intermediate on first use. It reports whether it created them.
func Open(opts Options) (*Authority, bool, error) {
	created := false
	rootPath := filepath.Join(opts.Dir, RootCertFile)
	if _, err := os.Stat(rootPath); errors.Is(err, fs.ErrNotExist) {
		if err := create(opts); err != nil {
			return nil, false, fmt.Errorf("create CA hierarchy: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, err
	}
	a, err := load(opts)
	if err != nil {
		return nil, false, fmt.Errorf("load CA hierarchy: %w", err)
	}
	return a, created, nil
}

func load(opts Options) (*Authority, error) {
	root, err := readCert(filepath.Join(opts.Dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	inter, err := readCert(filepath.Join(opts.Dir, IntermediateCertFile))
	if err != nil {
		return nil, err
	}
	signer, err := readKey(filepath.Join(opts.Dir, IntermediateKeyFile))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(signer.Public(), inter.PublicKey) {
		return nil, errors.New("the intermediate key does not match the intermediate certificate")
	}
	if err := inter.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("the intermediate is not signed by the root: %w", err)
	}
	lintKey, err := throwawayLike(inter.PublicKey)
	if err != nil {
		return nil, err
	}
	lintTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		RawSubject:            inter.RawSubject,
		SubjectKeyId:          inter.SubjectKeyId,
		NotBefore:             inter.NotBefore,
		NotAfter:              inter.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	lintDER, err := x509.CreateCertificate(rand.Reader, lintTmpl, lintTmpl, lintKey.Public(), lintKey)
	if err != nil {
		return nil, fmt.Errorf("make lint issuer: %w", err)
	}
	lintIssuer, err := x509.ParseCertificate(lintDER)
	if err != nil {
		return nil, err
	}
	return &Authority{
		root:         root,
		intermediate: inter,
		signer:       signer,
		lintIssuer:   lintIssuer,
		lintKey:      lintKey,
		issuerURL:    opts.PublicURL + "/ca/intermediate.crt",
		maxDays:      opts.MaxLifetimeDays,
	}, nil
}

func create(opts Options) error {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return err
	}
	rootKey, err := generateKey(opts.KeyType)
	if err != nil {
		return err
	}
	interKey, err := generateKey(opts.KeyType)
	if err != nil {
		return err
	}
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	suffix := hex.EncodeToString(id)
	now := opts.Now.UTC().Truncate(time.Second)

	rootTmpl := &x509.Certificate{
		SerialNumber:          NewSerial(),
		Subject:               pkix.Name{Organization: []string{"certd"}, CommonName: "certd Root CA " + suffix},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(25, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return err
	}
	interTmpl := &x509.Certificate{
		SerialNumber:          NewSerial(),
		Subject:               pkix.Name{Organization: []string{"certd"}, CommonName: "certd Issuing CA " + suffix},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, interKey.Public(), rootKey)
	if err != nil {
		return err
	}
	// Keys first, certificates last: the root certificate's presence is
	// what marks the hierarchy as complete (see Open).
	if err := writeKey(filepath.Join(opts.Dir, RootKeyFile), rootKey); err != nil {
		return err
	}
	if err := writeKey(filepath.Join(opts.Dir, IntermediateKeyFile), interKey); err != nil {
		return err
	}
	if err := writeCert(filepath.Join(opts.Dir, IntermediateCertFile), interDER); err != nil {
		return err
	}
	return writeCert(filepath.Join(opts.Dir, RootCertFile), rootDER)
}

// Root returns the root certificate.
func (a *Authority) Root() *x509.Certificate { return a.root }

// Intermediate returns the issuing intermediate certificate.
func (a *Authority) Intermediate() *x509.Certificate { return a.intermediate }

// RootPEM and IntermediatePEM return the certificates as PEM text.
func (a *Authority) RootPEM() string { return PEM(a.root.Raw) }

// IntermediatePEM returns the intermediate as PEM text.
func (a *Authority) IntermediatePEM() string { return PEM(a.intermediate.Raw) }

// PEM encodes a DER certificate; the text ends with a newline.
func PEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// NewSerial returns a random positive serial of 127 bits: well above the 64
// bits of CSPRNG output that BRs section 7.1 require, and short of 20 octets
// (RFC 5280 section 4.1.2.2). crypto/rand.Read never fails (Go 1.24+).
func NewSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	if b[0] == 0 {
		b[0] = 0x40 // keep the encoding 16 octets long; entropy stays above 120 bits
	}
	return new(big.Int).SetBytes(b)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}
