package v1

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/certd/certd/internal/order"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// fields reads loosely typed parameters from a decoded body, collecting a
// problem for every value of an impossible shape (an object where text is
// expected).
type fields struct {
	m        map[string]any
	problems problem.List
}

// text returns a scalar parameter as text: strings as sent, numbers as
// written (integral numbers without a fraction, so 2.0 reads as "2"),
// booleans as "true"/"false", null as absent.
func (f *fields) text(name string) string {
	v, ok := f.m[name]
	if !ok || v == nil {
		return ""
	}
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		if fl, err := t.Float64(); err == nil && fl == float64(int64(fl)) && !strings.ContainsAny(t.String(), "eE") {
			return strconv.FormatInt(int64(fl), 10)
		}
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("%s must be a single value, not a collection.", name)))
	return ""
}

// names reads a list of names sent as a comma-separated string ("a.com,
// b.com" or ""), a JSON array, or an XML collection. given reports whether
// the parameter was sent at all.
func (f *fields) names(name string) (list []string, given bool) {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil, false
	}
	switch t := v.(type) {
	case string:
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		return list, true
	case []any:
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("%s must be a list of names.", name)))
				return nil, true
			}
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		return list, true
	case map[string]any:
		// An XML collection with differently named children, or a JSON
		// object: take its values if they are all names.
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("%s must be a list of names.", name)))
				return nil, true
			}
			list = append(list, s)
		}
		return list, true
	}
	f.problems = append(f.problems, problem.Invalid(name, fmt.Sprintf("%s must be a comma-separated string or a list of names.", name)))
	return nil, true
}

func (f *fields) contact() store.Contact {
	return store.Contact{
		OrgName:      f.text("org_name"),
		OrgUnit:      f.text("org_unit"),
		OrgAddr1:     f.text("org_addr1"),
		OrgAddr2:     f.text("org_addr2"),
		OrgCity:      f.text("org_city"),
		OrgState:     f.text("org_state"),
		OrgZip:       f.text("org_zip"),
		OrgCountry:   f.text("org_country"),
		Telephone:    f.text("telephone"),
		JobTitle:     f.text("org_contact_job_title"),
		FirstName:    f.text("org_contact_firstname"),
		LastName:     f.text("org_contact_lastname"),
		Email:        f.text("org_contact_email"),
		ContactPhone: f.text("org_contact_telephone"),
		ContactExt:   f.text("org_contact_telephone_ext"),

		RegistrationNumber:  f.text("org_registration_number"),
		BusinessCategory:    f.text("org_business_category"),
		JurisdictionCountry: f.text("org_jurisdiction_country"),
	}
}

func sslRequest(m map[string]any) (order.SSLRequest, problem.List) {
	f := &fields{m: m}
	r := order.SSLRequest{
		CSR:           f.text("csr"),
		Validity:      f.text("validity"),
		CommonName:    f.text("common_name"),
		ServerType:    f.text("server_type"),
		SignatureHash: f.text("signature_hash"),
		EV:            f.text("ev"),
		Contact:       f.contact(),
		DCVMethod:     f.text("dcv_method"),
	}
	r.SANs, r.SANsGiven = f.names("sans")
	return r, f.problems
}

func reissueRequest(m map[string]any) (order.ReissueRequest, problem.List) {
	f := &fields{m: m}
	r := order.ReissueRequest{
		CSR:           f.text("csr"),
		CommonName:    f.text("common_name"),
		ServerType:    f.text("server_type"),
		SignatureHash: f.text("signature_hash"),
		Comments:      f.text("comments"),
	}
	r.SANs, r.SANsGiven = f.names("sans")
	return r, f.problems
}
