package validation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPChecker is BRs 3.2.2.4.18 (Agreed-Upon Change to Website v2): GET
// http://<domain>/.well-known/pki-validation/<file> and find the random
// value in the response, following only the redirects the BRs allow.
type HTTPChecker struct {
	// Port is where the domain's web server listens (80; tests use
	// another). Redirects may go to this port or 443.
	Port    int
	Timeout time.Duration
	// Resolver resolves the domain (and redirect targets), so that the
	// CA's configured resolver decides where it connects, not the host's.
	Resolver *Resolver
	// Dial, when set, replaces resolving and dialling altogether.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// dial connects to addr after resolving its host with the configured
// resolver.
func (h *HTTPChecker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := h.Resolver.LookupIP(ctx, host)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// WellKnownPath is where the file is looked for.
const WellKnownPath = "/.well-known/pki-validation/"

// maxHTTPBody bounds the file read.
const maxHTTPBody = 16 << 10

// Check fetches the file named file on domain and looks for value in it.
func (h *HTTPChecker) Check(ctx context.Context, domain, file, value string) error {
	if strings.HasPrefix(domain, "*.") {
		return failf("http-token cannot validate a wildcard name; use dns-txt-token")
	}
	port := h.Port
	if port == 0 {
		port = 80
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	transport := &http.Transport{Proxy: nil, DisableKeepAlives: true, ResponseHeaderTimeout: timeout}
	switch {
	case h.Dial != nil:
		transport.DialContext = h.Dial
	case h.Resolver != nil:
		transport.DialContext = h.dial
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// BRs 3.2.2.4.18: redirects are followed only when they are
			// 301, 302, 307 or 308 responses to http or https URLs on
			// ports 80 or 443, at most 10 of them.
			if len(via) >= 10 {
				return failf("more than 10 redirects")
			}
			switch req.Response.StatusCode {
			case 301, 302, 307, 308:
			default:
				return failf(fmt.Sprintf("redirect with status %d is not allowed", req.Response.StatusCode))
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return failf("redirect to a scheme other than http or https")
			}
			p := req.URL.Port()
			if p == "" {
				return nil
			}
			if p != "80" && p != "443" && p != strconv.Itoa(port) {
				return failf(fmt.Sprintf("redirect to port %s is not allowed (80 or 443 only)", p))
			}
			return nil
		},
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(domain, strconv.Itoa(port)), Path: WellKnownPath + file}
	if port == 80 {
		u.Host = domain
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return failf("the validation URL is not valid")
	}
	req.Header.Set("User-Agent", "certd-validation/1")
	resp, err := client.Do(req)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return f
		}
		return fmt.Errorf("fetch %s: %w", u.String(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return failf(fmt.Sprintf("%s answered HTTP %d", u.String(), resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return fmt.Errorf("read %s: %w", u.String(), err)
	}
	if !strings.Contains(string(body), value) {
		return failf(fmt.Sprintf("%s does not contain the random value", u.String()))
	}
	return nil
}
