package v1

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// Idempotent retries (the Idempotency-Key header of
// draft-ietf-httpapi-idempotency-key-header): a POST or custom method
// sent with a key is run once per account and key; a retry with the same
// method, path and body gets the first answer again, byte for byte, with
// Idempotent-Replayed: true. The records are in the database, so a retry
// that reaches another node is answered the same.
const (
	// IdempotencyTTL is how long a key's answer is kept.
	IdempotencyTTL = 24 * time.Hour
	// idempotencyStale is when a key still in progress is taken to be a
	// dead node's and may be run again: longer than any request may take
	// (the server's write timeout is shorter).
	idempotencyStale  = 10 * time.Minute
	maxIdempotencyKey = 255
)

var (
	errIdemKey = problem.New(problem.InvalidParam, "invalid_idempotency_key",
		"The Idempotency-Key header must be 1 to 255 visible ASCII characters.")
	errIdemReused = problem.New(problem.InvalidParam, "idempotency_key_reused",
		"This Idempotency-Key was used for a different request (method, path or body); use a new key for a new request.")
	errIdemInProgress = problem.New(problem.Conflict, "idempotency_key_in_progress",
		"A request with this Idempotency-Key is still being processed; retry shortly.")
)

// idempotencyKey returns the request's key, without the quotes of the
// draft's structured-field form; "" when there is none.
func idempotencyKey(r *http.Request) (string, bool) {
	v, ok := r.Header["Idempotency-Key"]
	if !ok {
		return "", true
	}
	if len(v) != 1 {
		return "", false
	}
	k := strings.TrimSpace(v[0])
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if k == "" || len(k) > maxIdempotencyKey {
		return "", false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", false
		}
	}
	return k, true
}

// idempotent runs a request under its Idempotency-Key: the first time
// run answers it and the answer is recorded; after that the record is
// replayed, or the retry is refused when its body differs or the first is
// still running. It returns the format it answered in.
func (h *Handler) idempotent(w http.ResponseWriter, r *http.Request, c *call, key, path string, body []byte, run func(http.ResponseWriter) Format) Format {
	sum := sha256.New()
	sum.Write([]byte(c.method + "\n" + path + "\n"))
	sum.Write(body)
	rec := store.IdempotencyRecord{AccountID: c.accountID, Key: key, Fingerprint: hex.EncodeToString(sum.Sum(nil))}
	now := time.Now()
	rec.CreatedAt, rec.ExpiresAt = now, now.Add(IdempotencyTTL)
	// The record must be written even when the client goes away.
	ctx := context.WithoutCancel(r.Context())
	claimed, held, err := h.idem.ClaimIdempotencyKey(ctx, rec, now.Add(-idempotencyStale))
	switch {
	case err != nil:
		h.writeError(w, r, c.format, problem.Internalf("idempotency key: %w", err))
		return c.format
	case !claimed && held.Fingerprint != rec.Fingerprint:
		h.writeError(w, r, c.format, errIdemReused)
		return c.format
	case !claimed && held.Status == 0:
		w.Header().Set("Retry-After", "1")
		h.writeError(w, r, c.format, errIdemInProgress)
		return c.format
	case !claimed:
		hdr := w.Header()
		hdr.Set("Content-Type", held.ContentType)
		hdr.Set("Content-Length", strconv.Itoa(len(held.Body)))
		hdr.Set("Idempotent-Replayed", "true")
		w.WriteHeader(held.Status)
		_, _ = w.Write(held.Body)
		if strings.Contains(held.ContentType, "xml") {
			return XML
		}
		return JSON
	}
	rw := &recorder{ResponseWriter: w}
	done := false
	defer func() {
		// A panic (answered 500 by ServeHTTP) or a server error leaves
		// nothing worth replaying: free the key for the retry.
		if !done {
			if err := h.idem.ReleaseIdempotencyKey(ctx, rec.AccountID, rec.Key, rec.Fingerprint); err != nil {
				h.log.Error("idempotency key release", "err", err)
			}
		}
	}()
	f := run(rw)
	if rw.status >= 500 {
		return f
	}
	// The request did its work: even if its answer cannot be recorded,
	// the key must not be freed for a second run (it stays in progress
	// until it is stale).
	done = true
	rec.Status, rec.ContentType, rec.Body = rw.status, rw.Header().Get("Content-Type"), rw.body.Bytes()
	if err := h.idem.FinishIdempotencyKey(ctx, rec); err != nil {
		h.log.Error("idempotency key record", "request_id", w.Header().Get("X-Request-Id"), "err", err)
	}
	return f
}

// recorder passes an answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
