package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/internal/audit"
	"github.com/certd/certd/internal/store/sqlite"
)

// open makes a store with n events appended from concurrent goroutines,
// and a second handle on its file for tampering.
func open(t *testing.T, n int) (*sqlite.DB, *sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "certd.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := audit.NewLog(db, time.Now)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := log.Append(context.Background(), "test", map[string]any{"i": i}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw, path
}

func TestChain(t *testing.T) {
	ctx := context.Background()
	db, _, _ := open(t, 20)
	if n, err := audit.Verify(ctx, db, ""); err != nil || n != 20 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	seq, hash, err := db.AuditHead(ctx)
	lines, lerr := db.AuditLines(ctx, 19, 10)
	if err != nil || lerr != nil || seq != 20 || len(lines) != 1 || lines[0].Hash != hash || audit.Hash(lines[0].Line) != hash {
		t.Fatalf("head %d %s %v; last line %+v %v", seq, hash, err, lines, lerr)
	}

	for _, tc := range []struct {
		name   string
		tamper []string
	}{
		{"edited event", []string{`UPDATE audit_events SET line = replace(line, '"test"', '"tset"') WHERE seq = 4`}},
		{"edited event with its hash", []string{`UPDATE audit_events SET line = replace(line, '"test"', '"tset"'), hash = 'x' WHERE seq = 4`}},
		{"removed event", []string{`DELETE FROM audit_events WHERE seq = 6`}},
		{"swapped events", []string{`UPDATE audit_events SET seq = -8 WHERE seq = 8`, `UPDATE audit_events SET seq = 8 WHERE seq = 9`, `UPDATE audit_events SET seq = 9 WHERE seq = -8`}},
		{"removed tail", []string{`DELETE FROM audit_events WHERE seq = 20`}},
		{"removed tail and head moved back", []string{`DELETE FROM audit_events WHERE seq = 20`, `UPDATE audit_head SET seq = 19`}},
		{"not an event", []string{`UPDATE audit_events SET line = 'garbage' WHERE seq = 20`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, raw, _ := open(t, 20)
			for _, q := range tc.tamper {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := audit.Verify(ctx, db, ""); !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("Verify of a tampered chain = %v", err)
			}
		})
	}
}

// TestFromFile: the chain of an installation older than the move into
// the database starts in audit.log; the database's events go on from the
// file's end, and Verify checks both as one chain.
func TestFromFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.log")
	var text strings.Builder
	prev := ""
	for i := 1; i <= 3; i++ {
		line, hash, err := audit.Seal(int64(i), prev, time.Now(), "old", nil)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(append(line, '\n'))
		prev = hash
	}
	if err := os.WriteFile(file, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if seq, hash, err := audit.VerifyFile(file); err != nil || seq != 3 || hash != prev {
		t.Fatalf("VerifyFile = %d %s %v", seq, hash, err)
	}
	db, raw, _ := open(t, 0)
	if _, err := raw.Exec(`UPDATE audit_head SET seq = 3, hash = ?`, prev); err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(db, time.Now)
	for i := 0; i < 2; i++ {
		if err := log.Append(ctx, "new", nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := audit.Verify(ctx, db, file); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	// Without the file, the database's first event links to nothing.
	if _, err := audit.Verify(ctx, db, filepath.Join(dir, "absent.log")); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("Verify without the file = %v", err)
	}
	// An edited file breaks the chain, in the file or where the
	// database goes on from it.
	for i, edit := range []string{strings.Replace(text.String(), `"old"`, `"odd"`, 1), strings.TrimSuffix(text.String(), "\n") + "x\n"} {
		t.Run(fmt.Sprint("edit ", i), func(t *testing.T) {
			if err := os.WriteFile(file, []byte(edit), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(ctx, db, file); !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("Verify after editing the file = %v", err)
			}
		})
	}
}
