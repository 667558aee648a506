package server

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestPprofListener: --pprof-listen serves the CPU, block and mutex
// profiles, with the block and mutex profiles turned on while it runs and
// off again once it stops.
func TestPprofListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, err := servePprof(addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != pprofMutexFraction {
		t.Errorf("mutex profile fraction %d while serving, want %d", got, pprofMutexFraction)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/block?debug=1", "/debug/pprof/mutex?debug=1"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d, %d bytes", path, resp.StatusCode, len(body))
		}
		if strings.HasPrefix(path, "/debug/pprof/block") && !strings.Contains(string(body), "--- contention:") {
			t.Errorf("block profile: %.200s", body)
		}
	}
	stop()
	if got := runtime.SetMutexProfileFraction(-1); got != 0 {
		t.Errorf("mutex profile fraction %d after stop, want 0", got)
	}
	if _, err := servePprof("127.0.0.1:-1", slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--pprof-listen") {
		t.Errorf("a bad address: %v", err)
	}
}
