package order

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// RenewRequest is a RENEW body: every field is optional and defaults to
// the renewed order's value.
type RenewRequest struct {
	CSR        string
	Validity   string
	CommonName string
	SANs       []string
	SANsGiven  bool
	ServerType string
	Comments   string
}

// Renew creates an order that renews an issued one: the same details,
// with a new CSR, term or names if given. Both orders record the link.
// An order is renewed at most once.
func (s *Service) Renew(ctx context.Context, accountID, id int64, r RenewRequest) (store.Order, error) {
	for attempt := 0; ; attempt++ {
		old, err := s.Get(ctx, accountID, id)
		if err != nil {
			return store.Order{}, err
		}
		switch {
		case old.RenewalOrderID != 0:
			return store.Order{}, problem.New(problem.InvalidParam, "order_already_renewed",
				fmt.Sprintf("The order was already renewed by order %08d.", old.RenewalOrderID))
		case old.Status == store.StatusPendingIssuance:
			return store.Order{}, errNotIssued
		}
		renewal, err := s.checkRenewal(&old, r)
		if err != nil {
			return store.Order{}, err
		}
		err = s.store.CreateRenewal(ctx, &renewal, &old)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return store.Order{}, problem.Internalf("renew order %d: %w", id, err)
		}
		s.created(ctx, &renewal)
		return renewal, nil
	}
}

func (s *Service) checkRenewal(old *store.Order, r RenewRequest) (store.Order, error) {
	var ps problem.List
	now := s.now().UTC()
	o := *old
	o.ID, o.Version, o.Status, o.CertSerial, o.Pending = 0, 0, store.StatusPendingIssuance, "", nil
	o.ValidFrom, o.ValidTill, o.CertNotBefore, o.CertNotAfter = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	o.CreatedAt, o.UpdatedAt, o.SiteSealToken = now, now, sealToken()
	o.RenewedOrderID, o.RenewalOrderID = old.ID, 0
	if strings.TrimSpace(r.CSR) != "" {
		if _, pemText, p := s.rules.parseCSRFor(o.Product, r.CSR); p != nil {
			ps = append(ps, p)
		} else {
			o.CSR = pemText
		}
	}
	if strings.TrimSpace(r.Validity) != "" {
		if p := checkValidity(r.Validity, maxValidity(o.Product, o.EV), &o.ValidityYears); p != nil {
			ps = append(ps, p)
		}
	}
	if o.Product != ProductCode {
		cn := o.CommonName
		if v := strings.TrimSpace(r.CommonName); v != "" {
			cn = v
		}
		sans := o.SANs
		if r.SANsGiven {
			sans = r.SANs
		}
		names, nps := s.rules.checkNames(cn, sans, o.EV)
		ps = append(ps, nps...)
		o.CommonName, o.SANs = names[0], names
	}
	if strings.TrimSpace(r.ServerType) != "" {
		o.ServerType = parseServerType(r.ServerType)
	}
	return o, ps.Err()
}

// Revocation reasons (RFC 5280 section 5.3.1) that a subscriber or an
// account admin may give. The BRs (section 7.2.2) forbid certificateHold
// in subscriber certificates; cACompromise and aACompromise concern CAs.
var revocationReasons = map[string]int{
	"unspecified":          0,
	"keycompromise":        1,
	"affiliationchanged":   3,
	"superseded":           4,
	"cessationofoperation": 5,
	"privilegewithdrawn":   9,
}

// ParseReason accepts an RFC 5280 reason keyword in any case, with or
// without underscores or hyphens ("keyCompromise", "key_compromise"), or
// its number. Empty means unspecified.
func ParseReason(s string) (int, bool) {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.TrimSpace(s)))
	if k == "" {
		return 0, true
	}
	if n, err := strconv.Atoi(k); err == nil {
		for _, v := range revocationReasons {
			if v == n {
				return n, true
			}
		}
		return 0, false
	}
	n, ok := revocationReasons[k]
	return n, ok
}

// ReasonName is the RFC 5280 keyword of a reason code.
func ReasonName(code int) string {
	for _, k := range []string{"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn"} {
		if revocationReasons[strings.ToLower(k)] == code {
			return k
		}
	}
	return strconv.Itoa(code)
}

// RevokeRequest is a REVOKE body.
type RevokeRequest struct {
	Reason   string
	Comments string
}

// Revoke revokes the order's current certificate. The order becomes
// revoked: it has no current certificate from then on, and any pending
// reissue is dropped.
func (s *Service) Revoke(ctx context.Context, accountID, id int64, r RevokeRequest) (store.Order, error) {
	reason, ok := ParseReason(r.Reason)
	if !ok {
		return store.Order{}, problem.Invalid("reason", "Reason must be one of unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn.")
	}
	comments := strings.TrimSpace(r.Comments)
	if len(comments) > 1024 {
		return store.Order{}, problem.Invalid("comments", "Comments must be at most 1024 characters.")
	}
	for attempt := 0; ; attempt++ {
		o, err := s.Get(ctx, accountID, id)
		if err != nil {
			return o, err
		}
		switch o.Status {
		case store.StatusRevoked:
			return o, problem.New(problem.InvalidParam, "order_already_revoked", "The order's certificate is already revoked.")
		case store.StatusPendingIssuance:
			return o, errNotIssued
		}
		serial := o.CertSerial
		o.Status, o.Pending, o.UpdatedAt = store.StatusRevoked, nil, s.now().UTC()
		err = s.store.RevokeCertificate(ctx, serial, o.UpdatedAt, reason, comments, &o)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return o, problem.Internalf("revoke order %d: %w", id, err)
		}
		s.log.Info("certificate revoked", "order_id", o.ID, "serial", serial, "reason", ReasonName(reason))
		s.forgetOCSP(s.ca.IssuerName(profileOf(o)), serial)
		if err := s.record(ctx, "revoke", map[string]any{"order_id": o.ID, "serial": serial, "reason": ReasonName(reason), "account_id": accountID}); err != nil {
			s.log.Error("audit record of a revocation failed", "order_id", o.ID, "err", err)
		}
		// Publish at once (BRs 4.9.7); a failure is retried when the CRL
		// is next fetched, since a stale CRL is signed again then.
		if _, err := s.PublishCRL(ctx, profileOf(o)); err != nil {
			s.log.Error("publishing the CRL after a revocation failed", "order_id", o.ID, "err", err)
		}
		return o, nil
	}
}

// List returns a page of the account's orders, newest first, and the
// cursor of the next page (zero when this is the last).
func (s *Service) List(ctx context.Context, f store.ListFilter) ([]store.Order, int64, error) {
	switch f.Status {
	case "", store.StatusPendingIssuance, store.StatusIssued, store.StatusRevoked:
	default:
		return nil, 0, problem.Invalid("status", "Status must be pending issuance, issued or revoked.")
	}
	limit := f.Limit
	f.Limit++
	os, err := s.store.ListOrders(ctx, f)
	if err != nil {
		return nil, 0, problem.Internalf("list orders: %w", err)
	}
	var next int64
	if len(os) > limit {
		os = os[:limit]
		next = os[limit-1].ID
	}
	return os, next, nil
}
