// Package v1 is certd's edge: the DigiCert REST API v1 over HTTP. It
// routes requests (custom methods, X-HTTP-Method-Override, HEAD, OPTIONS),
// negotiates JSON or XML, authenticates with Basic auth, decodes bodies
// into order-service calls and renders results and errors in the v1
// envelopes. It holds no business rules.
package v1

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/metrics"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/ratelimit"
	"github.com/certd/certd/internal/store"
)

// Prefix is the alternative base path some clients of the original
// service used; every route is served both at the root and below it.
const Prefix = "/clients/rest/api"

// Options configure a Handler.
type Options struct {
	Orders   *order.Service
	Accounts *account.Service
	Log      *slog.Logger
	// Files are unauthenticated downloads (the CA certificates named in
	// certificates' AIA extension), by path.
	Files map[string]File
	// CRL returns the DER CRL named in CRL distribution points
	// (/crl/<name>.crl).
	CRL func(ctx context.Context, name string) ([]byte, error)
	// OCSP answers a DER OCSP request at /ocsp.
	OCSP func(ctx context.Context, req []byte) ([]byte, error)
	// Metrics counts requests; nil counts nothing.
	Metrics *metrics.Metrics
	// Limits enforces request and failed-authentication budgets; nil
	// enforces none (tests of other things).
	Limits *ratelimit.Limiter
	// Idempotency keeps Idempotency-Key records; nil ignores the header.
	Idempotency store.Idempotency
}

// File is a static download.
type File struct {
	ContentType string
	Body        []byte
}

// Handler serves the v1 API.
type Handler struct {
	orders   *order.Service
	accounts *account.Service
	log      *slog.Logger
	files    map[string]File
	crl      func(ctx context.Context, name string) ([]byte, error)
	ocsp     func(ctx context.Context, req []byte) ([]byte, error)
	metrics  *metrics.Metrics
	limits   *ratelimit.Limiter
	idem     store.Idempotency
	routes   []route
}

// New returns the v1 API handler.
func New(o Options) *Handler {
	h := &Handler{orders: o.Orders, accounts: o.Accounts, log: o.Log, files: o.Files, crl: o.CRL, ocsp: o.OCSP, metrics: o.Metrics,
		limits: o.Limits, idem: o.Idempotency}
	h.routes = []route{
		{path: []string{"order", "ssl"}, methods: map[string]endpoint{"POST": {h.createSSL, account.Request}}},
		{path: []string{"order", "code"}, methods: map[string]endpoint{"POST": {h.createCode, account.Request}}},
		{path: []string{"order", "wfa"}, methods: map[string]endpoint{"POST": {h.createWiFi, account.Request}}},
		{path: []string{"order"}, methods: map[string]endpoint{"GET": {h.listOrders, account.Read}}},
		{path: []string{"order", "{id}"}, methods: map[string]endpoint{
			"GET":     {h.getOrder, account.Read},
			"REISSUE": {h.reissue, account.Request},
			"RENEW":   {h.renew, account.Request},
			"REVOKE":  {h.revoke, account.Admin},
		}},
		{path: []string{"order", "{id}", "certificate"}, methods: map[string]endpoint{"GET": {h.getCertificate, account.Read}}},
		{path: []string{"order", "{id}", "dcv"}, methods: map[string]endpoint{"GET": {h.getDCV, account.Read}, "POST": {h.recheckDCV, account.Request}}},
		{path: []string{"domain"}, methods: map[string]endpoint{"GET": {h.listDomains, account.Read}}},
		{path: []string{"enterprise", "certificate", "ssl"}, methods: map[string]endpoint{"POST": {h.createRequest, account.Request}}},
		{path: []string{"request"}, methods: map[string]endpoint{"GET": {h.listRequests, account.Read}}},
		{path: []string{"request", "{id}"}, methods: map[string]endpoint{
			"GET":     {h.getRequest, account.Read},
			"APPROVE": {h.approveRequest, account.Admin},
			"REJECT":  {h.rejectRequest, account.Admin},
		}},
		{path: []string{"account"}, methods: map[string]endpoint{"GET": {h.getAccount, account.Read}}},
	}
	return h
}

// call is one request as a handler sees it.
type call struct {
	r         *http.Request
	method    string
	id        int64 // the {id} path segment, when the route has one
	principal account.Principal
	accountID int64
	format    Format
	body      map[string]any
}

// result is what a handler answers: a status and a view to render.
type result struct {
	status int
	view   any
}

type handlerFunc func(ctx context.Context, c *call) (result, error)

// endpoint is a method of a route: its handler and the permission the
// calling key's role must grant.
type endpoint struct {
	fn   handlerFunc
	perm account.Permission
}

type route struct {
	path    []string
	methods map[string]endpoint
}

// allow is the route's Allow header: its methods, HEAD where GET is, and
// OPTIONS.
func (rt route) allow() string {
	ms := []string{"OPTIONS"}
	for m := range rt.methods {
		ms = append(ms, m)
		if m == "GET" {
			ms = append(ms, "HEAD")
		}
	}
	sort.Strings(ms)
	return strings.Join(ms, ", ")
}

var (
	errNotFound      = problem.New(problem.NotFound, "not_found", "The page does not exist.")
	errNoMethod      = problem.New(problem.InvalidParam, "method_not_allowed", "The method is not supported by this endpoint.")
	errAccept        = problem.New(problem.InvalidParam, "not_acceptable", "The Accept header names no format this API can send: use application/vnd.digicert.rest-v1+json or application/vnd.digicert.rest-v1+xml.")
	errPanic         = problem.New(problem.Internal, "internal_error", "An unexpected error occurred.")
	errBadOrderID    = problem.New(problem.NotFound, "not_found", "The order does not exist, or this account may not see it.")
	errNoCredentials = problem.New(problem.Unauthorized, "access_denied", "No valid account ID and API key combination was provided.")
	// errUnauthorizedKind matches every Unauthorized problem (errors.Is).
	errUnauthorizedKind = &problem.Problem{Kind: problem.Unauthorized}
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := requestID()
	w.Header().Set("X-Request-Id", rid)
	sw := &statusWriter{ResponseWriter: w}
	format := JSON
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic in handler", "request_id", rid, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !sw.wrote {
				h.writeError(sw, r, format, errPanic)
			}
		}
		h.log.Info("request", "request_id", rid, "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		h.metrics.Request(h.endpointOf(r.URL.Path), r.Method, sw.status)
	}()
	format = h.serve(sw, r)
}

// serve handles one request and returns the format it answered in.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) Format {
	format, acceptable := negotiate(r.Header.Values("Accept"), r.Header.Get("Content-Type"))

	method := strings.ToUpper(r.Method)
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" && method == "POST" {
		method = strings.ToUpper(strings.TrimSpace(o))
	}

	path := strings.TrimPrefix(r.URL.Path, Prefix)
	if path == "" {
		path = "/"
	}
	if (path == "/ocsp" || strings.HasPrefix(path, "/ocsp/")) && h.ocsp != nil {
		h.serveOCSP(w, r, method, path)
		return JSON
	}
	if name, ok := strings.CutPrefix(path, "/crl/"); ok && strings.HasSuffix(name, ".crl") && h.crl != nil && (method == "GET" || method == "HEAD") {
		der, err := h.crl(r.Context(), strings.TrimSuffix(name, ".crl"))
		if errors.Is(err, order.ErrNoCRL) {
			h.writeError(w, r, JSON, errNotFound)
			return JSON
		}
		if err != nil {
			h.writeError(w, r, JSON, problem.Internalf("crl %s: %w", name, err))
			return JSON
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Header().Set("Content-Length", strconv.Itoa(len(der)))
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		if method == "GET" {
			_, _ = w.Write(der)
		}
		return JSON
	}
	if f, ok := h.files[path]; ok && (method == "GET" || method == "HEAD") {
		w.Header().Set("Content-Type", f.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.WriteHeader(http.StatusOK)
		if method == "GET" {
			_, _ = w.Write(f.Body)
		}
		return format
	}
	rt, id, ok := h.match(path)
	if !ok {
		if !acceptable {
			format = JSON
		}
		h.writeError(w, r, format, errNotFound)
		return format
	}
	if method == "OPTIONS" {
		w.Header().Set("Allow", rt.allow())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return format
	}
	if !acceptable {
		// Reference section 4: the format is unknown, so the error is JSON.
		h.writeError(w, r, JSON, errAccept)
		return JSON
	}
	lookup := method
	if method == "HEAD" {
		lookup = "GET"
	}
	ep, ok := rt.methods[lookup]
	if !ok {
		w.Header().Set("Allow", rt.allow())
		h.writeError(w, r, format, errNoMethod)
		return format
	}
	if id == -1 {
		h.writeError(w, r, format, errBadOrderID)
		return format
	}
	principal, err := h.authenticateLimited(w, r)
	if err != nil {
		h.writeError(w, r, format, err)
		return format
	}
	if err := h.spendRequest(w, r, principal.AccountID); err != nil {
		h.writeError(w, r, format, err)
		return format
	}
	if err := principal.Require(ep.perm); err != nil {
		h.writeError(w, r, format, err)
		return format
	}
	c := &call{r: r, method: method, id: id, principal: principal, accountID: principal.AccountID, format: format}
	if lookup == "GET" {
		return h.run(w, c, ep, nil)
	}
	key, ok := idempotencyKey(r)
	if !ok {
		h.writeError(w, r, format, errIdemKey)
		return format
	}
	body, err := readBody(w, r)
	if err != nil {
		h.writeError(w, r, format, err)
		return format
	}
	if key != "" && h.idem != nil {
		return h.idempotent(w, r, c, key, path, body, func(w http.ResponseWriter) Format { return h.run(w, c, ep, body) })
	}
	return h.run(w, c, ep, body)
}

// run decodes a request's body (nil for GET and HEAD), calls the
// endpoint and writes its answer, in the format it returns.
func (h *Handler) run(w http.ResponseWriter, c *call, ep endpoint, body []byte) Format {
	r := c.r
	if body != nil {
		bf, err := bodyFormat(r.Header.Get("Content-Type"), body)
		if err != nil {
			h.writeError(w, r, c.format, err)
			return c.format
		}
		if !acceptDecides(r.Header.Values("Accept")) {
			// Accept is absent or only wildcards: answer in the format
			// the body was sent in, even when that was recognised from
			// the body rather than a Content-Type.
			c.format = bf
		}
		if c.body, err = decodeBody(bf, body); err != nil {
			h.writeError(w, r, c.format, err)
			return c.format
		}
	}
	res, err := ep.fn(r.Context(), c)
	if err != nil {
		h.writeError(w, r, c.format, err)
		return c.format
	}
	h.write(w, r, c.method, c.format, res)
	return c.format
}

// endpointOf names a path's route for metrics (bounded label values:
// patterns, not ids).
func (h *Handler) endpointOf(path string) string {
	path = strings.TrimPrefix(path, Prefix)
	if rt, _, ok := h.match(path); ok {
		return "/" + strings.Join(rt.path, "/")
	}
	for _, p := range []string{"/ca/", "/crl/", "/ocsp"} {
		if strings.HasPrefix(path, p) {
			return p
		}
	}
	return "other"
}

// match finds the route for path. id is the numeric {id} segment, -1 when
// the route has one that is not an id, 0 when it has none.
func (h *Handler) match(path string) (route, int64, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, rt := range h.routes {
		if len(rt.path) != len(segs) {
			continue
		}
		id := int64(0)
		matched := true
		for i, p := range rt.path {
			if p == "{id}" {
				n, ok := account.ParseID(segs[i])
				if !ok {
					n = -1
				}
				id = n
				continue
			}
			if p != segs[i] {
				matched = false
				break
			}
		}
		if matched {
			return rt, id, true
		}
	}
	return route{}, 0, false
}

func (h *Handler) authenticate(r *http.Request) (account.Principal, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return account.Principal{}, errNoCredentials
	}
	return h.accounts.Authenticate(r.Context(), user, pass)
}

// authenticateLimited authenticates within the source address's budget
// of failed authentications: over it, every attempt is refused before
// its key is checked, so a right guess is refused like a wrong one.
// Requests without credentials spend nothing (they guess nothing).
func (h *Handler) authenticateLimited(w http.ResponseWriter, r *http.Request) (account.Principal, error) {
	if h.limits == nil {
		return h.authenticate(r)
	}
	src := sourceAddress(r)
	d, err := h.limits.AuthBlocked(r.Context(), src)
	if err != nil {
		return account.Principal{}, problem.Internalf("%w", err)
	}
	if d.Limited {
		return account.Principal{}, h.limited(w, d, "Too many failed authentications from this address.")
	}
	p, err := h.authenticate(r)
	if err != nil && err != errNoCredentials && errors.Is(err, errUnauthorizedKind) {
		if _, lerr := h.limits.AuthFailed(context.WithoutCancel(r.Context()), src); lerr != nil {
			h.log.Error("rate limit", "err", lerr)
		}
	}
	return p, err
}

// spendRequest spends one request of the account's budget.
func (h *Handler) spendRequest(w http.ResponseWriter, r *http.Request, accountID int64) error {
	if h.limits == nil {
		return nil
	}
	d, err := h.limits.Request(r.Context(), accountID)
	if err != nil {
		return problem.Internalf("%w", err)
	}
	if d.Limited {
		return h.limited(w, d, fmt.Sprintf("Too many requests for this account: at most %d an hour.", d.Limit))
	}
	return nil
}

// limited sets Retry-After (whole seconds, rounded up) and returns the
// rate_limit_exceeded problem.
func (h *Handler) limited(w http.ResponseWriter, d ratelimit.Decision, what string) error {
	secs := int64((d.RetryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	return problem.New(problem.RateLimited, "rate_limit_exceeded", fmt.Sprintf("%s Retry after %d seconds.", what, secs))
}

// sourceAddress is the client's IP address as the connection shows it
// (certd trusts no forwarding header; behind a proxy every client shares
// the proxy's budget, docs/security.md).
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, problem.New(problem.InvalidParam, "invalid_body", "The request body could not be read.")
	}
	return body, nil
}

// write renders a successful result. GET and HEAD answers carry an ETag
// and honour If-None-Match.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, method string, f Format, res result) {
	body, err := encode(f, res.view)
	if err != nil {
		h.writeError(w, r, f, problem.Internalf("encode: %w", err))
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.bodyType())
	if method == "GET" || method == "HEAD" {
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		hdr.Set("Etag", etag)
		hdr.Set("Cache-Control", "private, no-cache")
		hdr.Add("Vary", "Accept")
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			hdr.Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(res.status)
	if method != "HEAD" {
		_, _ = w.Write(body)
	}
}

func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func encode(f Format, v any) ([]byte, error) {
	if f == XML {
		b, err := xml.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append([]byte(xml.Header), b...), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// statusOf maps a problem kind to its HTTP status.
func statusOf(k problem.Kind) int {
	switch k {
	case problem.InvalidParam:
		return http.StatusBadRequest
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Unauthorized:
		return http.StatusUnauthorized
	case problem.Forbidden:
		return http.StatusForbidden
	case problem.Conflict:
		return http.StatusConflict
	case problem.RateLimited:
		return http.StatusTooManyRequests
	case problem.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// statusOfCode overrides statusOf for codes whose status HTTP fixes.
var statusOfCode = map[string]int{
	"request_too_large":      http.StatusRequestEntityTooLarge,
	"unsupported_media_type": http.StatusUnsupportedMediaType,
	"not_acceptable":         http.StatusNotAcceptable,
	"method_not_allowed":     http.StatusMethodNotAllowed,
	"idempotency_key_reused": http.StatusUnprocessableEntity,
}

// writeError renders err as the v1 error envelope, one entry per problem.
// Internal causes are logged, never sent.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, f Format, err error) {
	ps := problem.Flatten(err)
	view := errorsView{}
	for _, p := range ps {
		view.Errors = append(view.Errors, errorItem{Code: p.Code, Description: p.Description})
		if p.Kind == problem.Internal {
			h.log.Error("internal error", "request_id", w.Header().Get("X-Request-Id"), "err", p.Err)
		}
	}
	status := statusOf(ps[0].Kind)
	if s, ok := statusOfCode[ps[0].Code]; ok {
		status = s
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="certd"`)
	}
	body, encErr := encode(f, view)
	if encErr != nil {
		f = JSON
		body, _ = encode(JSON, view)
	}
	w.Header().Del("Etag")
	w.Header().Set("Content-Type", f.errorType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != "HEAD" {
		_, _ = w.Write(body)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
