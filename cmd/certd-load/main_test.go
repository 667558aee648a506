package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certd/certd/internal/server"
	"github.com/certd/certd/internal/store"
)

// TestLoad drives a real sandbox server over HTTP and checks the report
// against what the server stored.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0", HTTP: true, Sandbox: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	b, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		AccountID string `json:"account_id"`
		APIKey    string `json:"api_key"`
	}
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatal(err)
	}

	t.Run("orders are placed and reported", func(t *testing.T) {
		var out strings.Builder
		if err := run([]string{"--url", srv.URL(), "--account", creds.AccountID, "--key", creds.APIKey, "-c", "3", "-n", "12"}, &out); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "orders 12, failed 0, clients 3, nodes 1") || !strings.Contains(out.String(), "latency p50") {
			t.Fatalf("report:\n%s", out.String())
		}
		counts, err := srv.Data().DB.CountOrdersByStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.StatusIssued] != 12 {
			t.Fatalf("server holds %v, want 12 issued", counts)
		}
	})
	t.Run("a wrong key is reported as failures", func(t *testing.T) {
		var out strings.Builder
		err := run([]string{"--url", srv.URL(), "--account", creds.AccountID, "--key", "wrong", "-n", "2"}, &out)
		if err == nil || !strings.Contains(out.String(), "failed 2") {
			t.Fatalf("run with a wrong key: %v\n%s", err, out.String())
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range [][]string{{"-n", "1"}, {"--account", "1", "--key", "k", "-c", "0"}, {"--nope"}} {
			if err := run(args, io.Discard); err == nil {
				t.Errorf("run %v succeeded", args)
			}
		}
	})
}
