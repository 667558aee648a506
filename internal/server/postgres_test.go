package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/testutil"
)

// TestPostgres runs a server on PostgreSQL: an order is issued through the
// API and no SQLite file appears; after a restart the certificate is still
// there, and river's periodic job, queued in PostgreSQL, publishes the
// CRLs.
func TestPostgres(t *testing.T) {
	url := testutil.PostgresDB(t)
	dir := t.TempDir()
	e := start(t, envOptions{sandbox: true, database: url, dir: dir})
	id := e.placeOrder(nil)
	cert, err := e.client().Certificate(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	verifyChain(t, cert.Certs.Certificate, cert.Certs.Intermediate, cert.Certs.Root, "www.example.com")

	if _, err := os.Stat(filepath.Join(dir, server.DatabaseFile)); err == nil {
		t.Fatal("a server on PostgreSQL created the SQLite file")
	}

	e.cancel()
	if err := <-e.stopped; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	e.stopped <- nil // for the cleanup

	// Restarted out of sandbox mode, the server runs its job queue.
	again := start(t, envOptions{database: url, dir: dir})
	again.creds = e.creds
	after, err := again.client().Certificate(t.Context(), id)
	if err != nil {
		t.Fatalf("certificate after restart: %v", err)
	}
	if after.Certs.Certificate != cert.Certs.Certificate {
		t.Fatal("the certificate changed across the restart")
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := again.srv.Data().DB.LatestCRL(t.Context(), "intermediate"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the job queue on PostgreSQL published no CRL: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresBadURL: a database setting that is not a postgres:// URL,
// or a server that does not answer, stops the start with a clear error
// that does not show the password.
func TestPostgresBadURL(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"not postgres", "mysql://root:hunter2@127.0.0.1/certd"},
		{"closed port", "postgres://certd:hunter2@127.0.0.1:1/certd?sslmode=disable&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.OpenData(t.Context(), server.Config{DataDir: t.TempDir(), Sandbox: true, Database: tc.url})
			if err == nil {
				t.Fatal("OpenData succeeded")
			}
			if msg := err.Error(); strings.Contains(msg, "hunter2") {
				t.Fatalf("error shows the password: %s", msg)
			}
		})
	}
}

// TestPostgresNodesStartTogether starts several servers on one empty
// database at once, as nodes of a cluster would: the store's and the job
// queue's migrations must each be applied once, with no node failing when
// each holds a copy of one CA; and of nodes that each made their own CA,
// exactly one may keep the database.
func TestPostgresNodesStartTogether(t *testing.T) {
	const nodes = 3
	startAll := func(t *testing.T, url string, folders []string) []error {
		errs := make(chan error, nodes)
		for _, dir := range folders {
			go func() {
				srv, err := server.Open(t.Context(), server.Config{
					DataDir: dir, Listen: "127.0.0.1:0", Database: url,
					DNSResolver: testutil.NewDNS(t).Addr(),
					Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err == nil {
					// A cancelled context makes Serve shut down at once.
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					err = srv.Serve(ctx)
				}
				errs <- err
			}()
		}
		var out []error
		for range folders {
			out = append(out, <-errs)
		}
		return out
	}
	t.Run("copies of one CA", func(t *testing.T) {
		// The CA is made once (certd init on its own), then copied to
		// every node's folder.
		first := t.TempDir()
		d, err := server.OpenData(t.Context(), server.Config{DataDir: first, Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		var folders []string
		for i := 0; i < nodes; i++ {
			dir := t.TempDir()
			if b, err := exec.Command("cp", "-a", filepath.Join(first, server.CADir), filepath.Join(dir, server.CADir)).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, b)
			}
			folders = append(folders, dir)
		}
		for _, err := range startAll(t, testutil.PostgresDB(t), folders) {
			if err != nil {
				t.Errorf("node start: %v", err)
			}
		}
	})
	t.Run("each its own CA", func(t *testing.T) {
		folders := []string{t.TempDir(), t.TempDir(), t.TempDir()}
		started := 0
		for _, err := range startAll(t, testutil.PostgresDB(t), folders) {
			switch {
			case err == nil:
				started++
			case !strings.Contains(err.Error(), "belongs to another CA") && !strings.Contains(err.Error(), "copy the ca folder"):
				t.Errorf("node start: %v", err)
			}
		}
		if started != 1 {
			t.Fatalf("%d nodes kept the database with their own CA, want 1", started)
		}
	})
}
