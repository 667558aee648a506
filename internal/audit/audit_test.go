package audit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/internal/audit"
)

type anchor struct {
	mu   sync.Mutex
	seq  int64
	hash string
}

func (a *anchor) set(_ context.Context, seq int64, hash string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq, a.hash = seq, hash
	return nil
}

func TestChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var a anchor
	l := audit.Open(path, time.Now, a.set)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := audit.Open(path, time.Now, a.set).Append(ctx, "test", map[string]any{"i": i}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if err := l.Append(ctx, "last", nil); err != nil {
		t.Fatal(err)
	}
	n, err := audit.Verify(path, a.seq, a.hash)
	if err != nil || n != 21 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	orig, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(orig, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty piece after the last newline

	tamper := map[string][]byte{
		"edited line":   bytes.Join(append(append([][]byte{}, lines[:3]...), append([][]byte{bytes.Replace(lines[3], []byte(`"test"`), []byte(`"tset"`), 1)}, lines[4:]...)...), nil),
		"removed line":  bytes.Join(append(append([][]byte{}, lines[:5]...), lines[6:]...), nil),
		"swapped lines": bytes.Join(append(append(append([][]byte{}, lines[:7]...), lines[8], lines[7]), lines[9:]...), nil),
		"removed tail":  bytes.Join(lines[:len(lines)-1], nil),
		"edited tail":   bytes.Join(append(append([][]byte{}, lines[:len(lines)-1]...), bytes.Replace(lines[len(lines)-1], []byte("last"), []byte("lost"), 1)), nil),
		"not json":      append(append([]byte{}, orig...), []byte("garbage\n")...),
	}
	for name, data := range tamper {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(p, a.seq, a.hash); !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("Verify of a tampered log = %v", err)
			}
		})
	}
}
