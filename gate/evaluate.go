package gate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

type reading struct {
	c   providers.Counts
	err error
}

// windowsOf lists the windows an occurrences SLO is read over: its own and
// every burn-rate window, without repeats.
func windowsOf(s slo.SLO, pol slo.GatePolicy) []time.Duration {
	ws := []time.Duration{s.Window}
	for _, w := range slo.BurnWindows(pol.BurnAlerts) {
		if w != s.Window {
			ws = append(ws, w)
		}
	}
	return ws
}

// evaluate reads one SLO over its window and every burn-rate window, all
// at once, and applies the policy.
func evaluate(ctx context.Context, s slo.SLO, pol slo.GatePolicy, p providers.Provider, at time.Time) (report.SLO, error) {
	if p == nil || s.Budgeting == slo.Timeslices {
		return decideSLO(ctx, s, pol, p, at, nil)
	}
	readings := map[time.Duration]*reading{}
	var jobs []job
	for _, w := range windowsOf(s, pol) {
		rd := &reading{}
		readings[w] = rd
		jobs = append(jobs, job{window: w, run: func(ctx context.Context) {
			rd.c, rd.err = p.Counts(ctx, serviceQuery(s, w), at)
		}})
	}
	runJobs(ctx, jobs, len(jobs))
	return decideSLO(ctx, s, pol, p, at, readings)
}

// decideSLO applies the policy to readings already taken (timeslices SLOs
// read their slices here).
func decideSLO(ctx context.Context, s slo.SLO, pol slo.GatePolicy, p providers.Provider, at time.Time, readings map[time.Duration]*reading) (report.SLO, error) {
	r := report.SLO{
		Name: s.Name, Service: s.Service, Objective: s.Objective, Window: slo.FormatDuration(s.Window),
		Budgeting: s.Budgeting, BurnRates: map[string]*float64{}, Reasons: []string{},
	}
	if p == nil {
		return r, fmt.Errorf("slo %q: provider %q is not configured", s.Name, s.Provider)
	}
	if s.Budgeting == slo.Timeslices {
		return evaluateSlices(ctx, s, pol, p, at, r)
	}
	windows := windowsOf(s, pol)
	main := readings[s.Window]
	r.Queries = main.c.Resolved
	// An empty query over the SLO's window may be a misspelt metric (a bad
	// query) or a quiet service: ask the backend, only then.
	main.err = providers.Explain(ctx, p, serviceQuery(s, s.Window), at, main.c, main.err)
	for _, w := range windows { // in order, so the same query is blamed each run
		if rd := readings[w]; errors.Is(rd.err, providers.ErrBadQuery) {
			return r, fmt.Errorf("slo %q: %w", s.Name, rd.err)
		}
	}
	switch {
	case main.err != nil && !errors.Is(main.err, providers.ErrNoData):
		return applyPolicy(r, pol.OnError, "on_error", "cannot read the SLI: "+main.err.Error()), nil
	case main.err != nil || main.c.Total <= 0:
		return noData(r, pol, main.err), nil
	}
	ratio, _ := slo.ErrorRatio(main.c.Bad(), main.c.Total)
	r.SLI = ptr(slo.SLIPercent(ratio))
	r.ErrorBudgetRemaining = ptr(slo.BudgetRemaining(ratio, s.Objective))
	if s.SLI.Kind() == slo.KindEvents {
		r.Events = &report.Events{Good: main.c.Good, Total: main.c.Total}
	}
	// Shortest window first, so that the record and its reasons read the
	// same on every run. A burn rate that cannot be known is null, never
	// 0: "not burning" must be measured.
	var u unknownBurns
	for _, w := range slo.BurnWindows(pol.BurnAlerts) {
		rd, key := readings[w], slo.FormatDuration(w)
		switch {
		case rd.err != nil:
			r.BurnRates[key] = nil
			u.add(key, rd.err)
		case rd.c.Total <= 0:
			r.BurnRates[key] = ptr(0) // series without requests: no traffic burns nothing
		default:
			wr, _ := slo.ErrorRatio(rd.c.Bad(), rd.c.Total)
			r.BurnRates[key] = ptr(slo.BurnRate(wr, s.Objective))
		}
	}
	return u.decide(r, pol), nil
}

// unknownBurns are the burn-rate windows whose burn cannot be known.
type unknownBurns struct {
	unread     []string // the backend failed
	empty      []string // no series at all: the source stopped
	unrecorded []string // static: nobody recorded a value
}

// add files a burn window's reading error by what it says.
func (u *unknownBurns) add(key string, err error) {
	switch {
	case !errors.Is(err, providers.ErrNoData):
		u.unread = append(u.unread, fmt.Sprintf("cannot read the %s burn rate: %v", key, err))
	case errors.Is(err, providers.ErrNotRecorded):
		u.unrecorded = append(u.unrecorded, key)
	default:
		// No series at all, though the SLO window has data: the source
		// stopped (an exporter or a scrape down, every instance gone),
		// which tells nothing about the burn.
		u.empty = append(u.empty, key)
	}
}

// decide applies the policy to r, whose burn rates are set (nil where
// unknown): the unknown ones are warnings, and on_error decides unless
// what could be read already closes the gate.
func (u unknownBurns) decide(r report.SLO, pol slo.GatePolicy) report.SLO {
	var unknown []string
	if len(u.empty) > 0 {
		unknown = append(unknown, fmt.Sprintf("no data in the last %s: cannot tell whether it is burning — is the exporter or scrape down?", joinAnd(u.empty)))
	}
	if len(u.unrecorded) > 0 {
		unknown = append(unknown, fmt.Sprintf("no value recorded for the %s burn-rate window(s): cannot tell whether it is burning — record them, or leave their pairs out of gate.burn_rate_alerts", joinAnd(u.unrecorded)))
	}
	r.Warnings = append(r.Warnings, unknown...)
	unread := append(unknown, u.unread...)
	r = verdict(r, pol)
	if len(unread) == 0 {
		return r
	}
	// What could be read already closes the gate: an outage of one burn
	// window must not let on_error: pass open it. Otherwise an unknown
	// burn rate is a failing source, and on_error decides (on_no_data is
	// for a service without traffic in its whole window).
	if r.Decision == report.Fail {
		r.Reasons = append(r.Reasons, unread...)
		r.Error = strings.Join(unread, "; ")
		return r
	}
	return applyPolicy(r, pol.OnError, "on_error", strings.Join(unread, "; "))
}

// evaluateSlices handles timeslices budgeting: one range query of slices
// over the window; burn rates come from its most recent slices.
func evaluateSlices(ctx context.Context, s slo.SLO, pol slo.GatePolicy, p providers.Provider, at time.Time, r report.SLO) (report.SLO, error) {
	q := serviceQuery(s, s.Timeslice.Window)
	slices, err := p.Slices(ctx, q, providers.Range{Start: at.Add(-s.Window), End: at, Step: s.Timeslice.Window})
	if len(slices) > 0 {
		r.Queries = slices[0].Resolved
		// The error or good query matched nothing: no bad slices, or a
		// misspelt metric?
		if err == nil && len(slices[0].Unmatched) > 0 {
			err = providers.Explain(ctx, p, serviceQuery(s, s.Window), at, providers.Counts{Unmatched: slices[0].Unmatched}, nil)
		}
	}
	switch {
	case errors.Is(err, providers.ErrBadQuery):
		return r, fmt.Errorf("slo %q: %w", s.Name, err)
	case err != nil && !errors.Is(err, providers.ErrNoData):
		return applyPolicy(r, pol.OnError, "on_error", "cannot read the SLI: "+err.Error()), nil
	}
	bad := make([]bool, len(slices))
	seen := false
	for i, c := range slices {
		if c.Total <= 0 {
			continue // no traffic or no value in this slice: nothing failed
		}
		seen = true
		if s.SLI.Kind() == slo.KindThreshold {
			bad[i] = !s.SLI.Good(c.Value)
		} else {
			bad[i] = !slo.SliceGood(c.Bad(), c.Total, s.Timeslice.Target)
		}
	}
	if !seen {
		c, err := readWindow(ctx, s, p, at)
		switch {
		case errors.Is(err, providers.ErrBadQuery):
			return r, fmt.Errorf("slo %q: %w", s.Name, err)
		case err == nil && c.Total > 0:
			return r, fmt.Errorf("slo %q: %w", s.Name, providers.BadQuery(
				"no %s slice has a value, yet the %s window has data: rate() needs two scrapes inside a slice, so use a longer timeslice window, e.g. 5m",
				slo.FormatDuration(s.Timeslice.Window), r.Window))
		}
		return noData(r, pol, err), nil
	}
	n := len(slices)
	nBad := countTrue(bad)
	r.Slices = &report.Slices{Good: n - nBad, Total: n, Size: slo.FormatDuration(s.Timeslice.Window)}
	r.SLI = ptr(100 * float64(n-nBad) / float64(n))
	r.ErrorBudgetRemaining = ptr(slo.TimesliceBudgetRemaining(nBad, n, s.Objective))
	var u unknownBurns
	for _, w := range slo.BurnWindows(pol.BurnAlerts) {
		k := int(w / s.Timeslice.Window)
		if k < 1 || k > n {
			continue // the slices cannot resolve this window
		}
		key := slo.FormatDuration(w)
		if !anyValue(slices[n-k:]) {
			// Not one slice of the window has a value: no traffic, or
			// no series at all (the source stopped)? Read the window
			// once to tell, as occurrences SLOs do.
			_, err := p.Counts(ctx, serviceQuery(s, w), at)
			if errors.Is(err, providers.ErrBadQuery) {
				return r, fmt.Errorf("slo %q: %w", s.Name, err)
			}
			if err != nil {
				r.BurnRates[key] = nil
				u.add(key, err)
				continue
			}
		}
		r.BurnRates[key] = ptr(slo.TimesliceBurnRate(countTrue(bad[n-k:]), k, s.Objective))
	}
	return u.decide(r, pol), nil
}

// anyValue reports whether one of the slices has a reading.
func anyValue(slices []providers.Counts) bool {
	for _, c := range slices {
		if c.Total > 0 {
			return true
		}
	}
	return false
}

// readWindow reads the whole window once, explained when empty. It tells
// slices too short to hold a value (a 1m slice over 1m scrapes) and a
// misspelt metric from a window without traffic, which would otherwise
// pass silently under on_no_data: pass. It costs a query or two, and only
// when every slice came back empty.
func readWindow(ctx context.Context, s slo.SLO, p providers.Provider, at time.Time) (providers.Counts, error) {
	q := serviceQuery(s, s.Window)
	c, err := p.Counts(ctx, q, at)
	return c, providers.Explain(ctx, p, q, at, c, err)
}

// serviceQuery reads the whole service over window.
func serviceQuery(s slo.SLO, window time.Duration) providers.Query {
	return providers.Query{SLO: s.Name, SLI: s.SLI, Scope: providers.Scope{Name: providers.ScopeService}, Window: window}
}

// noData decides an SLO without traffic in its window by on_no_data. When
// the backend found a label that matches nothing, the reason and a warning
// name it with the closest values: "service=\"chekout\": did you mean
// checkout?".
func noData(r report.SLO, pol slo.GatePolicy, err error) report.SLO {
	why := fmt.Sprintf("no traffic in the %s window", r.Window)
	var nm *providers.NoMatchError
	if errors.As(err, &nm) {
		why += ": " + nm.Hint()
		r.Warnings = append(r.Warnings, nm.Hint())
	}
	return applyPolicy(r, pol.OnNoData, "on_no_data", why)
}

// verdict applies the budget floor and the burn-rate pairs.
func verdict(r report.SLO, pol slo.GatePolicy) report.SLO {
	r.Decision = report.Pass
	if left := *r.ErrorBudgetRemaining; left < pol.MinBudgetRemaining {
		r.Decision = report.Fail
		if left <= 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("error budget spent: %.1f%% left", left))
		} else {
			r.Reasons = append(r.Reasons, fmt.Sprintf("error budget low: %.1f%% left, the policy needs %s%%", left, trimFloat(pol.MinBudgetRemaining)))
		}
	}
	for _, a := range pol.BurnAlerts {
		pl, ps := r.BurnRates[slo.FormatDuration(a.Long)], r.BurnRates[slo.FormatDuration(a.Short)]
		if pl == nil || ps == nil {
			continue // a window without a burn rate: the pair cannot be judged
		}
		long, short := *pl, *ps
		al := report.Alert{Long: slo.FormatDuration(a.Long), Short: slo.FormatDuration(a.Short), Factor: a.Factor, LongBurn: long, ShortBurn: short, Firing: a.Fires(long, short)}
		r.Alerts = append(r.Alerts, al)
		if al.Firing {
			r.Decision = report.Fail
			r.Reasons = append(r.Reasons, fmt.Sprintf("burning budget %.1f× (%s) and %.1f× (%s) the sustainable rate, above %s×", long, al.Long, short, al.Short, trimFloat(a.Factor)))
		}
	}
	return r
}

// applyPolicy decides an SLO that could not be measured.
func applyPolicy(r report.SLO, policy, key, why string) report.SLO {
	why = strings.ReplaceAll(why, "\n", "; ") // joined errors: one line per reason
	r.Decision = policy
	r.Reasons = append(r.Reasons, fmt.Sprintf("%s (%s: %s)", why, key, policy))
	if key == "on_error" {
		r.Error = why
	}
	return r
}

// joinAnd lists words as a sentence does: "5m", "5m and 30m", "5m, 30m and 1h".
func joinAnd(ws []string) string {
	if len(ws) < 2 {
		return strings.Join(ws, "")
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func ptr(v float64) *float64 { v = round(v); return &v }

// round keeps figures readable in the record: float noise such as
// 49.99999999999449 becomes 50.
func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }
