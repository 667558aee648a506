package order

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/certd/certd/internal/account"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// EnterpriseRequest is a POST /enterprise/certificate/ssl body: an SSL
// order's parameters plus what enterprise clients send with them.
type EnterpriseRequest struct {
	SSLRequest
	Type         string
	BusinessUnit string
	Comments     string
}

var (
	errRequestNotFound = problem.New(problem.NotFound, "not_found", "The request does not exist, or this account may not see it.")
	errNoteRequired    = problem.Required("note", "Note is required")
)

func errAlreadyDecided(r store.Request) error {
	return problem.New(problem.InvalidParam, "request_already_decided",
		"The request was already "+r.Status+" on "+r.DecidedAt.UTC().Format("2006-01-02 15:04:05 MST")+"; it cannot be decided again.")
}

func (rl Rules) checkEnterprise(r EnterpriseRequest) (checkedSSL, error) {
	c, err := rl.checkSSL(r.SSLRequest)
	ps := problem.List(problem.Flatten(err))
	for _, f := range []struct {
		name, value string
		max         int
	}{{"type", r.Type, 64}, {"business_unit", r.BusinessUnit, 128}, {"comments", r.Comments, 1024}} {
		if !policy.ValidText(f.value, f.max) {
			ps = append(ps, problem.Invalid(f.name, "Must be at most "+strconv.Itoa(f.max)+" characters of text without control characters."))
		}
	}
	return c, ps.Err()
}

// SubmitRequest validates an enterprise request and stores it, pending an
// admin's decision.
func (s *Service) SubmitRequest(ctx context.Context, p account.Principal, r EnterpriseRequest) (store.Request, error) {
	c, err := s.rules.checkEnterprise(r)
	if err != nil {
		return store.Request{}, err
	}
	if err := s.methodAvailable(c.dcvMethod); err != nil {
		return store.Request{}, err
	}
	params, err := json.Marshal(r)
	if err != nil {
		return store.Request{}, problem.Internalf("encode request: %w", err)
	}
	req := store.Request{AccountID: p.AccountID, Status: store.RequestPending, Product: ProductSSL, Params: params, RequestedBy: p.KeyID, CreatedAt: s.now().UTC()}
	if err := s.store.CreateRequest(ctx, &req); err != nil {
		return store.Request{}, problem.Internalf("create request: %w", err)
	}
	s.log.Info("request submitted", "request_id", req.ID, "account_id", p.AccountID)
	return req, nil
}

// RequestParams decodes the parameters a request was submitted with.
func RequestParams(r store.Request) (EnterpriseRequest, error) {
	var e EnterpriseRequest
	if err := json.Unmarshal(r.Params, &e); err != nil {
		return e, problem.Internalf("request %d params: %w", r.ID, err)
	}
	return e, nil
}

// RequestNames returns the names a request asks for, common name first,
// as its order would carry them (taken from the CSR where the request
// named none).
func (s *Service) RequestNames(e EnterpriseRequest) []string {
	c, _ := s.rules.checkSSL(e.SSLRequest)
	return c.names
}

// GetRequest returns one of the account's requests.
func (s *Service) GetRequest(ctx context.Context, accountID, id int64) (store.Request, error) {
	r, err := s.store.GetRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.AccountID != accountID {
		return store.Request{}, errRequestNotFound
	}
	if err != nil {
		return store.Request{}, problem.Internalf("get request: %w", err)
	}
	return r, nil
}

// ListRequests returns a page of the account's requests, newest first,
// and the cursor of the next page (zero when this is the last).
func (s *Service) ListRequests(ctx context.Context, f store.ListFilter) ([]store.Request, int64, error) {
	switch f.Status {
	case "", store.RequestPending, store.RequestApproved, store.RequestRejected:
	default:
		return nil, 0, problem.Invalid("status", "Status must be pending, approved or rejected.")
	}
	limit := f.Limit
	f.Limit++
	rs, err := s.store.ListRequests(ctx, f)
	if err != nil {
		return nil, 0, problem.Internalf("list requests: %w", err)
	}
	var next int64
	if len(rs) > limit {
		rs = rs[:limit]
		next = rs[limit-1].ID
	}
	return rs, next, nil
}

// ApproveRequest creates the order a pending request asks for. The
// request's parameters are checked again, since policy may have changed
// since it was submitted. Deciding a request twice fails.
func (s *Service) ApproveRequest(ctx context.Context, p account.Principal, id int64, note string) (store.Request, store.Order, error) {
	r, err := s.GetRequest(ctx, p.AccountID, id)
	if err != nil {
		return r, store.Order{}, err
	}
	if r.Status != store.RequestPending {
		return r, store.Order{}, errAlreadyDecided(r)
	}
	if err := checkNote(note, false); err != nil {
		return r, store.Order{}, err
	}
	params, err := RequestParams(r)
	if err != nil {
		return r, store.Order{}, err
	}
	c, err := s.rules.checkEnterprise(params)
	if err != nil {
		return r, store.Order{}, err
	}
	o := s.newOrder(r.AccountID, ProductSSL, c)
	o.BusinessUnit = strings.TrimSpace(params.BusinessUnit)
	if err := s.attachOrg(ctx, &o); err != nil {
		return r, store.Order{}, problem.Internalf("approve request %d: %w", id, err)
	}
	r.Status, r.DecidedBy, r.DecidedAt, r.Note = store.RequestApproved, p.KeyID, s.now().UTC(), strings.TrimSpace(note)
	if err := s.store.DecideRequest(ctx, &r, &o); err != nil {
		return r, store.Order{}, s.decisionFailed(ctx, id, err)
	}
	s.log.Info("request approved", "request_id", r.ID, "order_id", o.ID, "by_key", p.KeyID)
	if err := s.record(ctx, "request.approve", map[string]any{"request_id": r.ID, "order_id": o.ID, "account_id": p.AccountID, "api_key_id": p.KeyID}); err != nil {
		s.log.Error("audit record of an approval failed", "request_id", r.ID, "err", err)
	}
	s.created(ctx, &o)
	return r, o, nil
}

// RejectRequest rejects a pending request; the note saying why is
// required, as in the reference's example.
func (s *Service) RejectRequest(ctx context.Context, p account.Principal, id int64, note string) (store.Request, error) {
	r, err := s.GetRequest(ctx, p.AccountID, id)
	if err != nil {
		return r, err
	}
	if r.Status != store.RequestPending {
		return r, errAlreadyDecided(r)
	}
	if err := checkNote(note, true); err != nil {
		return r, err
	}
	r.Status, r.DecidedBy, r.DecidedAt, r.Note = store.RequestRejected, p.KeyID, s.now().UTC(), strings.TrimSpace(note)
	if err := s.store.DecideRequest(ctx, &r, nil); err != nil {
		return r, s.decisionFailed(ctx, id, err)
	}
	s.log.Info("request rejected", "request_id", r.ID, "by_key", p.KeyID)
	if err := s.record(ctx, "request.reject", map[string]any{"request_id": r.ID, "account_id": p.AccountID, "api_key_id": p.KeyID, "note": r.Note}); err != nil {
		s.log.Error("audit record of a rejection failed", "request_id", r.ID, "err", err)
	}
	return r, nil
}

func checkNote(note string, required bool) error {
	note = strings.TrimSpace(note)
	if note == "" && required {
		return errNoteRequired
	}
	if !policy.ValidText(note, 1024) {
		return problem.Invalid("note", "Note must be at most 1024 characters of text without control characters.")
	}
	return nil
}

// decisionFailed explains a failed decision: a concurrent decision won.
func (s *Service) decisionFailed(ctx context.Context, id int64, err error) error {
	if errors.Is(err, store.ErrConflict) {
		if r, gerr := s.store.GetRequest(ctx, id); gerr == nil && r.Status != store.RequestPending {
			return errAlreadyDecided(r)
		}
	}
	return problem.Internalf("decide request %d: %w", id, err)
}
