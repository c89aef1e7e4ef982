package rollout

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// tracker follows one SLO through a watch.
type tracker struct {
	slo slo.SLO
	pol slo.CanaryPolicy

	// events SLIs
	ev                 *Evidence
	lastC, lastB       [2]float64 // cumulative bad, total seen so far
	canaryOK, baseSeen bool

	// threshold SLIs
	value, baseValue *float64
	badRun, need     int

	breached  bool
	reason    string
	decidedAt *time.Time
	queries   []string
}

func newTracker(s slo.SLO, pol slo.CanaryPolicy, ratioSLOs int) *tracker {
	t := &tracker{slo: s, pol: pol, need: pol.Consecutive}
	if s.SLI.Consecutive > 0 {
		t.need = s.SLI.Consecutive
	}
	if s.SLI.Kind() == slo.KindEvents {
		t.ev = NewEvidence(testConfig(s, pol, ratioSLOs))
	}
	return t
}

// testConfig splits the false-rollback budget evenly across the events
// SLOs (Bonferroni), so that the bound holds for the watch as a whole.
func testConfig(s slo.SLO, pol slo.CanaryPolicy, ratioSLOs int) TestConfig {
	return TestConfig{
		Alpha: pol.MaxFalseRollback / float64(max(ratioSLOs, 1)), Power: pol.Power, Budget: s.Budget(),
		HealthyBurnRate: pol.HealthyBurnRate, BreachBurnRate: pol.BreachBurnRate,
		Baseline: pol.Baseline != nil, RelativeTolerance: pol.RelativeTolerance, BreachRelative: pol.BreachRelative,
	}
}

// observe takes one tick's readings. Event counts are cumulative since the
// watch started; their increments feed the test.
func (t *tracker) observe(c providers.Counts, cOK bool, b providers.Counts, bOK bool, at time.Time) {
	if t.breached {
		return
	}
	if len(c.Resolved) > 0 {
		t.queries = append(c.Resolved[:len(c.Resolved):len(c.Resolved)], b.Resolved...)
	}
	if t.ev == nil {
		t.observeThreshold(c, cOK, b, bOK, at)
		return
	}
	inc := func(last *[2]float64, r providers.Counts, ok bool) (float64, float64) {
		if !ok {
			return 0, 0 // no series yet: no traffic yet
		}
		bad, total := math.Max(r.Bad()-last[0], 0), math.Max(r.Total-last[1], 0)
		last[0], last[1] = math.Max(last[0], r.Bad()), math.Max(last[1], r.Total)
		return bad, total
	}
	cb, ct := inc(&t.lastC, c, cOK)
	bb, bt := inc(&t.lastB, b, bOK)
	t.canaryOK = t.canaryOK || cOK
	t.baseSeen = t.baseSeen || (bOK && t.lastB[1] > 0)
	t.ev.Observe(cb, ct, bb, bt)
	if t.ev.Breached() {
		t.decide(at, t.breachReason())
	}
}

func (t *tracker) observeThreshold(c providers.Counts, cOK bool, b providers.Counts, bOK bool, at time.Time) {
	if bOK {
		v := b.Value
		t.baseValue = &v
	}
	if !cOK {
		return // no value this interval (no traffic): neither good nor bad
	}
	v := c.Value
	t.value = &v
	if t.slo.SLI.Good(v) {
		t.badRun = 0
		return
	}
	t.badRun++
	if t.badRun >= t.need {
		t.decide(at, fmt.Sprintf("%s was %g, not %s %g, for %d intervals in a row", t.slo.Name, v, t.slo.SLI.Op, t.slo.SLI.Value, t.badRun))
	}
}

func (t *tracker) decide(at time.Time, reason string) {
	t.breached, t.reason = true, reason
	t.decidedAt = &at
}

// breachReason says which question the evidence answered, in numbers.
func (t *tracker) breachReason() string {
	cb, ct, bb, bt := t.ev.Totals()
	cr := cb / ct
	var b strings.Builder
	fmt.Fprintf(&b, "canary error ratio %.3f%% (%g of %g requests)", 100*cr, math.Round(cb), math.Round(ct))
	if t.ev.cfg.Baseline && bt > 0 && bb > 0 && t.ev.RelativeLogE() > t.ev.AbsoluteLogE() {
		fmt.Fprintf(&b, " is %.1f× the baseline's %.3f%% (tolerated: %g×)", cr/(bb/bt), 100*bb/bt, t.pol.RelativeTolerance)
	} else {
		fmt.Fprintf(&b, " is %.1f× the %.3f%% the SLO allows", cr/t.ev.p0, 100*t.ev.p0)
	}
	fmt.Fprintf(&b, ": evidence %.1f crossed the rollback boundary %.1f", t.ev.LogE(), t.ev.RejectBoundary())
	return b.String()
}

// final decides an SLO that did not breach, at the end of the watch.
func (t *tracker) final() (decision, reason string) {
	if t.breached {
		return report.Fail, t.reason
	}
	if t.ev == nil {
		if t.value == nil {
			return noData, fmt.Sprintf("the canary reported no %s value during the watch", t.slo.Name)
		}
		return report.Pass, fmt.Sprintf("never %d bad intervals in a row (last value %g)", t.need, *t.value)
	}
	_, ct, _, _ := t.ev.Totals()
	switch {
	case ct == 0:
		return noData, "the canary served no requests during the watch"
	case t.ev.Cleared():
		return report.Pass, fmt.Sprintf("%g canary requests rule out a burn rate of %gx or worse", math.Round(ct), t.pol.BreachBurnRate)
	}
	return report.Inconclusive, fmt.Sprintf("%g canary requests are too few to rule out a burn rate of %gx (or %gx the baseline's errors): watch longer or send more traffic", math.Round(ct), t.pol.BreachBurnRate, t.pol.BreachRelative)
}

// noData marks an SLO whose verdict the on_no_data policy decides.
const noData = "no-data"

func (t *tracker) summary() report.CanarySLO {
	s := report.CanarySLO{Name: t.slo.Name, Decision: "watching", Queries: t.queries, DecidedAt: t.decidedAt}
	if t.breached {
		s.Decision, s.Reason = report.Fail, t.reason
	}
	if t.ev == nil {
		s.Kind = "threshold"
		s.Value, s.Threshold = t.value, fmt.Sprintf("%s %g", t.slo.SLI.Op, t.slo.SLI.Value)
		s.BaselineValue = t.baseValue
		s.BadIntervals = t.badRun
		return s
	}
	s.Kind = "events"
	cb, ct, bb, bt := t.ev.Totals()
	s.Canary = &report.Events{Good: ct - cb, Total: ct}
	s.CanaryRatio = ratioPtr(cb, ct)
	s.AllowedRatio = t.ev.p0
	if t.ev.cfg.Baseline {
		s.Baseline = &report.Events{Good: bt - bb, Total: bt}
		s.BaselineRatio = ratioPtr(bb, bt)
	}
	stat := t.ev.LogE()
	s.Statistic = &stat
	s.Tests = []report.Test{{
		Name: "absolute", Statistic: t.ev.AbsoluteLogE(), Reject: t.ev.RejectBoundary(),
		EffectStatistic: t.ev.AbsoluteEffectLLR(), Accept: t.ev.AcceptBoundary(), Alpha: t.ev.cfg.Alpha,
		Hypothesis: fmt.Sprintf("healthy: canary error ratio ≤ %.4g%% (burn rate %g); breach: burn rate %g", 100*t.ev.p0, t.pol.HealthyBurnRate, t.pol.BreachBurnRate),
	}}
	if t.ev.cfg.Baseline {
		s.Tests = append(s.Tests, report.Test{
			Name: "relative", Statistic: t.ev.RelativeLogE(), Reject: t.ev.RejectBoundary(),
			EffectStatistic: t.ev.RelativeEffectLLR(), Accept: t.ev.AcceptBoundary(), Alpha: t.ev.cfg.Alpha,
			Hypothesis: fmt.Sprintf("healthy: canary error ratio ≤ %g × the baseline's; breach: %g ×", t.pol.RelativeTolerance, t.pol.BreachRelative),
		})
	}
	return s
}

func (t *tracker) tickSummary() report.TickSLO {
	if t.ev == nil {
		return report.TickSLO{Value: t.value, BaselineValue: t.baseValue}
	}
	cb, ct, bb, bt := t.ev.Totals()
	ts := report.TickSLO{CanaryRatio: ratioPtr(cb, ct), CanaryTotal: ct, Statistic: t.ev.LogE()}
	if t.ev.cfg.Baseline {
		ts.BaselineRatio = ratioPtr(bb, bt)
	}
	return ts
}

func ratioPtr(bad, total float64) *float64 {
	if total <= 0 {
		return nil
	}
	r := bad / total
	return &r
}

// decide sets the watch's decision from its trackers.
func decide(d *report.Decision, ts []*tracker, pol slo.CanaryPolicy, errorsInRow int) {
	var failed, unsure, passed []string
	for _, t := range ts {
		s := t.summary()
		dec, why := t.final()
		if dec == noData {
			dec = pol.OnNoData
			why += fmt.Sprintf(" (on_no_data: %s)", pol.OnNoData)
		}
		if !t.breached && d.Canary.Interrupted {
			dec, why = report.Inconclusive, "interrupted before the evidence decided"
		}
		if !t.breached && errorsInRow >= pol.ConsecutiveErrorLimit {
			dec, why = pol.OnError, fmt.Sprintf("%d intervals in a row without readings (on_error: %s)", errorsInRow, pol.OnError)
		}
		s.Decision, s.Reason = dec, why
		d.Canary.SLOs = append(d.Canary.SLOs, s)
		d.SLOs = append(d.SLOs, report.SLO{
			Name: t.slo.Name, Service: t.slo.Service, Objective: t.slo.Objective, Window: d.Canary.Elapsed,
			Budgeting: t.slo.Budgeting, BurnRates: map[string]float64{}, Decision: dec, Reasons: []string{why}, Queries: t.queries,
		})
		line := t.slo.Name + ": " + why
		switch dec {
		case report.Fail:
			failed = append(failed, line)
		case report.Inconclusive:
			unsure = append(unsure, line)
		default:
			passed = append(passed, line)
		}
	}
	switch {
	case len(failed) > 0:
		d.Decision, d.Reason = report.Fail, "canary breached: "+strings.Join(failed, " | ")
		for _, t := range ts {
			if t.decidedAt != nil {
				d.Canary.DecidedAt = t.decidedAt
				break
			}
		}
	case d.Canary.Interrupted:
		d.Decision, d.Reason = report.Inconclusive, "interrupted after "+d.Canary.Elapsed+": no decision"
	case len(unsure) > 0:
		d.Decision, d.Reason = report.Inconclusive, "cannot tell yet: "+strings.Join(unsure, " | ")
	default:
		d.Decision, d.Reason = report.Pass, fmt.Sprintf("canary healthy after %s: %s", d.Canary.Elapsed, strings.Join(passed, " | "))
	}
}
