package v1

import (
	"context"
	"fmt"
	"net/http"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// createCode is POST /order/code.
func (h *Handler) createCode(ctx context.Context, c *call) (result, error) {
	f := &fields{m: c.body}
	r := order.CodeRequest{
		Validity:           f.text("validity"),
		Platform:           f.text("platform"),
		ProvisioningMethod: f.text("cs_provisioning_method"),
		ShipMethod:         f.text("cs_ship_method"),
		Ship: store.ShipAddress{
			Name: f.text("ship_name"), Addr1: f.text("ship_addr1"), Addr2: f.text("ship_addr2"), City: f.text("ship_city"),
			State: f.text("ship_state"), Zip: f.text("ship_zip"), Country: f.text("ship_country"),
		},
		EV:      f.text("ev"),
		Contact: f.contact(),
		CSR:     f.text("csr"),
	}
	if len(f.problems) > 0 {
		return result{}, withShape(f.problems, h.orders.CheckCode(r))
	}
	o, err := h.orders.CreateCode(ctx, c.accountID, r)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, view: orderCreated{OrderID: FormatOrderID(o.ID)}}, nil
}

// createWiFi is POST /order/wfa.
func (h *Handler) createWiFi(ctx context.Context, c *call) (result, error) {
	ssl, shape := sslRequest(c.body)
	f := &fields{m: c.body}
	r := order.WiFiRequest{SSLRequest: ssl, DefaultLogoURL: f.text("default_logo_url")}
	for _, item := range f.records("additional_logos") {
		r.AdditionalLogos = append(r.AdditionalLogos, store.Logo{Language: item.text("language"), URL: item.text("url")})
	}
	for _, item := range f.records("friendly_names") {
		r.FriendlyNames = append(r.FriendlyNames, store.FriendlyName{Language: item.text("language"), Text: item.text("text")})
	}
	shape = append(shape, f.problems...)
	if len(shape) > 0 {
		return result{}, withShape(shape, h.orders.CheckWiFi(r))
	}
	o, err := h.orders.CreateWiFi(ctx, c.accountID, r)
	if err != nil {
		return result{}, err
	}
	return result{status: http.StatusCreated, view: orderCreated{OrderID: FormatOrderID(o.ID)}}, nil
}

// records reads a collection of sets (JSON: an array of objects; XML: a
// wrapper with one element of fields per item).
func (f *fields) records(name string) []*fields {
	v, ok := f.m[name]
	if !ok || v == nil || v == "" {
		return nil
	}
	var list []any
	switch t := v.(type) {
	case []any:
		list = t
	case map[string]any:
		list = []any{t} // an XML collection of one, or a lone object
	default:
		f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("%s must be a list of objects.", name)))
		return nil
	}
	var out []*fields
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("Each item of %s must be an object.", name)))
			return nil
		}
		out = append(out, &fields{m: lowerKeys(m)})
	}
	// Problems of the items' fields belong to the collection.
	return out
}
