package policy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
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
// line), with literal "\n" escapes left by a shell, or bare base64. It then
// checks the self-signature (RFC 2986 section 3), including the SHA-1 and
// MD5 signatures that old clients still make and that crypto/x509 no longer
// verifies; the signature of the certificate is chosen by the CA, never
// copied from the CSR.
func ParseCSR(text string) (*x509.CertificateRequest, error) {
	der, err := csrDER(text)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("the CSR is not a valid PKCS#10 request: %w", err)
	}
	if err := checkCSRSignature(csr); err != nil {
		return nil, err
	}
	return csr, nil
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

// CheckKey applies the key policy of BRs section 6.1.5 and 6.1.6: RSA
// moduli of 2048 to 8192 bits, divisible by 8, with an odd public exponent
// of at least 3 (BRs say 2^16+1 to 2^256-1); or ECDSA on P-256 or P-384.
// Other algorithms (Ed25519, DSA, P-521) are not allowed for TLS
// subscriber certificates.
func CheckKey(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < 2048 || bits > 8192 {
			return fmt.Errorf("RSA keys must be 2048 to 8192 bits, this one has %d", bits)
		}
		if bits%8 != 0 {
			return fmt.Errorf("the RSA modulus size must be a multiple of 8 bits, this one has %d", bits)
		}
		if k.E < 65537 || k.E%2 == 0 {
			return errors.New("the RSA public exponent must be odd and at least 65537")
		}
		if k.N.Bit(0) == 0 {
			return errors.New("the RSA modulus is even")
		}
		if hasSmallFactor(k.N) {
			return errors.New("the RSA modulus has a small prime factor")
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA keys must use P-256 or P-384, not %s", k.Curve.Params().Name)
		}
	default:
		return fmt.Errorf("keys of type %T are not allowed: use RSA 2048-8192 or ECDSA P-256/P-384", pub)
	}
	return nil
}

// hasSmallFactor rejects moduli divisible by a prime below 752, as the BRs'
// section 6.1.6 and Mozilla policy ask ("no factors smaller than 752").
func hasSmallFactor(n *big.Int) bool {
	var m big.Int
	for _, p := range smallPrimes {
		if m.Mod(n, p).Sign() == 0 {
			return true
		}
	}
	return false
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

// CheckCodeSigningKey applies the key policy of the CA/Browser Forum Code
// Signing Baseline Requirements section 6.1.5: RSA of at least 3072 bits
// (and at most 8192), or ECDSA on P-256 or P-384.
func CheckCodeSigningKey(pub any) error {
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < 3072 {
		return fmt.Errorf("code signing RSA keys must be at least 3072 bits, this one has %d", k.N.BitLen())
	}
	return CheckKey(pub)
}
