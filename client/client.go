// Package client is a Go SDK for certd's DigiCert REST API v1, and for
// any server that speaks it.
//
// # Connecting
//
// A Client is a server's base URL and an account's credentials (the
// account id and an API key, sent with HTTP Basic authentication):
//
//	c := client.New("https://ca.example.internal:8443", "000001", apiKey)
//
// certd's own root is not in the system's trust store; trust it with
// TrustRoots and the root's PEM file (ca/root.crt in certd's data folder,
// or GET /ca/root.crt):
//
//	rootPEM, _ := os.ReadFile("root.crt")
//	if err := c.TrustRoots(rootPEM); err != nil { ... }
//
// # Ordering a certificate
//
// Make a key and a certificate signing request (crypto/x509 does both),
// order, and wait for the certificate:
//
//	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{
//		CSR: csrPEM, Validity: 1, CommonName: "www.example.com",
//		OrgName: "Example LLC", ..., // the organization and its contact
//	})
//	cert, err := c.WaitForCertificate(ctx, id)
//	// cert.Certs.Certificate, .Intermediate, .Root, .PKCS7: PEM
//
// Outside certd's sandbox mode the order waits until every name passes
// domain-control validation and the organization is validated: Order
// (and DCV) say what to publish and what the order waits for, and
// WaitForCertificate's WithProgress option reports it while it waits.
//
// # Errors
//
// Every call takes a context. Errors the server answers come back as
// *Error, which carries the HTTP status and the v1 error codes
// ("invalid_param:csr", "cert_unavailable_processing", ...):
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Has("order_already_revoked") { ... }
//
// Other errors are the network's or the context's.
//
// # Retries
//
// Calls are retried on network errors and on 429, 502, 503 and 504
// answers, with backoff (and the server's Retry-After when it sends one),
// at most Retries times. Calls that change something (orders, reissues,
// decisions, revocations) carry an Idempotency-Key, the same on every
// attempt, so a retry is answered with the first attempt's answer and
// never becomes a second order or certificate; a retry that arrives while
// the first attempt still runs (409 idempotency_key_in_progress) is
// retried too. With Retries set to 0 nothing is retried and no key is
// sent (for a server without Idempotency-Key support, or a caller that
// retries with keys of its own).
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaType is the v1 JSON media type the client sends and accepts.
const MediaType = "application/vnd.digicert.rest-v1+json"

// Client talks to one server as one account. Its fields may be changed
// before the first call, not during calls.
type Client struct {
	BaseURL    string
	AccountID  string
	APIKey     string
	HTTPClient *http.Client
	UserAgent  string
	// Retries is how many times a call is tried again after a network
	// error or a 429/502/503/504 answer (New sets 3; 0 turns retries off).
	Retries int
}

// New returns a client using http.DefaultClient.
func New(baseURL, accountID, apiKey string) *Client {
	return &Client{
		BaseURL: strings.TrimSuffix(baseURL, "/"), AccountID: accountID, APIKey: apiKey,
		HTTPClient: http.DefaultClient, UserAgent: "certd-go-client/1", Retries: 3,
	}
}

// TrustRoots makes the client trust the PEM certificates in rootsPEM
// (and only them) for the server's TLS certificate: certd's root, for a
// server whose listener certificate certd issued itself.
func (c *Client) TrustRoots(rootsPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(rootsPEM) {
		return errors.New("certd: no PEM certificate among the roots given")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.HTTPClient = &http.Client{Transport: transport}
	return nil
}

// ErrorItem is one entry of the v1 error envelope.
type ErrorItem struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// Error is an error answer from the server: its HTTP status and every
// problem the v1 envelope listed.
type Error struct {
	Status int
	Errors []ErrorItem
	// RetryAfter is the server's Retry-After, when it sent one (429).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("certd: HTTP %d", e.Status)
	}
	parts := make([]string, len(e.Errors))
	for i, it := range e.Errors {
		parts[i] = it.Code + ": " + it.Description
	}
	return fmt.Sprintf("certd: HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// Has reports whether the answer carries the error code.
func (e *Error) Has(code string) bool {
	for _, it := range e.Errors {
		if it.Code == code {
			return true
		}
	}
	return false
}

// Code is the first error code of the answer ("" if it had none).
func (e *Error) Code() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

// HasCode reports whether err is an *Error carrying code.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Has(code)
}

// StatusOf is the HTTP status of an *Error, or 0 for other errors.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// retryable reports whether a read that failed this way may be tried
// again.
func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return e.Has("idempotency_key_in_progress")
	}
	// A certificate the client does not trust stays untrusted.
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// do sends one call and decodes its answer into out, retrying as the
// package doc says.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	key := ""
	if method != http.MethodGet && c.Retries > 0 {
		// The key is for this call's own retries: a call never retried
		// has no use for one, and would cost the server two writes.
		key = idempotencyKey()
	}
	wait := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, path, query, body, key, out)
		if err == nil || attempt >= c.Retries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		pause := wait
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > 0 {
			pause = e.RetryAfter
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// idempotencyKey is a write's key: 128 random bits.
func idempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, body []byte, key string, out any) error {
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.AccountID, c.APIKey)
	req.Header.Set("Accept", MediaType)
	req.Header.Set("User-Agent", c.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		var env struct {
			Errors []ErrorItem `json:"errors"`
		}
		if json.Unmarshal(data, &env) == nil {
			e.Errors = env.Errors
		}
		return e
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("certd: %s %s: the answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}
