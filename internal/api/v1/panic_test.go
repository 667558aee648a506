package v1_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/account"
	v1 "github.com/certd/certd/internal/api/v1"
	"github.com/certd/certd/internal/store/sqlite"
)

// TestPanicAnswered500 drives a real panic (a handler whose order service
// is missing) through a real listener: the client gets a 500 with the
// error envelope, not a dropped connection, and the server keeps serving.
func TestPanicAnswered500(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts := account.New(db, time.Now)
	creds, err := accounts.Create(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	h := v1.New(v1.Options{Accounts: accounts, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := httptest.NewServer(h)
	defer srv.Close()

	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", srv.URL+"/order/1", nil)
		req.SetBasicAuth(creds.AccountID, creds.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != v1.TypeErrorJSON {
			t.Fatalf("status %d type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var env struct {
			Errors []struct{ Code, Description string } `json:"errors"`
		}
		if err := json.Unmarshal(body, &env); err != nil || len(env.Errors) != 1 || env.Errors[0].Code != "internal_error" {
			t.Fatalf("body = %s", body)
		}
		if strings.Contains(string(body), "nil pointer") {
			t.Fatal("panic details sent to the client")
		}
		rid := resp.Header.Get("X-Request-Id")
		if rid == "" || !strings.Contains(logs.String(), "request_id="+rid) || !strings.Contains(logs.String(), "panic") {
			t.Fatalf("panic not logged with request id %q:\n%s", rid, logs.String())
		}
	}
}
