package main

import (
	"math/rand/v2"

	"github.com/sloguard/sloguard/internal/sim"
)

// run is one simulated canary: bad and total requests of the canary and
// the baseline per block of 5 seconds (every rule looks at multiples of
// 5 s), and the baseline's history before the watch in slices (what
// `watch` reads to estimate how bursty errors are).
type run struct {
	canaryBad, canaryTotal []int
	baseBad, baseTotal     []int
	histBad, histTotal     []float64
}

// profile is a track's traffic over the window: requests per second and
// error ratio at second t.
type profile func(t int) (rps, errorRatio float64)

// steady is constant traffic.
func steady(rps, ratio float64) profile {
	return func(int) (float64, float64) { return rps, ratio }
}

// spike multiplies a profile's error ratio by k during [from, from+length).
func spike(p profile, from, length int, k float64) profile {
	return func(t int) (float64, float64) {
		rps, r := p(t)
		if t >= from && t < from+length {
			r = min(r*k, 1)
		}
		return rps, r
	}
}

// ramp grows a profile's traffic in steps, as a canary's weight is raised:
// the share of the final traffic at each fifth of the window.
func ramp(p profile, window int, shares ...float64) profile {
	return func(t int) (float64, float64) {
		rps, r := p(t)
		i := min(t*len(shares)/window, len(shares)-1)
		return rps * shares[i], r
	}
}

// History the sloguard rule sees: 60 slices of 2 minutes, as `watch`
// reads for an interval up to 2 minutes.
const (
	histSlices = 60
	histStep   = 120
)

// block is the resolution of a run, in seconds.
const block = 5

// draw simulates one run of a cell.
func draw(rng *rand.Rand, c *cell, seconds int) run {
	n := seconds / block
	r := run{canaryBad: make([]int, n), canaryTotal: make([]int, n), baseBad: make([]int, n), baseTotal: make([]int, n)}
	cs, bs := sim.NewStream(rng, c.bursts), sim.NewStream(rng, c.bursts)
	if c.history {
		rps, ratio := c.base(0)
		r.histBad, r.histTotal = bs.History(rps, ratio/c.baseFault, histSlices, histStep)
		if c.histIncident != nil {
			bs.AddIncident(r.histBad, histStep, rps, ratio/c.baseFault, *c.histIncident)
		}
	}
	for i := range n {
		rps, ratio := c.canary(i * block)
		r.canaryBad[i], r.canaryTotal[i] = cs.Seconds(block, rps, ratio)
		rps, ratio = c.base(i * block)
		r.baseBad[i], r.baseTotal[i] = bs.Seconds(block, rps, ratio)
	}
	return r
}

// seconds is how long a run lasts.
func (r run) seconds() int { return len(r.canaryTotal) * block }

// sum adds up the blocks of s between the from-th and the to-th second
// (multiples of block).
func sum(s []int, from, to int) float64 {
	t := 0
	for _, v := range s[from/block : to/block] {
		t += v
	}
	return float64(t)
}
