package sequential

import "math"

// Pearson accumulates per-slice error counts of a reference (the service or
// the baseline in the hours before the watch, the baseline during it) and
// estimates their dispersion: Pearson's X² over its degrees of freedom, the
// quasi-Poisson estimate of variance over mean. Slices may carry different
// traffic: each slice's expected errors are the pooled error ratio times
// its requests.
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

// Minimum evidence for an estimate: enough slices for the variance, enough
// errors that the slices are not all empty.
const (
	minSlices = 10
	minErrors = 10
)

// Estimate returns the dispersion to assume (at least 1) and whether there
// was enough data for one. See pooled. The excess over Poisson is inflated by one
// standard error of the estimate, √(2/df) relatively, because assuming too
// little dispersion is what breaks the guarantee, and too much only costs
// speed.
//
// With p̂ = Σbad/Σtotal, X² = Σ (bad - p̂·total)² / (p̂·total)
// = Σ bad²/total / p̂ - Σ bad.
func (p Pearson) Estimate() (float64, bool) { return pooled(p) }

// pooled estimates one dispersion from several references, each with its
// own error ratio (the canary's and the baseline's intervals): their X²
// and degrees of freedom add up.
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
