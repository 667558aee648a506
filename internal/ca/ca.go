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
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Paths of the hierarchy's files below the CA folder.
const (
	RootCertFile         = "root.crt"
	RootKeyFile          = "root.key"
	IntermediateCertFile = "intermediate.crt"
	IntermediateKeyFile  = "intermediate.key"
	// The code signing intermediate: the CA/Browser Forum requires code
	// signing certificates to chain to a CA limited to code signing.
	CodeSigningCertFile = "codesign-intermediate.crt"
	CodeSigningKeyFile  = "codesign-intermediate.key"
)

// Profile selects the kind of certificate, and so its issuer.
type Profile int

// The profiles.
const (
	// ProfileTLS is a TLS server certificate (also Wi-Fi OSU servers).
	ProfileTLS Profile = iota
	// ProfileCodeSigning is a code signing certificate.
	ProfileCodeSigning
)

// issuer is an intermediate ready to sign.
type issuer struct {
	cert   *x509.Certificate
	signer crypto.Signer
	// placeholder is the signature lint certificates carry (see
	// placeholderSignature).
	placeholder []byte
	pem         string // cert as PEM, which every certificate download carries
	name        string // the file name without extension: "intermediate"
	url         string // where the intermediate is served (AIA)
	crlURL      string // where its CRL is served (CRL distribution point)
	ocspURL     string // its OCSP responder
}

func (o Options) pkiURL() string {
	if o.PKIURL != "" {
		return o.PKIURL
	}
	return o.PublicURL
}

func (o Options) subject(cn string) pkix.Name {
	org, country := o.Organization, o.Country
	if org == "" {
		org = "certd"
	}
	if country == "" {
		country = "US"
	}
	return pkix.Name{Country: []string{strings.ToUpper(country)}, Organization: []string{org}, CommonName: cn}
}

// Authority is a loaded CA hierarchy ready to sign. It is safe for
// concurrent use: all of its fields are read-only after Open.
type Authority struct {
	lint    *linters
	dir     string
	root    *x509.Certificate
	rootPEM string
	tls     *issuer
	code    *issuer
	maxDays int
	codeMax int
}

// Options configure Open.
type Options struct {
	// Dir holds the hierarchy's keys and certificates; created if missing.
	Dir string
	// KeyType is used only when the hierarchy is created.
	KeyType KeyType
	// PublicURL is the base URL clients reach certd at.
	PublicURL string
	// PKIURL is the plain-HTTP base URL of the CA certificates and CRLs
	// that certificates name (BRs 7.1.2.7.7: http, not https); default
	// PublicURL.
	PKIURL string
	// Organization and Country name the CA in the subjects of a new
	// hierarchy (BRs 7.1.2.10.2 require both); default "certd", "US".
	Organization string
	Country      string
	// MaxLifetimeDays lowers the CA/Browser Forum cap on TLS certificate
	// lifetime; zero or a higher value means the cap in force.
	MaxLifetimeDays int
	// MaxCodeSigningDays caps code signing certificates (default 460, the
	// Code Signing Baseline Requirements' maximum).
	MaxCodeSigningDays int
	// Now is the clock used when the hierarchy is created.
	Now time.Time
	// Passphrase encrypts the keys of a new hierarchy and decrypts
	// encrypted key files; empty means unencrypted key files.
	Passphrase []byte
	// Keys keeps the private keys elsewhere (an HSM); nil means key files
	// in Dir.
	Keys KeyStore
}

// DefaultCodeSigningDays is the Code Signing BRs' maximum validity period
// (section 6.3.2).
const DefaultCodeSigningDays = 460

// Open loads the hierarchy from opts.Dir, creating a root and the issuing
// intermediates on first use. It reports whether it created the root.
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
	if _, err := os.Stat(filepath.Join(opts.Dir, CodeSigningCertFile)); errors.Is(err, fs.ErrNotExist) {
		// Hierarchies made before code signing existed get their code
		// signing intermediate now.
		if err := addCodeSigning(opts); err != nil {
			return nil, false, fmt.Errorf("create code signing intermediate: %w", err)
		}
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
	tls, err := loadIssuer(opts, root, IntermediateCertFile, IntermediateKeyFile)
	if err != nil {
		return nil, err
	}
	code, err := loadIssuer(opts, root, CodeSigningCertFile, CodeSigningKeyFile)
	if err != nil {
		return nil, err
	}
	codeMax := opts.MaxCodeSigningDays
	if codeMax <= 0 || codeMax > DefaultCodeSigningDays {
		codeMax = DefaultCodeSigningDays
	}
	l, err := newLinters()
	if err != nil {
		return nil, err
	}
	return &Authority{lint: l, dir: opts.Dir, root: root, rootPEM: PEM(root.Raw), tls: tls, code: code, maxDays: opts.MaxLifetimeDays, codeMax: codeMax}, nil
}

func loadIssuer(opts Options, root *x509.Certificate, certFile, keyFile string) (*issuer, error) {
	inter, err := readCert(filepath.Join(opts.Dir, certFile))
	if err != nil {
		return nil, err
	}
	signer, err := opts.keys().Load(keyName(keyFile))
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(signer.Public(), inter.PublicKey) {
		return nil, fmt.Errorf("%s does not match %s", keyFile, certFile)
	}
	if err := inter.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("%s is not signed by the root: %w", certFile, err)
	}
	placeholder, err := placeholderSignature(inter.PublicKey)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(certFile, ".crt")
	return &issuer{cert: inter, signer: signer, placeholder: placeholder, pem: PEM(inter.Raw), name: name,
		url: opts.pkiURL() + "/ca/" + certFile, crlURL: opts.pkiURL() + "/crl/" + name + ".crl", ocspURL: opts.pkiURL() + "/ocsp"}, nil
}

func create(opts Options) error {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return err
	}
	rootKey, err := opts.keys().Generate(keyName(RootKeyFile), opts.KeyType)
	if err != nil {
		return err
	}
	suffix := randomSuffix()
	now := opts.Now.UTC().Truncate(time.Second)
	rootTmpl := &x509.Certificate{
		SerialNumber:          NewSerial(),
		Subject:               opts.subject("certd Root CA " + suffix),
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
	if err := createIntermediate(opts, root, rootKey, "certd Issuing CA "+suffix, x509.ExtKeyUsageServerAuth, IntermediateCertFile, IntermediateKeyFile); err != nil {
		return err
	}
	if err := createIntermediate(opts, root, rootKey, "certd Code Signing CA "+suffix, x509.ExtKeyUsageCodeSigning, CodeSigningCertFile, CodeSigningKeyFile); err != nil {
		return err
	}
	if err := writeRootCRL(opts, root, rootKey); err != nil {
		return err
	}
	// The root certificate last: its presence marks the hierarchy as
	// complete (see Open).
	return writeCert(filepath.Join(opts.Dir, RootCertFile), rootDER)
}

func addCodeSigning(opts Options) error {
	root, err := readCert(filepath.Join(opts.Dir, RootCertFile))
	if err != nil {
		return err
	}
	rootKey, err := opts.keys().Load(keyName(RootKeyFile))
	if err != nil {
		return err
	}
	suffix := strings.TrimPrefix(root.Subject.CommonName, "certd Root CA ")
	return createIntermediate(opts, root, rootKey, "certd Code Signing CA "+suffix, x509.ExtKeyUsageCodeSigning, CodeSigningCertFile, CodeSigningKeyFile)
}

// createIntermediate makes an issuing CA limited to one extended key
// usage, as the BRs and the Code Signing BRs require (section 7.1.2.2).
func createIntermediate(opts Options, root *x509.Certificate, rootKey crypto.Signer, cn string, eku x509.ExtKeyUsage, certFile, keyFile string) error {
	keyType := opts.KeyType
	if k, ok := root.PublicKey.(*rsa.PublicKey); ok && keyType == "" {
		keyType = KeyRSA3072
		if k.N.BitLen() >= 4096 {
			keyType = KeyRSA4096
		}
	}
	key, err := opts.keys().Generate(keyName(keyFile), keyType)
	if err != nil {
		return err
	}
	now := opts.Now.UTC().Truncate(time.Second)
	notAfter := now.AddDate(10, 0, 0)
	if notAfter.After(root.NotAfter) {
		notAfter = root.NotAfter
	}
	// BRs 7.1.2.10.5: a subordinate CA names its policies; one that
	// issues DV, OV and EV alike, and is affiliated with its root, names
	// anyPolicy (one reserved CA/B Forum OID at most may appear).
	// 7.1.2.10.2/7.1.2.7.7: its CRL and issuer locations.
	policies := []x509.OID{mustOID(asn1.ObjectIdentifier{2, 5, 29, 32, 0})}
	if eku == x509.ExtKeyUsageCodeSigning {
		policies = []x509.OID{mustOID(OIDCodeSigning), mustOID(OIDEVCodeSigning)}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          NewSerial(),
		Subject:               opts.subject(cn),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{eku},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		Policies:              policies,
		IssuingCertificateURL: []string{opts.pkiURL() + "/ca/" + RootCertFile},
		CRLDistributionPoints: []string{opts.pkiURL() + "/crl/root.crl"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, key.Public(), rootKey)
	if err != nil {
		return err
	}
	return writeCert(filepath.Join(opts.Dir, certFile), der)
}

func randomSuffix() string {
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	return hex.EncodeToString(id)
}

// Root returns the root certificate.
func (a *Authority) Root() *x509.Certificate { return a.root }

// Intermediate returns the TLS issuing intermediate certificate.
func (a *Authority) Intermediate() *x509.Certificate { return a.tls.cert }

// CheckKeys signs a test digest with each issuing CA's key and verifies
// it: the readiness check that the signing keys (files or HSM) work.
func (a *Authority) CheckKeys() error {
	digest := sha256.Sum256([]byte("certd readiness"))
	for _, iss := range []*issuer{a.tls, a.code} {
		opts := crypto.SignerOpts(crypto.SHA256)
		sig, err := iss.signer.Sign(rand.Reader, digest[:], opts)
		if err != nil {
			return fmt.Errorf("%s key: %w", iss.name, err)
		}
		switch pub := iss.cert.PublicKey.(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				return fmt.Errorf("%s key: signature does not verify", iss.name)
			}
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
				return fmt.Errorf("%s key: %w", iss.name, err)
			}
		}
	}
	return nil
}

// PublicKeys returns the public keys of the root and the intermediates,
// which no subscriber may present.
func (a *Authority) PublicKeys() []crypto.PublicKey {
	return []crypto.PublicKey{a.root.PublicKey, a.tls.cert.PublicKey, a.code.cert.PublicKey}
}

// IssuerOf returns the intermediate that signs certificates of a profile.
func (a *Authority) IssuerOf(p Profile) *x509.Certificate { return a.issuer(p).cert }

func (a *Authority) issuer(p Profile) *issuer {
	if p == ProfileCodeSigning {
		return a.code
	}
	return a.tls
}

// RootPEM returns the root certificate as PEM text.
func (a *Authority) RootPEM() string { return a.rootPEM }

// IssuerPEM returns the intermediate that issues a profile as PEM text.
func (a *Authority) IssuerPEM(p Profile) string { return a.issuer(p).pem }

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
