// Package client is a Go SDK for certd's DigiCert REST API v1 (and for any
// server that speaks it).
//
// Create a Client with the server's base URL and an account's credentials,
// then order, poll and download:
//
//	c := client.New("https://127.0.0.1:8443", "000001", apiKey)
//	id, err := c.OrderSSL(ctx, client.OrderSSLRequest{CSR: csrPEM, Validity: 1, ...})
//	order, err := c.Order(ctx, id)
//	cert, err := c.Certificate(ctx, id)
//
// Every call takes a context. Errors the server reports come back as
// *Error, which carries the HTTP status and the v1 error codes; use
// errors.As to inspect them.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MediaType is the v1 JSON media type the client sends and accepts.
const MediaType = "application/vnd.digicert.rest-v1+json"

// Client talks to one server as one account.
type Client struct {
	BaseURL    string
	AccountID  string
	APIKey     string
	HTTPClient *http.Client
	UserAgent  string
}

// New returns a client using http.DefaultClient.
func New(baseURL, accountID, apiKey string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), AccountID: accountID, APIKey: apiKey, HTTPClient: http.DefaultClient, UserAgent: "certd-go-client/1"}
}

// ErrorItem is one entry of the v1 error envelope.
type ErrorItem struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// Error is an error answer from the server.
type Error struct {
	Status int
	Errors []ErrorItem
}

func (e *Error) Error() string {
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

// HasCode reports whether err is an *Error carrying code.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Has(code)
}

// OrderSSLRequest is the body of POST /order/ssl.
type OrderSSLRequest struct {
	CSR                    string   `json:"csr"`
	Validity               int      `json:"validity"`
	CommonName             string   `json:"common_name,omitempty"`
	SANs                   []string `json:"sans,omitempty"`
	ServerType             int      `json:"server_type,omitempty"`
	SignatureHash          string   `json:"signature_hash,omitempty"`
	OrgUnit                string   `json:"org_unit,omitempty"`
	OrgName                string   `json:"org_name"`
	OrgAddr1               string   `json:"org_addr1"`
	OrgAddr2               string   `json:"org_addr2,omitempty"`
	OrgCity                string   `json:"org_city"`
	OrgState               string   `json:"org_state"`
	OrgZip                 string   `json:"org_zip"`
	OrgCountry             string   `json:"org_country"`
	Telephone              string   `json:"telephone,omitempty"`
	OrgContactJobTitle     string   `json:"org_contact_job_title,omitempty"`
	OrgContactFirstName    string   `json:"org_contact_firstname"`
	OrgContactLastName     string   `json:"org_contact_lastname"`
	OrgContactEmail        string   `json:"org_contact_email"`
	OrgContactTelephone    string   `json:"org_contact_telephone"`
	OrgContactTelephoneExt string   `json:"org_contact_telephone_ext,omitempty"`
	EV                     bool     `json:"ev,omitempty"`
}

// CertificateDetails is the certificate_details of GET /order/{id}.
type CertificateDetails struct {
	OrderID        string   `json:"order_id"`
	Status         string   `json:"status"`
	ProductName    string   `json:"product_name"`
	Validity       string   `json:"validity"`
	OrgUnit        string   `json:"org_unit"`
	CommonName     string   `json:"common_name"`
	SANs           []string `json:"sans"`
	OrderDate      string   `json:"order_date"`
	ValidFrom      string   `json:"valid_from"`
	ValidTill      string   `json:"valid_till"`
	ServerType     string   `json:"server_type"`
	ServerTypeName string   `json:"server_type_name"`
	SiteSealToken  string   `json:"site_seal_token"`
}

// NameSet is a common name with its SANs.
type NameSet struct {
	CommonName string   `json:"common_name"`
	SANs       []string `json:"sans"`
}

// Order is GET /order/{id}.
type Order struct {
	CertificateDetails CertificateDetails `json:"certificate_details"`
	PendingReissue     *NameSet           `json:"pending_reissue,omitempty"`
	Receipt            *struct {
		OrderTotal string `json:"order_total"`
	} `json:"receipt,omitempty"`
}

// Certificate is GET /order/{id}/certificate.
type Certificate struct {
	OrderID string `json:"order_id"`
	Serial  string `json:"serial"`
	Certs   struct {
		Certificate  string `json:"certificate"`
		Intermediate string `json:"intermediate"`
		Root         string `json:"root"`
		PKCS7        string `json:"pkcs7"`
	} `json:"certs"`
}

// ReissueRequest is the body of REISSUE /order/{id}. Empty fields keep
// the order's values; SANs, when not nil, replace them.
type ReissueRequest struct {
	CSR        string   `json:"csr,omitempty"`
	CommonName string   `json:"common_name,omitempty"`
	SANs       []string `json:"sans,omitempty"`
	ServerType int      `json:"server_type,omitempty"`
	Comments   string   `json:"comments,omitempty"`
}

// Reissue is the answer to REISSUE.
type Reissue struct {
	PendingNameChanges struct {
		AddedNames   []string `json:"added_names"`
		DroppedNames []string `json:"dropped_names"`
	} `json:"pending_name_changes"`
	RejectedReissue *NameSet `json:"rejected_reissue,omitempty"`
}

// OrderSSL creates an SSL order and returns its id.
func (c *Client) OrderSSL(ctx context.Context, r OrderSSLRequest) (string, error) {
	var out struct {
		OrderID string `json:"order_id"`
	}
	err := c.do(ctx, "POST", "/order/ssl", r, &out)
	return out.OrderID, err
}

// Order returns an order's details.
func (c *Client) Order(ctx context.Context, id string) (*Order, error) {
	var out Order
	if err := c.do(ctx, "GET", "/order/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Certificate returns an order's issued certificate and chain. Before
// issuance the error carries the code cert_unavailable_processing.
func (c *Client) Certificate(ctx context.Context, id string) (*Certificate, error) {
	var out Certificate
	if err := c.do(ctx, "GET", "/order/"+id+"/certificate", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reissue asks for a new certificate (new key and/or names) on an issued
// order, with the REISSUE method.
func (c *Client) Reissue(ctx context.Context, id string, r ReissueRequest) (*Reissue, error) {
	var out Reissue
	if err := c.do(ctx, "REISSUE", "/order/"+id, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitForCertificate polls until the order's certificate is issued, the
// context ends, or the server reports an error other than "not issued
// yet". The wait between polls doubles from one second up to a minute.
func (c *Client) WaitForCertificate(ctx context.Context, id string) (*Certificate, error) {
	wait := time.Second
	for {
		cert, err := c.Certificate(ctx, id)
		if err == nil || !HasCode(err, "cert_unavailable_processing") {
			return cert, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, time.Minute)
	}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.AccountID, c.APIKey)
	req.Header.Set("Accept", MediaType)
	req.Header.Set("User-Agent", c.UserAgent)
	if in != nil {
		req.Header.Set("Content-Type", MediaType)
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		e := &Error{Status: resp.StatusCode}
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
	return json.Unmarshal(data, out)
}
