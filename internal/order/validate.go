package order

import (
	"github.com/certd/certd/internal/ca"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
	"github.com/certd/certd/internal/validation"
)

// MethodOperator marks a domain an operator validated for an account
// (certd domain validate), as a private PKI trusts its own zones.
const MethodOperator = "operator"

// OrderLifetime is how long an order may wait for its checks before it
// expires.
const OrderLifetime = 30 * 24 * time.Hour

// Checks are the network checks non-sandbox orders must pass. A nil
// Checks (sandbox mode) skips them.
type Checks struct {
	DNS  *validation.Resolver
	HTTP *validation.HTTPChecker
	CAA  *validation.CAAChecker
	// AccountURI returns the RFC 8657 accounturi of an account.
	AccountURI func(accountID int64) string
	// MaxReuseDays lowers the BRs' validation reuse period.
	MaxReuseDays int
	// Mail sends the email method's mail; nil when no relay is
	// configured (the method is then refused).
	Mail *validation.Mailer
	// ConfirmURL is the confirmation page of a random value.
	ConfirmURL func(token string) string
}

// DCVMethods are the domain-control methods an order may name.
var DCVMethods = []string{validation.MethodDNSTXT, validation.MethodHTTP, validation.MethodEmail}

// methodAvailable refuses the email method when no SMTP relay is
// configured.
func (s *Service) methodAvailable(m string) error {
	if m == validation.MethodEmail && s.checks != nil && s.checks.Mail == nil {
		return problem.Invalid("dcv_method", "The email method needs an SMTP relay, and this server has none (serve --smtp-relay).")
	}
	return nil
}

func checkDCVMethod(m string) (string, *problem.Problem) {
	m = strings.ToLower(strings.TrimSpace(m))
	if m == "" {
		return validation.MethodDNSTXT, nil
	}
	for _, x := range DCVMethods {
		if m == x {
			return m, nil
		}
	}
	return "", problem.Invalid("dcv_method", "dcv_method must be "+strings.Join(DCVMethods, " or ")+".")
}

// reuseDays is the reuse period in force at t.
func (s *Service) reuseDays(t time.Time) int {
	days := policy.DCVReuseDays(t)
	if s.checks != nil && s.checks.MaxReuseDays > 0 && s.checks.MaxReuseDays < days {
		days = s.checks.MaxReuseDays
	}
	return days
}

// covers reports whether authorization a, valid at now, validates name:
// the same domain, or for methods that validate an Authorization Domain
// Name (DNS change, operator) a parent of it (BRs 3.2.2.4.7); the HTTP
// method validates only the exact name (BRs 3.2.2.4.18).
func (s *Service) covers(a store.Authorization, name string, now time.Time) bool {
	if a.Status != store.AuthzValid || now.Sub(a.ValidatedAt) > time.Duration(s.reuseDays(now))*24*time.Hour {
		return false
	}
	base := strings.TrimPrefix(name, "*.")
	if a.Domain == base {
		return !strings.HasPrefix(name, "*.") || a.Method != validation.MethodHTTP
	}
	return a.Method != validation.MethodHTTP && strings.HasSuffix(base, "."+a.Domain)
}

// candidates lists a name's domain and its parents below the top-level
// domain: the domains whose validation may cover it.
func candidates(name string) []string {
	base := strings.TrimPrefix(name, "*.")
	labels := strings.Split(base, ".")
	var out []string
	for i := 0; i < len(labels)-1 || i == 0; i++ {
		out = append(out, strings.Join(labels[i:], "."))
	}
	return out
}

// pendingNames returns the names an order waits to have validated: the
// pending reissue's, or the order's own.
func pendingNames(o store.Order) []string {
	if o.Status == store.StatusIssued && o.Pending != nil {
		return o.Pending.SANs
	}
	return o.SANs
}

// DomainStatus is where one name of an order stands.
type DomainStatus struct {
	Name        string
	Status      string // pending, valid, invalid
	Method      string
	Token       string
	ValidatedBy string // the domain whose validation covers the name
	LastError   string
	CheckedAt   time.Time
	Hold        string // why issuance waits beyond domain control (CAA)
}

// DCV describes the order's domain-control validation, name by name.
func (s *Service) DCV(ctx context.Context, o store.Order) ([]DomainStatus, error) {
	if s.checks == nil || o.DCVMethod == "" {
		return nil, nil
	}
	names := pendingNames(o)
	byDomain, err := s.authorizations(ctx, o.AccountID, names)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var out []DomainStatus
	for _, n := range names {
		st := DomainStatus{Name: n, Status: store.AuthzPending, Method: o.DCVMethod, Hold: o.Holds[n]}
		if a, ok := s.coveringAuthz(byDomain, n, now); ok {
			st.Status, st.Method, st.ValidatedBy, st.CheckedAt = store.AuthzValid, a.Method, a.Domain, a.CheckedAt
		} else if a, ok := latest(byDomain[strings.TrimPrefix(n, "*.")], o.DCVMethod); ok {
			st.Token, st.LastError, st.CheckedAt, st.Status = a.Token, a.LastError, a.CheckedAt, a.Status
			if st.Status == store.AuthzValid {
				st.Status = store.AuthzPending // valid once, but too old to reuse
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Service) authorizations(ctx context.Context, accountID int64, names []string) (map[string][]store.Authorization, error) {
	var domains []string
	for _, n := range names {
		domains = append(domains, candidates(n)...)
	}
	all, err := s.store.Authorizations(ctx, accountID, domains)
	if err != nil {
		return nil, problem.Internalf("authorizations: %w", err)
	}
	by := map[string][]store.Authorization{}
	for _, a := range all {
		by[a.Domain] = append(by[a.Domain], a)
	}
	return by, nil
}

func (s *Service) coveringAuthz(by map[string][]store.Authorization, name string, now time.Time) (store.Authorization, bool) {
	for _, d := range candidates(name) {
		for _, a := range by[d] {
			if s.covers(a, name, now) {
				return a, true
			}
		}
	}
	return store.Authorization{}, false
}

// latest is the newest authorization of a method (newest first in the
// store's order) whose random value has not expired.
func latest(as []store.Authorization, method string) (store.Authorization, bool) {
	for _, a := range as {
		if a.Method == method && a.Status != store.AuthzInvalid {
			return a, true
		}
	}
	return store.Authorization{}, false
}

// prepareAuthorizations makes sure each name of a new order that no
// reusable validation covers has a pending authorization, so the
// subscriber sees at once what to publish.
func (s *Service) prepareAuthorizations(ctx context.Context, o store.Order) error {
	by, err := s.authorizations(ctx, o.AccountID, pendingNames(o))
	if err != nil {
		return err
	}
	now := s.now().UTC()
	for _, n := range pendingNames(o) {
		base := strings.TrimPrefix(n, "*.")
		if _, ok := s.coveringAuthz(by, n, now); ok {
			continue
		}
		if a, ok := latest(by[base], o.DCVMethod); ok && now.Before(a.TokenExpiresAt) {
			continue
		}
		a := store.Authorization{AccountID: o.AccountID, Domain: base, Method: o.DCVMethod, Token: validation.NewRandomValue(),
			Status: store.AuthzPending, CreatedAt: now, TokenExpiresAt: now.Add(validation.RandomValueLifetime)}
		if err := s.store.CreateAuthorization(ctx, &a); err != nil {
			return problem.Internalf("create authorization: %w", err)
		}
		by[base] = append([]store.Authorization{a}, by[base]...)
	}
	return nil
}

// HTTPFileName is the file the http-token method looks for: named after
// the value's hash, since the BRs (3.2.2.4.18) forbid the random value
// itself in the request.
func HTTPFileName(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "certd-" + hex.EncodeToString(sum[:8]) + ".txt"
}

// ErrNoChecks means the service runs without network checks (sandbox).
var ErrNoChecks = errors.New("this server runs without domain validation (sandbox mode)")

// Validate runs the order's outstanding checks once: domain control for
// every name, then CAA; when all pass it issues. It reports whether the
// order needs no more work, and if not, when to look again. Errors are
// faults of certd or its store, to retry.
func (s *Service) Validate(ctx context.Context, id int64) (done bool, again time.Duration, err error) {
	if s.checks == nil {
		return true, 0, ErrNoChecks
	}
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return true, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	waiting := o.Status == store.StatusPendingIssuance || o.Status == store.StatusIssued && o.Pending != nil
	if !waiting || o.DCVMethod == "" && o.OrgID == 0 || o.CSR == "" {
		return true, 0, nil
	}
	now := s.now().UTC()
	age := now.Sub(o.CreatedAt)
	if o.Pending != nil && o.Status == store.StatusIssued {
		age = now.Sub(o.Pending.RequestedAt)
	}
	if age > OrderLifetime {
		return true, 0, s.expire(ctx, o)
	}
	if left := s.leaseLeft(o, now); left > 0 {
		// Another check of this order is issuing its certificate.
		return false, left, nil
	}
	if err := s.prepareAuthorizations(ctx, o); err != nil {
		return false, 0, err
	}
	by, err := s.authorizations(ctx, o.AccountID, pendingNames(o))
	if err != nil {
		return false, 0, err
	}
	allValid := true
	for _, n := range pendingNames(o) {
		if _, ok := s.coveringAuthz(by, n, now); ok {
			continue
		}
		a, ok := latest(by[strings.TrimPrefix(n, "*.")], o.DCVMethod)
		if !ok {
			allValid = false
			continue
		}
		if err := s.checkDomain(ctx, &a); err != nil {
			return false, 0, err
		}
		if a.Status != store.AuthzValid {
			allValid = false
		}
	}
	if !allValid {
		return false, backoff(age), nil
	}
	holds := map[string]string{}
	if h, ok := o.Holds[LintHold]; ok {
		holds[LintHold] = h // kept until an issuance succeeds
	}
	for _, n := range pendingNames(o) {
		err := s.checks.CAA.Check(ctx, validation.CAARequest{Name: n, AccountURI: s.checks.AccountURI(o.AccountID), Method: o.DCVMethod})
		switch {
		case err == nil:
		case validation.IsFailure(err):
			holds[n] = err.Error()
		default:
			holds[n] = "CAA lookup failed, will retry: " + err.Error()
		}
	}
	// Holds to record, or stale ones to clear.
	record := len(holds) > 0 || len(o.Holds) > 0
	o.Holds = holds
	blocked := len(holds) > 1 || len(holds) == 1 && holds[LintHold] == ""
	if !blocked {
		hold, err := s.orgHold(ctx, o)
		if err != nil {
			return false, 0, err
		}
		blocked = hold != ""
	}
	if blocked {
		if record {
			if err := s.store.UpdateOrder(ctx, &o); err != nil {
				return false, 0, err
			}
		}
		return false, backoff(age), nil
	}
	// Two checks of one order can run at once (its own job, and one an
	// organization decision queued); only the one that takes the lease
	// signs, so that the CA never signs twice for one issuance. The
	// lease is written with the order's version check, in the same write
	// as its holds: of checks that read the same version, one wins.
	// Issuance clears it.
	if o.Holds == nil {
		o.Holds = map[string]string{}
	}
	o.Holds[LeaseHold] = now.Format(time.RFC3339Nano)
	if err := s.store.UpdateOrder(ctx, &o); errors.Is(err, store.ErrConflict) {
		return false, time.Second, nil
	} else if err != nil {
		return false, 0, err
	}
	if err := s.issue(ctx, &o); err != nil {
		s.dropLease(ctx, o.ID)
		var lintErr *ca.LintError
		if errors.As(err, &lintErr) {
			// Retrying cannot help: the order waits, with the reason on
			// record, until the operator acts.
			return true, 0, nil
		}
		return false, 0, err
	}
	return true, 0, nil
}

// LeaseHold is the key of Order.Holds under which a check that is issuing
// the order's certificate records when it started (not a DNS name, so no
// domain's hold can have it).
const LeaseHold = "lease:issuing"

// DefaultIssuingLease is how long an issuing check's lease lasts unless
// Options.IssuingLease says: far longer than an issuance takes; after
// it, a check cut off by a crash is taken over.
const DefaultIssuingLease = 2 * time.Minute

// leaseLeft is how long the order's issuing lease still lasts (0 if none).
func (s *Service) leaseLeft(o store.Order, now time.Time) time.Duration {
	t, err := time.Parse(time.RFC3339Nano, o.Holds[LeaseHold])
	if err != nil {
		return 0
	}
	return max(t.Add(s.leaseFor).Sub(now), 0)
}

// dropLease removes a failed issuance's lease, so that the next check need
// not wait it out (best effort: the lease expires anyway).
func (s *Service) dropLease(ctx context.Context, id int64) {
	o, err := s.store.GetOrder(ctx, id)
	if err != nil || o.Holds[LeaseHold] == "" {
		return
	}
	delete(o.Holds, LeaseHold)
	if err := s.store.UpdateOrder(ctx, &o); err != nil {
		s.log.Warn("dropping an issuance lease", "order_id", id, "err", err)
	}
}

// checkDomain runs one authorization's check and records the outcome.
func (s *Service) checkDomain(ctx context.Context, a *store.Authorization) error {
	now := s.now().UTC()
	if !now.Before(a.TokenExpiresAt) {
		a.Status, a.LastError = store.AuthzInvalid, "the random value expired after 30 days"
	} else {
		var err error
		switch a.Method {
		case validation.MethodDNSTXT:
			err = s.checks.DNS.CheckDNS(ctx, a.Domain, a.Token)
		case validation.MethodHTTP:
			err = s.checks.HTTP.Check(ctx, a.Domain, HTTPFileName(a.Token), a.Token)
		case validation.MethodEmail:
			return s.mailAuthz(ctx, a)
		default:
			err = fmt.Errorf("unknown method %q", a.Method)
		}
		switch {
		case err == nil:
			a.Status, a.LastError, a.ValidatedAt = store.AuthzValid, "", now
			s.metrics.Validation(a.Method, "valid")
		case validation.IsFailure(err):
			a.LastError = err.Error()
			s.metrics.Validation(a.Method, "failed")
		default:
			a.LastError = "lookup failed, will retry: " + err.Error()
			s.metrics.Validation(a.Method, "error")
		}
	}
	a.CheckedAt = now
	if err := s.store.UpdateAuthorization(ctx, a); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	if a.Status == store.AuthzValid {
		s.log.Info("domain validated", "domain", a.Domain, "method", a.Method, "account_id", a.AccountID)
	}
	return nil
}

func (s *Service) expire(ctx context.Context, o store.Order) error {
	if o.Status == store.StatusIssued {
		o.Pending = nil // the reissue expires; the issued certificate stays
	} else {
		o.Status = store.StatusExpired
	}
	o.UpdatedAt = s.now().UTC()
	s.log.Info("order expired waiting for validation", "order_id", o.ID)
	return s.store.UpdateOrder(ctx, &o)
}

// backoff is when to check again, by how long the order has waited:
// often at first, when the subscriber is publishing, then less.
func backoff(age time.Duration) time.Duration {
	switch {
	case age < 10*time.Minute:
		return 15 * time.Second
	case age < time.Hour:
		return time.Minute
	case age < 24*time.Hour:
		return 15 * time.Minute
	default:
		return time.Hour
	}
}

// PreValidate records an operator's validation of a domain (and its
// subdomains) for an account.
func (s *Service) PreValidate(ctx context.Context, accountID int64, domain string) (store.Authorization, error) {
	n, _, err := s.rules.Names.Normalize(domain)
	if err != nil {
		return store.Authorization{}, fmt.Errorf("%q cannot be validated: %w", domain, err)
	}
	n = strings.TrimPrefix(n, "*.")
	now := s.now().UTC()
	a := store.Authorization{AccountID: accountID, Domain: n, Method: MethodOperator, Token: "-", Status: store.AuthzValid,
		CreatedAt: now, TokenExpiresAt: now.Add(time.Duration(s.reuseDays(now)) * 24 * time.Hour), ValidatedAt: now, CheckedAt: now}
	if err := s.store.CreateAuthorization(ctx, &a); err != nil {
		return a, err
	}
	return a, s.record(ctx, "domain.prevalidate", map[string]any{"domain": n, "account_id": accountID})
}

// ValidatedDomain is a domain an account may use without validating it
// again until ReuseUntil.
type ValidatedDomain struct {
	Domain      string
	Method      string
	ValidatedAt time.Time
	ReuseUntil  time.Time
}

// ValidatedDomains lists the account's domains whose validation can still
// be reused, newest validation of each.
func (s *Service) ValidatedDomains(ctx context.Context, accountID int64) ([]ValidatedDomain, error) {
	all, err := s.store.Authorizations(ctx, accountID, nil)
	if err != nil {
		return nil, problem.Internalf("authorizations: %w", err)
	}
	now := s.now().UTC()
	reuse := time.Duration(s.reuseDays(now)) * 24 * time.Hour
	seen := map[string]bool{}
	out := []ValidatedDomain{}
	for _, a := range all {
		if a.Status != store.AuthzValid || seen[a.Domain] || now.Sub(a.ValidatedAt) > reuse {
			continue
		}
		seen[a.Domain] = true
		out = append(out, ValidatedDomain{Domain: a.Domain, Method: a.Method, ValidatedAt: a.ValidatedAt, ReuseUntil: a.ValidatedAt.Add(reuse)})
	}
	return out, nil
}

// mailAuthz sends an email authorization's mail once (again only after a
// failed send): the recipient confirms on the page the mail links to.
func (s *Service) mailAuthz(ctx context.Context, a *store.Authorization) error {
	if !a.CheckedAt.IsZero() || s.checks.Mail == nil {
		return nil
	}
	err := s.checks.Mail.Send(ctx, a.Domain, s.checks.ConfirmURL(a.Token), a.Token)
	if err != nil {
		a.LastError = "the validation mail could not be sent, will retry: " + err.Error()
	} else {
		a.CheckedAt = s.now().UTC()
		a.LastError = "waiting for confirmation by mail to " + strings.Join(validation.ConstructedAddresses(a.Domain), ", ")
	}
	if err := s.store.UpdateAuthorization(ctx, a); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// ErrBadConfirmation means a confirmation link names no pending email
// validation (unknown, used, or expired).
var ErrBadConfirmation = errors.New("this confirmation link is not valid, or was used already, or has expired")

// EmailConfirmation describes a pending email validation for its
// confirmation page.
func (s *Service) EmailConfirmation(ctx context.Context, token string) (store.Authorization, error) {
	a, err := s.store.AuthorizationByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) || err == nil && (a.Method != validation.MethodEmail || a.Status != store.AuthzPending || !s.now().Before(a.TokenExpiresAt)) {
		return store.Authorization{}, ErrBadConfirmation
	}
	return a, err
}

// ConfirmEmail is the recipient's confirmation (BRs 3.2.2.4.4): the
// domain is validated for the account, and its waiting orders are
// checked at once.
func (s *Service) ConfirmEmail(ctx context.Context, token string) (store.Authorization, error) {
	a, err := s.EmailConfirmation(ctx, token)
	if err != nil {
		return a, err
	}
	now := s.now().UTC()
	a.Status, a.ValidatedAt, a.CheckedAt, a.LastError = store.AuthzValid, now, now, ""
	if err := s.store.UpdateAuthorization(ctx, &a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return a, ErrBadConfirmation
		}
		return a, err
	}
	s.log.Info("domain validated by mail", "domain", a.Domain, "account_id", a.AccountID)
	if s.queue == nil {
		return a, nil
	}
	ids, err := s.store.WaitingOrders(ctx)
	if err != nil {
		return a, err
	}
	var recheck []int64
	for _, id := range ids {
		if o, err := s.store.GetOrder(ctx, id); err == nil && o.AccountID == a.AccountID {
			recheck = append(recheck, id)
		}
	}
	if err := s.queue.Recheck(ctx, recheck); err != nil {
		s.log.Error("asking for checks of the account's orders failed; they are checked on their own schedule", "account_id", a.AccountID, "err", err)
	}
	return a, nil
}
