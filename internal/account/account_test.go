package account_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store/sqlite"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := account.New(db, time.Now)
	creds, err := svc.Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.AccountID) != 6 || len(creds.APIKey) != 32 {
		t.Fatalf("credentials = %+v", creds)
	}
	keys, err := db.APIKeys(ctx, 1)
	if err != nil || len(keys) != 1 {
		t.Fatal(keys, err)
	}
	if string(keys[0].Hash) == creds.APIKey || len(keys[0].Hash) != 32 {
		t.Fatal("the API key is stored as given, not hashed")
	}
	other, err := svc.Create(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	unauthorized := problem.New(problem.Unauthorized, "access_denied", "")
	tests := []struct {
		name, id, key string
		ok            bool
	}{
		{"right", creds.AccountID, creds.APIKey, true},
		{"without zeros", "1", creds.APIKey, true},
		{"other account's key", creds.AccountID, other.APIKey, false},
		{"wrong key", creds.AccountID, flipLast(creds.APIKey), false},
		{"empty key", creds.AccountID, "", false},
		{"unknown account", "424242", creds.APIKey, false},
		{"not a number", "abc", creds.APIKey, false},
		{"negative", "-1", creds.APIKey, false},
		{"zero", "0", creds.APIKey, false},
		{"huge", "99999999999999999999999", creds.APIKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := svc.Authenticate(ctx, tt.id, tt.key)
			if tt.ok {
				if err != nil || p.AccountID != 1 || p.Role != account.RoleAdmin {
					t.Fatalf("Authenticate = %+v, %v", p, err)
				}
				return
			}
			if !errors.Is(err, unauthorized) {
				t.Fatalf("Authenticate = %+v, %v; want access_denied", p, err)
			}
		})
	}
}

func TestFormatAndParseID(t *testing.T) {
	if got := account.FormatID(1007); got != "001007" {
		t.Errorf("FormatID = %q", got)
	}
	for in, want := range map[string]int64{"001007": 1007, "1007": 1007, "1": 1} {
		if got, ok := account.ParseID(in); !ok || got != want {
			t.Errorf("ParseID(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "0", "00", "1a", " 1", "+1", "1234567890123456789"} {
		if _, ok := account.ParseID(in); ok {
			t.Errorf("ParseID(%q) accepted", in)
		}
	}
}

// flipLast changes the last character of a key to a different one.
func flipLast(key string) string {
	last := "a"
	if key[len(key)-1] == 'a' {
		last = "b"
	}
	return key[:len(key)-1] + last
}
