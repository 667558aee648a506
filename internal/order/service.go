// Package order is certd's registration authority: the lifecycle of orders
// and reissues, the product rules, and the only place that drives both the
// checks (policy) and issuance (ca), recording everything in the store.
package order

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/certd/certd/internal/ca"
	"github.com/certd/certd/internal/metrics"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// Products: what an order is for, by the endpoint that created it.
const (
	ProductSSL  = "ssl"  // POST /order/ssl and enterprise requests
	ProductCode = "code" // POST /order/code
	ProductWiFi = "wfa"  // POST /order/wfa
)

// Options configure a Service.
type Options struct {
	Store store.Store
	CA    *ca.Authority
	Now   func() time.Time
	Log   *slog.Logger
	// AutoIssue issues every order as soon as it is valid, skipping
	// approval (sandbox mode).
	AutoIssue bool
	// Logos fetches Wi-Fi logos.
	Logos LogoFetcher
	// Rules are the key policy and name profile orders must pass.
	Rules Rules
	// Checks are the network checks (domain control, CAA); nil in
	// sandbox mode.
	Checks *Checks
	// Metrics records issuance, lint refusals, orders and validations;
	// nil records nothing.
	Metrics *metrics.Metrics
	// CRLLifetime is the CRLs' nextUpdate after thisUpdate (default 7
	// days, at most 10 by BRs 4.9.7).
	CRLLifetime time.Duration
	// IssuingLease is how long a check that issues an order's
	// certificate holds it against other checks (DefaultIssuingLease):
	// the pipeline's job timeout, past which the check is cut off anyway,
	// so that a crashed node's lease ends with it.
	IssuingLease time.Duration
	// CrashAt, for crash tests only, names a step of issuance at which
	// the process exits at once ("reserved", "signed", "completed"), as a
	// power cut would stop it.
	CrashAt string
}

// Service runs the order lifecycle.
type Service struct {
	store       store.Store
	ca          *ca.Authority
	now         func() time.Time
	log         *slog.Logger
	autoIssue   bool
	logos       LogoFetcher
	rules       Rules
	checks      *Checks
	queue       Queue
	ocsp        ocspCache
	crashAt     string
	leaseFor    time.Duration
	crlLifetime time.Duration
	metrics     *metrics.Metrics
}

// New returns a Service.
func New(o Options) *Service {
	if o.IssuingLease <= 0 {
		o.IssuingLease = DefaultIssuingLease
	}
	return &Service{store: o.Store, ca: o.CA, now: o.Now, log: o.Log, autoIssue: o.AutoIssue, logos: o.Logos, rules: o.Rules, checks: o.Checks, crashAt: o.CrashAt, crlLifetime: o.CRLLifetime, metrics: o.Metrics,
		leaseFor: o.IssuingLease}
}

var (
	errOrderNotFound = problem.New(problem.NotFound, "not_found", "The order does not exist, or this account may not see it.")
	errCertNotIssued = problem.New(problem.NotFound, "cert_unavailable_processing", "Unable to download certificate, the certificate has not yet been issued.  Try back in a bit.")
	errNotIssued     = problem.New(problem.InvalidParam, "order_not_issued", "The order's certificate has not been issued yet.")
	errTermEnded     = problem.New(problem.InvalidParam, "order_expired", "The order's term has ended; place a new order.")
	errRevoked       = problem.New(problem.InvalidParam, "order_revoked", "The order's certificate has been revoked; place a new order.")
	errCertRevoked   = problem.New(problem.NotFound, "cert_revoked", "The order's certificate has been revoked and is no longer available.")
)

// CreateSSL validates and stores a new SSL order for an account. In
// auto-issue mode it also issues the certificate before returning; if that
// fails the order stays pending and the failure is logged.
func (s *Service) CreateSSL(ctx context.Context, accountID int64, r SSLRequest) (store.Order, error) {
	c, err := s.rules.checkSSL(r)
	if err != nil {
		return store.Order{}, err
	}
	if err := s.methodAvailable(c.dcvMethod); err != nil {
		return store.Order{}, err
	}
	o := s.newOrder(accountID, ProductSSL, c)
	if err := s.createOrder(ctx, &o); err != nil {
		return store.Order{}, err
	}
	s.created(ctx, &o)
	return o, nil
}

// createOrder links the order to its organization and stores it.
func (s *Service) createOrder(ctx context.Context, o *store.Order) error {
	if err := s.attachOrg(ctx, o); err != nil {
		return problem.Internalf("create order: %w", err)
	}
	if err := s.store.CreateOrder(ctx, o); err != nil {
		return problem.Internalf("create order: %w", err)
	}
	return nil
}

// newOrder builds a pending order from checked parameters.
func (s *Service) newOrder(accountID int64, product string, c checkedSSL) store.Order {
	now := s.now().UTC()
	return store.Order{
		AccountID:     accountID,
		Product:       product,
		Status:        store.StatusPendingIssuance,
		ValidityYears: c.validity,
		CommonName:    c.names[0],
		SANs:          c.names,
		ServerType:    c.serverType,
		SignatureHash: c.signatureHash,
		EV:            c.ev,
		CSR:           c.csrPEM,
		Contact:       c.contact,
		SiteSealToken: sealToken(),
		CreatedAt:     now,
		UpdatedAt:     now,
		DCVMethod:     s.dcvMethod(c.dcvMethod),
	}
}

// dcvMethod is the method an order's domains are validated with, or ""
// when the server runs without network checks (sandbox mode).
func (s *Service) dcvMethod(m string) string {
	if s.checks == nil {
		return ""
	}
	return m
}

// created logs a new order and, in auto-issue mode, issues it. A failed
// issuance leaves the order pending: it is logged, not returned, because
// the order itself was created and the client must learn its id.
func (s *Service) created(ctx context.Context, o *store.Order) {
	s.metrics.OrderCreated(o.Product)
	s.log.Info("order created", "order_id", o.ID, "account_id", o.AccountID, "product", o.Product, "names", len(o.SANs))
	if s.autoIssue && o.CSR != "" {
		if err := s.issue(ctx, o); err != nil {
			s.log.Error("sandbox issuance failed; the order stays pending", "order_id", o.ID, "err", err)
		}
		return
	}
	s.startChecks(ctx, *o, true)
}

// startChecks prepares an order's authorizations and asks the pipeline
// to check it: a new order gets its check job; an order that may have
// one already (a reissue, a supplied key, a client's request for a check)
// has it made due, so that no request adds a job that polls on its own.
// A failure here loses nothing: the pipeline also picks up every waiting
// order when it starts.
func (s *Service) startChecks(ctx context.Context, o store.Order, isNew bool) {
	if s.checks == nil || o.DCVMethod == "" && o.OrgID == 0 {
		return
	}
	if err := s.prepareAuthorizations(ctx, o); err != nil {
		s.log.Error("preparing validation failed; the pipeline will retry", "order_id", o.ID, "err", err)
	}
	if s.queue == nil {
		return
	}
	var err error
	if isNew {
		err = s.queue.Enqueue(ctx, o.ID)
	} else {
		err = s.queue.Recheck(ctx, []int64{o.ID})
	}
	if err != nil {
		s.log.Error("asking for a check failed; the pipeline will pick the order up at start", "order_id", o.ID, "err", err)
	}
}

// ResumeIssuance issues, in sandbox mode (AutoIssue), the orders left
// pending by a server that stopped in the middle of issuing them (a
// crash): sandbox orders are issued inside their request and have no job
// queue to pick them up again. Orders that cannot be issued (no key yet,
// a lint refusal) stay pending, as they would have. It returns how many
// it issued.
func (s *Service) ResumeIssuance(ctx context.Context) (int, error) {
	if !s.autoIssue {
		return 0, nil
	}
	ids, err := s.store.PendingOrders(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		o, err := s.store.GetOrder(ctx, id)
		if err != nil {
			return n, err
		}
		if err := s.issue(ctx, &o); err != nil {
			s.log.Warn("a pending order was not issued at start", "order_id", id, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// Queue is the validation pipeline as the service drives it.
type Queue interface {
	// Enqueue asks for a check (Validate) of a new order soon.
	Enqueue(ctx context.Context, orderID int64) error
	// Recheck asks for checks of waiting orders now, because something
	// they wait for changed; an order keeps one check, made due at once.
	Recheck(ctx context.Context, orderIDs []int64) error
}

// SetQueue connects the pipeline, which is built after the service
// (without one, as in most CLI commands, orders wait for the server's
// pipeline to find them at its start).
func (s *Service) SetQueue(q Queue) { s.queue = q }

// Recheck asks for an immediate check of the account's order.
func (s *Service) Recheck(ctx context.Context, accountID, id int64) (store.Order, error) {
	o, err := s.Get(ctx, accountID, id)
	if err != nil {
		return o, err
	}
	if s.checks == nil || o.DCVMethod == "" && o.OrgID == 0 {
		return o, problem.New(problem.InvalidParam, "nothing_to_check", "This order has no validation to check.")
	}
	s.startChecks(ctx, o, false)
	return o, nil
}

// WaitingOrders lists orders that wait for their checks, for the
// pipeline to resume after a restart.
func (s *Service) WaitingOrders(ctx context.Context) ([]int64, error) {
	return s.store.WaitingOrders(ctx)
}

// Get returns an order of the account. Another account's order is
// reported exactly like a missing one.
func (s *Service) Get(ctx context.Context, accountID, id int64) (store.Order, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && o.AccountID != accountID {
		return store.Order{}, errOrderNotFound
	}
	if err != nil {
		return store.Order{}, problem.Internalf("get order: %w", err)
	}
	return o, nil
}

// CertificateRecord returns the record of the order's current (or, once
// revoked, last) certificate.
func (s *Service) CertificateRecord(ctx context.Context, o store.Order) (store.Certificate, error) {
	c, err := s.store.GetCertificate(ctx, o.CertSerial)
	if err != nil {
		return c, problem.Internalf("order %d certificate %s: %w", o.ID, o.CertSerial, err)
	}
	return c, nil
}

// Bundle is an issued certificate with its chain, as PEM text.
type Bundle struct {
	OrderID      int64
	Serial       string
	Certificate  string
	Intermediate string
	Root         string
	PKCS7        string
}

// Certificate returns the order's current certificate and its chain.
func (s *Service) Certificate(ctx context.Context, accountID, id int64) (Bundle, error) {
	o, err := s.Get(ctx, accountID, id)
	if err != nil {
		return Bundle{}, err
	}
	if o.Status == store.StatusRevoked {
		return Bundle{}, errCertRevoked
	}
	if o.CertSerial == "" {
		return Bundle{}, errCertNotIssued
	}
	c, err := s.store.GetCertificate(ctx, o.CertSerial)
	if err != nil {
		return Bundle{}, problem.Internalf("order %d certificate %s: %w", o.ID, o.CertSerial, err)
	}
	inter := s.ca.IssuerOf(profileOf(o))
	p7, err := ca.PKCS7PEM(c.DER, inter.Raw, s.ca.Root().Raw)
	if err != nil {
		return Bundle{}, problem.Internalf("pkcs7: %w", err)
	}
	return Bundle{
		OrderID:      o.ID,
		Serial:       c.Serial,
		Certificate:  ca.PEM(c.DER),
		Intermediate: s.ca.IssuerPEM(profileOf(o)),
		Root:         s.ca.RootPEM(),
		PKCS7:        p7,
	}, nil
}

// splitNames separates an order's names into DNS names and IP addresses
// (the private name profile allows both); the first is the common name.
func splitNames(names []string) (string, []string, []net.IP) {
	var dns []string
	var ips []net.IP
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			ips = append(ips, net.IP(a.AsSlice()))
		} else {
			dns = append(dns, n)
		}
	}
	return names[0], dns, ips
}

func profileOf(o store.Order) ca.Profile {
	if o.Product == ProductCode {
		return ca.ProfileCodeSigning
	}
	return ca.ProfileTLS
}

// ReissueRequest is a REISSUE body as the edge decoded it. Empty fields
// keep the order's current values.
type ReissueRequest struct {
	CSR           string
	CommonName    string
	SANs          []string
	SANsGiven     bool
	ServerType    string
	SignatureHash string
	Comments      string
}

// ReissueResult reports the name changes a reissue makes and the earlier
// pending reissue it replaced, if any.
type ReissueResult struct {
	Added    []string
	Dropped  []string
	Rejected *store.Reissue
}

// Reissue requests a new certificate for an issued order: a new key (csr),
// new names (common_name, sans), or both. A reissue that is still pending
// is replaced and reported as rejected.
func (s *Service) Reissue(ctx context.Context, accountID, id int64, r ReissueRequest) (ReissueResult, error) {
	var res ReissueResult
	for attempt := 0; ; attempt++ {
		o, err := s.Get(ctx, accountID, id)
		if err != nil {
			return res, err
		}
		if o.Product == ProductCode && o.Status == store.StatusPendingIssuance && o.CSR == "" {
			return ReissueResult{Added: []string{}, Dropped: []string{}}, s.supplyKey(ctx, o, r.CSR)
		}
		re, err := s.checkReissue(&o, r)
		if err != nil {
			return res, err
		}
		res = ReissueResult{Rejected: o.Pending}
		res.Added, res.Dropped = diffNames(o.SANs, re.SANs)
		o.Pending = re
		o.UpdatedAt = re.RequestedAt
		err = s.store.UpdateOrder(ctx, &o)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // the order changed under us: decide again on fresh data
		}
		if err != nil {
			return res, problem.Internalf("reissue order %d: %w", id, err)
		}
		s.log.Info("reissue requested", "order_id", o.ID, "added", len(res.Added), "dropped", len(res.Dropped))
		if s.autoIssue {
			if err := s.issue(ctx, &o); err != nil {
				s.log.Error("sandbox reissue failed; it stays pending", "order_id", o.ID, "err", err)
			}
		} else {
			s.startChecks(ctx, o, false)
		}
		return res, nil
	}
}

func (s *Service) checkReissue(o *store.Order, r ReissueRequest) (*store.Reissue, error) {
	if o.Status == store.StatusRevoked {
		return nil, errRevoked
	}
	if o.Status != store.StatusIssued {
		return nil, errNotIssued
	}
	now := s.now().UTC()
	if !now.Before(o.ValidTill) {
		return nil, errTermEnded
	}
	var ps problem.List
	re := &store.Reissue{CommonName: o.CommonName, CSR: o.CSR, ServerType: o.ServerType, Comments: strings.TrimSpace(r.Comments), RequestedAt: now}
	if strings.TrimSpace(r.CSR) != "" {
		if _, pemText, p := s.rules.parseCSRFor(o.Product, r.CSR); p != nil {
			ps = append(ps, p)
		} else {
			re.CSR = pemText
		}
	}
	if o.Product == ProductCode {
		// A code signing certificate names the organization: a reissue
		// is a rekey.
		re.SANs = []string{}
	} else {
		if cn := strings.TrimSpace(r.CommonName); cn != "" {
			re.CommonName = cn
		}
		sans := o.SANs
		if r.SANsGiven {
			sans = r.SANs
		}
		names, nps := s.rules.checkNames(re.CommonName, sans, o.EV)
		ps = append(ps, nps...)
		re.CommonName, re.SANs = names[0], names
	}
	if strings.TrimSpace(r.ServerType) != "" {
		re.ServerType = parseServerType(r.ServerType)
	}
	switch h := strings.ToLower(strings.TrimSpace(r.SignatureHash)); h {
	case "", "sha1", "sha256", "sha384", "sha512":
	default:
		ps = append(ps, problem.Invalid("signature_hash", "Signature hash must be sha1, sha256, sha384 or sha512."))
	}
	if len(re.Comments) > 1024 {
		ps = append(ps, problem.Invalid("comments", "Comments must be at most 1024 characters."))
	}
	return re, ps.Err()
}

func diffNames(old, new []string) (added, dropped []string) {
	in := func(list []string, n string) bool {
		for _, x := range list {
			if x == n {
				return true
			}
		}
		return false
	}
	added, dropped = []string{}, []string{}
	for _, n := range new {
		if !in(old, n) {
			added = append(added, n)
		}
	}
	for _, n := range old {
		if !in(new, n) {
			dropped = append(dropped, n)
		}
	}
	return added, dropped
}

// ErrNoKey means the order has no CSR yet (a code signing order waiting
// for its key).
var ErrNoKey = errors.New("the order has no key yet: a CSR must arrive first (REISSUE with a csr, or certd order provision)")

// ErrNothingToApprove means the order has no pending issuance or reissue.
var ErrNothingToApprove = errors.New("the order has nothing pending: it is issued and has no pending reissue")

// Approve issues whatever the order has pending (its first certificate or a
// reissue). It is the operator's decision, so it ignores accounts.
func (s *Service) Approve(ctx context.Context, id int64) (store.Order, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Order{}, fmt.Errorf("order %d does not exist", id)
	}
	if err != nil {
		return store.Order{}, err
	}
	if o.Status != store.StatusPendingIssuance && o.Pending == nil {
		return o, ErrNothingToApprove
	}
	if err := s.record(ctx, "order.approve", map[string]any{"order_id": id, "by": "operator"}); err != nil {
		return o, err
	}
	if err := s.issue(ctx, &o); err != nil {
		return o, err
	}
	return o, nil
}

// issue signs the order's pending certificate and makes it current.
func (s *Service) issue(ctx context.Context, o *store.Order) error {
	started := time.Now()
	csrPEM, names, serverType := o.CSR, o.SANs, o.ServerType
	if o.Pending != nil && o.Status == store.StatusIssued {
		csrPEM, names, serverType = o.Pending.CSR, o.Pending.SANs, o.Pending.ServerType
	}
	if csrPEM == "" {
		return ErrNoKey
	}
	csr, err := decodeStoredCSR(csrPEM)
	if err != nil {
		return fmt.Errorf("order %d: %w", o.ID, err)
	}
	now := s.now().UTC()
	validFrom, validTill := o.ValidFrom, o.ValidTill
	if validFrom.IsZero() {
		// The paid term starts when the first certificate is issued.
		validFrom, validTill = now, now.AddDate(o.ValidityYears, 0, 0)
	}
	req := ca.Request{
		PublicKey:           csr.PublicKey,
		Organization:        o.Contact.OrgName,
		OrganizationalUnit:  o.Contact.OrgUnit,
		Locality:            o.Contact.OrgCity,
		Province:            o.Contact.OrgState,
		Country:             o.Contact.OrgCountry,
		EV:                  o.EV,
		SerialNumber:        o.Contact.RegistrationNumber,
		BusinessCategory:    o.Contact.BusinessCategory,
		JurisdictionCountry: o.Contact.JurisdictionCountry,
		Now:                 now,
		NotAfterLimit:       validTill,
		// The private name profile certifies names the public BRs
		// forbid; its certificates are linted against the RFCs only.
		Internal: s.rules.Names == policy.ProfilePrivate,
	}
	commonName := o.CommonName
	switch o.Product {
	case ProductCode:
		// Code Signing BRs section 7.1.4.2: the subject is the
		// organization; commonName is its name.
		req.Profile, req.CommonName = ca.ProfileCodeSigning, o.Contact.OrgName
	case ProductWiFi:
		// Hotspot 2.0 OSU server certificates follow the Wi-Fi Alliance's
		// profile, not the BRs (which forbid otherName SANs): RFC lints.
		req.Internal = true
		req.CommonName, req.DNSNames, req.IPAddresses = splitNames(names)
		commonName = names[0]
		if w := o.Extra.WiFi; w != nil {
			for _, f := range w.FriendlyNames {
				// Hotspot 2.0: the three-letter language code, then the name.
				req.OtherNames = append(req.OtherNames, ca.OtherName{Type: ca.OIDWFAHotspotFriendlyName, Value: f.Language + f.Text})
			}
			for _, l := range append([]store.Logo{w.DefaultLogo}, w.AdditionalLogos...) {
				req.Logos = append(req.Logos, ca.Logo{MediaType: l.MediaType, SHA256: l.SHA256, URL: l.URL, Size: l.Size, Width: l.Width, Height: l.Height, Language: l.Language})
			}
		}
	default:
		req.CommonName, req.DNSNames, req.IPAddresses = splitNames(names)
		commonName = names[0]
	}
	_, err = s.signRecorded(ctx, req, o.ID, func(prepared *ca.Prepared, serial string, der []byte, done store.AuditEvent) error {
		o.Status = store.StatusIssued
		o.CertSerial = serial
		o.CSR, o.SANs, o.CommonName, o.ServerType = csrPEM, names, commonName, serverType
		o.ValidFrom, o.ValidTill = validFrom, validTill
		o.CertNotBefore, o.CertNotAfter = prepared.NotBefore, prepared.NotAfter
		o.Pending = nil
		o.Holds = nil
		o.UpdatedAt = now
		return s.store.CompleteIssuance(ctx, serial, der, now, o, done)
	})
	var lintErr *ca.LintError
	if errors.As(err, &lintErr) {
		s.metrics.LintRefused()
		s.holdForLint(ctx, o.ID, lintErr)
	}
	if err != nil {
		return err
	}
	s.metrics.Issued(s.ca.IssuerName(req.Profile), time.Since(started))
	s.log.Info("certificate issued", "order_id", o.ID, "serial", o.CertSerial)
	return nil
}

// LintHold is the key of Order.Holds under which a lint refusal is kept.
const LintHold = ""

// holdForLint records on the order that the CA refused to sign its
// certificate, naming the lints, so the subscriber and the operator see
// why it waits (the CA's profile or the order must change).
func (s *Service) holdForLint(ctx context.Context, id int64, lintErr *ca.LintError) {
	s.log.Error("certificate refused by lints", "order_id", id, "lints", strings.Join(lintErr.Lints, ","))
	o, err := s.store.GetOrder(ctx, id)
	if err != nil {
		return
	}
	if o.Holds == nil {
		o.Holds = map[string]string{}
	}
	o.Holds[LintHold] = "the CA refused to sign the certificate, which fails the lints " + strings.Join(lintErr.Lints, ", ")
	if err := s.store.UpdateOrder(ctx, &o); err != nil {
		s.log.Error("recording a lint refusal", "order_id", id, "err", err)
	}
}

// signRecorded is the crash-safe issuance sequence of DESIGN.md: prepare
// the certificate and reserve its serial with the lint certificate on
// record, sign it for real, then store the result through complete. If
// complete fails, the signed certificate is still recorded, unattached to
// the order, so that the record of what exists stays whole.
func (s *Service) signRecorded(ctx context.Context, req ca.Request, orderID int64, complete func(p *ca.Prepared, serial string, der []byte, done store.AuditEvent) error) ([]byte, error) {
	var prepared *ca.Prepared
	var serial string
	for attempt := 0; ; attempt++ {
		p, err := s.ca.Prepare(req)
		if err != nil {
			return nil, err
		}
		serial = SerialText(p.Serial)
		tbs := sha256.Sum256(p.TBS())
		// No signature without its audit record: "sign.begin" is written
		// with the reservation.
		err = s.store.ReserveCertificate(ctx, store.Certificate{
			Serial: serial, OrderID: orderID, LintDER: p.LintDER,
			NotBefore: p.NotBefore, NotAfter: p.NotAfter, CreatedAt: req.Now,
			Issuer: s.ca.IssuerName(req.Profile), LintWarnings: p.LintWarnings,
		}, store.AuditEvent{Time: s.now(), Type: "sign.begin", Data: map[string]any{"serial": serial, "tbs_sha256": hex.EncodeToString(tbs[:]),
			"order_id": orderID, "issuer": s.ca.IssuerName(req.Profile)}})
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // a serial collision: draw another
		}
		if err != nil {
			return nil, fmt.Errorf("reserve serial: %w", err)
		}
		prepared = p
		break
	}
	s.crashPoint("reserved")
	der, err := s.ca.Sign(prepared)
	if err != nil {
		return nil, err
	}
	s.crashPoint("signed")
	certSum := sha256.Sum256(der)
	done := store.AuditEvent{Time: s.now(), Type: "sign.done", Data: map[string]any{"serial": serial, "cert_sha256": hex.EncodeToString(certSum[:]), "order_id": orderID}}
	if err := complete(prepared, serial, der, done); err != nil {
		if rerr := s.store.CompleteIssuance(ctx, serial, der, req.Now, nil, done); rerr != nil {
			s.log.Error("signed certificate left reserved", "serial", serial, "err", rerr)
		}
		return nil, fmt.Errorf("store issued certificate %s: %w", serial, err)
	}
	s.crashPoint("completed")
	return der, nil
}

// crashPoint ends the process at the named step when a crash test asked
// for it.
func (s *Service) crashPoint(step string) {
	if s.crashAt == step {
		s.log.Warn("crash test: exiting", "step", step)
		os.Exit(3)
	}
}

// record appends an event to the audit chain in a transaction of its
// own.
func (s *Service) record(ctx context.Context, typ string, data map[string]any) error {
	return s.store.AppendAudit(ctx, store.AuditEvent{Time: s.now(), Type: typ, Data: data})
}

// SerialText renders a serial as the v1 API does: the upper-case hex of its
// DER content octets, so a leading zero nibble is kept
// ("07C2EDE40FEEA2AA03C0615F32D3A26D").
func SerialText(n *big.Int) string {
	return strings.ToUpper(hex.EncodeToString(n.Bytes()))
}

// IssueSelf issues a certificate for certd's own use (its TLS listener),
// recorded like every other certificate but attached to no order.
func (s *Service) IssueSelf(ctx context.Context, req ca.Request) ([]byte, error) {
	req.Now = s.now().UTC()
	return s.signRecorded(ctx, req, 0, func(_ *ca.Prepared, serial string, der []byte, done store.AuditEvent) error {
		return s.store.CompleteIssuance(ctx, serial, der, req.Now, nil, done)
	})
}

func decodeStoredCSR(text string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("stored CSR is not PEM")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

func csrPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// sealToken returns the 8-character site seal token of a new order.
func sealToken() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ProductName is the v1 product_name of an order, after DigiCert's names
// for the same shapes of certificate.
func ProductName(o store.Order) string {
	switch o.Product {
	case ProductCode:
		if o.EV {
			return "EV Code Signing"
		}
		return "Code Signing"
	case ProductWiFi:
		return "Wi-Fi"
	}
	multi := len(o.SANs) > 1
	wildcard := strings.HasPrefix(o.CommonName, "*.")
	switch {
	case o.EV && multi:
		return "EV Multi-Domain"
	case o.EV:
		return "EV SSL Plus"
	case multi:
		return "Unified Communications"
	case wildcard:
		return "WildCard Plus"
	default:
		return "SSL Plus"
	}
}
