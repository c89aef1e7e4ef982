package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/sloguard/sloguard/rollout/sequential"
)

// Threshold SLIs (a p99 latency against a limit): every interval is bad or
// good. The SLO (objective 99 %) allows 1 % of intervals bad; a watch of one
// events SLO and one threshold SLO gives each half of max_false_rollback.
const (
	thresholdQ0    = 0.01
	thresholdAlpha = alpha / 2
	minBad         = 2 // canary.consecutive
)

// thresholdCell draws per-interval verdicts: bad with probability q,
// independently, or sticky (bad intervals in runs of 3 on average, the
// same share q over time), as a slow dependency makes them.
type thresholdCell struct {
	q        float64
	sticky   bool
	interval int
}

func (c thresholdCell) draw(rng *rand.Rand) []bool {
	n := window / c.interval
	out := make([]bool, n)
	const stay = 2.0 / 3 // P(bad after bad) when sticky: runs of 3
	enter := c.q
	if c.sticky {
		enter = c.q * (1 - stay) / (1 - c.q)
	}
	bad := rng.Float64() < c.q
	for i := range out {
		if i > 0 {
			p := enter
			if c.sticky && bad {
				p = stay
			}
			bad = rng.Float64() < p
		}
		out[i] = bad
	}
	return out
}

// sloguardIntervals is sloguard's test; inARow the rule it replaced.
func sloguardIntervals(v []bool, interval int) outcome {
	t := sequential.NewIntervals(thresholdAlpha, thresholdQ0, minBad)
	for i, bad := range v {
		t.Observe(bad)
		if t.Breached() {
			return outcome{verdict: "rollback", at: (i + 1) * interval}
		}
	}
	return outcome{verdict: "pass"}
}

func inARow(v []bool, interval int) outcome {
	run := 0
	for i, bad := range v {
		if !bad {
			run = 0
			continue
		}
		if run++; run >= minBad {
			return outcome{verdict: "rollback", at: (i + 1) * interval}
		}
	}
	return outcome{verdict: "pass"}
}

func printThreshold(w io.Writer, p params) {
	fmt.Fprintf(w, "\n## Threshold SLIs (objective 99 %%: 1 %% of intervals may be bad; α %.3g each)\n\n", thresholdAlpha)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "bad intervals\trule\trolled back [95 % CI]\tmedian TTR\t")
	for _, sticky := range []bool{false, true} {
		for _, iv := range []int{5, 30} {
			for _, q := range []float64{0.01, 0.05, 0.2, 0.5} {
				c := thresholdCell{q: q, sticky: sticky, interval: iv}
				var sg, old []outcome
				for _, seed := range p.seeds {
					rng := rand.New(rand.NewPCG(seed, stream(fmt.Sprint("threshold", c))))
					for range p.runs {
						v := c.draw(rng)
						sg, old = append(sg, sloguardIntervals(v, iv)), append(old, inARow(v, iv))
					}
				}
				shape := "independent"
				if sticky {
					shape = "in runs of 3"
				}
				label := fmt.Sprintf("%g %% (%s), %ds", 100*q, shape, iv)
				if q == thresholdQ0 {
					label += ": healthy"
				}
				for i, r := range []struct {
					name string
					os   []outcome
				}{{"sloguard (bad-interval e-process)", sg}, {fmt.Sprintf("%d bad intervals in a row (before)", minBad), old}} {
					t := count(r.os)
					if i > 0 {
						label = ""
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f s\t\n", label, r.name, rateCI(t), t.medianTTR)
				}
			}
		}
	}
	tw.Flush()
}
