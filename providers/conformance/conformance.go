// Package conformance is the one test suite every metrics backend passes:
// a ratio over a window, no data, NaN, a timeout, rejected credentials,
// retries on 5xx and 429, and the total deadline. Each backend's own test
// calls Run with a Backend that serves the suite's scripted replies the way
// its vendor does (an httptest server, or a live process) and builds a
// provider that reads them.
package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Kind is what a scripted reply says.
type Kind int

// Reply kinds. A backend renders each in its vendor's own shape.
const (
	// Values answers with event counts over the window: Bad for the error
	// query, Total for the total query. NoBad leaves the error query
	// without any series (no error was ever counted).
	Values Kind = iota
	// Empty answers that nothing matched: no series, no rows.
	Empty
	// NaN answers with a reading that is not a number (or null, where the
	// vendor's JSON cannot carry NaN).
	NaN
	// Status answers with an HTTP error status (and Header), in the
	// vendor's error shape.
	Status
	// Hang never answers: the server waits until the client gives up.
	Hang
)

// Reply is one scripted answer. Every query of a reading (the error query
// and the total query, or every scrape target) gets the same sequence of
// replies, one per request.
type Reply struct {
	Kind       Kind
	Bad, Total float64
	NoBad      bool
	Status     int
	Header     map[string]string
}

// Setup is what a backend must serve and how its provider is configured.
type Setup struct {
	Replies []Reply
	// Repeat answers the last reply to every further request instead of
	// failing the test: for the deadline case, where the provider gives up
	// after an unknown number of retries.
	Repeat  bool
	SLO     string
	Window  time.Duration
	At      time.Time
	Timeout time.Duration // the provider's total deadline per query, retries included
	Retries int
	// Secret is the credential the provider reads from its environment
	// variable; the backend's server must reject requests without it.
	Secret string
}

// Backend is a backend under test.
type Backend struct {
	Name string
	// SLI is the events SLI the suite reads, in the backend's language.
	SLI slo.SLI
	// Network is false for backends without I/O (static): the transport
	// cases (retries, timeouts, credentials) do not apply to them.
	Network bool
	// Start serves s.Replies and returns a provider reading them. It may
	// return an error when the provider refuses the setup outright (a
	// static file holding NaN); only the NaN case accepts that. Its server
	// must fail the test when a request lacks the credential, when a
	// request finds no reply left, and (unless s.Repeat) when a reply is
	// never requested.
	Start func(t *testing.T, s Setup) (providers.Provider, error)
}

// at is the evaluation time of every case; not a whole second, so that
// backends that round it show it.
var at = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

const window = time.Hour

type testCase struct {
	replies []Reply
	repeat  bool
	timeout time.Duration
	retries int
	network bool // needs I/O
	ctx     func(context.Context) (context.Context, context.CancelFunc)
	check   func(t *testing.T, c providers.Counts, err error)
}

// Run runs the suite against b.
func Run(t *testing.T, b Backend) {
	t.Helper()
	values := func(bad, total float64) Reply { return Reply{Kind: Values, Bad: bad, Total: total} }
	status := func(code int, header map[string]string) Reply {
		return Reply{Kind: Status, Status: code, Header: header}
	}
	cases := map[string]testCase{
		"a ratio over the window reads its event counts": {
			replies: []Reply{values(30, 3000)},
			check: func(t *testing.T, c providers.Counts, err error) {
				mustSucceed(t, err)
				wantCounts(t, c, 2970, 3000)
			},
		},
		"an error query without series counts no errors": {
			replies: []Reply{{Kind: Values, Total: 500, NoBad: true}},
			check: func(t *testing.T, c providers.Counts, err error) {
				mustSucceed(t, err)
				wantCounts(t, c, 500, 500)
			},
		},
		"no traffic at all is no data": {
			replies: []Reply{{Kind: Empty}},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBe(t, err, providers.ErrNoData)
			},
		},
		"zero requests stay distinguishable from healthy": {
			replies: []Reply{values(0, 0)},
			check: func(t *testing.T, c providers.Counts, err error) {
				if err != nil {
					mustBe(t, err, providers.ErrNoData)
					return
				}
				if c.Total != 0 {
					t.Errorf("Total = %v, want 0 (or ErrNoData)", c.Total)
				}
			},
		},
		"a reading that is not a number is never a number": {
			replies: []Reply{{Kind: NaN}},
			check: func(t *testing.T, c providers.Counts, err error) {
				if err == nil {
					t.Fatalf("NaN read as counts %+v, want ErrBadQuery or ErrNoData", c)
				}
				if !errors.Is(err, providers.ErrBadQuery) && !errors.Is(err, providers.ErrNoData) {
					t.Errorf("err = %v, want ErrBadQuery or ErrNoData", err)
				}
			},
		},
		"a 500 is retried and then succeeds": {
			network: true, retries: 2,
			replies: []Reply{status(500, nil), values(1, 100)},
			check: func(t *testing.T, c providers.Counts, err error) {
				mustSucceed(t, err)
				wantCounts(t, c, 99, 100)
			},
		},
		"a 503 is retried and then succeeds": {
			network: true, retries: 2,
			replies: []Reply{status(503, nil), values(1, 100)},
			check: func(t *testing.T, c providers.Counts, err error) {
				mustSucceed(t, err)
				wantCounts(t, c, 99, 100)
			},
		},
		"a 429 with Retry-After is honoured and then succeeds": {
			network: true, retries: 2,
			replies: []Reply{status(429, map[string]string{"Retry-After": "1"}), values(2, 100)},
			check: func(t *testing.T, c providers.Counts, err error) {
				mustSucceed(t, err)
				wantCounts(t, c, 98, 100)
			},
		},
		"a 429 asking to wait past the deadline fails at once": {
			network: true, retries: 5, timeout: 5 * time.Second,
			replies: []Reply{status(429, map[string]string{"Retry-After": "3600"})},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				mustBeKind(t, err, providers.ErrRateLimited)
			},
		},
		"a 500 on every attempt fails after the retries": {
			network: true, retries: 1,
			replies: []Reply{status(500, nil), status(500, nil)},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				mustBeKind(t, err, providers.ErrUnavailable)
			},
		},
		"a server that never answers fails at the timeout": {
			network: true, timeout: 300 * time.Millisecond,
			replies: []Reply{{Kind: Hang}},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
				}
				mustBeKind(t, err, providers.ErrTimeout)
			},
		},
		"the timeout bounds the retries too": {
			network: true, timeout: time.Second, retries: 10, repeat: true,
			replies: []Reply{status(500, nil)},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
			},
		},
		"the caller's deadline ends the query": {
			network: true, timeout: time.Minute,
			replies: []Reply{{Kind: Hang}},
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 200*time.Millisecond)
			},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
				}
			},
		},
		"rejected credentials (401) are an authentication failure": {
			network: true, retries: 3,
			replies: []Reply{status(401, nil)},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				mustBeKind(t, err, providers.ErrAuth)
			},
		},
		"a forbidden answer (403) is an authentication failure, not retried": {
			network: true, retries: 3,
			replies: []Reply{status(403, nil)},
			check: func(t *testing.T, _ providers.Counts, err error) {
				mustBeOutage(t, err)
				mustBeKind(t, err, providers.ErrAuth)
			},
		},
	}
	for name, tc := range cases {
		if tc.network && !b.Network {
			continue // a backend without I/O has no transport to test
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := Setup{
				Replies: tc.replies, Repeat: tc.repeat, SLO: "checkout-availability",
				Window: window, At: at, Timeout: tc.timeout, Retries: tc.retries, Secret: "s3cr3t-" + strings.ReplaceAll(name, " ", "-"),
			}
			if s.Timeout == 0 {
				s.Timeout = 10 * time.Second
			}
			p, err := b.Start(t, s)
			if err != nil {
				if len(tc.replies) == 1 && tc.replies[0].Kind == NaN {
					mustNotLeak(t, err, s.Secret)
					return // refused outright: the NaN never reaches a decision
				}
				t.Fatalf("start %s: %v", b.Name, err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx(t.Context())
			}
			defer cancel()
			q := providers.Query{SLO: s.SLO, SLI: b.SLI, Scope: providers.Scope{Name: providers.ScopeService}, Window: window}
			c, err := p.Counts(ctx, q, at)
			mustNotLeak(t, err, s.Secret)
			if err == nil {
				if !c.Start.Equal(at.Add(-window)) || !c.End.Equal(at) {
					t.Errorf("counts cover (%s, %s], want (%s, %s]", c.Start, c.End, at.Add(-window), at)
				}
				if len(c.Resolved) == 0 {
					t.Errorf("counts name no resolved query: the decision record needs them")
				}
			}
			tc.check(t, c, err)
		})
	}
	t.Run("a slice step that is not positive is a bad query", func(t *testing.T) {
		t.Parallel()
		p, err := b.Start(t, Setup{SLO: "checkout-availability", Window: window, At: at, Timeout: 5 * time.Second, Secret: "s3cr3t-slices"})
		if err != nil {
			t.Fatalf("start %s: %v", b.Name, err)
		}
		q := providers.Query{SLO: "checkout-availability", SLI: b.SLI, Scope: providers.Scope{Name: providers.ScopeService}, Window: time.Minute}
		_, err = p.Slices(t.Context(), q, providers.Range{Start: at.Add(-window), End: at})
		mustBe(t, err, providers.ErrBadQuery)
	})
}

func mustSucceed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
}

func wantCounts(t *testing.T, c providers.Counts, good, total float64) {
	t.Helper()
	if !near(c.Good, good) || !near(c.Total, total) {
		t.Errorf("counts = %v good of %v, want %v of %v", c.Good, c.Total, good, total)
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-6*max(1, b) && -d < 1e-6*max(1, b)
}

func mustBe(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	var qe *providers.QueryError
	if !errors.As(err, &qe) {
		t.Errorf("err = %v: want a *providers.QueryError naming the query", err)
	}
}

// mustBeOutage checks an error the gate's on_error policy handles: neither
// a config error nor no data, and tied to the query that failed.
func mustBeOutage(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("Counts succeeded, want an error")
	case errors.Is(err, providers.ErrBadQuery), errors.Is(err, providers.ErrNoData):
		t.Fatalf("err = %v: an outage must be neither ErrBadQuery nor ErrNoData", err)
	}
	var qe *providers.QueryError
	if !errors.As(err, &qe) {
		t.Errorf("err = %v: want a *providers.QueryError naming the query", err)
	}
}

// kinds are the outages a backend tells apart: an error is of one kind
// at most.
var kinds = []error{providers.ErrAuth, providers.ErrTimeout, providers.ErrRateLimited, providers.ErrUnavailable}

// mustBeKind checks that err is an outage of kind, and of no other.
func mustBeKind(t *testing.T, err, kind error) {
	t.Helper()
	for _, k := range kinds {
		if got, want := errors.Is(err, k), k == kind; got != want {
			t.Errorf("err = %v: errors.Is(err, %q) = %v, want %v", err, k, got, want)
		}
	}
}

func mustNotLeak(t *testing.T, err error, secret string) {
	t.Helper()
	if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("the error carries the secret: %v", err)
	}
}
