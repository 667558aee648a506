package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// EnterpriseRequest is the body of POST /enterprise/certificate/ssl: an
// SSL order that waits for an administrator's approval.
type EnterpriseRequest struct {
	OrderSSLRequest
	Type         string `json:"type,omitempty"`
	BusinessUnit string `json:"business_unit,omitempty"`
	Comments     string `json:"comments,omitempty"`
}

// Decider is who submitted or decided a request.
type Decider struct {
	AccountID string `json:"account_id"`
	APIKeyID  string `json:"api_key_id"`
}

// Request is GET /request/{id}.
type Request struct {
	RequestID      string   `json:"request_id"`
	Status         string   `json:"status"` // pending, approved or rejected
	Type           string   `json:"type"`
	BusinessUnit   string   `json:"business_unit"`
	Comments       string   `json:"comments"`
	CommonName     string   `json:"common_name"`
	SANs           []string `json:"sans"`
	Validity       string   `json:"validity"`
	ServerType     string   `json:"server_type"`
	ServerTypeName string   `json:"server_type_name"`
	EV             bool     `json:"ev"`
	OrgName        string   `json:"org_name"`
	OrgUnit        string   `json:"org_unit"`
	OrgCountry     string   `json:"org_country"`
	ContactEmail   string   `json:"org_contact_email"`
	DateRequested  string   `json:"date_requested"` // RFC 3339
	RequestedBy    Decider  `json:"requested_by"`
	DateDecided    string   `json:"date_decided"`
	DecidedBy      *Decider `json:"decided_by"`
	Note           string   `json:"note"`
	// OrderID is the order an approval created ("" before).
	OrderID string `json:"order_id"`
}

// RequestPage is one page of GET /request, newest first.
type RequestPage struct {
	Requests   []Request `json:"requests"`
	NextCursor string    `json:"next_cursor"`
}

// Rejection is the answer to REJECT.
type Rejection struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Note      string `json:"note"`
}

type note struct {
	Note string `json:"note,omitempty"`
}

// SubmitRequest submits an enterprise request and returns its id.
func (c *Client) SubmitRequest(ctx context.Context, r EnterpriseRequest) (string, error) {
	var out struct {
		RequestID string `json:"request_id"`
	}
	err := c.do(ctx, http.MethodPost, "/enterprise/certificate/ssl", nil, r, &out)
	return out.RequestID, err
}

// Request returns one request.
func (c *Client) Request(ctx context.Context, id string) (*Request, error) {
	var out Request
	if err := c.do(ctx, http.MethodGet, "/request/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Requests returns one page of the account's requests, newest first;
// status ("pending", "approved", "rejected") and cursor may be empty,
// limit 0 is the server's default.
func (c *Client) Requests(ctx context.Context, status string, limit int, cursor string) (*RequestPage, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out RequestPage
	if err := c.do(ctx, http.MethodGet, "/request", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ApproveRequest approves a pending request (admin keys only) and returns
// the id of the order it created.
func (c *Client) ApproveRequest(ctx context.Context, id, why string) (string, error) {
	var out created
	err := c.do(ctx, "APPROVE", "/request/"+url.PathEscape(id), nil, note{why}, &out)
	return out.OrderID, err
}

// RejectRequest rejects a pending request (admin keys only); why is
// required.
func (c *Client) RejectRequest(ctx context.Context, id, why string) (*Rejection, error) {
	var out Rejection
	if err := c.do(ctx, "REJECT", "/request/"+url.PathEscape(id), nil, note{why}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
