// Package audit is the format of certd's tamper-evident audit chain: one
// JSON line per event (every signature, before and after, revocations,
// decisions, API key changes, the configuration at start), each carrying
// the SHA-256 of the line before it, so that Verify detects any line
// edited, removed, inserted or reordered.
//
// The store keeps the lines, each written in the same transaction as what
// it records (the serial reservation holds "sign.begin", the stored
// certificate "sign.done"), and the chain's head beside them, so removing
// or editing the tail is found too. Before the chain moved into the
// database it was a file, audit.log; VerifyFile checks such a file, whose
// end the database's chain continues.
package audit

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/certd/certd/internal/store"
)

// Event is one line of the chain.
type Event struct {
	Seq  int64          `json:"seq"`
	Time time.Time      `json:"time"`
	Type string         `json:"type"`
	Data map[string]any `json:"data,omitempty"`
	// Prev is the hex SHA-256 of the previous line ("" for the first).
	Prev string `json:"prev"`
}

// Hash is the hex SHA-256 of a line as the next line's Prev names it.
func Hash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// Seal makes the line of event number seq after the line whose hash is
// prev, and its hash.
func Seal(seq int64, prev string, t time.Time, typ string, data map[string]any) (line []byte, hash string, err error) {
	line, err = json.Marshal(Event{Seq: seq, Time: t.UTC(), Type: typ, Data: data, Prev: prev})
	if err != nil {
		return nil, "", fmt.Errorf("audit: %w", err)
	}
	return line, Hash(line), nil
}

// ErrBroken is returned by Verify for a chain that does not hold.
var ErrBroken = errors.New("audit chain broken")

// Chain checks lines one at a time, in order.
type Chain struct {
	seq  int64
	prev string
}

// Start is a chain that continues after event seq whose line hashed to
// prev (0 and "" for a chain from its first event).
func Start(seq int64, prev string) *Chain { return &Chain{seq: seq, prev: prev} }

// Next checks the next line: its sequence number and its link to the one
// before.
func (c *Chain) Next(line []byte) error {
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil {
		return fmt.Errorf("%w: event %d is not an event", ErrBroken, c.seq+1)
	}
	if ev.Prev != c.prev || ev.Seq != c.seq+1 {
		return fmt.Errorf("%w at event %d (%s): the event before it was changed, removed or reordered", ErrBroken, c.seq+1, ev.Type)
	}
	c.seq, c.prev = ev.Seq, Hash(line)
	return nil
}

// End checks that the chain ends where its head says the last append
// left it.
func (c *Chain) End(headSeq int64, headHash string) error {
	if c.seq != headSeq || c.prev != headHash {
		return fmt.Errorf("%w: the chain ends at event %d, but event %d was the last one written (events removed or the last one changed)", ErrBroken, c.seq, headSeq)
	}
	return nil
}

// Head is the sequence number and hash of the last line checked.
func (c *Chain) Head() (int64, string) { return c.seq, c.prev }

// VerifyFile checks an audit.log file of the chain's first events (before
// it moved into the database) and returns the sequence number and hash of
// its last line, where the database's events go on.
func VerifyFile(path string) (seq int64, hash string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	c := Start(0, "")
	for sc.Scan() {
		if err := c.Next(sc.Bytes()); err != nil {
			return 0, "", fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, "", err
	}
	seq, hash = c.Head()
	return seq, hash, nil
}

// Log appends events to the chain a store keeps, each in a transaction
// of its own (issuance writes its events in its own transactions).
type Log struct {
	store store.Audit
	now   func() time.Time
}

// NewLog returns a Log over s with the clock now.
func NewLog(s store.Audit, now func() time.Time) *Log { return &Log{store: s, now: now} }

// Append seals one event onto the chain, durably.
func (l *Log) Append(ctx context.Context, typ string, data map[string]any) error {
	return l.store.AppendAudit(ctx, store.AuditEvent{Time: l.now(), Type: typ, Data: data})
}

// Verify checks the whole chain: the legacy file at filePath first, if it
// exists, then every event in the store, which must go on from the file's
// end, and end at the store's head. It returns how many events it checked.
func Verify(ctx context.Context, s store.Audit, filePath string) (int64, error) {
	var seq int64
	var hash string
	if filePath != "" {
		var err error
		seq, hash, err = VerifyFile(filePath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	c := Start(seq, hash)
	for {
		lines, err := s.AuditLines(ctx, seq, 1000)
		if err != nil {
			return seq, err
		}
		if len(lines) == 0 {
			break
		}
		for _, l := range lines {
			if err := c.Next(l.Line); err != nil {
				return seq, err
			}
			if Hash(l.Line) != l.Hash {
				return seq, fmt.Errorf("%w at event %d: its stored hash is not its line's", ErrBroken, l.Seq)
			}
			seq = l.Seq
		}
	}
	headSeq, headHash, err := s.AuditHead(ctx)
	if err != nil {
		return seq, err
	}
	if err := c.End(headSeq, headHash); err != nil {
		return seq, err
	}
	return seq, nil
}
