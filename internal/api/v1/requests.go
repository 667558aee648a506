package v1

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/store"
)

type requestCreated struct {
	XMLName   xml.Name `json:"-" xml:"response"`
	RequestID string   `json:"request_id" xml:"request_id"`
}

type decider struct {
	AccountID string `json:"account_id" xml:"account_id"`
	APIKeyID  string `json:"api_key_id" xml:"api_key_id"`
}

type requestDetails struct {
	RequestID      string   `json:"request_id" xml:"request_id"`
	Status         string   `json:"status" xml:"status"`
	Type           string   `json:"type" xml:"type"`
	BusinessUnit   string   `json:"business_unit" xml:"business_unit"`
	Comments       string   `json:"comments" xml:"comments"`
	CommonName     string   `json:"common_name" xml:"common_name"`
	SANs           list     `json:"sans" xml:"sans"`
	Validity       string   `json:"validity" xml:"validity"`
	ServerType     string   `json:"server_type" xml:"server_type"`
	ServerTypeName string   `json:"server_type_name" xml:"server_type_name"`
	EV             bool     `json:"ev" xml:"ev"`
	OrgName        string   `json:"org_name" xml:"org_name"`
	OrgUnit        string   `json:"org_unit" xml:"org_unit"`
	OrgCountry     string   `json:"org_country" xml:"org_country"`
	ContactEmail   string   `json:"org_contact_email" xml:"org_contact_email"`
	DateRequested  string   `json:"date_requested" xml:"date_requested"`
	RequestedBy    decider  `json:"requested_by" xml:"requested_by"`
	DateDecided    string   `json:"date_decided" xml:"date_decided"`
	DecidedBy      *decider `json:"decided_by" xml:"decided_by,omitempty"`
	Note           string   `json:"note" xml:"note"`
	OrderID        string   `json:"order_id" xml:"order_id"`
}

type requestView struct {
	XMLName xml.Name `json:"-" xml:"response"`
	requestDetails
}

type requestList struct {
	XMLName    xml.Name              `json:"-" xml:"response"`
	Requests   items[requestDetails] `json:"requests" xml:"requests"`
	NextCursor string                `json:"next_cursor" xml:"next_cursor"`
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (h *Handler) newRequestDetails(r store.Request) (requestDetails, error) {
	p, err := order.RequestParams(r)
	if err != nil {
		return requestDetails{}, err
	}
	cn, names := p.CommonName, h.orders.RequestNames(p)
	if len(names) > 0 {
		cn = names[0]
	}
	stName, _ := policy.ServerTypeName(order.ServerTypeOf(p.ServerType))
	d := requestDetails{
		RequestID:      FormatOrderID(r.ID),
		Status:         r.Status,
		Type:           p.Type,
		BusinessUnit:   p.BusinessUnit,
		Comments:       p.Comments,
		CommonName:     cn,
		SANs:           sans(sansOf(cn, names)),
		Validity:       p.Validity + " Year(s)",
		ServerType:     fmt.Sprint(order.ServerTypeOf(p.ServerType)),
		ServerTypeName: stName,
		EV:             order.BoolOf(p.EV),
		OrgName:        p.Contact.OrgName,
		OrgUnit:        p.Contact.OrgUnit,
		OrgCountry:     p.Contact.OrgCountry,
		ContactEmail:   p.Contact.Email,
		DateRequested:  timestamp(r.CreatedAt),
		RequestedBy:    decider{AccountID: account.FormatID(r.AccountID), APIKeyID: fmt.Sprint(r.RequestedBy)},
		DateDecided:    timestamp(r.DecidedAt),
		Note:           r.Note,
	}
	if r.DecidedBy != 0 {
		d.DecidedBy = &decider{AccountID: account.FormatID(r.AccountID), APIKeyID: fmt.Sprint(r.DecidedBy)}
	}
	if r.OrderID != 0 {
		d.OrderID = FormatOrderID(r.OrderID)
	}
	return d, nil
}

// createRequest is POST /enterprise/certificate/ssl.
func (h *Handler) createRequest(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	ssl, shape := sslRequest(c.body)
	r := order.EnterpriseRequest{SSLRequest: ssl, Type: f.text("type"), BusinessUnit: f.text("business_unit"), Comments: f.text("comments")}
	shape = append(shape, f.problems...)
	if len(shape) > 0 {
		return result{}, withShape(shape, h.orders.CheckSSL(ssl))
	}
	req, err := h.orders.SubmitRequest(ctx, c.principal, r)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, view: requestCreated{RequestID: FormatOrderID(req.ID)}}, nil
}

// getRequest is GET /request/{id}.
func (h *Handler) getRequest(ctx context.Context, c *call) (result, error) {
	r, err := h.orders.GetRequest(ctx, c.accountID, c.id)
	if err != nil {
		return result{}, err
	}
	d, err := h.newRequestDetails(r)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: requestView{requestDetails: d}}, nil
}

// listRequests is GET /request.
func (h *Handler) listRequests(ctx context.Context, c *call) (result, error) {
	f, err := listFilter(c.r.URL.Query(), false)
	if err != nil {
		return result{}, err
	}
	f.AccountID = c.accountID
	rs, next, err := h.orders.ListRequests(ctx, f)
	if err != nil {
		return result{}, err
	}
	view := requestList{Requests: items[requestDetails]{item: "request", v: []requestDetails{}}, NextCursor: cursorText(next)}
	for _, r := range rs {
		d, err := h.newRequestDetails(r)
		if err != nil {
			return result{}, err
		}
		view.Requests.v = append(view.Requests.v, d)
	}
	return result{status: http.StatusOK, view: view}, nil
}

// approveRequest is APPROVE /request/{id}.
func (h *Handler) approveRequest(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	note := f.text("note")
	if len(f.problems) > 0 {
		return result{}, f.problems
	}
	_, o, err := h.orders.ApproveRequest(ctx, c.principal, c.id, note)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: orderCreated{OrderID: FormatOrderID(o.ID)}}, nil
}

type requestDecided struct {
	XMLName   xml.Name `json:"-" xml:"response"`
	RequestID string   `json:"request_id" xml:"request_id"`
	Status    string   `json:"status" xml:"status"`
	Note      string   `json:"note" xml:"note"`
}

// rejectRequest is REJECT /request/{id}. It answers with a body (never
// 204): clients parse it.
func (h *Handler) rejectRequest(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	note := f.text("note")
	if len(f.problems) > 0 {
		return result{}, f.problems
	}
	r, err := h.orders.RejectRequest(ctx, c.principal, c.id, note)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: requestDecided{RequestID: FormatOrderID(r.ID), Status: r.Status, Note: r.Note}}, nil
}
