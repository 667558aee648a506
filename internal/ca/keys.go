package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/youmark/pkcs8"
)

// KeyType names the kind of CA key to create.
type KeyType string

// The CA key types certd can create.
const (
	KeyECDSAP256 KeyType = "ecdsa"
	KeyRSA3072   KeyType = "rsa"
	KeyRSA4096   KeyType = "rsa4096"
)

// ParseKeyType accepts the values of serve's --ca-key-type flag.
func ParseKeyType(s string) (KeyType, error) {
	switch s {
	case "", "ecdsa", "ecdsa-p256", "p256":
		return KeyECDSAP256, nil
	case "rsa", "rsa3072":
		return KeyRSA3072, nil
	case "rsa4096":
		return KeyRSA4096, nil
	}
	return "", fmt.Errorf("unknown CA key type %q: use ecdsa (P-256), rsa (3072 bits) or rsa4096", s)
}

func generateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case KeyECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

// writeKey stores a private key as PKCS#8 PEM readable by the owner only,
// encrypted (PBES2: PBKDF2-SHA256 and AES-256-CBC, which OpenSSL reads)
// when a passphrase is given. The file is written beside its final name
// and renamed, so a crash never leaves a half-written key.
func writeKey(path string, key crypto.Signer, passphrase []byte) error {
	if len(passphrase) > 0 {
		der, err := pkcs8.MarshalPrivateKey(key, passphrase, &pkcs8.Opts{
			Cipher:  pkcs8.AES256CBC,
			KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 600000, HMACHash: crypto.SHA256},
		})
		if err != nil {
			return err
		}
		return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), 0o600)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// Errors of encrypted key files.
var (
	ErrKeyEncrypted  = errors.New("the CA key file is encrypted: give its passphrase (CERTD_KEY_PASSPHRASE, or --key-passphrase-file)")
	ErrKeyPassphrase = errors.New("the passphrase does not decrypt the CA key file")
)

// ErrKeyPermissions is returned for a key file that others can read.
var ErrKeyPermissions = errors.New("key file permissions are too open")

// readKey loads a PKCS#8 PEM key, encrypted or not, refusing a file that
// group or others can read or write: a CA key readable by others must be
// treated as exposed.
func readKey(path string, passphrase []byte) (crypto.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v, want 0600", ErrKeyPermissions, path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	var k any
	switch {
	case block != nil && block.Type == "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case block != nil && block.Type == "ENCRYPTED PRIVATE KEY":
		if len(passphrase) == 0 {
			return nil, fmt.Errorf("%s: %w", path, ErrKeyEncrypted)
		}
		k, _, err = pkcs8.ParsePrivateKey(block.Bytes, passphrase)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, ErrKeyPassphrase)
		}
	default:
		return nil, fmt.Errorf("%s: not a PKCS#8 PEM private key", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: key of type %T cannot sign", path, k)
	}
	return s, nil
}

func writeCert(path string, der []byte) error {
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	return x509.ParseCertificate(block.Bytes)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
