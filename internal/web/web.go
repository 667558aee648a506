// Package web serves certd's few HTML pages: the confirmation page that a
// domain-validation mail links to. Opening the link only shows the page;
// the domain is confirmed by pressing its button (a POST), so mail
// scanners that fetch links confirm nothing.
package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
)

// ConfirmPath is where confirmation links point: ConfirmPath + token.
const ConfirmPath = "/dcv/email/"

// Confirmer is the order service's side of email validation.
type Confirmer interface {
	EmailConfirmation(ctx context.Context, token string) (store.Authorization, error)
	ConfirmEmail(ctx context.Context, token string) (store.Authorization, error)
}

// Handler serves the confirmation pages.
type Handler struct {
	c   Confirmer
	log *slog.Logger
}

// New returns the pages' handler.
func New(c Confirmer, log *slog.Logger) *Handler { return &Handler{c: c, log: log} }

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}.domain{font-family:monospace;font-size:1.2rem}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Domain}}<p class="domain">{{.Domain}}</p>{{end}}
<p>{{.Message}}</p>
{{if .Form}}<form method="post" action="{{.Action}}"><button type="submit" id="confirm">Confirm</button></form>{{end}}
</body>
</html>
`))

type view struct {
	Title, Domain, Message, Action string
	Form                           bool
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, ConfirmPath)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a, err := h.c.EmailConfirmation(r.Context(), token)
		if err != nil {
			h.failed(w, err)
			return
		}
		h.render(w, http.StatusOK, view{Title: "Confirm the certificate request", Domain: a.Domain, Form: true, Action: ConfirmPath + token,
			Message: "A certificate was requested for this domain. If you control it and approve, press Confirm."})
	case http.MethodPost:
		a, err := h.c.ConfirmEmail(r.Context(), token)
		if err != nil {
			h.failed(w, err)
			return
		}
		h.render(w, http.StatusOK, view{Title: "Confirmed", Domain: a.Domain, Message: "Thank you: the domain is validated for this request."})
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.render(w, http.StatusMethodNotAllowed, view{Title: "Method not allowed", Message: "Open the link in a browser."})
	}
}

func (h *Handler) failed(w http.ResponseWriter, err error) {
	if errors.Is(err, order.ErrBadConfirmation) {
		h.render(w, http.StatusNotFound, view{Title: "Link not valid", Message: "This confirmation link is not valid, or was used already, or has expired."})
		return
	}
	h.log.Error("email confirmation", "err", err)
	h.render(w, http.StatusInternalServerError, view{Title: "Something went wrong", Message: "The confirmation could not be recorded. Try again later."})
}

func (h *Handler) render(w http.ResponseWriter, status int, v view) {
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		h.log.Error("render page", "err", err)
	}
}
