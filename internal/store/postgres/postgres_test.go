package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/postgres"
	"github.com/certd/certd/internal/store/storetest"
)

// admin connects to the server named by CERTD_TEST_POSTGRES, which .ci/run
// sets (a database it created for the run); without it the tests skip.
func admin(t *testing.T) (*sql.DB, *url.URL) {
	t.Helper()
	raw := os.Getenv("CERTD_TEST_POSTGRES")
	if raw == "" {
		t.Skip("CERTD_TEST_POSTGRES is not set: run with CERTD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (.ci/run sets it)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

// fresh makes an empty database for one test and opens the store on it.
func fresh(t *testing.T) store.Store {
	t.Helper()
	adm, u := admin(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "certd_test_" + hex.EncodeToString(b)
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	dbURL := *u
	dbURL.Path = "/" + name
	db, err := postgres.Open(context.Background(), dbURL.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, fresh)
}

// TestNodesMigrateTogether opens several stores on one empty database at
// once, as nodes starting together would: the migration lock lets exactly
// one apply the schema and the others wait.
func TestNodesMigrateTogether(t *testing.T) {
	adm, u := admin(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "certd_test_" + hex.EncodeToString(b)
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	dbURL := *u
	dbURL.Path = "/" + name
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dbURL.String())
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent start: %v", err)
		}
	}
}
