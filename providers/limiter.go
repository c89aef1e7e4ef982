package providers

import (
	"context"
	"time"
)

// Limiter bounds one backend's queries in flight (max_concurrency) and
// gives each its deadline, retries included (timeout).
type Limiter struct {
	sem     chan struct{}
	Timeout time.Duration
}

// NewLimiter bounds conc queries in flight, each within timeout, with
// the defaults of the config reference (10 in flight, 30s) for zeros.
func NewLimiter(conc int, timeout time.Duration) *Limiter {
	if conc <= 0 {
		conc = 10
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &Limiter{sem: make(chan struct{}, conc), Timeout: timeout}
}

// Start waits for a slot, or for ctx to end, and returns the query's
// context; done frees the slot.
func (l *Limiter) Start(ctx context.Context) (qctx context.Context, done func(), err error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	qctx, cancel := context.WithTimeout(ctx, l.Timeout)
	return qctx, func() { cancel(); <-l.sem }, nil
}

// MaxInFlight is the bound on queries in flight.
func (l *Limiter) MaxInFlight() int { return cap(l.sem) }

// InFlight is a Provider that bounds its queries in flight: check runs as
// many readings at once as the busiest backend allows.
type InFlight interface{ MaxInFlight() int }
