package sequential

import "math"

// Pearson accumulates the intervals of a watch (the baseline's, and the
// canary's without history) and estimates their dispersion: Pearson's X²
// about each track's one error ratio over its degrees of freedom, the
// quasi-Poisson estimate. Intervals may carry different traffic: each
// one's expected errors are the pooled error ratio times its requests.
// Within ten minutes the level moves less than over two hours of history,
// and with few short intervals this estimate, which spends one degree of
// freedom on the level where Contrasts spends one per pair and loses less
// to bursts that straddle two intervals, errs low less often: that is what
// it is for. A change of level makes it larger (a slower test), never
// smaller.
type Pearson struct {
	slices         int
	bad, total, sq float64 // Σ bad, Σ total, Σ bad²/total
}

// Add takes one slice: its errors and its requests. Slices without
// requests carry no information.
func (p *Pearson) Add(bad, total float64) {
	if !(total > 0) || math.IsInf(total, 0) || !(bad >= 0) {
		return
	}
	bad = math.Min(bad, total)
	p.slices++
	p.bad += bad
	p.total += total
	p.sq += bad * bad / total
}

// Slices is how many slices with traffic were added.
func (p Pearson) Slices() int { return p.slices }

// pooled estimates one dispersion from several references, each with its
// own error ratio (the canary's and the baseline's intervals): their X²
// and degrees of freedom add up. The excess over Poisson is inflated by
// one standard error, √(2/df) relatively.
func pooled(ps ...Pearson) (float64, bool) {
	var x2, df, bad float64
	slices := 0
	for _, p := range ps {
		if p.slices < 2 || p.bad <= 0 {
			continue
		}
		x2 += p.sq/(p.bad/p.total) - p.bad
		df += float64(p.slices - 1)
		bad += p.bad
		slices += p.slices
	}
	if slices < minSlices || bad < minErrors || df < 1 {
		return 1, false
	}
	return math.Max(1, 1+(x2/df-1)*(1+math.Sqrt(2/df))), true
}

// raw is X²/df, the estimate before inflation.
func (p Pearson) raw() float64 {
	if p.slices < 2 || p.bad <= 0 {
		return 1
	}
	return (p.sq/(p.bad/p.total) - p.bad) / float64(p.slices-1)
}
