package ci

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// detail is the evidence behind one SLO's verdict, for a folded log group:
// the queries as sent to the backend and the raw figures they returned,
// so that a failed step answers "why" without a rerun.
type detail struct {
	title string
	lines []string
}

// details lists one group per SLO of the record. Every line starts with a
// fixed label, so that no value can start a workflow command.
func details(d *report.Decision) []detail {
	canary := map[string]report.CanarySLO{}
	if d.Canary != nil {
		for _, c := range d.Canary.SLOs {
			canary[c.Name] = c
		}
	}
	var out []detail
	for _, s := range d.SLOs {
		g := detail{title: fmt.Sprintf("SLO %s: %s", s.Name, s.Decision)}
		add := func(label, format string, args ...any) {
			g.lines = append(g.lines, label+": "+oneLine(fmt.Sprintf(format, args...)))
		}
		if s.Window != "" {
			add("objective", "%s%% over %s (%s)", num(s.Objective), s.Window, orDash(s.Budgeting))
		} else {
			add("objective", "%s%% (%s)", num(s.Objective), orDash(s.Budgeting))
		}
		if c, ok := canary[s.Name]; ok {
			canaryLines(add, c)
		} else {
			checkLines(add, s)
		}
		for i, r := range s.Reasons {
			add(fmt.Sprintf("reason %d", i+1), "%s", r)
		}
		if s.Error != "" {
			add("error", "%s", s.Error)
		}
		out = append(out, g)
	}
	return out
}

// checkLines are the figures of `check`: events, SLI, budget, burn rates
// and the multi-window alerts, then the queries.
func checkLines(add func(label, format string, args ...any), s report.SLO) {
	if s.Events != nil {
		add("events", "good %s, total %s", count(s.Events.Good), count(s.Events.Total))
	}
	if s.Slices != nil {
		add("slices", "good %d of %d (%s each)", s.Slices.Good, s.Slices.Total, s.Slices.Size)
	}
	add("sli", "%s", pctOrNone(s.SLI))
	add("error budget remaining", "%s", pctOrNone(s.ErrorBudgetRemaining))
	if len(s.BurnRates) > 0 {
		var parts []string
		for _, w := range sortedWindows(s.BurnRates) {
			v := "no data"
			if b := s.BurnRates[w]; b != nil {
				v = num(*b) + "×"
			}
			parts = append(parts, w+" "+v)
		}
		add("burn rates", "%s", strings.Join(parts, ", "))
	}
	for _, a := range s.Alerts {
		state := "quiet"
		if a.Firing {
			state = "FIRING"
		}
		add("burn-rate alert", "%s/%s above %s×: %s× and %s×, %s", a.Long, a.Short, num(a.Factor), num(a.LongBurn), num(a.ShortBurn), state)
	}
	for i, q := range s.Queries {
		add(fmt.Sprintf("query %d", i+1), "%s", q)
	}
}

// canaryLines are the figures of `watch`: the canary's and the baseline's
// events and ratios, the statistics, then the queries.
func canaryLines(add func(label, format string, args ...any), c report.CanarySLO) {
	events := func(label string, e *report.Events, ratio *float64) {
		if e == nil {
			return
		}
		r := "n/a"
		if ratio != nil {
			r = num(*ratio)
		}
		add(label, "good %s, total %s, error ratio %s", count(e.Good), count(e.Total), r)
	}
	events("canary", c.Canary, c.CanaryRatio)
	events("baseline", c.Baseline, c.BaselineRatio)
	if c.AllowedRatio > 0 {
		add("allowed error ratio", "%s", num(c.AllowedRatio))
	}
	if c.Value != nil {
		add("canary value", "%s (threshold %s)", num(*c.Value), orDash(c.Threshold))
	}
	if c.BaselineValue != nil {
		add("baseline value", "%s", num(*c.BaselineValue))
	}
	if c.BadIntervals > 0 {
		add("bad intervals in a row", "%d", c.BadIntervals)
	}
	if c.Intervals != nil {
		add("bad intervals", "%d of %d", c.Intervals.Bad, c.Intervals.Total)
	}
	if c.Dispersion != nil {
		add("dispersion", "%s assumed (history: %s, from %s)", num(c.Dispersion.Assumed), num(c.Dispersion.FromHistory), c.Dispersion.Source)
	}
	if c.BaselineBurning {
		add("baseline burning", "yes: the canary breached the SLO while the baseline burned as fast")
	}
	if c.Statistic != nil {
		add("statistic", "%s", num(*c.Statistic))
	}
	for _, t := range c.Tests {
		add("test "+t.Name, "statistic %s (rolls back at %s), effect statistic %s (clears at %s), alpha %s: %s",
			num(t.Statistic), num(t.Reject), num(t.EffectStatistic), num(t.Accept), num(t.Alpha), t.Hypothesis)
	}
	if c.DecidedAt != nil {
		add("decided at", "%s", c.DecidedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	for i, q := range c.Queries {
		add(fmt.Sprintf("query %d", i+1), "%s", q)
	}
}

// sortedWindows orders burn-rate windows by length (5m, 30m, 1h, 6h).
func sortedWindows(m map[string]*float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := slo.ParseDuration(keys[i])
		b, errB := slo.ParseDuration(keys[j])
		if errA != nil || errB != nil || a == b {
			return keys[i] < keys[j]
		}
		return a < b
	})
	return keys
}

// num prints a figure: whole numbers in full, others with six significant
// digits.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// count prints a number of events: a whole number, however large (rate()
// extrapolation makes counts fractional).
func count(v float64) string {
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

func pctOrNone(v *float64) string {
	if v == nil {
		return "no data"
	}
	return num(*v) + "%"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// oneLine keeps a value on its log line, and breaks up "##": both runners
// look for their older command syntax (##[cmd], ##vso[cmd]) anywhere in a
// line, and a value read from a backend must not turn into a command.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "##", "# #").Replace(s)
}

// printDetails prints each SLO's evidence in a folded group.
func printDetails(p Platform, out io.Writer, d *report.Decision) {
	for _, g := range details(d) {
		p.Group(oneLine(g.title))
		for _, l := range g.lines {
			fmt.Fprintln(out, l)
		}
		p.EndGroup()
	}
}
