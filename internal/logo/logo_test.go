package logo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/internal/logo"
	"github.com/certd/certd/internal/testutil"
)

func TestFetch(t *testing.T) {
	pngData := testutil.Image(t, "png", 64, 32)
	mux := http.NewServeMux()
	mux.HandleFunc("/logo.png", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(pngData) })
	mux.HandleFunc("/logo.jpg", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(testutil.Image(t, "jpeg", 10, 10)) })
	mux.HandleFunc("/logo.gif", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(testutil.Image(t, "gif", 5, 7)) })
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>not an image</html>")) })
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(make([]byte, 300<<10)) })
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/logo.png", http.StatusFound) })
	mux.HandleFunc("/redirect-file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	allowed := logo.New(logo.Options{AllowPrivate: true, Timeout: 500 * time.Millisecond})
	guarded := logo.New(logo.Options{})
	ctx := context.Background()
	sum := sha256.Sum256(pngData)

	tests := []struct {
		name    string
		f       *logo.Fetcher
		url     string
		media   string
		errText string
	}{
		{"png", allowed, srv.URL + "/logo.png", "image/png", ""},
		{"jpeg", allowed, srv.URL + "/logo.jpg", "image/jpeg", ""},
		{"gif", allowed, srv.URL + "/logo.gif", "image/gif", ""},
		{"redirect", allowed, srv.URL + "/redirect", "image/png", ""},
		{"not an image", allowed, srv.URL + "/text", "", "not a PNG, JPEG or GIF"},
		{"too large", allowed, srv.URL + "/big.png", "", "larger than"},
		{"missing", allowed, srv.URL + "/nope.png", "", "HTTP 404"},
		{"slow", allowed, srv.URL + "/slow.png", "", "timed out"},
		{"redirect to file", allowed, srv.URL + "/redirect-file", "", "could not be fetched"},
		{"ftp", allowed, "ftp://example.com/logo.png", "", "http or https"},
		{"relative", allowed, "/logo.png", "", "http or https"},
		{"loopback refused", guarded, srv.URL + "/logo.png", "", "not a public internet address"},
		{"localhost refused", guarded, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/logo.png", "", "not a public internet address"},
		{"private refused", guarded, "http://10.0.0.1/logo.png", "", "not a public internet address"},
		{"link-local refused", guarded, "http://169.254.169.254/latest/meta-data", "", "not a public internet address"},
		{"ipv6 loopback refused", guarded, "http://[::1]/logo.png", "", "not a public internet address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := tt.f.Fetch(ctx, tt.url)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Fetch = %+v, %v; want error containing %q", img, err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.MediaType != tt.media || len(img.SHA256) != 32 || img.Size == 0 || img.Width == 0 {
				t.Fatalf("image = %+v", img)
			}
		})
	}
	img, err := allowed.Fetch(ctx, srv.URL+"/logo.png")
	if err != nil || !bytes.Equal(img.SHA256, sum[:]) || img.Width != 64 || img.Height != 32 || img.Size != len(pngData) {
		t.Fatalf("png = %+v, %v", img, err)
	}
	if _, err := guarded.Fetch(ctx, srv.URL+"/logo.png"); !errors.Is(err, logo.ErrForbiddenAddress) {
		t.Fatalf("guarded fetch of loopback: %v", err)
	}
}

func TestPublic(t *testing.T) {
	// The guard's notion of a public address, checked through a fetch
	// that never gets as far as a connection for the refused ones.
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "224.0.0.1", "192.0.2.1"} {
		addr := netip.MustParseAddr(a)
		url := "http://" + netip.AddrPortFrom(addr, 80).String() + "/x.png"
		if _, err := logo.New(logo.Options{Timeout: time.Second}).Fetch(context.Background(), url); !errors.Is(err, logo.ErrForbiddenAddress) {
			t.Errorf("%s: %v", a, err)
		}
	}
}
