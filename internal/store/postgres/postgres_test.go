package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/store/postgres"
	"github.com/certd/certd/internal/store/storetest"
	"github.com/certd/certd/internal/testutil"
)

// fresh makes an empty database for one test and opens the store on it.
func fresh(t *testing.T) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), testutil.PostgresDB(t))
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
	url := testutil.PostgresDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), url)
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

// TestBadURL: an unreachable server is a clear error, not a hang or panic.
func TestBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10e9)
	defer cancel()
	if _, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
}
