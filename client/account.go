package client

import (
	"context"
	"net/http"
	"net/url"
)

// Account is GET /account: the account and what the calling key may do.
type Account struct {
	AccountID      string `json:"account_id"`
	Name           string `json:"name"`
	APIUserRole    string `json:"api_user_role"` // admin, requester or viewer
	APIPermissions struct {
		AllowEV              bool `json:"allow_ev"`
		AllowCodeSigning     bool `json:"allow_code_signing"`
		AllowApproveRequests bool `json:"allow_approve_requests"`
		AllowRevoke          bool `json:"allow_revoke"`
		AllowOrder           bool `json:"allow_order"`
	} `json:"api_permissions"`
	AccountBalance float64 `json:"account_balance"`
}

// Domain is a domain the account has validated (certd extension).
type Domain struct {
	Domain      string `json:"domain"`
	Method      string `json:"method"`
	ValidatedAt string `json:"validated_at"` // RFC 3339
	ReuseUntil  string `json:"reuse_until"`
}

// DCVStatus is GET (or POST) /order/{id}/dcv.
type DCVStatus struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	DCV     *DCV   `json:"dcv"`
}

// Account returns the account and the calling key's permissions.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	var out Account
	if err := c.do(ctx, http.MethodGet, "/account", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Domains lists the account's validated domains, whose validation later
// orders reuse.
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	var out struct {
		Domains []Domain `json:"domains"`
	}
	if err := c.do(ctx, http.MethodGet, "/domain", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Domains, nil
}

// DCV returns where an order's domain validation stands.
func (c *Client) DCV(ctx context.Context, orderID string) (*DCVStatus, error) {
	var out DCVStatus
	if err := c.do(ctx, http.MethodGet, "/order/"+url.PathEscape(orderID)+"/dcv", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CheckDCV asks the server to check an order's domains now (after
// publishing the records) and returns the validation as it stands; the
// check's result follows within seconds.
func (c *Client) CheckDCV(ctx context.Context, orderID string) (*DCVStatus, error) {
	var out DCVStatus
	if err := c.do(ctx, http.MethodPost, "/order/"+url.PathEscape(orderID)+"/dcv", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
