package v1

import (
	"context"
	"fmt"
	"net/http"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// createSSL is POST /order/ssl.
func (h *Handler) createSSL(ctx context.Context, c *call) (result, error) {
	req, shape := sslRequest(c.body)
	if len(shape) > 0 {
		return result{}, withShape(shape, h.orders.CheckSSL(req))
	}
	o, err := h.orders.CreateSSL(ctx, c.accountID, req)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, view: orderCreated{OrderID: FormatOrderID(o.ID)}}, nil
}

// getOrder is GET /order/{id}.
func (h *Handler) getOrder(ctx context.Context, c *call) (result, error) {
	o, err := h.orders.Get(ctx, c.accountID, c.id)
	if err != nil {
		return result{}, err
	}
	v := newOrderView(o)
	if o.DCVMethod != "" && o.Status != store.StatusRevoked {
		ds, err := h.orders.DCV(ctx, o)
		if err != nil {
			return result{}, err
		}
		v.DCV = newDCVView(o, ds)
	}
	if o.OrgID != 0 {
		org, err := h.orders.Organization(ctx, o.OrgID)
		if err != nil {
			return result{}, problem.Internalf("organization %d: %w", o.OrgID, err)
		}
		validated := ""
		if org.Status == store.OrgValidated {
			validated = timestamp(org.DecidedAt)
		}
		v.Organization = &orgView{ID: fmt.Sprint(org.ID), Name: org.Details.OrgName, Status: org.Status, ValidatedAt: validated, Note: org.Note}
	}
	if o.Status == store.StatusRevoked {
		cert, err := h.orders.CertificateRecord(ctx, o)
		if err != nil {
			return result{}, err
		}
		v.CertificateDetails.Revocation = &revocation{Date: timestamp(cert.RevokedAt), Reason: order.ReasonName(cert.RevocationReason)}
	}
	return result{status: http.StatusOK, view: v}, nil
}

// getCertificate is GET /order/{id}/certificate.
func (h *Handler) getCertificate(ctx context.Context, c *call) (result, error) {
	b, err := h.orders.Certificate(ctx, c.accountID, c.id)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: newCertificateView(b)}, nil
}

// reissue is REISSUE /order/{id}.
func (h *Handler) reissue(ctx context.Context, c *call) (result, error) {
	req, shape := reissueRequest(c.body)
	if len(shape) > 0 {
		return result{}, shape
	}
	res, err := h.orders.Reissue(ctx, c.accountID, c.id, req)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: newReissueView(res)}, nil
}

// withShape reports the problems of a body's shape (a collection where
// text was expected) together with every other problem the service finds,
// once per code.
func withShape(shape problem.List, checked error) error {
	all := append(problem.List{}, shape...)
	all = append(all, problem.Flatten(checked)...)
	return dedupe(all)
}

// dedupe drops repeated codes, keeping the first description of each.
func dedupe(ps problem.List) problem.List {
	seen := map[string]bool{}
	out := problem.List{}
	for _, p := range ps {
		if !seen[p.Code] {
			seen[p.Code] = true
			out = append(out, p)
		}
	}
	return out
}
