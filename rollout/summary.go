package rollout

import (
	"fmt"

	"github.com/sloguard/sloguard/report"
)

// summary is the tracker's state for the record and the status line.
func (t *tracker) summary() report.CanarySLO {
	s := report.CanarySLO{Name: t.slo.Name, Decision: "watching", Queries: t.queries, DecidedAt: t.decidedAt, Error: t.lastError}
	if t.errorsInRow == 0 {
		s.Error = ""
	}
	if t.breached {
		s.Decision, s.Reason = report.Fail, t.reason
	}
	if t.th != nil {
		s.Kind = "threshold"
		s.Value, s.Threshold = t.value, fmt.Sprintf("%s %g", t.slo.SLI.Op, t.slo.SLI.Value)
		s.BaselineValue = t.baseValue
		s.BadIntervals = t.badRun
		bad, n := t.th.Counts()
		s.Intervals = &report.Intervals{Bad: bad, Total: n}
		s.Tests = []report.Test{{
			Name: "bad intervals", Statistic: t.th.LogE(), Reject: t.th.Boundary(), Alpha: t.th.Alpha(),
			Hypothesis: fmt.Sprintf("healthy: at most %.3g%% of intervals miss %s %g (the SLO's budget × healthy_burn_rate)", 100*t.th.HealthyShare(), t.slo.SLI.Op, t.slo.SLI.Value),
		}}
		return s
	}
	s.Kind = "events"
	// What the test allows, said before it starts too (a backend down
	// from the first interval): never 0 for want of data.
	s.AllowedRatio = t.pol.HealthyBurnRate * t.slo.Budget()
	if t.ev == nil {
		return s
	}
	cb, ct, bb, bt := t.ev.Totals()
	s.Canary = &report.Events{Good: ct - cb, Total: ct}
	s.CanaryRatio = ratioPtr(cb, ct)
	s.AllowedRatio = t.ev.HealthyRatio()
	if t.ev.Baseline() {
		s.Baseline = &report.Events{Good: bt - bb, Total: bt}
		s.BaselineRatio = ratioPtr(bb, bt)
	}
	stat := t.ev.AbsoluteLogE()
	s.Statistic = &stat
	s.Dispersion = &report.Dispersion{Assumed: t.ev.Dispersion(), FromHistory: t.disp.value, Source: t.disp.source}
	s.BaselineBurning = t.ev.BaselineBreached()
	s.Tests = []report.Test{{
		Name: "absolute", Statistic: t.ev.AbsoluteLogE(), Reject: t.ev.AbsoluteBoundary(),
		EffectStatistic: -t.ev.AbsoluteEffectLogE(), Accept: -t.ev.AcceptBoundary(), Alpha: t.ev.AbsoluteAlpha(),
		Hypothesis: fmt.Sprintf("healthy: %s ≤ %.4g%% (burn rate %g); breach: burn rate %g", t.words.judged(), 100*t.ev.HealthyRatio(), t.pol.HealthyBurnRate, t.pol.BreachBurnRate),
	}}
	if t.ev.Baseline() {
		than := "the baseline's"
		if t.words.noSplit {
			than = "that of " + t.words.past
		}
		s.Tests = append(s.Tests, report.Test{
			Name: "relative", Statistic: t.ev.RelativeLogE(), Reject: t.ev.RelativeBoundary(),
			EffectStatistic: -t.ev.RelativeEffectLogE(), Accept: -t.ev.AcceptBoundary(), Alpha: t.ev.RelativeAlpha(),
			Hypothesis: fmt.Sprintf("healthy: %s ≤ %g × %s; breach: %g ×", t.words.judged(), t.pol.RelativeTolerance, than, t.pol.BreachRelative),
		})
	}
	return s
}

func (t *tracker) tickSummary() report.TickSLO {
	if t.th != nil {
		return report.TickSLO{Value: t.value, BaselineValue: t.baseValue, Statistic: t.th.LogE()}
	}
	if t.ev == nil {
		return report.TickSLO{}
	}
	cb, ct, bb, bt := t.ev.Totals()
	ts := report.TickSLO{CanaryRatio: ratioPtr(cb, ct), CanaryTotal: ct, Statistic: t.ev.AbsoluteLogE()}
	if t.ev.Baseline() {
		ts.BaselineRatio = ratioPtr(bb, bt)
	}
	return ts
}
