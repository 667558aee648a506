package ca

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NewIntermediate is the ceremony that replaces a profile's issuing CA
// with a new one signed by the root, whose key is brought in for the
// occasion (rootKeyPath, e.g. on removable media) and is not otherwise
// needed online: certd signs with the intermediates' keys only. The old
// intermediate's certificate and key file are kept beside it, renamed
// with a ".retired-<unix time>" suffix; the root's CRL is signed afresh.
// A running server picks the new intermediate up when it restarts.
func NewIntermediate(opts Options, rootKeyPath string, p Profile) (*x509.Certificate, error) {
	root, err := readCert(filepath.Join(opts.Dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	rootKey, err := readKey(rootKeyPath, opts.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	if !publicKeysEqual(rootKey.Public(), root.PublicKey) {
		return nil, errors.New("the key does not belong to this CA's root certificate")
	}
	certFile, keyFile, eku, kind := IntermediateCertFile, IntermediateKeyFile, x509.ExtKeyUsageServerAuth, "Issuing"
	if p == ProfileCodeSigning {
		certFile, keyFile, eku, kind = CodeSigningCertFile, CodeSigningKeyFile, x509.ExtKeyUsageCodeSigning, "Code Signing"
	}
	suffix := fmt.Sprintf(".retired-%d", opts.Now.Unix())
	for _, f := range []string{certFile, keyFile} {
		old := filepath.Join(opts.Dir, f)
		if _, err := os.Stat(old); err == nil {
			if err := os.Rename(old, old+suffix); err != nil {
				return nil, err
			}
		}
	}
	rootSuffix := strings.TrimPrefix(root.Subject.CommonName, "certd Root CA ")
	cn := fmt.Sprintf("certd %s CA %s %s", kind, rootSuffix, opts.Now.UTC().Format("2006-01"))
	if err := createIntermediate(opts, root, rootKey, cn, eku, certFile, keyFile); err != nil {
		return nil, err
	}
	// A fresh root CRL, numbered after the last one.
	number := big.NewInt(1)
	if data, err := os.ReadFile(filepath.Join(opts.Dir, RootCRLFile)); err == nil {
		if block, _ := pem.Decode(data); block != nil {
			if old, err := x509.ParseRevocationList(block.Bytes); err == nil && old.Number != nil {
				number.Add(old.Number, big.NewInt(1))
			}
		}
	}
	der, err := signCRL(root, rootKey, number, nil, opts.Now, 365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(opts.Dir, RootCRLFile), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	return readCert(filepath.Join(opts.Dir, certFile))
}
