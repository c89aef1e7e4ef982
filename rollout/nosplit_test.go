package rollout

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// pastProvider is a service whose history is known for every second:
// requests at rps, the error ratio of each track a function of the time.
// It answers any window, offset included, and records what it was asked.
type pastProvider struct {
	rps   map[string]float64 // per track; the whole service is their sum
	ratio func(track string, t time.Time) float64

	mu   sync.Mutex
	seen []providers.Query
}

func (p *pastProvider) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	p.mu.Lock()
	p.seen = append(p.seen, q)
	p.mu.Unlock()
	return p.count(q.Scope, at, q.Window), nil
}

func (p *pastProvider) count(scope providers.Scope, at time.Time, window time.Duration) providers.Counts {
	end := scope.Shift(at)
	start := end.Add(-window)
	tracks := []string{scope.Labels["track"]}
	if tracks[0] == "" {
		tracks = []string{"canary", "stable"}
	}
	var bad, total float64
	for _, tr := range tracks {
		for t := start.Add(time.Second); !t.After(end); t = t.Add(time.Second) {
			total += p.rps[tr]
			bad += p.rps[tr] * p.ratio(tr, t)
		}
	}
	return providers.Counts{Good: total - bad, Total: total, Start: start, End: end}
}

// Slices answers the history the watch reads before it starts (to learn
// how bursty errors are): steady counts, Poisson-like.
func (p *pastProvider) Slices(_ context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	n := int(r.End.Sub(r.Start) / r.Step)
	out := make([]providers.Counts, n)
	for i := range out {
		out[i] = p.count(q.Scope, r.End.Add(-time.Duration(n-1-i)*r.Step), r.Step)
	}
	return out, nil
}

// The deploy of these tests: 200 requests/s, an SLO of 99 % (1 % errors
// allowed), 0.15 % errors before; a watch of one minute every 5 s.
const (
	before  = 0.0015
	deploy5 = 5 * before // five times worse, still under the budget
)

func noSplitPolicy(baseline *slo.Scope) slo.CanaryPolicy {
	p := slo.DefaultCanary()
	p.Duration, p.Interval, p.Baseline = time.Minute, 5*time.Second, baseline
	return p
}

func after(from float64, to float64) func(string, time.Time) float64 {
	return func(_ string, t time.Time) float64 {
		if t.After(t0) {
			return to
		}
		return from
	}
}

func runNoSplit(t *testing.T, pol slo.CanaryPolicy, p *pastProvider) *report.Decision {
	t.Helper()
	s := eventsSLO()
	s.Objective = 99
	w := &Watch{SLOs: []slo.SLO{s}, Providers: map[string]providers.Provider{"fake": p}, Policy: pol, Clock: &fakeClock{now: t0}}
	d, err := w.Run(t.Context())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return d
}

func TestAWholeServiceComparedWithItsPast(t *testing.T) {
	whole := map[string]float64{"canary": 200}
	past := &slo.Scope{Offset: time.Minute}
	for name, tc := range map[string]struct {
		pol      slo.CanaryPolicy
		rps      map[string]float64
		ratio    func(string, time.Time) float64
		decision string
	}{
		"a fivefold regression under the budget is rolled back against the minute before": {
			pol: noSplitPolicy(past), rps: whole, ratio: after(before, deploy5), decision: report.Fail,
		},
		"without a baseline it is under the budget, so it passes the absolute question": {
			pol: noSplitPolicy(nil), rps: whole, ratio: after(before, deploy5), decision: report.Pass,
		},
		"a clean deploy passes": {
			pol: noSplitPolicy(past), rps: whole, ratio: after(before, before), decision: report.Pass,
		},
		// What a past baseline cannot tell: an incident that starts at the
		// deploy for another reason (a dependency down) looks like the
		// deploy's fault. A live baseline sees it too and cancels it.
		"an incident starting at the deploy is blamed on it by a past baseline": {
			pol: noSplitPolicy(past), rps: whole, ratio: after(before, deploy5), decision: report.Fail,
		},
		"and cancelled by a live one": {
			pol: func() slo.CanaryPolicy {
				p := noSplitPolicy(&slo.Scope{Labels: map[string]string{"track": "stable"}})
				p.Canary = slo.Scope{Labels: map[string]string{"track": "canary"}}
				return p
			}(),
			rps: map[string]float64{"canary": 200, "stable": 1800}, ratio: after(before, deploy5), decision: report.Pass,
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := &pastProvider{rps: tc.rps, ratio: tc.ratio}
			d := runNoSplit(t, tc.pol, p)
			if d.Decision != tc.decision {
				t.Fatalf("decision %s (%s), want %s", d.Decision, d.Reason, tc.decision)
			}
			if d.Decision == report.Fail && (d.Canary.DecidedAt == nil || !d.Canary.DecidedAt.Before(t0.Add(time.Minute))) {
				t.Errorf("decided at %v, want within the minute", d.Canary.DecidedAt)
			}
		})
	}
}

// TestAPastBaselineReadsTheSameQueriesEarlier: every canary read is
// unscoped and live; every baseline read is the same query, Offset
// earlier, over a window of the same length, all of it before the deploy.
func TestAPastBaselineReadsTheSameQueriesEarlier(t *testing.T) {
	p := &pastProvider{rps: map[string]float64{"canary": 200}, ratio: after(before, before)}
	d := runNoSplit(t, noSplitPolicy(&slo.Scope{Offset: time.Minute}), p)
	var canary, base int
	for _, q := range p.seen {
		if len(q.Scope.Labels) != 0 {
			t.Errorf("%s read with labels %v: without a split every query is unscoped", q.Scope.Name, q.Scope.Labels)
		}
		switch q.Scope.Name {
		case providers.ScopeCanary:
			canary++
			if q.Scope.Offset != 0 {
				t.Errorf("the service was read %s in the past", q.Scope.Offset)
			}
		case providers.ScopeBaseline:
			base++
			if q.Scope.Offset != time.Minute {
				t.Errorf("the baseline was read with offset %s, want 1m", q.Scope.Offset)
			}
		}
	}
	if canary != 12 || base != 12 {
		t.Errorf("%d service and %d baseline readings, want 12 of each (one a tick)", canary, base)
	}
	c := d.Canary
	if c.Judged != "the whole service (no split: every query unscoped)" || c.BaselineDescription != "the same queries 1m earlier (offset 1m)" || c.BaselineOffset != "1m" || len(c.Baseline) != 0 || c.Labels == nil {
		t.Errorf("record: judged %q, baseline %q, offset %q, baseline labels %v, labels %v", c.Judged, c.BaselineDescription, c.BaselineOffset, c.Baseline, c.Labels)
	}
	s := c.SLOs[0]
	if s.Canary.Total != 12000 || s.Baseline.Total != 12000 {
		t.Errorf("events: service %v, baseline %v; want 12000 each (the minute after, the minute before)", s.Canary.Total, s.Baseline.Total)
	}
}

func TestAnOffsetWithLabelsReadsThatTrackEarlier(t *testing.T) {
	p := &pastProvider{rps: map[string]float64{"green": 100, "blue": 100}, ratio: after(before, before)}
	pol := noSplitPolicy(&slo.Scope{Labels: map[string]string{"track": "blue"}, Offset: 10 * time.Minute})
	pol.Canary = slo.Scope{Labels: map[string]string{"track": "green"}}
	runNoSplit(t, pol, p)
	for _, q := range p.seen {
		want := map[string]string{providers.ScopeCanary: "green/0s", providers.ScopeBaseline: "blue/10m0s"}[q.Scope.Name]
		if got := q.Scope.Labels["track"] + "/" + q.Scope.Offset.String(); got != want {
			t.Errorf("%s read %s, want %s", q.Scope.Name, got, want)
		}
	}
	p = &pastProvider{rps: map[string]float64{"green": 100}, ratio: after(before, before)}
	pol.Baseline.Labels = nil
	runNoSplit(t, pol, p)
	for _, q := range p.seen {
		if q.Scope.Labels["track"] != "green" {
			t.Errorf("%s read track %q: an offset alone reads the canary's own selection", q.Scope.Name, q.Scope.Labels["track"])
		}
	}
}
