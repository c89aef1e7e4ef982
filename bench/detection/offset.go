package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"text/tabwriter"
	"time"

	"github.com/sloguard/sloguard/internal/sim"
	"github.com/sloguard/sloguard/rollout"
)

// A deploy without a traffic split (canary.baseline.offset): the whole
// service after the deploy is judged against the same service earlier.
// The baseline is then the past, not a concurrent track: what changed
// since (a daily ramp, errors that grow with load) moves it too.

// pastScenario is how the service's traffic moved between the baseline's
// window and the watch.
type pastScenario struct {
	label      string
	offset     time.Duration // how far back the baseline is read
	ramp       float64       // traffic at the deploy / traffic at the baseline (1: steady)
	elasticity float64       // the error ratio grows as traffic^elasticity
}

func pastScenarios(window time.Duration) []pastScenario {
	w := fmtDur(window)
	return []pastScenario{
		{label: "offset " + w + " (the watch before the deploy)", offset: window, ramp: 1},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio flat", offset: time.Hour, ramp: 2},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio ×1.41 with it", offset: time.Hour, ramp: 2, elasticity: 0.5},
		{label: "offset 1h, diurnal ramp: traffic ×2, error ratio ×2 with it", offset: time.Hour, ramp: 2, elasticity: 1},
	}
}

// simulatePast draws one deploy: the whole service at rps (at the
// deploy), read for the watch's window after the deploy and for the same
// length offset earlier; fault multiplies the error ratio from the deploy.
func simulatePast(rng *rand.Rand, p params, rps, fault float64, sc pastScenario) run {
	n := int(p.window.Seconds())
	d := sc.offset.Seconds()
	// Traffic ramps linearly from rps/ramp at the baseline's start to rps
	// at the deploy, and on at that slope.
	rate := func(t float64) float64 { return rps / sc.ramp * (1 + (sc.ramp-1)*(t+d)/d) }
	second := func(t float64, f float64) (int, int) {
		r := rate(t)
		return sim.Track{RPS: r, ErrorRatio: math.Min(p.baseError*math.Pow(r/rps, sc.elasticity)*f, 1)}.Second(rng)
	}
	r := run{canaryBad: make([]int, n), canaryTotal: make([]int, n), baseBad: make([]int, n), baseTotal: make([]int, n)}
	for i := range n {
		r.baseBad[i], r.baseTotal[i] = second(float64(i)-d, 1)
		r.canaryBad[i], r.canaryTotal[i] = second(float64(i), fault)
	}
	return r
}

// offsetBench prints the rows of deploys without a split: sloguard against
// the past per scenario, and without any baseline (the absolute question
// alone) for comparison, per traffic level and fault.
func offsetBench(w io.Writer, p params) {
	p.objective, p.baseError = p.offsetObjective, p.offsetBaseError
	budget := 1 - p.objective/100
	interval := int(p.interval.Seconds())
	cfg := rollout.TestConfig{
		Alpha: p.alpha, Power: p.power, Budget: budget,
		HealthyBurnRate: 1, BreachBurnRate: 3, RelativeTolerance: 1.5, BreachRelative: 3,
	}
	fmt.Fprintf(w, "\nNo split (canary.baseline.offset): the whole service after the deploy against itself earlier; %d runs per cell, seed %d.\n", p.runs, p.seed)
	fmt.Fprintf(w, "Error ratio %.2f %% before the deploy (at its traffic), SLO %g %%: faults up to %.0f× stay under the budget. Window %s, interval %s;\n",
		p.baseError*100, p.objective, math.Floor((1-p.objective/100)/p.baseError), p.window, p.interval)
	fmt.Fprintf(w, "rps is the whole service's traffic at the deploy.\n")
	fmt.Fprintf(w, "A diurnal ramp doubles the traffic across the offset; the error ratio stays flat or grows with load (elasticity 0.5 or 1).\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rps\tfault\tbaseline\trolled back\tfalse rollback\tmissed breach\tinconclusive\tmedian TTR\tp90 TTR\t")
	stream := uint64(1 << 40)
	for _, rps := range p.rps {
		for _, fault := range p.faults {
			for si, sc := range pastScenarios(p.window) {
				stream++
				rng := rand.New(rand.NewPCG(p.seed, stream))
				rs := make([]run, p.runs)
				for i := range rs {
					rs[i] = simulatePast(rng, p, rps, fault, sc)
				}
				withPast := cfg
				withPast.Baseline = true
				fmt.Fprintln(tw, row(rps, fault, sloguardRule{cfg: withPast, interval: interval, label: sc.label}, rs))
				if si == 0 {
					fmt.Fprintln(tw, row(rps, fault, sloguardRule{cfg: cfg, interval: interval, label: "none (the absolute question alone)"}, rs))
				}
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nA fault of 1× is a clean deploy: every rollback there is false. With a ramp whose error ratio grows with load, the past is a worse")
	fmt.Fprintln(w, "yardstick: the ramp itself looks like the deploy's fault, which a live baseline would cancel (README: the limits of a past baseline).")
}

func fmtDur(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return d.String()
}
