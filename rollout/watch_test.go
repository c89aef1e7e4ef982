package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// fakeClock jumps to whatever time the watch sleeps until; cancel, when
// set, cancels the watch at that tick.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	cancelAt time.Time
	cancel   context.CancelFunc
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if c.cancel != nil && !t.Before(c.cancelAt) {
		c.cancel()
	}
	c.now = t
	c.mu.Unlock()
	return ctx.Err()
}

// fakeProvider answers from functions of the elapsed time since start.
type fakeProvider struct {
	start time.Time
	// events returns cumulative bad and total of a scope since start; value
	// a threshold SLI's value; errAt an error for the reading at elapsed.
	events func(scope string, elapsed time.Duration) (bad, total float64)
	value  func(elapsed time.Duration) (float64, bool)
	errAt  func(elapsed time.Duration) error
}

func (f *fakeProvider) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	el := at.Sub(f.start)
	if f.errAt != nil {
		if err := f.errAt(el); err != nil {
			return providers.Counts{}, err
		}
	}
	if q.SLI.Kind() == slo.KindThreshold {
		v, ok := f.value(el)
		if !ok {
			return providers.Counts{}, providers.ErrNoData
		}
		return providers.Counts{Value: v, Total: 1}, nil
	}
	bad, total := f.events(q.Scope.Name, el)
	return providers.Counts{Good: total - bad, Total: total, Resolved: []string{q.Scope.Name}}, nil
}

func (f *fakeProvider) Slices(context.Context, providers.Query, providers.Range) ([]providers.Counts, error) {
	return nil, errors.New("not used by watch")
}

// steady is traffic at rps with an error ratio on the canary and 0.1 % on
// the baseline.
func steady(rps, canaryRatio float64) func(string, time.Duration) (float64, float64) {
	return func(scope string, el time.Duration) (float64, float64) {
		n := rps * el.Seconds()
		if scope == providers.ScopeBaseline {
			return 9 * n * 0.001, 9 * n
		}
		return n * canaryRatio, n
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func eventsSLO() slo.SLO {
	return slo.SLO{Name: "availability", Provider: "fake", Objective: 99.9, Window: 30 * 24 * time.Hour,
		SLI: slo.SLI{ErrorQuery: "e", TotalQuery: "t"}}
}

func thresholdSLO() slo.SLO {
	return slo.SLO{Name: "latency", Provider: "fake", Objective: 99, Window: 30 * 24 * time.Hour,
		SLI: slo.SLI{Query: "q", Op: "<", Value: 0.3}}
}

func policy(baseline bool) slo.CanaryPolicy {
	p := slo.DefaultCanary()
	p.Duration, p.Interval = 10*time.Minute, 10*time.Second
	p.Canary = slo.Scope{Labels: map[string]string{"track": "canary"}}
	if baseline {
		p.Baseline = &slo.Scope{Labels: map[string]string{"track": "stable"}}
	}
	return p
}

func runWatch(t *testing.T, s slo.SLO, pol slo.CanaryPolicy, fp *fakeProvider, clock *fakeClock, ctx context.Context) *report.Decision {
	t.Helper()
	fp.start = t0
	w := &Watch{SLOs: []slo.SLO{s}, Providers: map[string]providers.Provider{"fake": fp}, Policy: pol, Clock: clock}
	d, err := w.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return d
}

func TestWatchDecisions(t *testing.T) {
	tests := map[string]struct {
		slo      slo.SLO
		pol      func(*slo.CanaryPolicy)
		fp       fakeProvider
		cancelAt time.Duration
		decision string
		ticks    int // intervals evaluated
		reason   string
	}{
		"a bad canary is rolled back at the first interval the evidence allows": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(100, 0.02)},
			decision: report.Fail, ticks: 1, reason: "crossed the rollback boundary",
		},
		"a healthy canary with plenty of traffic passes after the full duration": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(100, 0.0005)},
			decision: report.Pass, ticks: 60, reason: "rule out a burn rate of 3x",
		},
		"a canary with too little traffic is inconclusive": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(0.5, 0.0005)},
			decision: report.Inconclusive, ticks: 60, reason: "too few",
		},
		"no canary traffic follows on_no_data (inconclusive)": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(0, 0)},
			decision: report.Inconclusive, ticks: 60, reason: "served no requests",
		},
		"no canary traffic follows on_no_data (pass)": {
			slo: eventsSLO(), pol: func(p *slo.CanaryPolicy) { p.OnNoData = slo.PolicyPass }, fp: fakeProvider{events: steady(0, 0)},
			decision: report.Pass, ticks: 60, reason: "on_no_data: pass",
		},
		"a backend down for good ends the watch after consecutive_error_limit intervals": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(100, 0.0005), errAt: func(time.Duration) error { return errors.New("connection refused") }},
			decision: report.Inconclusive, ticks: 4, reason: "4 intervals in a row without readings (on_error: inconclusive)",
		},
		"a backend that comes back is survived": {
			slo: eventsSLO(),
			fp: fakeProvider{events: steady(100, 0.0005), errAt: func(el time.Duration) error {
				if el >= 20*time.Second && el <= 40*time.Second { // 3 failed reads, under the limit of 4
					return errors.New("connection refused")
				}
				return nil
			}},
			decision: report.Pass, ticks: 60,
		},
		"a signal stops the watch with no decision": {
			slo: eventsSLO(), fp: fakeProvider{events: steady(100, 0.0005)}, cancelAt: 30 * time.Second,
			decision: report.Inconclusive, ticks: 2, reason: "interrupted",
		},
		"a threshold SLI fails after two bad intervals in a row, not on one blip": {
			slo: thresholdSLO(),
			fp: fakeProvider{value: func(el time.Duration) (float64, bool) {
				switch el / (10 * time.Second) {
				case 2, 4, 5:
					return 0.5, true
				}
				return 0.1, true
			}},
			decision: report.Fail, ticks: 5, reason: "for 2 intervals in a row",
		},
		"a threshold SLI without values neither counts nor resets a run": {
			slo: thresholdSLO(),
			fp: fakeProvider{value: func(el time.Duration) (float64, bool) {
				switch el / (10 * time.Second) {
				case 2, 4:
					return 0.5, true
				case 3:
					return 0, false
				}
				return 0.1, true
			}},
			decision: report.Fail, ticks: 4,
		},
		"a threshold SLI that never reports is on_no_data": {
			slo: thresholdSLO(), fp: fakeProvider{value: func(time.Duration) (float64, bool) { return 0, false }},
			decision: report.Inconclusive, ticks: 60, reason: "no latency value",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			clock := &fakeClock{now: t0}
			if tc.cancelAt > 0 {
				clock.cancelAt, clock.cancel = t0.Add(tc.cancelAt), cancel
			}
			pol := policy(true)
			if tc.pol != nil {
				tc.pol(&pol)
			}
			fp := tc.fp
			d := runWatch(t, tc.slo, pol, &fp, clock, ctx)
			if d.Decision != tc.decision {
				t.Errorf("decision %s (%s), want %s", d.Decision, d.Reason, tc.decision)
			}
			if got := len(d.Canary.Timeline); got != tc.ticks {
				t.Errorf("%d intervals evaluated, want %d", got, tc.ticks)
			}
			if tc.reason != "" && !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.reason)
			}
		})
	}
}

func TestWatchStopsAtABadQuery(t *testing.T) {
	fp := &fakeProvider{events: steady(100, 0), errAt: func(time.Duration) error {
		return &providers.QueryError{Provider: "fake", Query: "q", Err: providers.BadQuery("returned 2 series")}
	}}
	fp.start = t0
	w := &Watch{SLOs: []slo.SLO{eventsSLO()}, Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(false), Clock: &fakeClock{now: t0}}
	if _, err := w.Run(t.Context()); !errors.Is(err, providers.ErrBadQuery) {
		t.Fatalf("err = %v, want ErrBadQuery", err)
	}
}

func TestWatchSinceInThePastShortensTheWatch(t *testing.T) {
	fp := &fakeProvider{events: func(_ string, el time.Duration) (float64, float64) { return 0, 1000 * el.Seconds() }}
	fp.start = t0.Add(-8 * time.Minute)
	w := &Watch{SLOs: []slo.SLO{eventsSLO()}, Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(false),
		Clock: &fakeClock{now: t0}, Since: t0.Add(-8 * time.Minute)}
	d, err := w.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(d.Canary.Timeline); got != 12 {
		t.Errorf("%d intervals, want 12 (the 2 minutes left of 10)", got)
	}
	if d.Canary.Elapsed != "10m" {
		t.Errorf("elapsed %s, want 10m counted from --since", d.Canary.Elapsed)
	}
}

func TestAlphaIsSplitAcrossEventSLOs(t *testing.T) {
	pol := policy(true)
	if got := testConfig(eventsSLO(), pol, 4).Alpha; fmt.Sprint(got) != "0.0025" {
		t.Errorf("alpha per SLO %v, want 0.01/4", got)
	}
}
