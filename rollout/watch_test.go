package rollout

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// fakeClock jumps to whatever time the watch sleeps until; cancel, when
// set, cancels the watch at cancelAt, which is then the time.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	cancelAt time.Time
	cancel   context.CancelFunc
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil && !t.Before(c.cancelAt) {
		c.now = c.cancelAt
		c.cancel()
		return ctx.Err()
	}
	c.now = t
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
	// history answers Slices; nil: steady slices of 1,000 requests with one
	// error each (dispersion 1).
	history func(r providers.Range) ([]providers.Counts, error)
	reads   atomic.Int64
}

func (f *fakeProvider) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	f.reads.Add(1)
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

func (f *fakeProvider) Slices(_ context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if f.history != nil {
		return f.history(r)
	}
	n := int(r.End.Sub(r.Start) / r.Step)
	out := make([]providers.Counts, n)
	for i := range out {
		out[i] = providers.Counts{Good: 999, Total: 1000}
	}
	return out, nil
}

// steady is traffic at rps with an error ratio on the canary and 0.1 % on
// the baseline.
func steady(rps, canaryRatio float64) func(string, time.Duration) (float64, float64) {
	return tracks(rps, canaryRatio, 0.001)
}

// tracks is traffic at rps on the canary and 9 × rps on the baseline, with
// their error ratios.
func tracks(rps, canaryRatio, baseRatio float64) func(string, time.Duration) (float64, float64) {
	return func(scope string, el time.Duration) (float64, float64) {
		n := rps * el.Seconds()
		if scope == providers.ScopeBaseline {
			return 9 * n * baseRatio, 9 * n
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

// slowAt is a threshold SLI's value: bad (0.5) at the listed intervals,
// none at those listed as missing, good (0.1) otherwise.
func slowAt(bad []int, missing ...int) func(time.Duration) (float64, bool) {
	return func(el time.Duration) (float64, bool) {
		i := int(el / (10 * time.Second))
		for _, m := range missing {
			if i == m {
				return 0, false
			}
		}
		for _, b := range bad {
			if i == b {
				return 0.5, true
			}
		}
		return 0.1, true
	}
}

func TestWatchDecisions(t *testing.T) {
	tests := map[string]struct {
		slo      slo.SLO
		pol      func(*slo.CanaryPolicy)
		fp       *fakeProvider
		cancelAt time.Duration
		decision string
		ticks    int // intervals evaluated
		reason   string
		elapsed  string
	}{
		"a bad canary is rolled back at the first interval the evidence allows": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(100, 0.02)},
			decision: report.Fail, ticks: 1, reason: "crossed the rollback boundary",
		},
		"a healthy canary with plenty of traffic passes after the full duration": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(100, 0.0005)},
			decision: report.Pass, ticks: 60, reason: "rule out a burn rate of 3x", elapsed: "10m",
		},
		"a canary with too little traffic is inconclusive": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(0.5, 0.0005)},
			decision: report.Inconclusive, ticks: 60, reason: "too few",
		},
		"no canary traffic follows on_no_data (inconclusive)": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(0, 0)},
			decision: report.Inconclusive, ticks: 60, reason: "served no requests",
		},
		"no canary traffic follows on_no_data (pass)": {
			slo: eventsSLO(), pol: func(p *slo.CanaryPolicy) { p.OnNoData = slo.PolicyPass }, fp: &fakeProvider{events: steady(0, 0)},
			decision: report.Pass, ticks: 60, reason: "on_no_data: pass",
		},
		"a backend down for good ends the watch after consecutive_error_limit intervals": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(100, 0.0005), errAt: func(time.Duration) error { return errors.New("connection refused") }},
			decision: report.Inconclusive, ticks: 4, reason: "4 intervals in a row without readings, the last: connection refused (on_error: inconclusive)",
		},
		"a backend that comes back is survived": {
			slo: eventsSLO(),
			fp: &fakeProvider{events: steady(100, 0.0005), errAt: func(el time.Duration) error {
				if el >= 20*time.Second && el <= 40*time.Second { // 3 failed reads, under the limit of 4
					return errors.New("connection refused")
				}
				return nil
			}},
			decision: report.Pass, ticks: 60,
		},
		"a signal stops the watch with no decision, after the time it really ran": {
			slo: eventsSLO(), fp: &fakeProvider{events: steady(100, 0.0005)}, cancelAt: 25 * time.Second,
			decision: report.Inconclusive, ticks: 2, reason: "interrupted after 25s", elapsed: "25s",
		},
		"both tracks burning alike is not the canary's fault (on_baseline_breach: inconclusive)": {
			slo: eventsSLO(), fp: &fakeProvider{events: tracks(100, 0.008, 0.008)},
			decision: report.Inconclusive, ticks: 60, reason: "the baseline is burning too",
		},
		"both tracks burning alike rolls back under on_baseline_breach: fail": {
			slo: eventsSLO(), pol: func(p *slo.CanaryPolicy) { p.OnBaselineBreach = slo.PolicyFail },
			fp:       &fakeProvider{events: tracks(100, 0.008, 0.008)},
			decision: report.Fail, ticks: 1, reason: "the baseline's is 0.800%",
		},
		"a canary much worse than a burning baseline is rolled back": {
			slo: eventsSLO(), fp: &fakeProvider{events: tracks(100, 0.08, 0.008)},
			decision: report.Fail, ticks: 1, reason: "the baseline's",
		},
		"a threshold SLI fails on repeated bad intervals, not on one blip": {
			slo: thresholdSLO(), fp: &fakeProvider{value: slowAt([]int{2, 4, 5})},
			decision: report.Fail, ticks: 4, reason: "in 2 of 4 intervals",
		},
		"a threshold SLI with one blip passes": {
			slo: thresholdSLO(), fp: &fakeProvider{value: slowAt([]int{7})},
			decision: report.Pass, ticks: 60, reason: "1 of 60 intervals missed < 0.3",
		},
		"a threshold SLI bad every fifth interval fails though never twice in a row": {
			slo: thresholdSLO(), fp: &fakeProvider{value: slowAt([]int{5, 10, 15, 20, 25, 30})},
			decision: report.Fail, ticks: 15, reason: "in 3 of 15 intervals",
		},
		"a threshold SLI without values neither counts nor resets": {
			slo: thresholdSLO(), fp: &fakeProvider{value: slowAt([]int{2, 4}, 3)},
			decision: report.Fail, ticks: 4,
		},
		"a threshold SLI that never reports is on_no_data": {
			slo: thresholdSLO(), fp: &fakeProvider{value: func(time.Duration) (float64, bool) { return 0, false }},
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
			d := runWatch(t, tc.slo, pol, tc.fp, clock, ctx)
			if d.Decision != tc.decision {
				t.Errorf("decision %s (%s), want %s", d.Decision, d.Reason, tc.decision)
			}
			if got := len(d.Canary.Timeline); got != tc.ticks {
				t.Errorf("%d intervals evaluated, want %d", got, tc.ticks)
			}
			if tc.reason != "" && !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.reason)
			}
			if tc.elapsed != "" && d.Canary.Elapsed != tc.elapsed {
				t.Errorf("elapsed %s, want %s", d.Canary.Elapsed, tc.elapsed)
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

// TestWatchRejectsARatioSLI: a raw error ratio has no counts to test; the
// engine itself refuses it, before reading anything (it used to judge a
// healthy ratio as a failing threshold with no operator).
func TestWatchRejectsARatioSLI(t *testing.T) {
	fp := &fakeProvider{events: steady(100, 0), value: func(time.Duration) (float64, bool) { return 0.0001, true }}
	ratio := slo.SLO{Name: "search", Provider: "fake", Objective: 99.5, SLI: slo.SLI{ErrorRatioQuery: "r"}}
	w := &Watch{SLOs: []slo.SLO{eventsSLO(), ratio}, Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(true), Clock: &fakeClock{now: t0}}
	d, err := w.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), `slo "search": watch needs event counts, not a ratio`) {
		t.Fatalf("Run = %v, %v; want the ratio SLI rejected", d, err)
	}
	if n := fp.reads.Load(); n != 0 {
		t.Errorf("%d readings taken before rejecting the SLO, want none", n)
	}
}

// lateClock is a watch started at now, long after --since: it records
// every time the watch waited for, and moves only forward.
type lateClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Time // sleeps that had to wait (their time was after now)
}

func (c *lateClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *lateClock) Sleep(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.waited = append(c.waited, t)
		c.now = t
	}
	return ctx.Err()
}

// readsAt records the latest time a provider was read at.
type readsAt struct {
	*fakeProvider
	mu     sync.Mutex
	latest time.Time
}

func (r *readsAt) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	r.mu.Lock()
	if at.After(r.latest) {
		r.latest = at
	}
	r.mu.Unlock()
	return r.fakeProvider.Counts(ctx, q, at)
}

// TestAWatchStartedLateReadsItsOwnWindow: the watch is (since, since +
// duration], read every interval from since, whenever it starts. The
// intervals already past are read at once at their own times; the watch
// never reads beyond the window's end, so a canary that breached in its
// window is rolled back however late the watch starts.
func TestAWatchStartedLateReadsItsOwnWindow(t *testing.T) {
	since := t0.Add(-12 * time.Hour)
	// 10× the budget for the first 30 minutes after since, then healthy
	tenfoldThenHealthy := func(scope string, el time.Duration) (float64, float64) {
		n := 100 * el.Seconds()
		if scope == providers.ScopeBaseline {
			return 9 * n * 0.0005, 9 * n
		}
		bad := n * 0.0005
		if el > 0 {
			bad += 100 * min(el, 30*time.Minute).Seconds() * (0.01 - 0.0005)
		}
		return bad, n
	}
	tests := map[string]struct {
		startAfter time.Duration // how long after since the watch starts
		events     func(string, time.Duration) (float64, float64)
		decision   string
		decidedAt  time.Duration // after since; 0: not decided early
		ticks      int
		waited     int    // intervals waited for; the rest were past at the start
		logs       string // what the log says of the late start (it always says)
	}{
		"12 hours late, a canary that breached in its window is rolled back at its own time": {
			startAfter: 12 * time.Hour, events: tenfoldThenHealthy, decision: report.Fail, decidedAt: 10 * time.Second, ticks: 1,
			logs: "late=12h intervals_past=60",
		},
		"12 hours late, a healthy canary is judged on its ten minutes only": {
			startAfter: 12 * time.Hour, events: steady(100, 0.0005), decision: report.Pass, ticks: 60,
			logs: "intervals_past=60",
		},
		"8 minutes into its window, 48 intervals are read at once and 12 waited for": {
			startAfter: 8 * time.Minute, events: steady(100, 0.0005), decision: report.Pass, ticks: 60, waited: 12,
			logs: "intervals_past=48",
		},
		"8 minutes and 5 seconds in, the interval under way is waited for": {
			startAfter: 8*time.Minute + 5*time.Second, events: steady(100, 0.0005), decision: report.Pass, ticks: 60, waited: 12,
			logs: "late=8m5s intervals_past=48",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fp := &readsAt{fakeProvider: &fakeProvider{events: tc.events, start: since}}
			clock := &lateClock{now: since.Add(tc.startAfter)}
			var logs bytes.Buffer
			w := &Watch{SLOs: []slo.SLO{eventsSLO()}, Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(true), Since: since, Clock: clock,
				Log: slog.New(slog.NewTextHandler(&logs, nil))}
			d, err := w.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if d.Decision != tc.decision || len(d.Canary.Timeline) != tc.ticks || len(clock.waited) != tc.waited {
				t.Fatalf("%s after %d intervals, %d waited for (%v), want %s after %d, %d waited for: %s",
					d.Decision, len(d.Canary.Timeline), len(clock.waited), clock.waited, tc.decision, tc.ticks, tc.waited, d.Reason)
			}
			for i, tk := range d.Canary.Timeline {
				if want := since.Add(time.Duration(i+1) * 10 * time.Second); !tk.At.Equal(want) {
					t.Errorf("interval %d read at %s, want %s (since + k·interval)", i+1, tk.At, want)
				}
			}
			if end := since.Add(10 * time.Minute); fp.latest.After(end) {
				t.Errorf("read at %s, after the window's end %s", fp.latest, end)
			}
			switch {
			case tc.decidedAt > 0 && (d.Canary.DecidedAt == nil || !d.Canary.DecidedAt.Equal(since.Add(tc.decidedAt))):
				t.Errorf("decided at %v, want %s", d.Canary.DecidedAt, since.Add(tc.decidedAt))
			case tc.decidedAt == 0 && d.Canary.Elapsed != "10m":
				t.Errorf("elapsed %s, want 10m counted from --since", d.Canary.Elapsed)
			}
			if !strings.Contains(logs.String(), "the watch starts after --since") || !strings.Contains(logs.String(), tc.logs) {
				t.Errorf("log %q, want it to say %q", logs.String(), tc.logs)
			}
		})
	}
}

// TestTheRecordSpeaksInWholeRequestsAndTheSLOsWindow: millions of
// requests are written out in full (not 2.4e+06), and the record's SLO
// is the SLO as configured (99.9 % over 30d), not the time watched.
func TestTheRecordSpeaksInWholeRequestsAndTheSLOsWindow(t *testing.T) {
	d := runWatch(t, eventsSLO(), policy(true), &fakeProvider{events: steady(4000, 0.0005)}, &fakeClock{now: t0}, t.Context())
	if d.Decision != report.Pass || !strings.Contains(d.Reason, ": 2400000 canary requests rule out a burn rate of 3x or worse") {
		t.Errorf("%s: %s", d.Decision, d.Reason)
	}
	if s := d.SLOs[0]; s.Window != "30d" || s.Objective != 99.9 || d.Canary.Elapsed != "10m" {
		t.Errorf("record SLO %s over %q, watched %s; want 99.9 over 30d, watched 10m", s.Name, s.Window, d.Canary.Elapsed)
	}
	bad := runWatch(t, eventsSLO(), policy(true), &fakeProvider{events: steady(400000, 0.01)}, &fakeClock{now: t0}, t.Context())
	if !strings.Contains(bad.Reason, "canary error ratio 1.000% (40000 of 4000000 requests)") {
		t.Errorf("%s: %s", bad.Decision, bad.Reason)
	}
}

func TestAlphaIsSplitAcrossAllSLOs(t *testing.T) {
	fp := &fakeProvider{events: steady(100, 0.0005), value: slowAt(nil)}
	fp.start = t0
	other := eventsSLO()
	other.Name = "availability-eu"
	w := &Watch{SLOs: []slo.SLO{eventsSLO(), other, thresholdSLO(), {Name: "cpu", Provider: "fake", Objective: 99, SLI: slo.SLI{Query: "c", Op: "<", Value: 1}}},
		Providers: map[string]providers.Provider{"fake": fp}, Policy: policy(true), Clock: &fakeClock{now: t0}}
	d, err := w.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Canary.SLOs {
		sum := 0.0
		for _, ts := range s.Tests {
			sum += ts.Alpha
		}
		if diff := sum - 0.01/4; diff > 1e-12 || diff < -1e-12 {
			t.Errorf("slo %s spends α %g over its tests %v, want 0.01/4", s.Name, sum, s.Tests)
		}
	}
}

func TestPastTicksCountsTheIntervalsDueAtTheStart(t *testing.T) {
	for name, tc := range map[string]struct {
		after, duration time.Duration
		want            int
	}{
		"on time":                                {0, 10 * time.Minute, 0},
		"8 minutes in":                           {8 * time.Minute, 10 * time.Minute, 16},
		"8 minutes and 5 seconds in":             {8*time.Minute + 5*time.Second, 10 * time.Minute, 16},
		"after the end":                          {12 * time.Hour, 10 * time.Minute, 20},
		"after an end off the grid: a short one": {time.Hour, 95 * time.Second, 4},
	} {
		since := t0
		if got := pastTicks(since, since.Add(tc.after), since.Add(tc.duration), 30*time.Second); got != tc.want {
			t.Errorf("%s: %d intervals past, want %d", name, got, tc.want)
		}
	}
}

// TestTheAllowedRatioIsTheSLOsWithoutReadings: a watch interrupted
// before its first interval has no evidence, yet the record (and the
// ALLOWED column) says what the canary is allowed: the budget ×
// healthy_burn_rate, not 0.
func TestTheAllowedRatioIsTheSLOsWithoutReadings(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	clock := &fakeClock{now: t0, cancelAt: t0.Add(5 * time.Second), cancel: cancel}
	d := runWatch(t, eventsSLO(), policy(true), &fakeProvider{events: steady(100, 0)}, clock, ctx)
	s := d.Canary.SLOs[0]
	if len(d.Canary.Timeline) != 0 || math.Abs(s.AllowedRatio-0.001) > 1e-12 {
		t.Fatalf("%d intervals, allowed_error_ratio %v; want none, 0.001 (99.9 %%, healthy burn rate 1)", len(d.Canary.Timeline), s.AllowedRatio)
	}
	var b strings.Builder
	if err := (report.Text{}).Render(&b, d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "≤ 0.100%") || strings.Contains(b.String(), "≤ 0.000%") {
		t.Errorf("the table does not allow 0.100%%:\n%s", b.String())
	}
	// A record without the figure shows "-", not 0.
	s.AllowedRatio = 0
	d.Canary.SLOs[0] = s
	b.Reset()
	if err := (report.Text{}).Render(&b, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "≤ 0.000%") {
		t.Errorf("a record without allowed_error_ratio shows 0:\n%s", b.String())
	}
}
