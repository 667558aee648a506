package order

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// Code signing provisioning methods and ship methods (reference 6.2).
const (
	ProvisionShipToken = "ship_token"
	ProvisionClientApp = "client_app"
)

// CodeRequest is a POST /order/code body as the edge decoded it.
type CodeRequest struct {
	Validity           string
	Platform           string
	ProvisioningMethod string
	ShipMethod         string
	Ship               store.ShipAddress
	EV                 string
	Contact            store.Contact
	// CSR is a certd extension: the original service shipped a hardware
	// token; certd is software, so the key comes from a CSR.
	CSR string
}

type checkedCode struct {
	validity int
	ev       bool
	csrPEM   string
	details  store.CodeSigning
	contact  store.Contact
}

func shipFields(a *store.ShipAddress) []struct {
	name string
	v    *string
	req  bool
} {
	return []struct {
		name string
		v    *string
		req  bool
	}{
		{"ship_name", &a.Name, true}, {"ship_addr1", &a.Addr1, true}, {"ship_addr2", &a.Addr2, false},
		{"ship_city", &a.City, true}, {"ship_state", &a.State, true}, {"ship_zip", &a.Zip, true}, {"ship_country", &a.Country, true},
	}
}

// CheckCode validates a code signing order completely.
func (s *Service) CheckCode(r CodeRequest) error {
	_, err := s.rules.checkCode(r)
	return err
}

// checkCode applies the reference's code signing table and its
// conditional rules:
//   - platform is an appendix A.2 id (EV: A.3) and is required, except
//     that it may be omitted when a token is shipped;
//   - cs_provisioning_method is for EV only, and required there;
//   - cs_ship_method and the ship_* fields only go with ship_token; the
//     ship_* fields are all required once any is given, and when none is,
//     the token goes to the organization's address;
//   - telephone and org_contact_job_title are required;
//   - csr (certd's extension) is not taken with ship_token: the operator
//     provisions the token's key (certd order provision).
func (rl Rules) checkCode(r CodeRequest) (checkedCode, error) {
	var ps problem.List
	var c checkedCode
	c.contact = trimContact(r.Contact)
	ev, evOK := parseBool(r.EV)
	c.ev = ev

	if p := checkValidity(r.Validity, 3, &c.validity); p != nil {
		ps = append(ps, p)
	}

	method := strings.ToLower(strings.TrimSpace(r.ProvisioningMethod))
	switch {
	case !ev && method != "":
		ps = append(ps, problem.Invalid("cs_provisioning_method", "cs_provisioning_method applies to EV code signing orders only."))
	case ev && method == "":
		ps = append(ps, problem.Required("cs_provisioning_method", "EV code signing orders need cs_provisioning_method: ship_token or client_app."))
	case ev && method != ProvisionShipToken && method != ProvisionClientApp:
		ps = append(ps, problem.Invalid("cs_provisioning_method", "cs_provisioning_method must be ship_token or client_app."))
	}
	c.details.ProvisioningMethod = method
	shipping := method == ProvisionShipToken

	if p := strings.TrimSpace(r.Platform); p == "" {
		if !shipping {
			ps = append(ps, problem.Required("platform", "Platform is required unless a token is shipped."))
		}
	} else if n, err := strconv.Atoi(p); err != nil {
		ps = append(ps, problem.Invalid("platform", "Platform must be a platform id from the API's platform list."))
	} else if _, ok := policy.CodeSigningPlatform(n, ev); !ok {
		table := "code signing platforms (A.2)"
		if ev {
			table = "EV code signing platforms (A.3)"
		}
		ps = append(ps, problem.Invalid("platform", "Platform "+p+" is not in the list of "+table+"."))
	} else {
		c.details.Platform = n
	}

	shipMethod := strings.ToLower(strings.TrimSpace(r.ShipMethod))
	switch {
	case shipMethod != "" && !shipping:
		ps = append(ps, problem.Invalid("cs_ship_method", "cs_ship_method applies only when a token is shipped (cs_provisioning_method ship_token)."))
	case shipMethod != "" && shipMethod != "standard" && shipMethod != "expedited":
		ps = append(ps, problem.Invalid("cs_ship_method", "cs_ship_method must be standard or expedited."))
	case shipping && shipMethod == "":
		shipMethod = "standard"
	}
	c.details.ShipMethod = shipMethod

	ship := r.Ship
	given := false
	for _, f := range shipFields(&ship) {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v != "" {
			given = true
			if !policy.ValidText(*f.v, 128) {
				ps = append(ps, problem.Invalid(f.name, "Must be at most 128 characters of text without control characters."))
			}
		}
	}
	switch {
	case given && !shipping:
		ps = append(ps, problem.Invalid("ship_name", "Shipping details apply only when a token is shipped (cs_provisioning_method ship_token)."))
	case given:
		for _, f := range shipFields(&ship) {
			if f.req && *f.v == "" {
				ps = append(ps, problem.Required(f.name, "All shipping fields are required once one is given."))
			}
		}
		if ship.Country != "" && !policy.ValidCountry(ship.Country) {
			ps = append(ps, problem.Invalid("ship_country", "Ship country must be a two-letter country code from the API's country list."))
		}
	case shipping:
		// No shipping address: the token goes to the organization.
		ship = store.ShipAddress{Name: strings.TrimSpace(c.contact.FirstName + " " + c.contact.LastName), Addr1: c.contact.OrgAddr1,
			Addr2: c.contact.OrgAddr2, City: c.contact.OrgCity, State: c.contact.OrgState, Zip: c.contact.OrgZip, Country: c.contact.OrgCountry}
	}
	c.details.Ship = ship

	if csr := strings.TrimSpace(r.CSR); csr != "" {
		if shipping {
			ps = append(ps, problem.Invalid("csr", "A shipped token's key is provisioned by the CA; send no CSR with ship_token."))
		} else if _, pemText, p := rl.parseCSRFor(ProductCode, csr); p != nil {
			ps = append(ps, p)
		} else {
			c.csrPEM = pemText
		}
	}

	ps = append(ps, checkContact(&c.contact, c.ev)...)
	if !c.ev {
		// The Code Signing table requires both for every order.
		if c.contact.Telephone == "" {
			ps = append(ps, problem.Required("telephone", "Organization telephone is required for code signing orders."))
		}
		if c.contact.JobTitle == "" {
			ps = append(ps, problem.Required("org_contact_job_title", "Contact job title is required for code signing orders."))
		}
	}
	if !evOK {
		ps = append(ps, problem.Invalid("ev", "EV must be true or false."))
	}
	return c, ps.Err()
}

// CreateCode validates and stores a code signing order. With a CSR it is
// issued like any order (at once in sandbox mode); without one it waits
// in pending issuance for the key: a CSR sent with REISSUE (client_app),
// or the operator's `certd order provision` (ship_token).
func (s *Service) CreateCode(ctx context.Context, accountID int64, r CodeRequest) (store.Order, error) {
	c, err := s.rules.checkCode(r)
	if err != nil {
		return store.Order{}, err
	}
	now := s.now().UTC()
	o := store.Order{
		AccountID: accountID, Product: ProductCode, Status: store.StatusPendingIssuance, ValidityYears: c.validity,
		CommonName: c.contact.OrgName, SANs: []string{}, ServerType: -1, EV: c.ev, CSR: c.csrPEM, Contact: c.contact,
		SiteSealToken: sealToken(), CreatedAt: now, UpdatedAt: now,
		Extra: store.Extra{CodeSigning: &c.details},
	}
	if err := s.createOrder(ctx, &o); err != nil {
		return store.Order{}, err
	}
	s.created(ctx, &o)
	return o, nil
}

// supplyKey gives a code signing order that has no key yet its CSR (the
// client_app path: REISSUE with a csr on a pending order).
func (s *Service) supplyKey(ctx context.Context, o store.Order, csr string) error {
	if o.Extra.CodeSigning != nil && o.Extra.CodeSigning.ProvisioningMethod == ProvisionShipToken {
		return problem.New(problem.InvalidParam, "order_awaits_token", "The order's key is provisioned on the shipped token by the CA; it takes no CSR.")
	}
	if strings.TrimSpace(csr) == "" {
		return problem.Required("csr", "The order has no key yet: send the CSR.")
	}
	_, pemText, p := s.rules.parseCSRFor(ProductCode, csr)
	if p != nil {
		return p
	}
	o.CSR, o.UpdatedAt = pemText, s.now().UTC()
	if err := s.store.UpdateOrder(ctx, &o); err != nil {
		return problem.Internalf("order %d: %w", o.ID, err)
	}
	s.log.Info("code signing key supplied", "order_id", o.ID)
	if s.autoIssue {
		if err := s.issue(ctx, &o); err != nil {
			s.log.Error("sandbox issuance failed; the order stays pending", "order_id", o.ID, "err", err)
		}
	} else {
		s.startChecks(ctx, o, false)
	}
	return nil
}

// ErrNotShipToken means the order is not a code signing order waiting for
// a provisioned token.
var ErrNotShipToken = errors.New("the order is not a code signing order awaiting a shipped token")

// Provision is the operator's step for a ship_token order: it records the
// key generated on the token (as a CSR) and issues the certificate.
func (s *Service) Provision(ctx context.Context, id int64, csr string) (store.Order, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("order %d does not exist", id)
	}
	if err != nil {
		return o, err
	}
	if o.Product != ProductCode || o.Extra.CodeSigning == nil || o.Extra.CodeSigning.ProvisioningMethod != ProvisionShipToken || o.Status != store.StatusPendingIssuance {
		return o, ErrNotShipToken
	}
	_, pemText, p := s.rules.parseCSRFor(ProductCode, csr)
	if p != nil {
		return o, errors.New(p.Description)
	}
	o.CSR = pemText
	if err := s.issue(ctx, &o); err != nil {
		return o, err
	}
	return o, nil
}
