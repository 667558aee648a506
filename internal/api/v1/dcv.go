package v1

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/validation"
)

// dcvDomain is one name of an order's domain-control validation, with
// what to publish where (a certd extension of the order details).
type dcvDomain struct {
	Name        string `json:"name" xml:"name"`
	Status      string `json:"status" xml:"status"`
	Method      string `json:"method" xml:"method"`
	DNSRecord   string `json:"dns_record,omitempty" xml:"dns_record,omitempty"`
	DNSType     string `json:"dns_type,omitempty" xml:"dns_type,omitempty"`
	HTTPURL     string `json:"http_url,omitempty" xml:"http_url,omitempty"`
	Emails      *list  `json:"email_addresses,omitempty" xml:"email_addresses,omitempty"`
	Value       string `json:"value,omitempty" xml:"value,omitempty"`
	ValidatedBy string `json:"validated_by,omitempty" xml:"validated_by,omitempty"`
	LastError   string `json:"last_error" xml:"last_error"`
	LastChecked string `json:"last_checked" xml:"last_checked"`
	CAA         string `json:"caa,omitempty" xml:"caa,omitempty"`
}

type dcvView struct {
	Method  string           `json:"method" xml:"method"`
	Domains items[dcvDomain] `json:"domains" xml:"domains"`
}

func newDCVView(o store.Order, ds []order.DomainStatus) *dcvView {
	if o.DCVMethod == "" {
		return nil
	}
	v := &dcvView{Method: o.DCVMethod, Domains: items[dcvDomain]{item: "domain", v: []dcvDomain{}}}
	for _, d := range ds {
		item := dcvDomain{Name: d.Name, Status: d.Status, Method: d.Method, ValidatedBy: d.ValidatedBy,
			LastError: d.LastError, LastChecked: timestamp(d.CheckedAt), CAA: d.Hold}
		if d.Status != store.AuthzValid && d.Token != "" {
			base := d.Name
			if len(base) > 2 && base[:2] == "*." {
				base = base[2:]
			}
			item.Value = d.Token
			switch d.Method {
			case validation.MethodDNSTXT:
				item.DNSRecord, item.DNSType = validation.DNSPrefix+"."+base, "TXT"
			case validation.MethodHTTP:
				item.HTTPURL = "http://" + base + validation.WellKnownPath + order.HTTPFileName(d.Token)
			case validation.MethodEmail:
				// The random value travels only by mail.
				item.Value = ""
				item.Emails = &list{items: validation.ConstructedAddresses(base), item: "email_address"}
			}
		}
		v.Domains.v = append(v.Domains.v, item)
	}
	return v
}

type dcvResponse struct {
	XMLName xml.Name `json:"-" xml:"response"`
	OrderID string   `json:"order_id" xml:"order_id"`
	Status  string   `json:"status" xml:"status"`
	DCV     *dcvView `json:"dcv" xml:"dcv"`
}

// getDCV is GET /order/{id}/dcv: the validation block alone.
func (h *Handler) getDCV(ctx context.Context, c *call) (result, error) {
	o, err := h.orders.Get(ctx, c.accountID, c.id)
	if err != nil {
		return result{}, err
	}
	return h.dcvResult(ctx, o)
}

// recheckDCV is POST /order/{id}/dcv: check the order's domains now.
func (h *Handler) recheckDCV(ctx context.Context, c *call) (result, error) {
	o, err := h.orders.Recheck(ctx, c.accountID, c.id)
	if err != nil {
		return result{}, err
	}
	return h.dcvResult(ctx, o)
}

func (h *Handler) dcvResult(ctx context.Context, o store.Order) (result, error) {
	ds, err := h.orders.DCV(ctx, o)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, view: dcvResponse{OrderID: FormatOrderID(o.ID), Status: o.Status, DCV: newDCVView(o, ds)}}, nil
}

type validatedDomain struct {
	Domain      string `json:"domain" xml:"domain"`
	Method      string `json:"method" xml:"method"`
	ValidatedAt string `json:"validated_at" xml:"validated_at"`
	ReuseUntil  string `json:"reuse_until" xml:"reuse_until"`
}

type domainList struct {
	XMLName xml.Name               `json:"-" xml:"response"`
	Domains items[validatedDomain] `json:"domains" xml:"domains"`
}

// listDomains is GET /domain: the account's validated domains, which its
// orders reuse until reuse_until.
func (h *Handler) listDomains(ctx context.Context, c *call) (result, error) {
	ds, err := h.orders.ValidatedDomains(ctx, c.accountID)
	if err != nil {
		return result{}, err
	}
	v := domainList{Domains: items[validatedDomain]{item: "domain", v: []validatedDomain{}}}
	for _, d := range ds {
		v.Domains.v = append(v.Domains.v, validatedDomain{Domain: d.Domain, Method: d.Method, ValidatedAt: timestamp(d.ValidatedAt), ReuseUntil: timestamp(d.ReuseUntil)})
	}
	return result{status: http.StatusOK, view: v}, nil
}
