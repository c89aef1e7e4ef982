// Package sequential holds the statistics of `watch`: anytime-valid tests
// (e-processes) that decide, interval by interval, whether a canary is
// healthy, breached or not yet known. docs/statistics.md explains them in
// plain words; this package is pure arithmetic, with no I/O and no clock.
package sequential

import "math"

// Config sets up the sequential test of one events SLO.
type Config struct {
	Alpha             float64 // false-rollback probability allowed for this SLO
	Power             float64 // 1 - β
	Budget            float64 // allowed error ratio, 1 - objective
	HealthyBurnRate   float64 // absolute null: p0 = HealthyBurnRate × Budget
	BreachBurnRate    float64 // absolute effect size, as a burn rate
	Baseline          bool    // ask the relative question too
	RelativeTolerance float64 // relative null: p_c ≤ RelativeTolerance × p_b
	BreachRelative    float64 // relative effect size, as a ratio p_c / p_b
	// BaselineBreachFails rolls back on the absolute question even when
	// the baseline burns as fast (on_baseline_breach: fail).
	BaselineBreachFails bool
	// Dispersion is the errors' variance over their mean to assume from
	// the start (1: Poisson): estimated from history, or a default.
	Dispersion float64
	// NoHistory: Dispersion is a default, not an estimate; the watch's own
	// intervals replace it as soon as they are enough for an estimate.
	NoHistory bool
}

// DefaultDispersion is assumed when there is no history to estimate the
// dispersion from: the burstiest errors the benchmark covers, since too
// little costs the guarantee and too much only speed. With a baseline, its
// intervals during the watch replace it as soon as they are enough for an
// estimate (Config.NoHistory).
const DefaultDispersion = 10

// Alternatives of the mixtures, as multiples of the healthy error ratio
// (absolute) or of the tolerated ratio to the baseline (relative), with
// their weights. They start at the default effect size, 3×: smaller
// faults cannot be told apart within a watch at most traffic, and weight
// spent on them would slow down everything else.
var alternatives = [...]struct{ mult, weight float64 }{
	{3, 0.3}, {5, 0.35}, {10, 0.25}, {25, 0.1},
}

// absoluteShare is the part of an SLO's α the absolute question spends when
// there is a baseline; the relative question gets the rest. The absolute
// question catches most bad canaries first; the relative one catches those
// within the SLO but worse than the baseline, and is the only one that may
// roll back while the baseline breaches too.
const absoluteShare = 0.8

// overshoot is κ in the absolute question's boundary κ/α. The evidence
// moves in jumps (one per burst of errors), so when it crosses a boundary
// it lands well above it; the chance that it ever reaches κ/α is at most α
// for κ = 0.6 (computed in calibrate.go and checked by its test), where
// Ville's inequality alone would ask for 1/α.
const overshoot = 0.6

// Evidence accumulates one events SLO's canary (and baseline) counts and
// tests them, interval by interval.
type Evidence struct {
	cfg Config
	p0  float64

	canaryBad, canaryTotal float64 // cumulative
	baseBad, baseTotal     float64

	model bursts  // the dispersion assumed now
	ref   Pearson // the baseline's intervals during the watch
	own   Pearson // the canary's, without history
	// the model's tilts, per alternative and against the effect sizes
	theta, phi               [len(alternatives)]float64
	relTheta                 [len(alternatives)]float64
	effTheta, effPhi, relEff float64

	// log e-values per alternative: the canary against the SLO, the
	// canary against the baseline, the baseline against the SLO
	abs, rel, base       [len(alternatives)]float64
	absEffect, relEffect float64 // log e-values against the effect sizes (for a pass)

	baselineBreached bool // the absolute question crossed while the baseline burned too
}

// New starts a test.
func New(cfg Config) *Evidence {
	e := &Evidence{cfg: cfg, p0: clampP(cfg.HealthyBurnRate * cfg.Budget)}
	e.setModel(newBursts(cfg.Dispersion))
	return e
}

// setModel switches to a burst model and computes its tilts.
func (e *Evidence) setModel(m bursts) {
	e.model = m
	// The relative mixture starts at its own effect size, breach_relative
	// over relative_tolerance (2 by default), as the absolute one starts
	// at 3.
	scale := e.cfg.BreachRelative / e.cfg.RelativeTolerance / alternatives[0].mult
	for i, a := range alternatives {
		e.theta[i] = m.tilt(a.mult)
		e.phi[i] = m.phi(e.theta[i])
		e.relTheta[i] = m.tilt(math.Max(a.mult*scale, 1.1))
	}
	e.effTheta = m.tilt(e.cfg.HealthyBurnRate / e.cfg.BreachBurnRate)
	e.effPhi = m.phi(e.effTheta)
	e.relEff = m.tilt(e.cfg.RelativeTolerance / e.cfg.BreachRelative)
}

// Observe adds one interval's new events (not cumulative) of the canary
// and, when there is one, the baseline.
func (e *Evidence) Observe(canaryBad, canaryTotal, baseBad, baseTotal float64) {
	canaryBad, canaryTotal = clampEvents(canaryBad, canaryTotal)
	baseBad, baseTotal = clampEvents(baseBad, baseTotal)
	e.canaryBad += canaryBad
	e.canaryTotal += canaryTotal
	e.baseBad += baseBad
	e.baseTotal += baseTotal

	// absolute: exp(θ·C - φ(θ)·p0·n) per alternative, for the canary and,
	// to tell whether the baseline breaches too, for the baseline
	mc, mb := e.p0*canaryTotal, e.p0*baseTotal
	for i := range alternatives {
		e.abs[i] += e.theta[i]*canaryBad - e.phi[i]*mc
		e.base[i] += e.theta[i]*baseBad - e.phi[i]*mb
	}
	e.absEffect += e.effTheta*canaryBad - e.effPhi*mc*e.cfg.BreachBurnRate/e.cfg.HealthyBurnRate

	if e.cfg.Baseline && canaryTotal > 0 && baseTotal > 0 && canaryBad+baseBad > 0 {
		// relative: a burst lands on the canary with probability at most
		// π0 under the null; exp(θ·C - ψ·(C+B)) per alternative
		all := canaryBad + baseBad
		pi0 := canaryTotal * e.cfg.RelativeTolerance / (canaryTotal*e.cfg.RelativeTolerance + baseTotal)
		for i := range alternatives {
			e.rel[i] += e.relTheta[i]*canaryBad - e.model.split(e.relTheta[i], pi0)*all
		}
		pie := canaryTotal * e.cfg.BreachRelative / (canaryTotal*e.cfg.BreachRelative + baseTotal)
		e.relEffect += e.relEff*canaryBad - e.model.split(e.relEff, pie)*all
	}
	e.learnDispersion(canaryBad, canaryTotal, baseBad, baseTotal)
	if e.AbsoluteCrossed() && e.cfg.Baseline && !e.cfg.BaselineBreachFails && e.BaselineBurning() {
		e.baselineBreached = true
	}
}

// learnDispersion learns from the intervals during the watch, each track
// about its own one error ratio (Pearson's estimate; see pearson.go for
// why not the history's contrasts). With history, only the baseline's
// count: when they are clearly more dispersed than assumed (by two
// standard errors), the test assumes their dispersion from the next
// interval on. It never lowers an estimate from history: a lower
// dispersion mid-watch would bet harder on a burst that began in an
// earlier interval. Without history, the default gives way, both ways, to
// the estimate from the baseline's and the canary's own intervals (a
// steadily bad canary looks no burstier; one that turns bad mid-watch
// looks burstier, which only slows the test).
func (e *Evidence) learnDispersion(canaryBad, canaryTotal, baseBad, baseTotal float64) {
	if e.cfg.Baseline {
		e.ref.Add(baseBad, baseTotal)
	}
	if e.cfg.NoHistory {
		e.own.Add(canaryBad, canaryTotal)
		if d, ok := pooled(e.ref, e.own); ok && d != e.model.dispersion() {
			e.setModel(newBursts(d))
		}
		return
	}
	d, ok := pooled(e.ref)
	if !ok {
		return
	}
	df := float64(e.ref.Slices() - 1)
	if cur := e.model.dispersion(); d > cur && e.ref.raw() > cur*(1+2*math.Sqrt(2/df)) {
		e.setModel(newBursts(d))
	}
}

func mixture(logs *[len(alternatives)]float64) float64 {
	var terms [len(alternatives)]float64
	for i, a := range alternatives {
		terms[i] = math.Log(a.weight) + logs[i]
	}
	return logSumExp(terms[:])
}

// AbsoluteLogE is the log of the absolute question's e-value.
func (e *Evidence) AbsoluteLogE() float64 { return mixture(&e.abs) }

// RelativeLogE is the log of the relative question's e-value.
func (e *Evidence) RelativeLogE() float64 { return mixture(&e.rel) }

// BaselineLogE is the log of the absolute question's e-value asked of the
// baseline: whether the baseline breaches the SLO too.
func (e *Evidence) BaselineLogE() float64 { return mixture(&e.base) }

// AbsoluteAlpha is the absolute question's share of α.
func (e *Evidence) AbsoluteAlpha() float64 {
	if !e.cfg.Baseline {
		return e.cfg.Alpha
	}
	return e.cfg.Alpha * absoluteShare
}

// RelativeAlpha is the relative question's share of α.
func (e *Evidence) RelativeAlpha() float64 {
	if !e.cfg.Baseline {
		return 0
	}
	return e.cfg.Alpha * (1 - absoluteShare)
}

// AbsoluteBoundary is log(κ/α) of the absolute question (see overshoot).
func (e *Evidence) AbsoluteBoundary() float64 { return math.Log(overshoot / e.AbsoluteAlpha()) }

// RelativeBoundary is log(1/α) of the relative question (Ville's
// inequality).
func (e *Evidence) RelativeBoundary() float64 { return -math.Log(e.RelativeAlpha()) }

// AcceptBoundary is log(1/β): the e-values against the effect sizes must
// reach it for a pass.
func (e *Evidence) AcceptBoundary() float64 { return -math.Log(1 - e.cfg.Power) }

// relativeFloor: the relative question only speaks for a canary whose
// error ratio is at least this share of the SLO's allowed ratio. Being
// worse than a near-perfect baseline is not a breach.
const relativeFloor = 0.1

func (e *Evidence) relativeApplies() bool {
	return e.cfg.Baseline && e.canaryTotal > 0 && e.canaryBad/e.canaryTotal >= relativeFloor*e.p0
}

// AbsoluteCrossed reports whether the absolute question's evidence says the
// canary burns faster than the SLO allows.
func (e *Evidence) AbsoluteCrossed() bool { return e.AbsoluteLogE() >= e.AbsoluteBoundary() }

// RelativeCrossed reports whether the relative question's evidence says the
// canary is worse than the baseline beyond the tolerance.
func (e *Evidence) RelativeCrossed() bool {
	return e.relativeApplies() && e.RelativeLogE() >= e.RelativeBoundary()
}

// BaselineBurning reports whether the baseline burns about as fast as the
// canary: the same evidence says the baseline breaches the SLO, or the
// canary's error ratio is at most relative_tolerance times the baseline's.
func (e *Evidence) BaselineBurning() bool {
	if !e.cfg.Baseline || e.baseTotal <= 0 || e.canaryTotal <= 0 {
		return false
	}
	return e.BaselineLogE() >= e.AbsoluteBoundary() ||
		e.canaryBad/e.canaryTotal <= e.cfg.RelativeTolerance*e.baseBad/e.baseTotal
}

// Verdict is what the evidence says after an interval.
type Verdict int

// Verdicts.
const (
	// Watching: not decided yet.
	Watching Verdict = iota
	// BreachAbsolute: the canary burns faster than the SLO allows, and the
	// baseline does not (or on_baseline_breach is fail).
	BreachAbsolute
	// BreachRelative: the canary is worse than the baseline.
	BreachRelative
)

// Verdict says whether to roll back now. While the baseline burns as fast,
// the absolute question's evidence is not the canary's fault: only the
// relative question may roll it back (unless on_baseline_breach is fail).
func (e *Evidence) Verdict() Verdict {
	switch {
	case e.RelativeCrossed():
		return BreachRelative
	case !e.AbsoluteCrossed():
		return Watching
	case e.cfg.Baseline && !e.cfg.BaselineBreachFails && e.BaselineBurning():
		return Watching
	}
	return BreachAbsolute
}

// HeldBackByBursts reports whether the canary's errors so far, not enough
// for a rollback under the dispersion assumed, would have been had they
// been assumed to arrive one by one (Poisson): the assumed bursts, not the
// traffic, held the evidence back.
func (e *Evidence) HeldBackByBursts() bool {
	if e.model.q >= 1 || e.canaryTotal <= 0 || e.AbsoluteCrossed() {
		return false
	}
	var terms [len(alternatives)]float64
	for i, a := range alternatives {
		// the Poisson tilt for a.mult: θ = log a.mult, φ(θ) = a.mult - 1
		terms[i] = math.Log(a.weight) + math.Log(a.mult)*e.canaryBad - (a.mult-1)*e.p0*e.canaryTotal
	}
	return logSumExp(terms[:]) >= e.AbsoluteBoundary()
}

// BaselineBreached reports whether the absolute question crossed at some
// interval while the baseline burned as fast: without a rollback, the
// watch ends inconclusive rather than passed.
func (e *Evidence) BaselineBreached() bool { return e.baselineBreached }

// AbsoluteEffectLogE is the log e-value against "burning at the breach
// rate", for the pass boundary.
func (e *Evidence) AbsoluteEffectLogE() float64 { return e.absEffect }

// RelativeEffectLogE is the same against "breach_relative times the
// baseline's error ratio".
func (e *Evidence) RelativeEffectLogE() float64 { return e.relEffect }

// Cleared reports whether the evidence rules out a canary bad by the effect
// size: the condition for a pass at the end. A canary bad by the effect
// size is cleared with probability at most β.
func (e *Evidence) Cleared() bool {
	if e.canaryTotal == 0 {
		return false
	}
	b := e.AcceptBoundary()
	if e.AbsoluteEffectLogE() < b {
		return false
	}
	if e.relativeApplies() && e.baseTotal > 0 && e.RelativeEffectLogE() < b {
		return false
	}
	return true
}

// Totals returns the cumulative events seen.
func (e *Evidence) Totals() (canaryBad, canaryTotal, baseBad, baseTotal float64) {
	return e.canaryBad, e.canaryTotal, e.baseBad, e.baseTotal
}

// Dispersion is the dispersion the test assumes now.
func (e *Evidence) Dispersion() float64 { return e.model.dispersion() }

// HealthyRatio is p0, the absolute question's healthy error ratio.
func (e *Evidence) HealthyRatio() float64 { return e.p0 }

// Baseline reports whether the relative question is asked.
func (e *Evidence) Baseline() bool { return e.cfg.Baseline }

func clampEvents(bad, total float64) (float64, float64) {
	if !(total > 0) || math.IsInf(total, 1) {
		total = 0
	}
	if !(bad > 0) {
		bad = 0
	}
	return math.Min(bad, total), total
}

func clampP(p float64) float64 {
	return math.Min(math.Max(p, 1e-12), 0.999)
}

func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
