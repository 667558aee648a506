package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/web"
)

// confirmer is a Confirmer over a map of pending tokens; the real one is
// exercised end to end in internal/server.
type confirmer struct {
	pending   map[string]string
	confirmed []string
}

func (c *confirmer) EmailConfirmation(_ context.Context, token string) (store.Authorization, error) {
	if d, ok := c.pending[token]; ok {
		return store.Authorization{Domain: d}, nil
	}
	if token == "broken" {
		return store.Authorization{}, errors.New("database is down")
	}
	return store.Authorization{}, order.ErrBadConfirmation
}

func (c *confirmer) ConfirmEmail(ctx context.Context, token string) (store.Authorization, error) {
	a, err := c.EmailConfirmation(ctx, token)
	if err == nil {
		c.confirmed = append(c.confirmed, token)
		delete(c.pending, token)
	}
	return a, err
}

func TestConfirmationPage(t *testing.T) {
	c := &confirmer{pending: map[string]string{"tok": "www.example.com"}}
	srv := httptest.NewServer(web.New(c, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	do := func(method, token string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+web.ConfirmPath+token, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		name, method, token string
		status              int
		contains            string
	}{
		{"page", "GET", "tok", 200, `<button type="submit" id="confirm">`},
		{"head", "HEAD", "tok", 200, ""},
		{"unknown token", "GET", "nope", 404, "not valid"},
		{"store failure", "GET", "broken", 500, "Something went wrong"},
		{"wrong method", "PUT", "tok", 405, "Method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, hdr := do(tt.method, tt.token)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Fatalf("= %d %s", status, body)
			}
			if hdr.Get("X-Frame-Options") != "DENY" || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("security headers = %v", hdr)
			}
		})
	}
	if len(c.confirmed) != 0 {
		t.Fatal("a GET or HEAD confirmed")
	}
	if status, body, _ := do("POST", "tok"); status != 200 || !strings.Contains(body, "Confirmed") {
		t.Fatalf("POST = %d %s", status, body)
	}
	if status, _, _ := do("POST", "tok"); status != 404 {
		t.Fatalf("second POST = %d", status)
	}
	if len(c.confirmed) != 1 {
		t.Fatalf("confirmed %v", c.confirmed)
	}
}
