package client

import (
	"context"
	"time"
)

// WaitOption tunes WaitForCertificate.
type WaitOption func(*waitConfig)

type waitConfig struct {
	first, max time.Duration
	progress   func(*Order)
	reissue    bool
}

// WithPollInterval sets the first wait between polls and the longest
// (defaults: one second, doubling up to a minute).
func WithPollInterval(first, longest time.Duration) WaitOption {
	return func(w *waitConfig) { w.first, w.max = first, max(first, longest) }
}

// WithProgress calls fn with the order's details after every poll that
// found no certificate yet: what the order waits for (its DCV block, its
// organization's validation, a pending reissue).
func WithProgress(fn func(*Order)) WaitOption {
	return func(w *waitConfig) { w.progress = fn }
}

// UntilReissued makes the wait also last while the order has a pending
// reissue: after Reissue, the order keeps serving its previous
// certificate until the new one is issued.
func UntilReissued() WaitOption {
	return func(w *waitConfig) { w.reissue = true }
}

// WaitForCertificate polls until the order's certificate is issued, the
// context ends, or the server reports an error other than "not issued
// yet" (cert_unavailable_processing). The wait between polls grows from
// one second to a minute unless WithPollInterval says otherwise.
func (c *Client) WaitForCertificate(ctx context.Context, id string, opts ...WaitOption) (*Certificate, error) {
	w := waitConfig{first: time.Second, max: time.Minute}
	for _, o := range opts {
		o(&w)
	}
	wait := w.first
	for {
		cert, err := c.pollCertificate(ctx, id, &w)
		if cert != nil || err != nil {
			return cert, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, w.max)
	}
}

// pollCertificate looks once: the certificate if it is there, nil and
// no error if the order still waits.
func (c *Client) pollCertificate(ctx context.Context, id string, w *waitConfig) (*Certificate, error) {
	if w.reissue {
		o, err := c.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		if o.PendingReissue != nil {
			if w.progress != nil {
				w.progress(o)
			}
			return nil, nil
		}
	}
	cert, err := c.Certificate(ctx, id)
	if err == nil || !HasCode(err, "cert_unavailable_processing") {
		return cert, err
	}
	if w.progress != nil {
		o, err := c.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		w.progress(o)
	}
	return nil, nil
}
