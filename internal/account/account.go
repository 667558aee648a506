// Package account manages accounts and their API keys: creating them,
// storing keys hashed, and authenticating a (account id, key) pair.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// Service creates and authenticates accounts.
type Service struct {
	store store.Accounts
	now   func() time.Time
	// Audit, when set, records key changes in the audit log.
	Audit interface {
		Append(ctx context.Context, typ string, data map[string]any) error
	}
}

// New returns a Service over s using the clock now.
func New(s store.Accounts, now func() time.Time) *Service {
	return &Service{store: s, now: now}
}

// Credentials are an account id and a new API key, shown to the user once.
type Credentials struct {
	AccountID string `json:"account_id"`
	APIKey    string `json:"api_key"`
}

// FormatID renders an account id as the v1 API does: at least six digits,
// zero-padded ("001007").
func FormatID(id int64) string { return fmt.Sprintf("%06d", id) }

// ParseID accepts an account id with or without leading zeros.
func ParseID(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// Create makes an account with one admin API key.
func (s *Service) Create(ctx context.Context, name string) (Credentials, error) {
	a, err := s.store.CreateAccount(ctx, name, s.now())
	if err != nil {
		return Credentials{}, fmt.Errorf("create account: %w", err)
	}
	key, err := s.AddKey(ctx, a.ID, RoleAdmin)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccountID: FormatID(a.ID), APIKey: key}, nil
}

// AddKey creates an API key for an account and returns it; only its hash
// is stored.
func (s *Service) AddKey(ctx context.Context, accountID int64, role string) (string, error) {
	k, err := s.CreateKey(ctx, accountID, role)
	return k.APIKey, err
}

// Key is a new API key, shown to its owner once.
type Key struct {
	KeyID     string `json:"key_id"`
	AccountID string `json:"account_id"`
	Role      string `json:"role"`
	APIKey    string `json:"api_key"`
}

// CreateKey makes an API key with a role for an existing account.
func (s *Service) CreateKey(ctx context.Context, accountID int64, role string) (Key, error) {
	if !ValidRole(role) {
		return Key{}, fmt.Errorf("unknown role %q: use admin, requester or viewer", role)
	}
	if _, err := s.store.GetAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Key{}, fmt.Errorf("account %s does not exist", FormatID(accountID))
		}
		return Key{}, err
	}
	key := newKey()
	k, err := s.store.CreateAPIKey(ctx, store.APIKey{AccountID: accountID, Hash: hashKey(key), Role: role, CreatedAt: s.now()})
	if err != nil {
		return Key{}, fmt.Errorf("create api key: %w", err)
	}
	if s.Audit != nil {
		if err := s.Audit.Append(ctx, "apikey.create", map[string]any{"account_id": accountID, "key_id": k.ID, "role": role}); err != nil {
			return Key{}, err
		}
	}
	return Key{KeyID: strconv.FormatInt(k.ID, 10), AccountID: FormatID(accountID), Role: role, APIKey: key}, nil
}

// RevokeKey revokes one of an account's keys; requests with it fail from
// then on.
func (s *Service) RevokeKey(ctx context.Context, accountID, keyID int64) error {
	err := s.store.RevokeAPIKey(ctx, accountID, keyID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("account %s has no active API key %d", FormatID(accountID), keyID)
	}
	if err == nil && s.Audit != nil {
		err = s.Audit.Append(ctx, "apikey.revoke", map[string]any{"account_id": accountID, "key_id": keyID})
	}
	return err
}

// Keys lists an account's keys (never the keys themselves).
func (s *Service) Keys(ctx context.Context, accountID int64) ([]store.APIKey, error) {
	return s.store.APIKeys(ctx, accountID)
}

// Get returns an account.
func (s *Service) Get(ctx context.Context, accountID int64) (store.Account, error) {
	a, err := s.store.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, problem.New(problem.NotFound, "not_found", "The account does not exist.")
	}
	return a, err
}

// Principal is who a request acts for.
type Principal struct {
	AccountID int64
	KeyID     int64
	Role      string
}

// errUnauthorized is the one answer to every failed authentication, so
// that a caller learns nothing about which part was wrong.
var errUnauthorized = problem.New(problem.Unauthorized, "access_denied", "No valid account ID and API key combination was provided.")

// Authenticate checks an account id and API key.
func (s *Service) Authenticate(ctx context.Context, accountID, key string) (Principal, error) {
	id, ok := ParseID(accountID)
	if !ok || key == "" || len(key) > 256 {
		return Principal{}, errUnauthorized
	}
	keys, err := s.store.APIKeys(ctx, id)
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	h := hashKey(key)
	if len(keys) == 0 {
		// Compare against a dummy so that an unknown account costs the
		// same as a wrong key and account ids cannot be found by timing.
		subtle.ConstantTimeCompare(dummyHash, h)
	}
	var found *store.APIKey
	for i := range keys {
		// Compare every key, in constant time, without stopping early.
		if subtle.ConstantTimeCompare(keys[i].Hash, h) == 1 && keys[i].RevokedAt.IsZero() {
			found = &keys[i]
		}
	}
	if found == nil {
		return Principal{}, errUnauthorized
	}
	return Principal{AccountID: id, KeyID: found.ID, Role: found.Role}, nil
}

var dummyHash = hashKey("certd-dummy-key")

// newKey returns 160 random bits as 32 lower-case base32 characters.
func newKey() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// hashKey hashes an API key for storage. Keys are 160 random bits, so a
// fast hash is enough to make the stored value useless to a thief (there
// is nothing to guess from); a slow password hash would only cost every
// request its CPU time.
func hashKey(key string) []byte {
	sum := sha256.Sum256([]byte("certd-api-key-v1:" + key))
	return sum[:]
}
