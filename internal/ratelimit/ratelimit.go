// Package ratelimit enforces certd's request limits: a budget of requests
// per account, and a budget of failed authentications per source address
// so that API keys cannot be guessed.
//
// The algorithm is throttled's GCRA (the generic cell rate algorithm: a
// burst of N, then one request each hour/N). Its state, one arrival time
// per key, lives in the database (store.Limits), so every node of a
// cluster spends from the same budgets; an in-process limiter such as
// x/time/rate would give each node its own, multiplying the limit by the
// number of nodes. A request within its budget costs one read and one
// conditional write; a refused one only the read.
package ratelimit

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/throttled/throttled/v2"

	"github.com/certd/certd/internal/store"
)

// Store is what the limiter keeps its state in.
type Store interface {
	store.Limits
	GetAccount(ctx context.Context, id int64) (store.Account, error)
}

// Options configure a Limiter.
type Options struct {
	Store Store
	// RequestsPerHour is an account's budget unless the account has its
	// own (store.Account.RequestsPerHour); 0 leaves accounts without one
	// unlimited.
	RequestsPerHour int
	// AuthFailuresPerHour is a source address's budget of failed
	// authentications (default DefaultAuthFailuresPerHour); it cannot be
	// turned off.
	AuthFailuresPerHour int
	// Now is the clock (default time.Now). Nodes sharing a database must
	// keep their clocks in step (NTP); GCRA tolerates small skew.
	Now func() time.Time
}

// Defaults.
const (
	// DefaultRequestsPerHour is the original service's documented limit
	// ("about 1000 requests per hour").
	DefaultRequestsPerHour = 1000
	// DefaultAuthFailuresPerHour lets a person mistype a key a few times
	// and makes guessing hopeless: a source may fail 20 times at once,
	// then once every three minutes.
	DefaultAuthFailuresPerHour = 20
	// accountCacheFor is how long an account's own limit is remembered
	// before it is read again (a change takes effect within it).
	accountCacheFor = 30 * time.Second
	clearFor        = time.Second
	maxClear        = 10000 // addresses remembered at most (then forgotten at once)
)

// Decision is the outcome of a check.
type Decision struct {
	Limited bool
	// RetryAfter is how long until one more request is allowed (set when
	// Limited).
	RetryAfter time.Duration
	// Limit is the budget per hour that applied (0: none).
	Limit int
}

// Limiter checks requests against their budgets.
type Limiter struct {
	store       Store
	perHour     int
	authPerHour int
	now         func() time.Time

	// stripes serialize, within this node, the checks of one key, so
	// that its compare-and-swap races only other nodes (throttled gives
	// up after a number of lost races, and a busy account's concurrent
	// requests would otherwise lose them to each other).
	stripes [64]sync.Mutex

	// clear remembers, for clearFor, the source addresses a check found
	// within their failed-authentication budget, so that a busy client
	// costs the database one read a second rather than one a request. A
	// failure on this node forgets the address at once; one on another
	// node is seen here within clearFor, or at this node's next failure
	// from that address (which spends, and so reads the shared state).
	clear map[string]time.Time

	mu       sync.Mutex
	limiters map[quota]*throttled.GCRARateLimiterCtx
	accounts map[int64]cachedLimit
}

// quota names a limiter: a budget per hour, and whether it only asks
// (peek: writes nothing) or spends.
type quota struct {
	perHour int
	peek    bool
}

type cachedLimit struct {
	perHour int
	until   time.Time
}

// New returns a Limiter.
func New(o Options) *Limiter {
	if o.AuthFailuresPerHour <= 0 {
		o.AuthFailuresPerHour = DefaultAuthFailuresPerHour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{store: o.Store, perHour: o.RequestsPerHour, authPerHour: o.AuthFailuresPerHour, now: o.Now,
		limiters: map[quota]*throttled.GCRARateLimiterCtx{}, accounts: map[int64]cachedLimit{},
		clear: map[string]time.Time{}}
}

// Request spends one request of an account's budget.
func (l *Limiter) Request(ctx context.Context, accountID int64) (Decision, error) {
	perHour, err := l.accountLimit(ctx, accountID)
	if err != nil || perHour <= 0 {
		return Decision{}, err
	}
	return l.spend(ctx, fmt.Sprintf("account:%d", accountID), perHour, false)
}

// AuthBlocked reports, without spending anything, whether a source
// address has used up its budget of failed authentications. It is asked
// before a key is checked, so that a right guess made over the budget is
// refused like a wrong one.
func (l *Limiter) AuthBlocked(ctx context.Context, source string) (Decision, error) {
	now := l.now()
	l.mu.Lock()
	until, ok := l.clear[source]
	l.mu.Unlock()
	if ok && now.Before(until) {
		return Decision{Limit: l.authPerHour}, nil
	}
	d, err := l.spend(ctx, "authfail:"+source, l.authPerHour, true)
	if err == nil && !d.Limited {
		l.mu.Lock()
		if len(l.clear) >= maxClear {
			l.clear = map[string]time.Time{}
		}
		l.clear[source] = now.Add(clearFor)
		l.mu.Unlock()
	}
	return d, err
}

// AuthFailed spends one failed authentication of a source's budget.
func (l *Limiter) AuthFailed(ctx context.Context, source string) (Decision, error) {
	l.mu.Lock()
	delete(l.clear, source)
	l.mu.Unlock()
	return l.spend(ctx, "authfail:"+source, l.authPerHour, false)
}

func (l *Limiter) spend(ctx context.Context, key string, perHour int, peek bool) (Decision, error) {
	rl, err := l.limiter(perHour, peek)
	if err != nil {
		return Decision{}, err
	}
	if !peek {
		h := fnv.New32a()
		h.Write([]byte(key))
		stripe := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
		stripe.Lock()
		defer stripe.Unlock()
	}
	limited, res, err := rl.RateLimitCtx(ctx, key, 1)
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	d := Decision{Limited: limited, Limit: perHour}
	if limited {
		d.RetryAfter = res.RetryAfter
		if d.RetryAfter <= 0 {
			d.RetryAfter = time.Hour / time.Duration(perHour)
		}
	}
	return d, nil
}

// limiter returns the GCRA limiter of a budget: a burst of the whole
// hour's budget, refilled evenly over the hour.
func (l *Limiter) limiter(perHour int, peek bool) (*throttled.GCRARateLimiterCtx, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := quota{perHour, peek}
	if rl, ok := l.limiters[q]; ok {
		return rl, nil
	}
	st := &gcraStore{s: l.store, now: l.now, readOnly: peek}
	rl, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{MaxRate: throttled.PerHour(perHour), MaxBurst: perHour - 1})
	if err != nil {
		return nil, fmt.Errorf("rate limit of %d an hour: %w", perHour, err)
	}
	// Races are now between nodes only; allow many before giving up.
	rl.SetMaxCASAttemptsLimit(100)
	l.limiters[q] = rl
	return rl, nil
}

// accountLimit is an account's budget per hour: its own, or the default.
func (l *Limiter) accountLimit(ctx context.Context, id int64) (int, error) {
	now := l.now()
	l.mu.Lock()
	c, ok := l.accounts[id]
	l.mu.Unlock()
	if !ok || now.After(c.until) {
		a, err := l.store.GetAccount(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("rate limit of account %d: %w", id, err)
		}
		c = cachedLimit{perHour: a.RequestsPerHour, until: now.Add(accountCacheFor)}
		l.mu.Lock()
		l.accounts[id] = c
		l.mu.Unlock()
	}
	switch {
	case c.perHour < 0:
		return 0, nil
	case c.perHour == 0:
		return l.perHour, nil
	}
	return c.perHour, nil
}

// gcraStore keeps throttled's state in the database. readOnly makes
// every write report success without writing: run through it, GCRA says
// whether a request would be allowed and spends nothing.
type gcraStore struct {
	s        store.Limits
	now      func() time.Time
	readOnly bool
}

func (g *gcraStore) GetWithTime(ctx context.Context, key string) (int64, time.Time, error) {
	now := g.now()
	tat, err := g.s.LimitTAT(ctx, key, now)
	return tat, now, err
}

func (g *gcraStore) SetIfNotExistsWithTTL(ctx context.Context, key string, value int64, ttl time.Duration) (bool, error) {
	if g.readOnly {
		return true, nil
	}
	now := g.now()
	return g.s.SetLimitTAT(ctx, key, value, now.Add(ttl), now)
}

func (g *gcraStore) CompareAndSwapWithTTL(ctx context.Context, key string, old, value int64, ttl time.Duration) (bool, error) {
	if g.readOnly {
		return true, nil
	}
	now := g.now()
	return g.s.SwapLimitTAT(ctx, key, old, value, now.Add(ttl), now)
}
