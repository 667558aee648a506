package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Policy OIDs of the CA/Browser Forum (BRs section 7.1.6.1, EVGs 9.3.2,
// Code Signing BRs section 7.1.6.1).
var (
	oidBusinessCategory    = asn1.ObjectIdentifier{2, 5, 4, 15}
	oidJurisdictionCountry = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3}

	OIDDomainValidated       = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 1}
	OIDOrganizationValidated = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 2}
	OIDExtendedValidation    = asn1.ObjectIdentifier{2, 23, 140, 1, 1}
	OIDCodeSigning           = asn1.ObjectIdentifier{2, 23, 140, 1, 4, 1}
	OIDEVCodeSigning         = asn1.ObjectIdentifier{2, 23, 140, 1, 3}
)

// Request is what the order service asks the CA to sign: a certificate of
// a profile for a public key, with names and subject fields.
type Request struct {
	Profile     Profile
	PublicKey   crypto.PublicKey
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// Organization fields; empty for a domain-validated certificate.
	Organization       string
	OrganizationalUnit string
	Locality           string
	Province           string
	Country            string
	// EV selects the EV policy OID; otherwise OV when Organization is set,
	// DV when it is not.
	EV bool
	// OtherNames are extra subjectAltName entries (Wi-Fi friendly
	// names); Logos go into the RFC 3709 logotype extension.
	OtherNames []OtherName
	Logos      []Logo
	// Internal marks a certificate outside the public profiles (certd's
	// own TLS certificate, the private name profile): linted against the
	// RFCs only.
	Internal bool
	// EV subject fields (EV Guidelines 7.1.4.2): the registration
	// number, the business category and the jurisdiction's country.
	SerialNumber        string
	BusinessCategory    string
	JurisdictionCountry string
	// Now is the issuance time; NotAfterLimit, when not zero, caps the
	// lifetime further (the end of the order's paid term).
	Now           time.Time
	NotAfterLimit time.Time
}

// Prepared is a certificate ready for its real signature: its serial, and
// its to-be-signed bytes wrapped with a placeholder signature (LintDER),
// which can be stored, linted and shown to anyone without being a valid
// certificate.
type Prepared struct {
	Serial    *big.Int
	NotBefore time.Time
	NotAfter  time.Time
	LintDER   []byte
	// LintWarnings name the lints that warned (recorded with the
	// certificate); lints that err refuse the certificate in Prepare.
	LintWarnings []string
	lint         certificateParts
	issuer       *issuer
}

// certificateParts are the three parts of a certificate's DER
// (RFC 5280 section 4.1), raw.
type certificateParts struct {
	TBS       asn1.RawValue
	Algorithm asn1.RawValue
	Signature asn1.BitString
}

// TBS returns the to-be-signed bytes of the prepared certificate: those
// the linter passed, which the CA signs as they are.
func (p *Prepared) TBS() []byte { return p.lint.TBS.FullBytes }

// ErrLifetime means the request leaves no time for a certificate.
var ErrLifetime = errors.New("no validity period is left for the certificate")

// backdate is how far notBefore is set in the past so that relying parties
// with slow clocks accept a new certificate, as Boulder does.
const backdate = time.Hour

// Prepare builds the certificate for req, assigns it a fresh random serial
// and lints it. Nothing is signed yet.
func (a *Authority) Prepare(req Request) (*Prepared, error) {
	if req.PublicKey == nil {
		return nil, errors.New("ca: request has no public key")
	}
	iss := a.issuer(req.Profile)
	code := req.Profile == ProfileCodeSigning
	if !code && len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return nil, errors.New("ca: request names no subject")
	}
	if code && (req.CommonName == "" || req.Organization == "") {
		return nil, errors.New("ca: a code signing certificate needs an organization")
	}
	now := req.Now.UTC().Truncate(time.Second)
	notBefore := now.Add(-backdate)
	days := a.LifetimeDays(now)
	if code {
		days = a.codeMax
	}
	// BRs section 1.6.1: the validity period includes both ends, so a
	// period of N days ends N days minus one second after it starts.
	notAfter := notBefore.Add(time.Duration(days)*24*time.Hour - time.Second)
	if !req.NotAfterLimit.IsZero() && req.NotAfterLimit.Before(notAfter) {
		notAfter = req.NotAfterLimit.UTC().Truncate(time.Second)
	}
	if !notAfter.After(now) {
		return nil, ErrLifetime
	}
	if notAfter.After(iss.cert.NotAfter) {
		notAfter = iss.cert.NotAfter
	}
	spki, err := x509.MarshalPKIXPublicKey(req.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	keyUsage := x509.KeyUsageDigitalSignature
	if _, ok := req.PublicKey.(*rsa.PublicKey); ok {
		keyUsage |= x509.KeyUsageKeyEncipherment
	} else if _, ok := req.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("ca: unsupported public key type %T", req.PublicKey)
	}
	subject := pkix.Name{CommonName: req.CommonName}
	policy := OIDDomainValidated
	if req.Organization != "" {
		// No organizationalUnitName: BRs 7.1.2.7.4 prohibit it in
		// subscriber certificates since 2022-09-01 (the order keeps it).
		subject.Organization = []string{req.Organization}
		if req.Locality != "" {
			subject.Locality = []string{req.Locality}
		}
		if req.Province != "" {
			subject.Province = []string{req.Province}
		}
		if req.Country != "" {
			subject.Country = []string{strings.ToUpper(req.Country)}
		}
		policy = OIDOrganizationValidated
		if req.EV {
			policy = OIDExtendedValidation
			subject.SerialNumber = req.SerialNumber
			if req.BusinessCategory != "" {
				subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidBusinessCategory, Value: req.BusinessCategory})
			}
			if req.JurisdictionCountry != "" {
				subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidJurisdictionCountry, Value: strings.ToUpper(req.JurisdictionCountry)})
			}
		}
	}
	eku := x509.ExtKeyUsageServerAuth
	if code {
		// Code Signing BRs section 7.1.2.3: digitalSignature only, EKU
		// codeSigning.
		keyUsage, eku = x509.KeyUsageDigitalSignature, x509.ExtKeyUsageCodeSigning
		policy = OIDCodeSigning
		if req.EV {
			policy = OIDEVCodeSigning
		}
	}
	var extra []pkix.Extension
	if len(req.OtherNames) > 0 {
		san, err := marshalSAN(req.DNSNames, req.OtherNames)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		extra = append(extra, san)
	}
	if len(req.Logos) > 0 {
		ext, err := marshalLogotype(req.Logos)
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		extra = append(extra, ext)
	}
	dnsNames := req.DNSNames
	if len(req.OtherNames) > 0 {
		dnsNames = nil // in the subjectAltName extension built above
	}
	tmpl := &x509.Certificate{
		SerialNumber:          NewSerial(),
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           []x509.ExtKeyUsage{eku},
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          subjectKeyID(spki),
		AuthorityKeyId:        iss.cert.SubjectKeyId,
		DNSNames:              dnsNames,
		IPAddresses:           req.IPAddresses,
		IssuingCertificateURL: []string{iss.url},
		CRLDistributionPoints: []string{iss.crlURL},
		OCSPServer:            []string{iss.ocspURL},
		Policies:              []x509.OID{mustOID(policy)},
		SignatureAlgorithm:    signatureAlgorithm(iss.cert),
		ExtraExtensions:       extra,
	}
	tbs, err := buildTBS(tmpl, iss.cert, req.PublicKey)
	if err != nil {
		return nil, err
	}
	parts, lintDER, err := lintCertificate(tbs, iss.placeholder)
	if err != nil {
		return nil, err
	}
	// Lint before any real signature: a certificate that fails is never
	// signed by the CA.
	warnings, err := a.lint.lint(lintDER, a.lint.registry(req.Profile, req.Internal))
	if err != nil {
		return nil, err
	}
	return &Prepared{Serial: tmpl.SerialNumber, NotBefore: notBefore, NotAfter: notAfter, LintDER: lintDER, LintWarnings: warnings,
		lint: parts, issuer: iss}, nil
}

// Sign signs a prepared certificate with the CA key: the very
// to-be-signed bytes that were linted and recorded, so what is issued is
// what was checked, byte for byte. The CA's signature is verified before
// the certificate leaves: a faulty signer (an HSM's error, an RSA fault
// that could leak the key) must not publish a bad signature.
func (a *Authority) Sign(p *Prepared) ([]byte, error) {
	digest := sha256.Sum256(p.lint.TBS.FullBytes)
	sig, err := p.issuer.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	if err := verifyDigest(p.issuer.cert.PublicKey, digest[:], sig); err != nil {
		return nil, fmt.Errorf("ca: the CA key's signature does not verify: %w", err)
	}
	der, err := asn1.Marshal(certificateParts{TBS: p.lint.TBS, Algorithm: p.lint.Algorithm,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		return nil, fmt.Errorf("ca: assemble certificate: %w", err)
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("ca: parse signed certificate: %w", err)
	}
	return der, nil
}

// verifyDigest checks a SHA-256 signature as signatureAlgorithm chose it:
// ECDSA, or RSA PKCS #1 v1.5.
func verifyDigest(pub crypto.PublicKey, digest, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("ECDSA signature invalid")
		}
		return nil
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig)
	}
	return fmt.Errorf("unsupported CA key type %T", pub)
}

func signatureAlgorithm(issuer *x509.Certificate) x509.SignatureAlgorithm {
	switch issuer.PublicKey.(type) {
	case *rsa.PublicKey:
		return x509.SHA256WithRSA
	default:
		return x509.ECDSAWithSHA256
	}
}

// LifetimeDays is the longest lifetime certd gives a TLS certificate issued
// at t: the CA/Browser Forum maximum in force on that day (ballot SC-081v3,
// BRs section 6.3.2), or the operator's lower cap.
func (a *Authority) LifetimeDays(t time.Time) int {
	days := MaxLifetimeDays(t)
	if a.maxDays > 0 && a.maxDays < days {
		days = a.maxDays
	}
	return days
}

// MaxLifetimeDays returns the BRs' maximum validity period for a TLS
// subscriber certificate issued at t (ballot SC-081v3: 398 days before
// 2026-03-15, then 200, 100 from 2027-03-15 and 47 from 2029-03-15).
func MaxLifetimeDays(t time.Time) int {
	switch t = t.UTC(); {
	case !t.Before(time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 47
	case !t.Before(time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 100
	case !t.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 200
	default:
		return 398
	}
}

// subjectKeyID is RFC 5280 section 4.2.1.2 method 1: the SHA-1 of the
// subject public key bits.
func subjectKeyID(spkiDER []byte) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		sum := sha1.Sum(spkiDER)
		return sum[:]
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

func mustOID(id asn1.ObjectIdentifier) x509.OID {
	ints := make([]uint64, len(id))
	for i, v := range id {
		ints[i] = uint64(v)
	}
	oid, err := x509.OIDFromInts(ints)
	if err != nil {
		panic(err) // the OIDs are constants above
	}
	return oid
}
