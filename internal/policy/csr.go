package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrCSRSignature means the CSR's self-signature does not verify: whoever
// sent it does not hold the private key.
var ErrCSRSignature = errors.New("the CSR's signature does not verify")

// ParseCSR decodes a PKCS#10 request the way clients of the v1 API send it:
// PEM with "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST" armour, with
// CRLF or LF line ends, with its line breaks lost (the whole PEM on one
// line), with literal "\n" escapes left by a shell, or bare base64. It does
// not check the signature: see CheckCSRSignature.
func ParseCSR(text string) (*x509.CertificateRequest, error) {
	der, err := csrDER(text)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("the CSR is not a valid PKCS#10 request: %w", err)
	}
	return csr, nil
}

// CheckCSRSignature checks a CSR's self-signature (RFC 2986 section 3),
// including the SHA-1 and MD5 signatures that old clients still make and
// that crypto/x509 no longer verifies; the signature of the certificate
// is chosen by the CA, never copied from the CSR.
func CheckCSRSignature(csr *x509.CertificateRequest) error {
	return checkCSRSignature(csr)
}

func csrDER(text string) ([]byte, error) {
	s := strings.ReplaceAll(text, `\r`, "")
	s = strings.ReplaceAll(s, `\n`, "\n")
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the CSR is empty")
	}
	if i := strings.Index(s, "-----BEGIN "); i >= 0 {
		rest := s[i+len("-----BEGIN "):]
		end := strings.Index(rest, "-----")
		if end < 0 {
			return nil, errors.New("the CSR's PEM header is malformed")
		}
		label := rest[:end]
		if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
			return nil, fmt.Errorf("expected a CERTIFICATE REQUEST, got a PEM %q block", label)
		}
		rest = rest[end+len("-----"):]
		stop := strings.Index(rest, "-----END ")
		if stop < 0 {
			return nil, errors.New("the CSR's PEM has no END line")
		}
		s = rest[:stop]
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("the CSR is not valid base64")
	}
	return der, nil
}

func checkCSRSignature(csr *x509.CertificateRequest) error {
	var h crypto.Hash
	switch csr.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		if err := csr.CheckSignature(); err != nil {
			return ErrCSRSignature
		}
		return nil
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum(csr.RawTBSCertificateRequest)
		digest = d[:]
	} else {
		d := md5.Sum(csr.RawTBSCertificateRequest)
		digest = d[:]
	}
	switch pub := csr.PublicKey.(type) {
	case *rsa.PublicKey:
		if csr.SignatureAlgorithm == x509.ECDSAWithSHA1 {
			return ErrCSRSignature
		}
		if rsa.VerifyPKCS1v15(pub, h, digest, csr.Signature) != nil {
			return ErrCSRSignature
		}
	case *ecdsa.PublicKey:
		if csr.SignatureAlgorithm != x509.ECDSAWithSHA1 || !ecdsa.VerifyASN1(pub, digest, csr.Signature) {
			return ErrCSRSignature
		}
	default:
		return ErrCSRSignature
	}
	return nil
}

// smallPrimes are the odd primes below 752, computed once (read-only).
var smallPrimes = func() []*big.Int {
	var ps []*big.Int
	for p := int64(3); p < 752; p += 2 {
		if big.NewInt(p).ProbablyPrime(0) {
			ps = append(ps, big.NewInt(p))
		}
	}
	return ps
}()
