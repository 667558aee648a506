package ca

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPLifetime is how long an OCSP response is valid (BRs 4.9.10: at most
// 10 days; certd refreshes responses well before).
const OCSPLifetime = 4 * 24 * time.Hour

// OCSPIssuer finds which of certd's issuing CAs an OCSP request is about,
// by its issuer name and key hashes (RFC 6960 4.1.1).
func (a *Authority) OCSPIssuer(req *ocsp.Request) (Profile, bool) {
	for _, p := range []Profile{ProfileTLS, ProfileCodeSigning} {
		iss := a.issuer(p).cert
		if matchHash(req.HashAlgorithm, iss.RawSubject, req.IssuerNameHash) && matchHash(req.HashAlgorithm, spkiBits(iss), req.IssuerKeyHash) {
			return p, true
		}
	}
	return 0, false
}

func matchHash(h crypto.Hash, data, want []byte) bool {
	var got []byte
	switch h {
	case crypto.SHA1:
		s := sha1.Sum(data)
		got = s[:]
	case crypto.SHA256:
		s := sha256.Sum256(data)
		got = s[:]
	default:
		return false
	}
	return string(got) == string(want)
}

func spkiBits(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	return spki.PublicKey.Bytes
}

// OCSPStatus is what a response says about one certificate.
type OCSPStatus struct {
	Serial    *big.Int
	Status    int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
	RevokedAt time.Time
	Reason    int
}

// OCSPResponse signs an OCSP response (RFC 6960) for a certificate of the
// profile's issuing CA, with the CA's own key (no delegated responder).
func (a *Authority) OCSPResponse(p Profile, st OCSPStatus, now time.Time) ([]byte, error) {
	iss := a.issuer(p)
	now = now.UTC().Truncate(time.Second)
	tmpl := ocsp.Response{
		Status:           st.Status,
		SerialNumber:     st.Serial,
		ThisUpdate:       now,
		NextUpdate:       now.Add(OCSPLifetime),
		RevokedAt:        st.RevokedAt.UTC(),
		RevocationReason: st.Reason,
		IssuerHash:       crypto.SHA1,
	}
	return ocsp.CreateResponse(iss.cert, iss.cert, tmpl, iss.signer)
}
