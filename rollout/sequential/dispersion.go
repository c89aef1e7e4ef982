package sequential

import (
	"math"
	"slices"
)

// Contrasts estimates how bursty a reference's errors are (the baseline or
// the service in the hours before the watch, the baseline during it) from
// slices added in time order. It measures bursts, not changes of level:
// each pair of neighbouring slices is compared only with itself (how its
// errors split between the two, given their traffic), so an error ratio
// that drifts or steps counts only where it moves; the pairs no burst of
// the size seen elsewhere could explain (an incident starting or ending)
// are set aside; and a stretch at a raised level (an incident's inside) is
// measured apart from the rest, so that neither regime's errors swamp the
// other's. docs/statistics.md explains the choices.
//
// For a pair with requests n1, n2 and errors x1, x2 (T = x1 + x2), each
// burst lands in the first slice with probability π = n1/(n1+n2) whatever
// the level, so (x1 - π·T)² / (π(1-π)) has expectation E[Σ S²] (the
// bursts' sizes squared) and T has E[Σ S]: their ratio, pooled over pairs,
// is E[S²]/E[S], the dispersion D of the burst model.
type Contrasts struct {
	prevBad, prevTotal float64
	slices             int
	bad                float64
	pairs              []contrast
}

// contrast is one pair of neighbouring slices: the numerator and the
// errors of the ratio above, and the pair's place in the sequence.
type contrast struct {
	num, errs float64
	i         int
}

// Add takes the next slice: its errors and its requests. Slices without
// requests carry no information and do not break a pair: the slices on
// either side of them are neighbours.
func (c *Contrasts) Add(bad, total float64) {
	if !(total > 0) || math.IsInf(total, 0) || !(bad >= 0) {
		return
	}
	bad = math.Min(bad, total)
	if c.slices > 0 {
		pi := c.prevTotal / (c.prevTotal + total)
		errs := c.prevBad + bad
		d := c.prevBad - pi*errs
		c.pairs = append(c.pairs, contrast{num: d * d / (pi * (1 - pi)), errs: errs, i: len(c.pairs)})
	}
	c.prevBad, c.prevTotal = bad, total
	c.slices++
	c.bad += bad
}

// Slices is how many slices with traffic were added.
func (c *Contrasts) Slices() int { return c.slices }

// Minimum evidence for an estimate: enough slices for the variance, enough
// errors that the slices are not all empty.
const (
	minSlices = 10
	minErrors = 10
)

// How level changes are told from bursts (docs/statistics.md, "Where the
// dispersion comes from"):
//   - a pair whose own estimate, (x1 - π·T)²/(π(1-π)·T), is above
//     outlierFactor times a preliminary estimate of its regime (at least 1)
//     is set aside. Under the burst model a pair's own estimate is about
//     D·χ²₁ with many bursts, about a burst's size with one, so a genuine
//     pair crosses that bar about once in 10⁴ even with the preliminary
//     estimate's low bias;
//   - the preliminary estimate leaves out the largest own estimates
//     (trimShare of the pairs, at least trimAtLeast, at most half): two
//     incidents' four edges cannot inflate it;
//   - a pair is at a raised level when it holds more than raisedFactor
//     times the errors of the raisedQuantile-th pair, and more than
//     raisedBursts times the preliminary estimate (what bursts of the size
//     seen could make). At least minPairs such pairs are a regime of their
//     own (an incident of 20 minutes or more); fewer are set aside.
const (
	outlierFactor  = 25
	trimShare      = 0.1
	trimAtLeast    = 4
	raisedFactor   = 4
	raisedQuantile = 0.25
	raisedBursts   = 10
	minPairs       = 10
)

// Estimate is what the slices say about the dispersion.
type Estimate struct {
	// Value is the dispersion to assume (at least 1): the estimate with its
	// excess over Poisson inflated by one standard error, since assuming
	// too little dispersion is what breaks the guarantee, and too much
	// only costs speed.
	Value float64
	// Raw is the estimate itself, SE its standard error.
	Raw, SE float64
	// SetAside is how many pairs of neighbouring slices were left out as
	// changes of level, Pairs how many there were.
	SetAside, Pairs int
	// OK: there was enough data for an estimate; otherwise Value is 1.
	OK bool
}

// Estimate returns the dispersion estimate of the slices so far.
func (c *Contrasts) Estimate() Estimate {
	est := Estimate{Value: 1, Raw: 1, Pairs: len(c.pairs)}
	if c.slices < minSlices || c.bad < minErrors || len(c.pairs) == 0 {
		return est
	}
	typical, raised := split(c.pairs)
	d, se, aside, ok := stratum(typical)
	est.SetAside += aside
	if len(raised) < minPairs {
		est.SetAside += len(raised)
	} else {
		dr, ser, asideR, okR := stratum(raised)
		est.SetAside += asideR
		switch both := math.Hypot(se, ser); {
		case !okR:
		case !ok || dr-d > 2*both:
			d, se, ok = dr, ser, true
		case d-dr <= 2*both:
			// no clear difference: one regime, measured twice
			d, se = (d+dr)/2, both/2
		}
	}
	if !ok {
		return est
	}
	est.Raw, est.SE, est.OK = d, se, true
	if d > 1 {
		est.Value = d + se*(d-1)/d
	}
	return est
}

// split separates the pairs at a raised level of errors (an incident's
// inside) from the typical ones.
func split(all []contrast) (typical, raised []contrast) {
	q := quantileErrs(all, raisedQuantile)
	d0 := math.Max(preliminary(all), 1)
	for range 4 { // the bar depends on the typical pairs' estimate: settle it
		at := math.Max(raisedFactor*q, raisedBursts*d0)
		typical, raised = nil, nil
		for _, p := range all {
			if p.errs > at {
				raised = append(raised, p)
			} else {
				typical = append(typical, p)
			}
		}
		next := math.Max(preliminary(typical), 1)
		if next == d0 || len(raised) == 0 {
			break
		}
		d0 = next
	}
	return typical, raised
}

// stratum estimates the dispersion of one regime's pairs: those no burst
// of the size seen could explain (an incident starting or ending) set
// aside, the rest pooled.
func stratum(ps []contrast) (d, se float64, aside int, ok bool) {
	if len(ps) == 0 {
		return 1, 0, 0, false
	}
	bar := outlierFactor * math.Max(preliminary(ps), 1)
	kept := make([]contrast, 0, len(ps))
	for _, p := range ps {
		if p.errs > 0 && p.num > bar*p.errs {
			aside++
			continue
		}
		kept = append(kept, p)
	}
	d, se, ok = ratio(kept)
	return d, se, aside, ok
}

// ratio is the pooled estimate Σ num / Σ errs of some pairs and its
// standard error: the residuals' variance, with neighbouring pairs'
// covariance (they share a slice) at Bartlett's weight, which keeps it
// positive.
func ratio(ps []contrast) (d, se float64, ok bool) {
	var num, errs float64
	for _, p := range ps {
		num += p.num
		errs += p.errs
	}
	if errs <= 0 {
		return 1, 0, false
	}
	d = num / errs
	v := 0.0
	for j, p := range ps {
		e := p.num - d*p.errs
		v += e * e
		if j > 0 && ps[j-1].i == p.i-1 {
			v += e * (ps[j-1].num - d*ps[j-1].errs)
		}
	}
	return d, math.Sqrt(math.Max(v, 0)) / errs, true
}

// quantileErrs is the q-quantile of the pairs' errors.
func quantileErrs(ps []contrast, q float64) float64 {
	es := make([]float64, len(ps))
	for i, p := range ps {
		es[i] = p.errs
	}
	slices.Sort(es)
	return es[int(q*float64(len(es)-1))]
}

// preliminary is a rough estimate that pairs at incidents' edges cannot
// inflate: the pooled ratio without the pairs with the largest own
// estimates. It is biased low (by about half under the burst model), which
// only makes the bar for setting pairs aside stricter.
func preliminary(ps []contrast) float64 {
	var zs []contrast
	for _, p := range ps {
		if p.errs > 0 {
			zs = append(zs, p)
		}
	}
	if len(zs) == 0 {
		return 1
	}
	slices.SortFunc(zs, func(a, b contrast) int {
		// by own estimate num/errs, compared without dividing
		switch l, r := a.num*b.errs, b.num*a.errs; {
		case l < r:
			return -1
		case l > r:
			return 1
		}
		return 0
	})
	trim := min(max(int(math.Ceil(trimShare*float64(len(zs)))), trimAtLeast), len(zs)/2)
	var num, errs float64
	for _, p := range zs[:len(zs)-trim] {
		num += p.num
		errs += p.errs
	}
	return num / errs
}
