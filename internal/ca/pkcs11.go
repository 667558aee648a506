package ca

import (
	"crypto"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11Keys keeps the CA's keys in an HSM (or SoftHSM) token through
// PKCS#11 (github.com/ThalesGroup/crypto11). Keys are found by the label
// "certd-<name>"; they never leave the token.
type PKCS11Keys struct {
	ctx   *crypto11.Context
	token string
}

// Errors that name what is wrong with a PKCS#11 configuration, instead of
// the bare CKR_ codes HSMs answer.
var (
	ErrPKCS11Module = errors.New("the PKCS#11 module cannot be loaded")
	ErrPKCS11Token  = errors.New("no token with that label in the PKCS#11 module")
	ErrPKCS11PIN    = errors.New("the PKCS#11 PIN is wrong")
	ErrPKCS11Key    = errors.New("the token holds no key with that label")
)

// OpenPKCS11 logs in to the token labelled token of the module.
func OpenPKCS11(module, token, pin string) (*PKCS11Keys, error) {
	if _, err := os.Stat(module); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPKCS11Module, module, err)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: module, TokenLabel: token, Pin: pin})
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "PIN_INCORRECT") || strings.Contains(msg, "PIN_LEN_RANGE"):
			return nil, fmt.Errorf("%w (token %q)", ErrPKCS11PIN, token)
		case strings.Contains(msg, "could not find PKCS#11 token") || strings.Contains(msg, "no such token"):
			return nil, fmt.Errorf("%w: %q in %s", ErrPKCS11Token, token, module)
		case strings.Contains(msg, "pkcs11: "):
			return nil, fmt.Errorf("%w: %s: %v", ErrPKCS11Module, module, err)
		}
		return nil, fmt.Errorf("PKCS#11 token %q in %s: %w", token, module, err)
	}
	return &PKCS11Keys{ctx: ctx, token: token}, nil
}

// Close logs out.
func (p *PKCS11Keys) Close() error { return p.ctx.Close() }

func label(name string) []byte { return []byte("certd-" + name) }

// Generate implements KeyStore: the key pair is made inside the token.
func (p *PKCS11Keys) Generate(name string, t KeyType) (crypto.Signer, error) {
	if k, _ := p.ctx.FindKeyPair(nil, label(name)); k != nil {
		return nil, fmt.Errorf("token %q already holds a key labelled %s: remove it, or keep the CA that uses it", p.token, label(name))
	}
	id := label(name)
	switch t {
	case KeyECDSAP256, "":
		return p.ctx.GenerateECDSAKeyPairWithLabel(id, label(name), elliptic.P256())
	case KeyRSA3072:
		return p.ctx.GenerateRSAKeyPairWithLabel(id, label(name), 3072)
	case KeyRSA4096:
		return p.ctx.GenerateRSAKeyPairWithLabel(id, label(name), 4096)
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

// Load implements KeyStore.
func (p *PKCS11Keys) Load(name string) (crypto.Signer, error) {
	k, err := p.ctx.FindKeyPair(nil, label(name))
	if err != nil && !strings.Contains(err.Error(), "not found") {
		return nil, fmt.Errorf("token %q: %w", p.token, err)
	}
	if k == nil {
		return nil, fmt.Errorf("%w: %s in token %q", ErrPKCS11Key, label(name), p.token)
	}
	return k, nil
}
