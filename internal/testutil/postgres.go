package testutil

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// PostgresAdmin returns the URL of the PostgreSQL server named by
// CERTD_TEST_POSTGRES (.ci/run sets it to the machine's server); without
// it the test skips.
func PostgresAdmin(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv("CERTD_TEST_POSTGRES")
	if raw == "" {
		t.Skip("CERTD_TEST_POSTGRES is not set: run with CERTD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (.ci/run sets it)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("CERTD_TEST_POSTGRES: %v", err)
	}
	return u
}

// PostgresDB creates an empty database for one test, dropped when it
// ends, and returns its URL.
func PostgresDB(t testing.TB) string {
	t.Helper()
	u := PostgresAdmin(t)
	adm, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "certd_test_" + hex.EncodeToString(b)
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		adm.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		adm.Close()
	})
	dbURL := *u
	dbURL.Path = "/" + name
	return dbURL.String()
}
