// Package logo fetches the images that Wi-Fi (Passpoint) certificates
// embed by reference, and refuses to be turned against the network it
// runs in: only http and https, a time limit, a size limit, PNG, JPEG or
// GIF content, and no connection to loopback, private, link-local or
// otherwise non-public addresses unless the operator allows it.
package logo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // register the decoders DecodeConfig needs
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Image is a fetched logo.
type Image struct {
	URL       string
	MediaType string
	SHA256    []byte
	Size      int
	Width     int
	Height    int
}

// Options configure a Fetcher. Zero values are the safe defaults.
type Options struct {
	// Timeout bounds a whole fetch, redirects included (default 10 s).
	Timeout time.Duration
	// MaxBytes bounds an image's size (default 256 KiB).
	MaxBytes int64
	// AllowPrivate permits loopback, private and link-local addresses
	// (tests serve logos on loopback).
	AllowPrivate bool
}

// Fetcher fetches logos. It is safe for concurrent use.
type Fetcher struct {
	client   *http.Client
	maxBytes int64
}

// ErrForbiddenAddress is returned for a logo on an address certd may not
// reach.
var ErrForbiddenAddress = errors.New("the logo's address is not a public internet address")

// New returns a Fetcher.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 10
	}
	dialer := &net.Dialer{
		Timeout: o.Timeout,
		// The check runs on the address actually dialled, after DNS
		// resolution, so a name that resolves to a private address (or
		// changes its answer between checks) is refused too.
		Control: func(network, address string, _ syscall.RawConn) error {
			if o.AllowPrivate {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return ErrForbiddenAddress
			}
			return nil
		},
	}
	transport := &http.Transport{
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    o.Timeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives:      true,
		Proxy:                  nil,
	}
	return &Fetcher{
		maxBytes: o.MaxBytes,
		client: &http.Client{
			Transport: transport,
			Timeout:   o.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("too many redirects")
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return errors.New("redirect to a scheme other than http or https")
				}
				return nil
			},
		},
	}
}

// public reports whether addr is a global unicast address outside the
// private, shared, documentation and other special-purpose ranges.
func public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsGlobalUnicast() || addr.IsPrivate() || addr.IsLoopback() || addr.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range specialPrefixes {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64, could reach private IPv4
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// Fetch downloads the image at rawURL and describes it. Errors are
// written for the subscriber who gave the URL.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Image, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Image{}, errors.New("the logo URL must be an absolute http or https URL")
	}
	if len(rawURL) > 1024 {
		return Image{}, errors.New("the logo URL is longer than 1024 characters")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Image{}, errors.New("the logo URL is not valid")
	}
	req.Header.Set("User-Agent", "certd-logo-fetch/1")
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) {
			return Image{}, ErrForbiddenAddress
		}
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return Image{}, errors.New("fetching the logo timed out")
		}
		return Image{}, fmt.Errorf("the logo could not be fetched: %v", unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Image{}, fmt.Errorf("the logo URL answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return Image{}, fmt.Errorf("the logo could not be read: %v", err)
	}
	if int64(len(body)) > f.maxBytes {
		return Image{}, fmt.Errorf("the logo is larger than %d bytes", f.maxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return Image{}, errors.New("the logo is not a PNG, JPEG or GIF image")
	}
	sum := sha256.Sum256(body)
	return Image{URL: rawURL, MediaType: "image/" + format, SHA256: sum[:], Size: len(body), Width: cfg.Width, Height: cfg.Height}, nil
}

func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
