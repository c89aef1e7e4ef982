package sequential

import "math"

// Intervals tests a threshold SLI (p99 latency, CPU): each interval with a
// value is one trial, bad when the value misses the threshold. Healthy
// means a bad interval at most as often as the SLO's budget allows, q0 =
// healthy_burn_rate × (1 - objective); the e-value is a mixture of
// likelihood ratios of "bad q1 of the time" against q0, so threshold SLIs
// spend the same false-rollback budget as event SLIs.
type Intervals struct {
	alpha, q0 float64
	minBad    int // never a breach on fewer bad intervals (canary.consecutive)
	logs      [len(intervalAlternatives)]float64
	bad, n    int
}

// intervalAlternatives are multiples of q0 (capped below 1), weighted.
var intervalAlternatives = [...]struct{ mult, weight float64 }{
	{3, 0.25}, {10, 0.25}, {30, 0.25}, {100, 0.25},
}

// maxBadShare caps an alternative's share of bad intervals: a bet on
// "always bad" would be lost on the first good interval.
const maxBadShare = 0.9

// NewIntervals starts a test with false-rollback probability alpha,
// healthy share of bad intervals q0, and at least minBad bad intervals
// before a breach.
func NewIntervals(alpha, q0 float64, minBad int) *Intervals {
	return &Intervals{alpha: alpha, q0: math.Min(math.Max(q0, 1e-9), maxBadShare/2), minBad: max(minBad, 1)}
}

// Observe adds one interval's verdict: bad or not.
func (t *Intervals) Observe(bad bool) {
	t.n++
	if bad {
		t.bad++
	}
	for i, a := range intervalAlternatives {
		q1 := math.Min(a.mult*t.q0, maxBadShare)
		if bad {
			t.logs[i] += math.Log(q1 / t.q0)
		} else {
			t.logs[i] += math.Log((1 - q1) / (1 - t.q0))
		}
	}
}

// LogE is the log of the e-value.
func (t *Intervals) LogE() float64 {
	var terms [len(intervalAlternatives)]float64
	for i, a := range intervalAlternatives {
		terms[i] = math.Log(a.weight) + t.logs[i]
	}
	return logSumExp(terms[:])
}

// Boundary is log(1/α).
func (t *Intervals) Boundary() float64 { return -math.Log(t.alpha) }

// Breached reports whether the canary misses its threshold more often than
// the SLO allows, with the evidence to say so.
func (t *Intervals) Breached() bool { return t.bad >= t.minBad && t.LogE() >= t.Boundary() }

// Counts returns the bad intervals and the intervals with a value.
func (t *Intervals) Counts() (bad, n int) { return t.bad, t.n }

// Alpha is the test's false-rollback probability.
func (t *Intervals) Alpha() float64 { return t.alpha }

// HealthyShare is q0.
func (t *Intervals) HealthyShare() float64 { return t.q0 }
