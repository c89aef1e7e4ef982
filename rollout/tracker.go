package rollout

import (
	"fmt"
	"math"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout/sequential"
	"github.com/sloguard/sloguard/slo"
)

// tracker follows one SLO through a watch.
type tracker struct {
	slo   slo.SLO
	pol   slo.CanaryPolicy
	alpha float64 // this SLO's share of max_false_rollback
	words words   // how reasons name the judged side and the baseline

	// events SLIs: the test starts at the first reading, once the
	// history's dispersion is known
	ev           *sequential.Evidence
	disp         dispersion
	lastC, lastB [2]float64 // cumulative bad, total seen so far

	// threshold SLIs
	th               *sequential.Intervals
	value, baseValue *float64
	badRun           int

	breached  bool
	reason    string
	decidedAt *time.Time
	queries   []string

	errorsInRow int    // readings failed in a row
	lastError   string // the latest failed reading's error
	gaveUp      bool   // errorsInRow reached consecutive_error_limit
}

func newTracker(s slo.SLO, pol slo.CanaryPolicy, alpha float64) *tracker {
	t := &tracker{slo: s, pol: pol, alpha: alpha, words: wordsFor(pol)}
	if s.SLI.Kind() == slo.KindThreshold {
		minBad := pol.Consecutive
		if s.SLI.Consecutive > 0 {
			minBad = s.SLI.Consecutive
		}
		t.th = sequential.NewIntervals(alpha, pol.HealthyBurnRate*s.Budget(), minBad)
	}
	return t
}

// start begins the events test with the dispersion the history showed.
func (t *tracker) start(d dispersion) {
	if t.slo.SLI.Kind() != slo.KindEvents || t.ev != nil {
		return
	}
	t.disp = d
	t.ev = sequential.New(sequential.Config{
		Alpha: t.alpha, Power: t.pol.Power, Budget: t.slo.Budget(),
		HealthyBurnRate: t.pol.HealthyBurnRate, BreachBurnRate: t.pol.BreachBurnRate,
		Baseline: t.pol.Baseline != nil, RelativeTolerance: t.pol.RelativeTolerance, BreachRelative: t.pol.BreachRelative,
		BaselineBreachFails: t.pol.OnBaselineBreach == slo.PolicyFail, Dispersion: d.value, NoHistory: !d.fromData,
	})
}

// done reports whether the tracker needs no more readings.
func (t *tracker) done() bool { return t.breached || t.gaveUp }

// failed counts a reading that could not be taken.
func (t *tracker) failed(err error) {
	t.errorsInRow++
	t.lastError = err.Error()
	if t.errorsInRow >= t.pol.ConsecutiveErrorLimit {
		t.gaveUp = true
	}
}

// observe takes one tick's readings. Event counts are cumulative since the
// watch started; their increments feed the test.
func (t *tracker) observe(c providers.Counts, cOK bool, b providers.Counts, bOK bool, at time.Time) {
	t.errorsInRow = 0
	if t.done() {
		return
	}
	if len(c.Resolved) > 0 {
		t.queries = append(c.Resolved[:len(c.Resolved):len(c.Resolved)], b.Resolved...)
	}
	if t.th != nil {
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
	t.ev.Observe(cb, ct, bb, bt)
	switch t.ev.Verdict() {
	case sequential.BreachAbsolute:
		t.decide(at, t.absoluteReason())
	case sequential.BreachRelative:
		t.decide(at, t.relativeReason())
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
	good := t.slo.SLI.Good(v)
	t.th.Observe(!good)
	if good {
		t.badRun = 0
		return
	}
	t.badRun++
	if t.th.Breached() {
		bad, n := t.th.Counts()
		t.decide(at, fmt.Sprintf("%s was %g, not %s %g, in %d of %d intervals, more often than the %.3g%% the SLO allows: evidence %.1f crossed the rollback boundary %.1f",
			t.slo.Name, v, t.slo.SLI.Op, t.slo.SLI.Value, bad, n, 100*t.th.HealthyShare(), t.th.LogE(), t.th.Boundary()))
	}
}

func (t *tracker) decide(at time.Time, reason string) {
	t.breached, t.reason = true, reason
	t.decidedAt = &at
}

// absoluteReason says, in numbers, that the canary burns faster than the
// SLO allows.
func (t *tracker) absoluteReason() string {
	cb, ct, bb, bt := t.ev.Totals()
	cr, p0 := cb/ct, t.ev.HealthyRatio()
	s := fmt.Sprintf("%s %.3f%% (%.0f of %.0f requests) is %.1f× the %.3f%% the SLO allows", t.words.judged(), 100*cr, cb, ct, cr/p0, 100*p0)
	switch {
	case !t.ev.Baseline() || bt <= 0:
	case t.words.noSplit:
		s += fmt.Sprintf(" (%s: %.3f%%)", t.words.past, 100*bb/bt)
	default:
		s += fmt.Sprintf(", the baseline's is %.3f%%", 100*bb/bt)
	}
	return s + fmt.Sprintf(": evidence %.1f crossed the rollback boundary %.1f", t.ev.AbsoluteLogE(), t.ev.AbsoluteBoundary())
}

// relativeReason says, in numbers, that the canary is worse than the
// baseline.
func (t *tracker) relativeReason() string {
	cb, ct, bb, bt := t.ev.Totals()
	cr, br := cb/ct, bb/bt
	if t.words.noSplit {
		return fmt.Sprintf("%s %.3f%% (%.0f of %.0f requests) is %.1f× the %.3f%% of %s (tolerated: %g×): evidence %.1f crossed the rollback boundary %.1f",
			t.words.judged(), 100*cr, cb, ct, cr/br, 100*br, t.words.past, t.pol.RelativeTolerance, t.ev.RelativeLogE(), t.ev.RelativeBoundary())
	}
	return fmt.Sprintf("canary error ratio %.3f%% (%.0f of %.0f requests) is %.1f× the baseline's %.3f%% (tolerated: %g×): evidence %.1f crossed the rollback boundary %.1f",
		100*cr, cb, ct, cr/br, 100*br, t.pol.RelativeTolerance, t.ev.RelativeLogE(), t.ev.RelativeBoundary())
}

// noData marks an SLO whose verdict the on_no_data policy decides.
const noData = "no-data"

// final decides an SLO at the end of the watch.
func (t *tracker) final(interrupted bool) (decision, reason string) {
	switch {
	case t.breached:
		return report.Fail, t.reason
	case t.gaveUp:
		return t.pol.OnError, fmt.Sprintf("%d intervals in a row without readings, the last: %s (on_error: %s)", t.errorsInRow, t.lastError, t.pol.OnError)
	case interrupted:
		return report.Inconclusive, "interrupted before the evidence decided"
	case t.th != nil:
		if t.value == nil {
			return noData, t.words.absent(fmt.Sprintf("reported no %s value", t.slo.Name))
		}
		bad, n := t.th.Counts()
		return report.Pass, fmt.Sprintf("%d of %d intervals missed %s %g, within what the SLO allows (last value %g)", bad, n, t.slo.SLI.Op, t.slo.SLI.Value, *t.value)
	case t.ev == nil:
		return noData, t.words.absent("served no requests")
	}
	cb, ct, bb, bt := t.ev.Totals()
	switch {
	case ct == 0:
		return noData, t.words.absent("served no requests")
	case t.ev.BaselineBreached() && t.words.noSplit:
		return report.Inconclusive, fmt.Sprintf("%s %.3f%% and that of %s %.3f%% (the SLO allows %.3f%%): the service breached the SLO after the deploy, but %s burned too, so the trouble is not the release's alone (on_baseline_breach: inconclusive)",
			t.words.judged(), 100*cb/ct, t.words.past, 100*ratio(bb, bt), 100*t.ev.HealthyRatio(), t.words.past)
	case t.ev.BaselineBreached():
		return report.Inconclusive, fmt.Sprintf("canary error ratio %.3f%% and baseline error ratio %.3f%% (the SLO allows %.3f%%): the canary breached the SLO, but the baseline is burning too, so the trouble is not the canary's alone (on_baseline_breach: inconclusive)",
			100*cb/ct, 100*ratio(bb, bt), 100*t.ev.HealthyRatio())
	case t.ev.Cleared():
		return report.Pass, fmt.Sprintf("%s rule out a burn rate of %gx or worse", t.words.requests(math.Round(ct)), t.pol.BreachBurnRate)
	case t.ev.HeldBackByBursts():
		return report.Inconclusive, t.heldBack()
	}
	return report.Inconclusive, t.tooFew(ct)
}

// heldBack says that the judged side's errors were far above the SLO, and
// would have rolled it back had they arrived one by one: the bursts
// assumed, and where that assumption came from, held the evidence back.
func (t *tracker) heldBack() string {
	cb, ct, bb, bt := t.ev.Totals()
	cr, p0, d := cb/ct, t.ev.HealthyRatio(), t.ev.Dispersion()
	s := fmt.Sprintf("%s %.3f%% (%.0f of %.0f requests) is %.1f× the %.3f%% the SLO allows", t.words.judged(), 100*cr, cb, ct, cr/p0, 100*p0)
	switch {
	case t.ev.Baseline() && bt > 0 && t.ev.BaselineBurning():
		s += fmt.Sprintf(" (%s: %.3f%%, about as high: the trouble may not be the %s's)", t.words.baselineName(), 100*bb/bt, t.words.subject())
	case t.ev.Baseline() && bt > 0:
		s += fmt.Sprintf(" (%s: %.3f%%)", t.words.baselineName(), 100*bb/bt)
	}
	return s + fmt.Sprintf(", but errors are assumed to arrive in bursts of ~%.0f (dispersion %s, from %s), and %s cannot tell that from the bursts of a healthy %s: watch longer or send more traffic",
		(d+1)/2, threeDigits(d), t.dispersionSource(), t.words.requests(math.Round(ct)), t.words.subject())
}

// threeDigits prints a figure (at least 1) with three significant digits,
// never in exponent form: 1.15, 62.5, 1150.
func threeDigits(v float64) string {
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v) // no exponent below 100
}

// dispersionSource says where the dispersion assumed now came from.
func (t *tracker) dispersionSource() string {
	switch d := t.ev.Dispersion(); {
	case d == t.disp.value && t.disp.fromData:
		return t.disp.source
	case d == t.disp.value:
		return "a default, with no history to measure it from"
	case t.disp.fromData:
		return "the baseline's intervals during the watch, burstier than its history"
	}
	return "the watch's own intervals"
}

// tooFew says that the requests so far cannot clear the release yet.
func (t *tracker) tooFew(total float64) string {
	than := "the baseline's errors"
	if t.words.noSplit {
		than = "the errors of " + t.words.past
	}
	return fmt.Sprintf("%s are too few to rule out a burn rate of %gx (or %gx %s): watch longer or send more traffic",
		t.words.requests(math.Round(total)), t.pol.BreachBurnRate, t.pol.BreachRelative, than)
}

func ratio(bad, total float64) float64 {
	if total <= 0 {
		return 0
	}
	return bad / total
}

func ratioPtr(bad, total float64) *float64 {
	if total <= 0 {
		return nil
	}
	r := bad / total
	return &r
}
