package main

import (
	"fmt"
	"math"
	"time"

	"github.com/sloguard/sloguard/internal/sim"
)

// A deploy without a traffic split (canary.baseline.offset): the whole
// service after the deploy is judged against the same service earlier.
// The baseline is then the past, not a concurrent track: what changed
// since (a daily ramp, errors that grow with load) moves it too.

// Those rows use an SLO of 99 % and 0.15 % errors before the deploy, so
// that faults up to 6× stay under the budget and only the comparison with
// the past can see them.
const (
	offsetBudget    = 0.01
	offsetBaseError = 0.0015
)

// pastScenario is how the service's traffic moved between the baseline's
// window and the watch.
type pastScenario struct {
	label      string
	offset     time.Duration // how far back the baseline is read
	ramp       float64       // traffic at the deploy / traffic at the baseline (1: steady)
	elasticity float64       // the error ratio grows as traffic^elasticity
}

func pastScenarios() []pastScenario {
	return []pastScenario{
		{label: "offset 10m (the watch before the deploy)", offset: window * time.Second, ramp: 1},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio flat", offset: time.Hour, ramp: 2},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio ×1.41 with it", offset: time.Hour, ramp: 2, elasticity: 0.5},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio ×2 with it", offset: time.Hour, ramp: 2, elasticity: 1},
	}
}

// pastProfile is the whole service at rps (at the deploy) read offset
// earlier than t, with fault multiplying its error ratio. Traffic ramps
// linearly from rps/ramp at the baseline's start to rps at the deploy, and
// on at that slope.
func pastProfile(rps, fault float64, sc pastScenario, offset time.Duration) profile {
	d := sc.offset.Seconds()
	return func(t int) (float64, float64) {
		at := float64(t) - offset.Seconds()
		r := rps / sc.ramp * (1 + (sc.ramp-1)*(at+d)/d)
		return r, math.Min(offsetBaseError*math.Pow(r/rps, sc.elasticity)*fault, 1)
	}
}

// offsetCells are the no-split rows: sloguard against the past, per
// scenario, and without any baseline (the absolute question alone).
func offsetCells() []*cell {
	var cells []*cell
	for _, rps := range []float64{200, 20} {
		for _, fault := range []float64{1, 5} {
			for si, sc := range pastScenarios() {
				for _, withPast := range []bool{true, false} {
					if !withPast && si > 0 {
						continue // without a baseline the past does not matter
					}
					c := &cell{
						section: "No split (canary.baseline.offset: the whole service against itself earlier; SLO 99 %, 0.15 % errors before)",
						canary:  pastProfile(rps, fault, sc, 0), base: pastProfile(rps, 1, sc, sc.offset), baseFault: 1,
						interval: 5, baseline: withPast, history: true, budget: offsetBudget, healthy: false,
					}
					baseline := sc.label
					if !withPast {
						baseline = "none (the absolute question alone)"
					}
					c.label = fmt.Sprintf("%g rps, %g×, %s", rps, fault, baseline)
					c.bursts = sim.Bursts{}
					cells = append(cells, c.withRules())
				}
			}
		}
	}
	return cells
}
