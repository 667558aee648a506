package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certd/certd/internal/store"
)

// OrgReuseDays is how long an organization's validation is reused: the
// BRs' reuse period for subject identity information (section 4.2.1),
// 398 days since 2026-03-15, for OV and EV alike.
const OrgReuseDays = 398

// orgKey identifies an organization across orders: its name and address,
// compared without regard to case or surrounding space.
func orgKey(c store.Contact) string {
	parts := []string{c.OrgName, c.OrgAddr1, c.OrgCity, c.OrgState, c.OrgZip, c.OrgCountry}
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(parts, "|")
}

// attachOrg links a new order to its organization's record, creating a
// pending one the first time the account names the organization. Without
// network checks (sandbox mode) there is nothing to validate.
func (s *Service) attachOrg(ctx context.Context, o *store.Order) error {
	if s.checks == nil {
		return nil
	}
	key := orgKey(o.Contact)
	org, err := s.store.FindOrganization(ctx, o.AccountID, key)
	if errors.Is(err, store.ErrNotFound) || err == nil && org.Status == store.OrgRejected {
		// A rejected organization may be corrected and submitted again:
		// that is a new record for the operator to decide.
		org = store.Organization{AccountID: o.AccountID, MatchKey: key, Details: o.Contact, Status: store.OrgPending, CreatedAt: s.now().UTC()}
		err = s.store.CreateOrganization(ctx, &org)
	}
	if err != nil {
		return fmt.Errorf("organization: %w", err)
	}
	o.OrgID = org.ID
	return nil
}

// orgHold says why an order's organization keeps it waiting, or "".
func (s *Service) orgHold(ctx context.Context, o store.Order) (string, error) {
	if o.OrgID == 0 {
		return "", nil
	}
	org, err := s.store.GetOrganization(ctx, o.OrgID)
	if err != nil {
		return "", err
	}
	switch {
	case org.Status == store.OrgRejected:
		return "the organization was rejected by the CA: " + org.Note, nil
	case org.Status != store.OrgValidated:
		return "the organization awaits validation by the CA", nil
	case s.now().Sub(org.DecidedAt) > OrgReuseDays*24*time.Hour:
		return "the organization's validation is older than 398 days and awaits renewal by the CA", nil
	}
	return "", nil
}

// Organization returns an organization record.
func (s *Service) Organization(ctx context.Context, id int64) (store.Organization, error) {
	return s.store.GetOrganization(ctx, id)
}

// Organizations lists organizations by status (all accounts when
// accountID is zero).
func (s *Service) Organizations(ctx context.Context, accountID int64, status string) ([]store.Organization, error) {
	return s.store.ListOrganizations(ctx, accountID, status)
}

// DecideOrganization records the operator's validation or rejection of
// an organization, and queues the checks of the orders that wait for it.
func (s *Service) DecideOrganization(ctx context.Context, id int64, validate bool, note string) (store.Organization, error) {
	org, err := s.store.GetOrganization(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return org, fmt.Errorf("organization %d does not exist", id)
	}
	if err != nil {
		return org, err
	}
	note = strings.TrimSpace(note)
	if !validate && note == "" {
		return org, errors.New("a rejection needs a note saying why (--note)")
	}
	org.Status, org.Note, org.DecidedAt = store.OrgRejected, note, s.now().UTC()
	if validate {
		org.Status = store.OrgValidated
	}
	if err := s.store.UpdateOrganization(ctx, &org); err != nil {
		return org, err
	}
	s.log.Info("organization decided", "organization_id", id, "status", org.Status)
	if err := s.record(ctx, "organization."+org.Status, map[string]any{"organization_id": id, "account_id": org.AccountID, "note": note}); err != nil {
		return org, err
	}
	if s.queue == nil {
		return org, nil
	}
	ids, err := s.store.WaitingOrders(ctx)
	if err != nil {
		return org, err
	}
	var recheck []int64
	for _, oid := range ids {
		if o, err := s.store.GetOrder(ctx, oid); err == nil && o.OrgID == id {
			recheck = append(recheck, oid)
		}
	}
	if err := s.queue.Recheck(ctx, recheck); err != nil {
		s.log.Error("asking for checks of the organization's orders failed; they are checked on their own schedule", "organization_id", id, "err", err)
	}
	return org, nil
}
