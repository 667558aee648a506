package ca

import (
	"crypto"
	"path/filepath"
	"strings"
)

// KeyStore keeps the CA's private keys, by name ("root", "intermediate",
// "codesign-intermediate"): in files (the default) or in an HSM through
// PKCS#11.
type KeyStore interface {
	// Generate makes and keeps a new key of the type under the name.
	Generate(name string, t KeyType) (crypto.Signer, error)
	// Load returns the key kept under the name.
	Load(name string) (crypto.Signer, error)
}

// fileKeys keeps keys in PKCS#8 PEM files of the CA folder, owner-only,
// encrypted when a passphrase is set.
type fileKeys struct {
	dir        string
	passphrase []byte
}

func (f fileKeys) path(name string) string { return filepath.Join(f.dir, name+".key") }

func (f fileKeys) Generate(name string, t KeyType) (crypto.Signer, error) {
	k, err := generateKey(t)
	if err != nil {
		return nil, err
	}
	return k, writeKey(f.path(name), k, f.passphrase)
}

func (f fileKeys) Load(name string) (crypto.Signer, error) {
	return readKey(f.path(name), f.passphrase)
}

func (o Options) keys() KeyStore {
	if o.Keys != nil {
		return o.Keys
	}
	return fileKeys{dir: o.Dir, passphrase: o.Passphrase}
}

func keyName(file string) string { return strings.TrimSuffix(file, ".key") }
