package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Org is the organization a certificate names and its contact: the org_*
// fields every order product shares.
type Org struct {
	OrgName                string `json:"org_name" toml:"org_name"`
	OrgUnit                string `json:"org_unit,omitempty" toml:"org_unit"`
	OrgAddr1               string `json:"org_addr1" toml:"org_addr1"`
	OrgAddr2               string `json:"org_addr2,omitempty" toml:"org_addr2"`
	OrgCity                string `json:"org_city" toml:"org_city"`
	OrgState               string `json:"org_state" toml:"org_state"`
	OrgZip                 string `json:"org_zip" toml:"org_zip"`
	OrgCountry             string `json:"org_country" toml:"org_country"`
	Telephone              string `json:"telephone,omitempty" toml:"telephone"`
	OrgContactJobTitle     string `json:"org_contact_job_title,omitempty" toml:"org_contact_job_title"`
	OrgContactFirstName    string `json:"org_contact_firstname" toml:"org_contact_firstname"`
	OrgContactLastName     string `json:"org_contact_lastname" toml:"org_contact_lastname"`
	OrgContactEmail        string `json:"org_contact_email" toml:"org_contact_email"`
	OrgContactTelephone    string `json:"org_contact_telephone" toml:"org_contact_telephone"`
	OrgContactTelephoneExt string `json:"org_contact_telephone_ext,omitempty" toml:"org_contact_telephone_ext"`
}

// OrderSSLRequest is the body of POST /order/ssl.
type OrderSSLRequest struct {
	CSR           string   `json:"csr"`
	Validity      int      `json:"validity"`
	CommonName    string   `json:"common_name,omitempty"`
	SANs          []string `json:"sans,omitempty"`
	ServerType    int      `json:"server_type,omitempty"`
	SignatureHash string   `json:"signature_hash,omitempty"`
	Org
	EV bool `json:"ev,omitempty"`
	// DCVMethod (certd extension): dns-txt-token (the default),
	// http-token or email.
	DCVMethod string `json:"dcv_method,omitempty"`
}

// OrderCodeRequest is the body of POST /order/code.
type OrderCodeRequest struct {
	// CSR (certd extension): the signing key's request; without it the
	// order waits for one (Reissue with a CSR, or the operator provisions
	// a shipped token).
	CSR                  string `json:"csr,omitempty"`
	Validity             int    `json:"validity"`
	Platform             string `json:"platform,omitempty"`
	CSProvisioningMethod string `json:"cs_provisioning_method,omitempty"`
	CSShipMethod         string `json:"cs_ship_method,omitempty"`
	ShipName             string `json:"ship_name,omitempty"`
	ShipAddr1            string `json:"ship_addr1,omitempty"`
	ShipAddr2            string `json:"ship_addr2,omitempty"`
	ShipCity             string `json:"ship_city,omitempty"`
	ShipState            string `json:"ship_state,omitempty"`
	ShipZip              string `json:"ship_zip,omitempty"`
	ShipCountry          string `json:"ship_country,omitempty"`
	Org
	EV bool `json:"ev,omitempty"`
}

// Logo is an additional logo of a Wi-Fi order.
type Logo struct {
	Language string `json:"language"`
	URL      string `json:"url"`
}

// FriendlyName is an operator friendly name of a Wi-Fi order.
type FriendlyName struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// OrderWFARequest is the body of POST /order/wfa.
type OrderWFARequest struct {
	CSR             string         `json:"csr"`
	Validity        int            `json:"validity"`
	CommonName      string         `json:"common_name,omitempty"`
	SANs            []string       `json:"sans,omitempty"`
	ServerType      int            `json:"server_type,omitempty"`
	DefaultLogoURL  string         `json:"default_logo_url"`
	AdditionalLogos []Logo         `json:"additional_logos,omitempty"`
	FriendlyNames   []FriendlyName `json:"friendly_names"`
	Org
	DCVMethod string `json:"dcv_method,omitempty"`
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
	IsRenewal      bool     `json:"is_renewal"`
	RenewedOrderID *string  `json:"renewed_order_id"`
	BusinessUnit   string   `json:"business_unit"`
	// RenewalOrderID (certd extension) is the order that renewed this one.
	RenewalOrderID string `json:"renewal_order_id,omitempty"`
	// Revocation (certd extension) is set once the certificate is revoked.
	Revocation *struct {
		Date   string `json:"date"`
		Reason string `json:"reason"`
	} `json:"revocation,omitempty"`
}

// NameSet is a common name with its SANs.
type NameSet struct {
	CommonName string   `json:"common_name"`
	SANs       []string `json:"sans"`
}

// DCVDomain is where the domain-control validation of one name stands,
// and what to publish for it.
type DCVDomain struct {
	Name   string `json:"name"`
	Status string `json:"status"` // pending, valid or invalid
	Method string `json:"method"`
	// DNSRecord and DNSType name the record to publish Value in
	// (dns-txt-token); HTTPURL the address to serve Value at
	// (http-token); EmailAddresses where the validation mail went.
	DNSRecord      string   `json:"dns_record,omitempty"`
	DNSType        string   `json:"dns_type,omitempty"`
	HTTPURL        string   `json:"http_url,omitempty"`
	EmailAddresses []string `json:"email_addresses,omitempty"`
	Value          string   `json:"value,omitempty"`
	ValidatedBy    string   `json:"validated_by,omitempty"`
	LastError      string   `json:"last_error"`
	LastChecked    string   `json:"last_checked"`
	// CAA is set while a CAA record holds the name.
	CAA string `json:"caa,omitempty"`
}

// DCV is an order's domain validation (certd extension).
type DCV struct {
	Method  string      `json:"method"`
	Domains []DCVDomain `json:"domains"`
}

// OrgValidation is where the validation of an order's organization
// stands (certd extension).
type OrgValidation struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"` // pending, validated or rejected
	ValidatedAt string `json:"validated_at"`
	Note        string `json:"note"`
}

// Order is GET /order/{id}.
type Order struct {
	CertificateDetails CertificateDetails `json:"certificate_details"`
	PendingReissue     *NameSet           `json:"pending_reissue,omitempty"`
	Receipt            *struct {
		OrderTotal string `json:"order_total"`
	} `json:"receipt,omitempty"`
	DCV          *DCV           `json:"dcv,omitempty"`
	Organization *OrgValidation `json:"organization,omitempty"`
	// Hold is why the CA refused to sign (a lint failure), if it did.
	Hold string `json:"hold,omitempty"`
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

// RenewRequest is the body of RENEW /order/{id}: what the new order
// changes; empty fields keep the renewed order's values.
type RenewRequest struct {
	CSR        string   `json:"csr,omitempty"`
	Validity   int      `json:"validity,omitempty"`
	CommonName string   `json:"common_name,omitempty"`
	SANs       []string `json:"sans,omitempty"`
	ServerType int      `json:"server_type,omitempty"`
}

// RevokeRequest is the body of REVOKE /order/{id}.
type RevokeRequest struct {
	// Reason is an RFC 5280 reason keyword (keyCompromise, superseded,
	// ...); empty is unspecified.
	Reason   string `json:"reason,omitempty"`
	Comments string `json:"comments,omitempty"`
}

// Revocation is the answer to REVOKE.
type Revocation struct {
	OrderID        string `json:"order_id"`
	Status         string `json:"status"`
	Serial         string `json:"serial"`
	RevocationDate string `json:"revocation_date"`
	Reason         string `json:"reason"`
}

// OrderSummary is one order of GET /order.
type OrderSummary struct {
	CertificateDetails
	Serial        string `json:"serial"`
	CertValidFrom string `json:"cert_valid_from"`
	CertValidTill string `json:"cert_valid_till"`
}

// OrderFilter selects orders for Orders. Dates are YYYY-MM-DD,
// DD-MON-YYYY or RFC 3339; ranges include From and exclude To.
type OrderFilter struct {
	Status                 string // "pending issuance", "issued", "revoked"
	Name                   string
	Serial                 string
	IssuedFrom, IssuedTo   string
	ExpiresFrom, ExpiresTo string
	Limit                  int    // 1-1000; the server's default is 100
	Cursor                 string // the previous page's NextCursor
}

func (f OrderFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"status": f.Status, "name": f.Name, "serial": f.Serial,
		"issued_from": f.IssuedFrom, "issued_to": f.IssuedTo,
		"expires_from": f.ExpiresFrom, "expires_to": f.ExpiresTo, "cursor": f.Cursor,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// OrderPage is one page of GET /order, newest first.
type OrderPage struct {
	Orders []OrderSummary `json:"orders"`
	// NextCursor fetches the next page; empty on the last.
	NextCursor string `json:"next_cursor"`
}

type created struct {
	OrderID string `json:"order_id"`
}

// OrderSSL creates an SSL order and returns its id.
func (c *Client) OrderSSL(ctx context.Context, r OrderSSLRequest) (string, error) {
	var out created
	err := c.do(ctx, http.MethodPost, "/order/ssl", nil, r, &out)
	return out.OrderID, err
}

// OrderCode creates a code signing order and returns its id.
func (c *Client) OrderCode(ctx context.Context, r OrderCodeRequest) (string, error) {
	var out created
	err := c.do(ctx, http.MethodPost, "/order/code", nil, r, &out)
	return out.OrderID, err
}

// OrderWFA creates a Wi-Fi (Passpoint OSU server) order and returns its id.
func (c *Client) OrderWFA(ctx context.Context, r OrderWFARequest) (string, error) {
	var out created
	err := c.do(ctx, http.MethodPost, "/order/wfa", nil, r, &out)
	return out.OrderID, err
}

// Order returns an order's details.
func (c *Client) Order(ctx context.Context, id string) (*Order, error) {
	var out Order
	if err := c.do(ctx, http.MethodGet, "/order/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Orders returns one page of the account's orders, newest first.
func (c *Client) Orders(ctx context.Context, f OrderFilter) (*OrderPage, error) {
	var out OrderPage
	if err := c.do(ctx, http.MethodGet, "/order", f.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Certificate returns an order's issued certificate and chain. Before
// issuance the error carries the code cert_unavailable_processing.
func (c *Client) Certificate(ctx context.Context, id string) (*Certificate, error) {
	var out Certificate
	if err := c.do(ctx, http.MethodGet, "/order/"+url.PathEscape(id)+"/certificate", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reissue asks for a new certificate (new key and/or names) on an issued
// order, with the REISSUE method.
func (c *Client) Reissue(ctx context.Context, id string, r ReissueRequest) (*Reissue, error) {
	var out Reissue
	if err := c.do(ctx, "REISSUE", "/order/"+url.PathEscape(id), nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Renew creates an order that renews an issued one and returns its id.
func (c *Client) Renew(ctx context.Context, id string, r RenewRequest) (string, error) {
	var out created
	err := c.do(ctx, "RENEW", "/order/"+url.PathEscape(id), nil, r, &out)
	return out.OrderID, err
}

// Revoke revokes an order's certificate (admin keys only).
func (c *Client) Revoke(ctx context.Context, id string, r RevokeRequest) (*Revocation, error) {
	var out Revocation
	if err := c.do(ctx, "REVOKE", "/order/"+url.PathEscape(id), nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
