package v1

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/crypto/ocsp"

	"github.com/certd/certd/internal/order"
)

// serveOCSP is the OCSP responder (RFC 6960 appendix A): a request in the
// body of a POST, or base64 in the path of a GET. Problems are OCSP error
// responses, as OCSP clients expect, not v1 error envelopes.
func (h *Handler) serveOCSP(w http.ResponseWriter, r *http.Request, method, path string) {
	var req []byte
	switch method {
	case "POST":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			writeOCSP(w, method, ocsp.MalformedRequestErrorResponse)
			return
		}
		req = body
	case "GET", "HEAD":
		enc, err := url.PathUnescape(strings.TrimPrefix(path, "/ocsp/"))
		if err == nil {
			req, err = base64.StdEncoding.DecodeString(enc)
		}
		if err != nil {
			writeOCSP(w, method, ocsp.MalformedRequestErrorResponse)
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	resp, err := h.ocsp(r.Context(), req)
	switch {
	case errors.Is(err, order.ErrOCSPUnauthorized):
		resp = ocsp.UnauthorizedErrorResponse
	case errors.Is(err, order.ErrOCSPMalformed):
		resp = ocsp.MalformedRequestErrorResponse
	case err != nil:
		h.log.Error("ocsp", "err", err)
		resp = ocsp.InternalErrorErrorResponse
	}
	writeOCSP(w, method, resp)
}

func writeOCSP(w http.ResponseWriter, method string, body []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.WriteHeader(http.StatusOK)
	if method != "HEAD" {
		_, _ = w.Write(body)
	}
}
