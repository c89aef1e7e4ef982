package main

import "math"

// beforeRule is sloguard's engine before issue #9, kept here to measure
// what changed: a Poisson/binomial mixture likelihood ratio (every error
// independent), the absolute and relative questions averaged, rolled back
// at 1/α, no baseline veto.
type beforeRule struct {
	interval int
}

func (beforeRule) name() string { return "sloguard before #9 (errors assumed independent)" }

var beforeMixture = []struct{ mult, weight float64 }{{2, 0.15}, {3, 0.2}, {5, 0.25}, {10, 0.3}, {25, 0.1}}

func (b beforeRule) judge(r run) outcome {
	const r0, rb, relFloor, beta = 1.5, 3, 0.1, 0.05
	var cb, ct, relEffect float64
	rel := make([]float64, len(beforeMixture))
	for t := b.interval; t <= r.seconds(); t += b.interval {
		c, n := sum(r.canaryBad, t-b.interval, t), sum(r.canaryTotal, t-b.interval, t)
		bb, bt := sum(r.baseBad, t-b.interval, t), sum(r.baseTotal, t-b.interval, t)
		cb, ct = cb+c, ct+n
		if n > 0 && bt > 0 && c+bb > 0 {
			theta0 := n * r0 / (n*r0 + bt)
			for i, m := range beforeMixture {
				theta1 := n * r0 * m.mult / (n*r0*m.mult + bt)
				rel[i] += c*math.Log(theta1/theta0) + bb*math.Log((1-theta1)/(1-theta0))
			}
			theta1 := n * rb / (n*rb + bt)
			relEffect += c*math.Log(theta1/theta0) + bb*math.Log((1-theta1)/(1-theta0))
		}
		var abs, rl []float64
		for i, m := range beforeMixture {
			p1 := p0 * m.mult
			abs = append(abs, math.Log(m.weight)+cb*math.Log(p1/p0)+(ct-cb)*math.Log((1-p1)/(1-p0)))
			rl = append(rl, math.Log(m.weight)+rel[i])
		}
		e := lse(abs)
		if ct > 0 && cb/ct >= relFloor*p0 {
			e = lse([]float64{e, lse(rl)})
		}
		if e-math.Ln2 >= -math.Log(alpha) {
			return outcome{verdict: "rollback", at: t}
		}
	}
	// pass: "bad by the effect size" ruled out on both questions
	pe := 3 * p0
	absEffect := cb*math.Log(pe/p0) + (ct-cb)*math.Log((1-pe)/(1-p0))
	if ct > 0 && absEffect <= math.Log(beta) && (cb/ct < relFloor*p0 || relEffect <= math.Log(beta)) {
		return outcome{verdict: "pass"}
	}
	return outcome{verdict: "inconclusive"}
}

func lse(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	s := 0.0
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
