// Package audit keeps certd's tamper-evident audit log: an append-only
// file of JSON lines, one per event (every signature, before and after,
// revocations, decisions, API key changes, the configuration at start).
// Each line carries the SHA-256 of the line before it, so Verify detects
// any line edited, removed, inserted or reordered. Appends are serialized
// across processes (the server and the CLI) with a file lock and synced
// to disk before Append returns.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Event is one line of the log.
type Event struct {
	Seq  int64          `json:"seq"`
	Time time.Time      `json:"time"`
	Type string         `json:"type"`
	Data map[string]any `json:"data,omitempty"`
	// Prev is the hex SHA-256 of the previous line ("" for the first).
	Prev string `json:"prev"`
}

// Log appends events to a file.
type Log struct {
	path   string
	now    func() time.Time
	anchor func(ctx context.Context, seq int64, hash string) error
}

// Open returns the log at path (created 0600 on first append). anchor,
// when not nil, records the sequence number and hash of each new last
// line elsewhere (certd keeps it in its database), so that removing or
// editing the log's tail is detected too: a hash chain alone cannot see
// that.
func Open(path string, now func() time.Time, anchor func(ctx context.Context, seq int64, hash string) error) *Log {
	return &Log{path: path, now: now, anchor: anchor}
}

// Hash is the hex SHA-256 of a line as the next line's Prev names it.
func Hash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// Append writes one event after the last line, durably.
func (l *Log) Append(ctx context.Context, typ string, data map[string]any) error {
	return l.locked(func(f *os.File) error { return l.append(ctx, f, typ, data) })
}

func (l *Log) append(ctx context.Context, f *os.File, typ string, data map[string]any) error {
	last, seq, err := lastLine(f)
	if err != nil {
		return err
	}
	ev := Event{Seq: seq + 1, Time: l.now().UTC(), Type: typ, Data: data}
	if last != nil {
		ev.Prev = Hash(last)
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	if l.anchor != nil {
		if err := l.anchor(ctx, ev.Seq, Hash(line)); err != nil {
			return fmt.Errorf("audit: anchor: %w", err)
		}
	}
	return nil
}

// Hold runs fn while holding the log's lock, so that no event is appended
// meanwhile: a backup copies the log and the database's anchor of it as
// one consistent pair.
func (l *Log) Hold(fn func() error) error {
	return l.locked(func(*os.File) error { return fn() })
}

// locked runs fn on the log file, created 0600 if missing, while holding
// its exclusive lock, which the server, the CLI and other nodes share.
func (l *Log) locked(fn func(*os.File) error) error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it too
	return fn(f)
}

// lastLine returns the file's last line (without its newline) and its
// sequence number, reading only the file's tail.
func lastLine(f *os.File) ([]byte, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, 0, nil
	}
	chunk := int64(64 << 10)
	if chunk > size {
		chunk = size
	}
	buf := make([]byte, chunk)
	if _, err := f.ReadAt(buf, size-chunk); err != nil && err != io.EOF {
		return nil, 0, err
	}
	buf = bytes.TrimRight(buf, "\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	}
	var ev Event
	if err := json.Unmarshal(buf, &ev); err != nil {
		return nil, 0, fmt.Errorf("audit: the last line is not an event: %w", err)
	}
	return buf, ev.Seq, nil
}

// ErrBroken is returned by Verify for a log whose chain does not hold.
var ErrBroken = errors.New("audit log chain broken")

// Verify reads the whole log and checks every line's hash link and
// sequence number, and that it ends where the anchor (seq, hash) says the
// last append left it (pass seq 0 to skip). It returns how many events it
// checked.
func Verify(path string, anchorSeq int64, anchorHash string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var prev []byte
	var n int64
	for sc.Scan() {
		line := sc.Bytes()
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return n, fmt.Errorf("%w: line %d is not an event", ErrBroken, n+1)
		}
		want := ""
		if prev != nil {
			want = Hash(prev)
		}
		if ev.Prev != want || ev.Seq != n+1 {
			return n, fmt.Errorf("%w at line %d (event %d, %s): the line before it was changed, removed or reordered", ErrBroken, n+1, ev.Seq, ev.Type)
		}
		prev = append(prev[:0], line...)
		n++
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	if anchorSeq > 0 && (n != anchorSeq || Hash(prev) != anchorHash) {
		return n, fmt.Errorf("%w: the log ends at event %d, but event %d was the last one written (lines removed or the last line changed)", ErrBroken, n, anchorSeq)
	}
	return n, nil
}
