package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// tbsCapture is the signer Prepare hands to x509.CreateCertificate to have
// it build a certificate without signing it: CreateCertificate passes the
// finished to-be-signed bytes to SignMessage, which keeps them and stops
// it there. The CA lints those bytes and later signs them itself (Sign),
// so no signature is ever made but the real one. (Until issue 8 a
// throwaway key signed every certificate to get these bytes, and
// CreateCertificate verified that signature: two P-256 operations a
// certificate for nothing.)
type tbsCapture struct {
	pub crypto.PublicKey
	tbs []byte
}

// errCaptured stops CreateCertificate once it has built the TBS.
var errCaptured = errors.New("ca: to-be-signed bytes captured")

func (c *tbsCapture) Public() crypto.PublicKey { return c.pub }

// Sign is never called: crypto.SignMessage prefers SignMessage.
func (c *tbsCapture) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("ca: the TBS capture cannot sign")
}

// SignMessage implements crypto.MessageSigner: msg is the DER
// TBSCertificate.
func (c *tbsCapture) SignMessage(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	c.tbs = msg
	return nil, errCaptured
}

// buildTBS returns the DER TBSCertificate that x509.CreateCertificate makes
// of tmpl for pub, issued by parent (whose public key chooses the
// signature algorithm), with every check CreateCertificate applies.
func buildTBS(tmpl, parent *x509.Certificate, pub crypto.PublicKey) ([]byte, error) {
	c := &tbsCapture{pub: parent.PublicKey}
	_, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, c)
	switch {
	case errors.Is(err, errCaptured) && c.tbs != nil:
		return c.tbs, nil
	case err == nil:
		return nil, errors.New("ca: build certificate: it was signed without the CA")
	}
	return nil, fmt.Errorf("ca: build certificate: %w", err)
}

// lintCertificate wraps a TBS into a whole certificate for the linter:
// the signature algorithm the TBS names, and placeholder as its signature.
func lintCertificate(tbs, placeholder []byte) (certificateParts, []byte, error) {
	// TBSCertificate ::= SEQUENCE { [0] version, serialNumber,
	// signature AlgorithmIdentifier, ... } (RFC 5280 section 4.1).
	var seq, alg cryptobyte.String
	in := cryptobyte.String(tbs)
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.SkipASN1(cbasn1.INTEGER) ||
		!seq.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return certificateParts{}, nil, errors.New("ca: malformed TBSCertificate")
	}
	parts := certificateParts{
		TBS:       asn1.RawValue{FullBytes: tbs},
		Algorithm: asn1.RawValue{FullBytes: alg},
		Signature: asn1.BitString{Bytes: placeholder, BitLength: 8 * len(placeholder)},
	}
	der, err := asn1.Marshal(parts)
	if err != nil {
		return certificateParts{}, nil, fmt.Errorf("ca: assemble the lint certificate: %w", err)
	}
	return parts, der, nil
}

// placeholderSignature is the signature of lint certificates: as long as
// the longest signature pub's key makes (lints judge the signature
// algorithm by the signature's length), and one that can never verify,
// so a lint certificate is never mistaken for an issued one. For ECDSA
// it is r = s = n, outside [1, n-1] (SEC 1 section 4.1.4); for RSA it
// is zero, which no padded message raises to.
func placeholderSignature(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		n := k.Curve.Params().N
		return asn1.Marshal(struct{ R, S *big.Int }{n, n})
	case *rsa.PublicKey:
		return make([]byte, k.Size()), nil
	}
	return nil, fmt.Errorf("unsupported CA key type %T", pub)
}
