package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// tally is one rule's outcomes on one cell.
type tally struct {
	n, rollbacks, passes, unsure int
	medianTTR                    float64
}

func count(os []outcome) tally {
	t := tally{n: len(os)}
	ttr := make([]float64, 0, len(os))
	for _, o := range os {
		at := float64(window)
		switch o.verdict {
		case "rollback":
			t.rollbacks++
			at = float64(o.at)
		case "pass":
			t.passes++
		default:
			t.unsure++
		}
		ttr = append(ttr, at)
	}
	slices.Sort(ttr)
	t.medianTTR = ttr[(len(ttr)-1)/2]
	return t
}

func (t tally) rate() float64 { return float64(t.rollbacks) / float64(t.n) }

// wilson is the 95 % Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	const z = 1.96
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

func pct(v float64) string { return fmt.Sprintf("%.1f %%", 100*v) }

func rateCI(t tally) string {
	lo, hi := wilson(t.rollbacks, t.n)
	return fmt.Sprintf("%s [%.1f–%.1f]", pct(t.rate()), 100*lo, 100*hi)
}

func printCells(w io.Writer, cells []*cell) {
	section := ""
	var tw *tabwriter.Writer
	for _, c := range cells {
		if c.section != section {
			if tw != nil {
				tw.Flush()
			}
			section = c.section
			fmt.Fprintf(w, "\n## %s\n\n", section)
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "cell\trule\trolled back [95 % CI]\tpassed\tinconclusive\tmedian TTR\t× oracle\t")
		}
		var oracle *tally
		for i, r := range c.rules {
			if _, ok := r.(oracleRule); ok {
				t := count(c.outcomes[i])
				oracle = &t
			}
		}
		for i, r := range c.rules {
			t := count(c.outcomes[i])
			ratio := "–"
			if _, ok := r.(sloguardRule); ok && oracle != nil {
				ratio = fmt.Sprintf("%.2f", t.medianTTR/oracle.medianTTR)
			}
			label := c.label
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f s\t%s\t\n", label, r.name(), rateCI(t), pct(float64(t.passes)/float64(t.n)), pct(float64(t.unsure)/float64(t.n)), t.medianTTR, ratio)
		}
	}
	if tw != nil {
		tw.Flush()
	}
}

// printTargets checks sloguard's figures against the targets.
func printTargets(w io.Writer, cells []*cell) {
	fmt.Fprintf(w, "\n## Targets (sloguard, default config)\n\n")
	var worstFR, worstEnv tally
	var frCell, envCell string
	worstRatio, ratioCell := 0.0, ""
	var bursty, low []string
	for _, c := range cells {
		sg := count(c.outcomes[0])
		switch {
		case c.healthy && c.baseline && c.history:
			if worstFR.n == 0 || sg.rate() > worstFR.rate() {
				worstFR, frCell = sg, c.label
			}
		case c.env:
			if worstEnv.n == 0 || sg.rate() > worstEnv.rate() {
				worstEnv, envCell = sg, c.label
			}
		}
		if len(c.rules) < 2 || c.fault <= 1 {
			continue
		}
		or := count(c.outcomes[1])
		ratio := sg.medianTTR / or.medianTTR
		if !c.baseline || !c.history {
			continue
		}
		if c.poisson && or.rate() >= 0.5 && ratio > worstRatio {
			worstRatio, ratioCell = ratio, c.section+": "+c.label
		}
		if !c.poisson {
			bursty = append(bursty, fmt.Sprintf("%.2f", ratio))
		}
		if c.section == "Poisson errors" && strings.HasPrefix(c.label, "20 rps") && c.fault == 5 {
			low = append(low, fmt.Sprintf("%s: %s vs the oracle's %s", c.label, pct(sg.rate()), pct(or.rate())))
		}
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT MET"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if worstFR.n > 0 {
		_, hi := wilson(worstFR.rollbacks, worstFR.n)
		fmt.Fprintf(tw, "false rollbacks ≤ 1 %% in every healthy cell\tworst %s (upper 95 %% bound %.1f %%) in %q\t%s\t\n", pct(worstFR.rate()), 100*hi, frCell, verdict(worstFR.rate() <= 0.01))
	}
	if worstRatio > 0 {
		fmt.Fprintf(tw, "median TTR ≤ 1.5× the oracle's where it detects ≥ 50 %% (Poisson)\tworst %.2f× in %q\t%s\t\n", worstRatio, ratioCell, verdict(worstRatio <= 1.5))
	}
	if len(bursty) > 0 {
		fmt.Fprintf(tw, "bursty cells: median TTR over the dispersion-knowing oracle's\t%s\t(reported)\t\n", strings.Join(bursty, ", "))
	}
	if len(low) > 0 {
		fmt.Fprintf(tw, "low traffic (2 canary rps), 5× fault caught\t%s\t(reported)\t\n", strings.Join(low, "; "))
	}
	if worstEnv.n > 0 {
		fmt.Fprintf(tw, "environment-wide trouble: ≤ 5 %% of windows rolled back\tworst %s in %q\t%s\t\n", pct(worstEnv.rate()), envCell, verdict(worstEnv.rate() <= 0.05))
	}
	tw.Flush()
}
