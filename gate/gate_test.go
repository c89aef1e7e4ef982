package gate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

const day = 24 * time.Hour

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fake answers Counts per window from a table, ErrNoData for a window it
// does not know, and Slices from a list.
type fake struct {
	counts   map[time.Duration]providers.Counts
	errs     map[time.Duration]error
	slices   []providers.Counts
	sliceErr error
}

func (f *fake) Counts(_ context.Context, q providers.Query, _ time.Time) (providers.Counts, error) {
	if err := f.errs[q.Window]; err != nil {
		return providers.Counts{}, err
	}
	c, ok := f.counts[q.Window]
	if !ok {
		return providers.Counts{}, providers.ErrNoData
	}
	return c, nil
}

func (f *fake) Slices(context.Context, providers.Query, providers.Range) ([]providers.Counts, error) {
	return f.slices, f.sliceErr
}

// steady is a provider whose every window has the same error ratio, one
// request a second.
func steady(ratio float64) *fake {
	f := &fake{counts: map[time.Duration]providers.Counts{}, errs: map[time.Duration]error{}}
	for _, w := range []time.Duration{30 * day, 5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour, 3 * day} {
		f.set(w, ratio)
	}
	return f
}

func (f *fake) set(w time.Duration, ratio float64) {
	total := w.Seconds()
	f.counts[w] = providers.Counts{Good: total * (1 - ratio), Total: total}
}

func goodSLO() slo.SLO {
	return slo.SLO{
		Name: "checkout", Provider: "prom", Objective: 99.9, Window: 30 * day, Budgeting: slo.Occurrences,
		SLI: slo.SLI{ErrorQuery: "errors", TotalQuery: "total"},
	}
}

func goodPolicy() slo.GatePolicy {
	return slo.GatePolicy{BurnAlerts: slo.DefaultBurnAlerts(), OnNoData: slo.PolicyPass, OnError: slo.PolicyInconclusive}
}

var outage = errors.New("connection refused")

func TestEvaluateOccurrences(t *testing.T) {
	tests := map[string]struct {
		prov     *fake
		policy   func(*slo.GatePolicy)
		decision string
		reason   string  // a substring of the joined reasons
		budget   float64 // NaN: no figure
		burn5m   float64 // NaN: null, no burn rate
	}{
		"a healthy service passes":                              {steady(0.0002), nil, report.Pass, "", 80, 0.2},
		"a spent budget closes the gate":                        {steady(0.002), nil, report.Fail, "error budget spent: -100.0% left", -100, 2},
		"a budget under the policy's floor closes it":           {steady(0.0002), func(p *slo.GatePolicy) { p.MinBudgetRemaining = 90 }, report.Fail, "error budget low: 80.0% left, the policy needs 90%", 80, 0.2},
		"both windows of a pair above the factor close":         {burst(0.02, time.Hour, 5*time.Minute), nil, report.Fail, "burning budget 20.0× (1h) and 20.0× (5m)", 80, 20},
		"one window of a pair above it is not enough":           {burst(0.02, 5*time.Minute), nil, report.Pass, "", 80, 20},
		"no traffic follows on_no_data":                         {withErr(steady(0.0002), 30*day, providers.ErrNoData), func(p *slo.GatePolicy) { p.OnNoData = slo.PolicyFail }, report.Fail, "no traffic in the 30d window (on_no_data: fail)", math.NaN(), 0},
		"zero requests are no traffic too":                      {zero(steady(0.0002), 30*day), func(p *slo.GatePolicy) { p.OnNoData = slo.PolicyInconclusive }, report.Inconclusive, "no traffic in the 30d window", math.NaN(), 0},
		"an unreadable SLO window follows on_error":             {withErr(steady(0.0002), 30*day, outage), nil, report.Inconclusive, "cannot read the SLI: connection refused (on_error: inconclusive)", math.NaN(), 0},
		"series without requests in a burn window burn nothing": {zero(steady(0.0002), 5*time.Minute), nil, report.Pass, "", 80, 0},
		"a burn window without data is unknown, and on_error decides": {
			withErr(steady(0.0002), 5*time.Minute, providers.ErrNoData), nil,
			report.Inconclusive, "no data in the last 5m: cannot tell whether it is burning — is the exporter or scrape down? (on_error: inconclusive)", 80, math.NaN(),
		},
		"burn windows without data under on_error: pass open the gate by policy": {
			withErr(withErr(steady(0.0002), 5*time.Minute, providers.ErrNoData), 30*time.Minute, providers.ErrNoData), func(p *slo.GatePolicy) { p.OnError = slo.PolicyPass },
			report.Pass, "no data in the last 5m and 30m: cannot tell whether it is burning — is the exporter or scrape down? (on_error: pass)", 80, math.NaN(),
		},
		"a burn window nobody recorded is unknown too, said so": {
			withErr(steady(0.0002), 5*time.Minute, providers.ErrNotRecorded), nil,
			report.Inconclusive, "no value recorded for the 5m burn-rate window(s): cannot tell whether it is burning — record them, or leave their pairs out of gate.burn_rate_alerts (on_error: inconclusive)", 80, math.NaN(),
		},
		"a firing pair closes the gate even when another window has no data": {
			withErr(burst(0.02, 6*time.Hour, 30*time.Minute), 5*time.Minute, providers.ErrNoData), func(p *slo.GatePolicy) { p.OnError = slo.PolicyPass },
			report.Fail, "burning budget 20.0× (6h) and 20.0× (30m) the sustainable rate, above 6× | no data in the last 5m", 80, math.NaN(),
		},
		"an unreadable burn window leaves an open gate to on_error": {
			withErr(steady(0.0002), 5*time.Minute, outage), func(p *slo.GatePolicy) { p.OnError = slo.PolicyFail },
			report.Fail, "cannot read the 5m burn rate: connection refused (on_error: fail)", 80, math.NaN(),
		},
		"a spent budget closes the gate even when a burn window cannot be read": {
			withErr(steady(0.002), 5*time.Minute, outage), func(p *slo.GatePolicy) { p.OnError = slo.PolicyPass },
			report.Fail, "error budget spent", -100, math.NaN(),
		},
		"a firing pair closes the gate even when another pair cannot be read": {
			withErr(burst(0.02, time.Hour, 5*time.Minute), 6*time.Hour, outage), func(p *slo.GatePolicy) { p.OnError = slo.PolicyPass },
			report.Fail, "cannot read the 6h burn rate", 80, 20,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pol := goodPolicy()
			if tc.policy != nil {
				tc.policy(&pol)
			}
			r, err := evaluate(context.Background(), goodSLO(), pol, tc.prov, at)
			if err != nil {
				t.Fatal(err)
			}
			why := strings.Join(r.Reasons, " | ")
			if r.Decision != tc.decision || (tc.reason == "") != (why == "") || !strings.Contains(why, tc.reason) {
				t.Errorf("decision %q, reasons %q; want %q with %q", r.Decision, why, tc.decision, tc.reason)
			}
			switch {
			case math.IsNaN(tc.budget) && r.ErrorBudgetRemaining != nil:
				t.Errorf("error_budget_remaining = %v, want none", *r.ErrorBudgetRemaining)
			case !math.IsNaN(tc.budget) && (r.ErrorBudgetRemaining == nil || math.Abs(*r.ErrorBudgetRemaining-tc.budget) > 1e-6):
				t.Errorf("error_budget_remaining = %v, want %v", r.ErrorBudgetRemaining, tc.budget)
			}
			if b, ok := r.BurnRates["5m"]; !math.IsNaN(tc.budget) && (!ok || (b == nil) != math.IsNaN(tc.burn5m) || (b != nil && math.Abs(*b-tc.burn5m) > 1e-6)) {
				t.Errorf("burn_rates[5m] = %v, want %v (NaN: null)", show(b), tc.burn5m)
			}
			if r.Error != "" && r.Decision == report.Pass && !strings.Contains(why, "(on_error: pass)") {
				t.Errorf("a pass with an error %q must say it is by policy: %q", r.Error, why)
			}
		})
	}
}

// burst is steady at 0.0002 with a higher ratio in the given windows.
func burst(ratio float64, windows ...time.Duration) *fake {
	f := steady(0.0002)
	for _, w := range windows {
		f.set(w, ratio)
	}
	return f
}

func withErr(f *fake, w time.Duration, err error) *fake { f.errs[w] = err; return f }

func zero(f *fake, w time.Duration) *fake { f.counts[w] = providers.Counts{}; return f }

func TestUnreadableWindowsReadTheSameOnEveryRun(t *testing.T) {
	prov := withErr(withErr(steady(0.0002), 30*time.Minute, outage), 5*time.Minute, outage)
	want := "cannot read the 5m burn rate: connection refused; cannot read the 30m burn rate: connection refused (on_error: inconclusive)"
	for range 20 {
		r, err := evaluate(context.Background(), goodSLO(), goodPolicy(), prov, at)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Reasons, " | "); got != want || len(r.BurnRates) != 4 || r.BurnRates["5m"] != nil || r.BurnRates["30m"] != nil || r.BurnRates["1h"] == nil {
			t.Fatalf("reasons %q with burn rates %v; want %q, the two unread windows null", got, r.BurnRates, want)
		}
	}
}

func TestABadQueryInAnyWindowStopsTheCheck(t *testing.T) {
	prov := withErr(steady(0.0002), time.Hour, &providers.QueryError{Provider: "prom", Query: "q", Err: providers.BadQuery("parse error")})
	_, err := evaluate(context.Background(), goodSLO(), goodPolicy(), prov, at)
	if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), `slo "checkout"`) {
		t.Errorf("err = %v, want a bad query naming the SLO", err)
	}
}

func TestEvaluateTimeslices(t *testing.T) {
	// One hour of 5-minute slices against 90 %: 1.2 bad slices allowed.
	sliceSLO := func(sli slo.SLI) slo.SLO {
		s := goodSLO()
		s.Objective, s.Window, s.Budgeting = 90, time.Hour, slo.Timeslices
		s.Timeslice, s.SLI = slo.Timeslice{Window: 5 * time.Minute, Target: 99}, sli
		return s
	}
	events := func(bad ...int) []providers.Counts { // error ratio in percent per slice
		out := make([]providers.Counts, 12)
		for i := range out {
			out[i] = providers.Counts{Good: 100, Total: 100}
		}
		for _, b := range bad {
			out[b].Good = 95
		}
		return out
	}
	values := func(vs ...float64) []providers.Counts {
		out := make([]providers.Counts, len(vs))
		for i, v := range vs {
			out[i] = providers.Counts{Value: v, Total: 1}
		}
		return out
	}
	threshold := slo.SLI{Query: "latency", Op: "<", Value: 0.3}
	tests := map[string]struct {
		slo      slo.SLO
		prov     *fake
		decision string
		good     int
		budget   float64
		burn30m  float64
	}{
		"one bad slice of twelve leaves a sixth of the budget": {sliceSLO(goodSLO().SLI), &fake{slices: events(0)}, report.Pass, 11, 100 * (1 - 1/1.2), 0},
		"two bad slices overspend it":                          {sliceSLO(goodSLO().SLI), &fake{slices: events(0, 11)}, report.Fail, 10, 100 * (1 - 2/1.2), 1.0 / 6 / 0.1},
		"slices without traffic are good": {
			sliceSLO(goodSLO().SLI), &fake{slices: append(events()[:11], providers.Counts{}), counts: map[time.Duration]providers.Counts{5 * time.Minute: {}}}, report.Pass, 12, 100, 0,
		},
		"threshold slices are judged by op and value": {
			sliceSLO(threshold), &fake{slices: values(0.1, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)}, report.Pass, 11, 100 * (1 - 1/1.2), 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := evaluate(context.Background(), tc.slo, goodPolicy(), tc.prov, at)
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision != tc.decision || r.Slices == nil || r.Slices.Good != tc.good || r.Slices.Total != 12 {
				t.Errorf("decision %q, slices %+v; want %q, %d good of 12", r.Decision, r.Slices, tc.decision, tc.good)
			}
			if r.ErrorBudgetRemaining == nil || math.Abs(*r.ErrorBudgetRemaining-tc.budget) > 1e-4 {
				t.Errorf("error_budget_remaining = %v, want %v", r.ErrorBudgetRemaining, tc.budget)
			}
			if got := r.BurnRates["30m"]; got == nil || math.Abs(*got-tc.burn30m) > 1e-4 {
				t.Errorf("burn_rates[30m] = %v, want %v", show(got), tc.burn30m)
			}
			if _, ok := r.BurnRates["6h"]; ok {
				t.Error("12 slices cannot resolve a 6h window, yet it has a burn rate")
			}
		})
	}
	t.Run("no slice with traffic is no data", func(t *testing.T) {
		r, _ := evaluate(context.Background(), sliceSLO(goodSLO().SLI), goodPolicy(), &fake{slices: make([]providers.Counts, 12)}, at)
		if r.Decision != report.Pass || !strings.Contains(strings.Join(r.Reasons, ""), "no traffic in the 1h window (on_no_data: pass)") {
			t.Errorf("decision %q, reasons %q", r.Decision, r.Reasons)
		}
	})
	t.Run("empty slices in a window with traffic are slices too short, not a pass", func(t *testing.T) {
		prov := &fake{slices: make([]providers.Counts, 12), counts: map[time.Duration]providers.Counts{time.Hour: {Good: 3600, Total: 3600}}}
		_, err := evaluate(context.Background(), sliceSLO(goodSLO().SLI), goodPolicy(), prov, at)
		if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), "no 5m slice has a value, yet the 1h window has data") {
			t.Errorf("err = %v, want a bad query saying the slices are too short", err)
		}
	})
	// The source stopped 10 minutes ago: the last two slices have no
	// value, and the 5m window no series at all. Its burn rate is unknown
	// (null, not 0), as an occurrences SLO's is, and on_error decides;
	// the 30m window has slices with values and is read from them.
	stopped := func(slices []providers.Counts) *fake {
		slices[10], slices[11] = providers.Counts{}, providers.Counts{}
		return &fake{slices: slices, counts: map[time.Duration]providers.Counts{}, errs: map[time.Duration]error{5 * time.Minute: providers.ErrNoData}}
	}
	for name, sli := range map[string]slo.SLI{"events": goodSLO().SLI, "threshold": threshold} {
		t.Run("a burn window without data is unknown: "+name, func(t *testing.T) {
			slices := events()
			if name == "threshold" {
				slices = values(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1)
			}
			for _, tc := range []struct {
				onError, decision, reason string
			}{
				{slo.PolicyInconclusive, report.Inconclusive, "no data in the last 5m: cannot tell whether it is burning — is the exporter or scrape down? (on_error: inconclusive)"},
				{slo.PolicyPass, report.Pass, "no data in the last 5m: cannot tell whether it is burning — is the exporter or scrape down? (on_error: pass)"},
			} {
				pol := goodPolicy()
				pol.OnError = tc.onError
				r, err := evaluate(context.Background(), sliceSLO(sli), pol, stopped(slices), at)
				if err != nil {
					t.Fatal(err)
				}
				if r.Decision != tc.decision || strings.Join(r.Reasons, " | ") != tc.reason || r.Error == "" {
					t.Errorf("decision %q, reasons %q, error %q; want %q, %q", r.Decision, r.Reasons, r.Error, tc.decision, tc.reason)
				}
				if b, ok := r.BurnRates["5m"]; !ok || b != nil || r.BurnRates["30m"] == nil {
					t.Errorf("burn rates 5m %v (present %v), 30m %v; want 5m null, 30m read", show(b), ok, show(r.BurnRates["30m"]))
				}
				if len(r.Warnings) != 1 || r.Warnings[0] != "no data in the last 5m: cannot tell whether it is burning — is the exporter or scrape down?" {
					t.Errorf("warnings %q", r.Warnings)
				}
			}
		})
	}
	t.Run("a burn window that cannot be read is unknown too", func(t *testing.T) {
		prov := stopped(events())
		prov.errs[5*time.Minute] = outage
		r, _ := evaluate(context.Background(), sliceSLO(goodSLO().SLI), goodPolicy(), prov, at)
		if r.Decision != report.Inconclusive || r.Error != "cannot read the 5m burn rate: connection refused" || r.BurnRates["5m"] != nil {
			t.Errorf("decision %q, error %q, 5m %v", r.Decision, r.Error, show(r.BurnRates["5m"]))
		}
	})
	t.Run("a spent budget stays closed whatever on_error says", func(t *testing.T) {
		pol := goodPolicy()
		pol.OnError = slo.PolicyPass
		r, _ := evaluate(context.Background(), sliceSLO(goodSLO().SLI), pol, stopped(events(0, 1)), at)
		if r.Decision != report.Fail || !strings.Contains(strings.Join(r.Reasons, " | "), "no data in the last 5m") {
			t.Errorf("decision %q, reasons %q; want fail, the unknown window said", r.Decision, r.Reasons)
		}
	})
	t.Run("an outage follows on_error", func(t *testing.T) {
		r, _ := evaluate(context.Background(), sliceSLO(goodSLO().SLI), goodPolicy(), &fake{sliceErr: outage}, at)
		if r.Decision != report.Inconclusive || r.Error == "" {
			t.Errorf("decision %q, error %q; want inconclusive with the error", r.Decision, r.Error)
		}
	})
}

func TestCheck(t *testing.T) {
	cfg := &slo.Config{Source: "sloguard.yaml", Gate: goodPolicy(), SLOs: []slo.SLO{goodSLO(), goodSLO()}}
	cfg.SLOs[1].Name = "search"
	spent := map[string]providers.Provider{"prom": steady(0.002)}
	tests := map[string]struct {
		provs    map[string]providers.Provider
		opts     Options
		decision string
		reason   string
		slos     int
	}{
		"a failing SLO closes the gate":        {spent, Options{At: at}, report.Fail, "gate closed: checkout: error budget spent", 2},
		"an override opens it, keeping why":    {spent, Options{At: at, Override: "INC-42"}, report.Overridden, "overridden (INC-42) — gate closed", 2},
		"an override on an open gate is moot":  {map[string]providers.Provider{"prom": steady(0)}, Options{At: at, Override: "INC-42"}, report.Pass, "gate open: 2 SLO(s)", 2},
		"--slo picks SLOs in the config order": {spent, Options{At: at, SLOs: []string{"search"}}, report.Fail, "gate closed: search", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := Check(context.Background(), cfg, tc.provs, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Decision != tc.decision || !strings.HasPrefix(d.Reason, tc.reason) || len(d.SLOs) != tc.slos || !d.EvaluatedAt.Equal(at) {
				t.Errorf("decision %q, reason %q, %d SLOs, at %s; want %q, %q…, %d", d.Decision, d.Reason, len(d.SLOs), d.EvaluatedAt, tc.decision, tc.reason, tc.slos)
			}
		})
	}
	t.Run("an unknown --slo names what the config has", func(t *testing.T) {
		_, err := Check(context.Background(), cfg, spent, Options{At: at, SLOs: []string{"nope", "checkout"}})
		var u *UnknownSLOError
		if !errors.As(err, &u) || err.Error() != "--slo nope: no such SLO in the config; it has checkout, search" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an SLO whose provider is missing is an error", func(t *testing.T) {
		_, err := Check(context.Background(), cfg, map[string]providers.Provider{}, Options{At: at})
		if err == nil || !strings.Contains(err.Error(), `provider "prom" is not configured`) {
			t.Errorf("err = %v", err)
		}
	})
}

// show prints a burn rate or null.
func show(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}
