package rollout

import (
	"math"
)

// The sequential test (docs/statistics.md explains it in plain words).
//
// For an events SLI, every request of the canary is a Bernoulli trial: bad
// with probability p. Two questions are asked after every interval:
//
//   - absolute: is p above what the SLO allows, p0 = healthy_burn_rate ×
//     (1 - objective)?
//   - relative (with a baseline): is p above relative_tolerance × the
//     baseline's error ratio? Given that an error happened in an interval,
//     it came from the canary with probability θ = n_c·p_c / (n_c·p_c +
//     n_b·p_b), so the split of errors between canary and baseline is a
//     binomial experiment whose null value θ0 follows from the traffic.
//
// Each question has a likelihood ratio against a mixture of alternatives
// (several effect sizes, weighted), which is a nonnegative martingale with
// mean 1 while the canary is healthy. The two are averaged. By Ville's
// inequality the average crosses 1/α with probability at most α however
// often it is looked at: that is the false-rollback guarantee, valid at
// every interval, not only at the end.
//
// A pass needs evidence too: at the end of the watch the likelihood ratio
// of "bad by the effect size" against "healthy" must have fallen below
// β = 1 - power, which a canary that bad does with probability at most β.
// Otherwise the verdict is inconclusive: too little traffic to tell.

// Mixture alternatives, as multiples of the null's error ratio (absolute)
// or of the tolerated ratio to the baseline (relative), with weights.
var mixture = []struct{ mult, weight float64 }{
	{2, 0.15}, {3, 0.2}, {5, 0.25}, {10, 0.3}, {25, 0.1},
}

// TestConfig sets up the sequential test of one events SLO.
type TestConfig struct {
	Alpha             float64 // false-rollback probability allowed for this SLO
	Power             float64 // 1 - β
	Budget            float64 // allowed error ratio, 1 - objective
	HealthyBurnRate   float64 // absolute null: p0 = HealthyBurnRate × Budget
	BreachBurnRate    float64 // absolute effect size, as a burn rate
	Baseline          bool    // ask the relative question too
	RelativeTolerance float64 // relative null: p_c ≤ RelativeTolerance × p_b
	BreachRelative    float64 // relative effect size, as a ratio p_c / p_b
}

// Evidence accumulates the events of one SLO and tests them.
type Evidence struct {
	cfg TestConfig
	p0  float64

	canaryBad, canaryTotal float64 // cumulative
	baseBad, baseTotal     float64

	// relative test: per-alternative log likelihood ratios, and the one at
	// the effect size for the pass boundary
	relLLR    []float64
	relEffLLR float64
	relEvents float64 // errors seen in intervals where both had traffic
}

// NewEvidence starts a test.
func NewEvidence(cfg TestConfig) *Evidence {
	return &Evidence{cfg: cfg, p0: clampP(cfg.HealthyBurnRate * cfg.Budget), relLLR: make([]float64, len(mixture))}
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
	if !e.cfg.Baseline || canaryTotal == 0 || baseTotal == 0 || canaryBad+baseBad == 0 {
		return
	}
	// θ under the null: errors split in proportion to traffic, the canary's
	// share weighted by the tolerated ratio.
	r0 := e.cfg.RelativeTolerance
	theta0 := canaryTotal * r0 / (canaryTotal*r0 + baseTotal)
	for i, m := range mixture {
		e.relLLR[i] += binomLLR(canaryBad, baseBad, theta0, canaryTotal*r0*m.mult/(canaryTotal*r0*m.mult+baseTotal))
	}
	re := e.cfg.BreachRelative
	e.relEffLLR += binomLLR(canaryBad, baseBad, theta0, canaryTotal*re/(canaryTotal*re+baseTotal))
	e.relEvents += canaryBad + baseBad
}

// binomLLR is the log likelihood ratio of x successes and y failures under
// θ1 against θ0.
func binomLLR(x, y, theta0, theta1 float64) float64 {
	return x*math.Log(theta1/theta0) + y*math.Log((1-theta1)/(1-theta0))
}

// bernoulliLLR is the log likelihood ratio of bad out of n under p1
// against p0.
func bernoulliLLR(bad, n, p0, p1 float64) float64 {
	return bad*math.Log(p1/p0) + (n-bad)*math.Log((1-p1)/(1-p0))
}

// AbsoluteLogE is the log of the absolute test's mixture likelihood ratio.
func (e *Evidence) AbsoluteLogE() float64 {
	terms := make([]float64, 0, len(mixture))
	weights := 0.0
	for _, m := range mixture {
		p1 := e.p0 * m.mult
		if p1 >= 0.999 {
			continue
		}
		weights += m.weight
		terms = append(terms, math.Log(m.weight)+bernoulliLLR(e.canaryBad, e.canaryTotal, e.p0, p1))
	}
	return logSumExp(terms) - math.Log(weights)
}

// RelativeLogE is the log of the relative test's mixture likelihood ratio.
func (e *Evidence) RelativeLogE() float64 {
	terms := make([]float64, len(mixture))
	for i, m := range mixture {
		terms[i] = math.Log(m.weight) + e.relLLR[i]
	}
	return logSumExp(terms)
}

// relativeFloor: the relative question only speaks for a canary whose
// error ratio is at least this share of the SLO's allowed ratio. Being
// worse than a near-perfect baseline is not a breach.
const relativeFloor = 0.1

// relativeApplies reports whether the relative question counts now.
func (e *Evidence) relativeApplies() bool {
	return e.cfg.Baseline && e.canaryTotal > 0 && e.canaryBad/e.canaryTotal >= relativeFloor*e.p0
}

// LogE is the log of the combined statistic: the average of the two
// tests' e-values, or the absolute one alone without a baseline. While the
// relative question does not apply its term counts as 0, which only makes
// the average smaller, so the false-rollback bound still holds.
func (e *Evidence) LogE() float64 {
	if !e.cfg.Baseline {
		return e.AbsoluteLogE()
	}
	if !e.relativeApplies() {
		return e.AbsoluteLogE() - math.Ln2
	}
	return logSumExp([]float64{e.AbsoluteLogE(), e.RelativeLogE()}) - math.Ln2
}

// RejectBoundary is log(1/α): crossing it rolls the canary back.
func (e *Evidence) RejectBoundary() float64 { return -math.Log(e.cfg.Alpha) }

// AcceptBoundary is log(β): the effect-size likelihood ratios must fall
// below it for a pass.
func (e *Evidence) AcceptBoundary() float64 { return math.Log(1 - e.cfg.Power) }

// Breached reports whether the evidence says the canary is bad.
func (e *Evidence) Breached() bool { return e.LogE() >= e.RejectBoundary() }

// AbsoluteEffectLLR is the log likelihood ratio of "burning at the breach
// rate" against "healthy", for the pass boundary.
func (e *Evidence) AbsoluteEffectLLR() float64 {
	pe := clampP(e.cfg.BreachBurnRate * e.cfg.Budget)
	return bernoulliLLR(e.canaryBad, e.canaryTotal, e.p0, pe)
}

// RelativeEffectLLR is the same for the relative question.
func (e *Evidence) RelativeEffectLLR() float64 { return e.relEffLLR }

// Cleared reports whether the evidence rules out a canary bad by the effect
// size: the condition for a pass at the end. The relative question only
// counts when the baseline served traffic and it applies (see
// relativeApplies).
func (e *Evidence) Cleared() bool {
	if e.canaryTotal == 0 {
		return false
	}
	b := e.AcceptBoundary()
	if e.AbsoluteEffectLLR() > b {
		return false
	}
	if e.relativeApplies() && e.baseTotal > 0 && e.RelativeEffectLLR() > b {
		return false
	}
	return true
}

// Totals returns the cumulative events seen.
func (e *Evidence) Totals() (canaryBad, canaryTotal, baseBad, baseTotal float64) {
	return e.canaryBad, e.canaryTotal, e.baseBad, e.baseTotal
}

func clampEvents(bad, total float64) (float64, float64) {
	if total < 0 || math.IsNaN(total) {
		total = 0
	}
	if bad < 0 || math.IsNaN(bad) {
		bad = 0
	}
	if bad > total {
		bad = total
	}
	return bad, total
}

func clampP(p float64) float64 {
	return math.Min(math.Max(p, 1e-12), 0.999)
}

func logSumExp(xs []float64) float64 {
	if len(xs) == 0 {
		return math.Inf(-1)
	}
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
