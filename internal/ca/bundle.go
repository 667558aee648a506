package ca

import (
	"encoding/pem"

	"github.com/smallstep/pkcs7"
)

// PKCS7PEM returns a degenerate PKCS#7 SignedData (RFC 2315, certificates
// only, no signers) holding the given DER certificates, as PEM with the
// "PKCS7" label that the v1 API returns.
func PKCS7PEM(certs ...[]byte) (string, error) {
	var all []byte
	for _, c := range certs {
		all = append(all, c...)
	}
	der, err := pkcs7.DegenerateCertificate(all)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der})), nil
}
