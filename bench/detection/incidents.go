package main

import (
	"fmt"
	"math"

	"github.com/sloguard/sloguard/internal/sim"
)

// incidentCells are canaries watched after an environment-wide incident
// that the baseline's history holds: 40 s at 8 % (80× the budget) ten
// minutes before the watch, or an hour at 8 % that ended 30 minutes
// before. The incident is over: a healthy canary must not be rolled back,
// a faulty one must be, as after clean history. Judged by sloguard, the
// oracle, and sloguard with the dispersion estimated as before level
// changes were set aside (one pooled ratio).
func incidentCells() []*cell {
	var cells []*cell
	for _, inc := range []struct {
		name string
		sim.Incident
	}{
		{"40 s at 8 % ten minutes before", sim.Incident{From: histSlices*histStep - 600, Length: 40, Ratio: 0.08}},
		{"an hour at 8 % ending 30 min before", sim.Incident{From: histSlices*histStep - 5400, Length: 3600, Ratio: 0.08}},
	} {
		for _, b := range []sim.Bursts{{}, {Dispersion: 5, Span: 10}} {
			for _, f := range []float64{1, 5} {
				c := newCell("Incidents before the watch (in the baseline's history)", 200, defaultShare, f, 30, b)
				c.histIncident = &inc.Incident
				shape := "Poisson"
				if b.Dispersion > 1 {
					shape = fmt.Sprintf("variance %g×", b.Dispersion)
				}
				c.label = fmt.Sprintf("%s, %s, %g×, 30s", inc.name, shape, f)
				before := sloguardFor(c).(sloguardRule)
				before.pooled, before.label = true, "sloguard, dispersion about one pooled ratio (before)"
				cells = append(cells, c.withRules(before))
			}
		}
	}
	return cells
}

// pooledDispersion is the estimate the engine used before it set changes
// of level aside: Pearson's X² about one pooled error ratio over its
// degrees of freedom, the excess over 1 inflated by one standard error.
func pooledDispersion(bad, total []float64) (float64, bool) {
	var sb, st, sq float64
	n := 0
	for i := range bad {
		if total[i] <= 0 {
			continue
		}
		n++
		sb += bad[i]
		st += total[i]
		sq += bad[i] * bad[i] / total[i]
	}
	if n < 10 || sb < 10 {
		return 1, false
	}
	df := float64(n - 1)
	x2 := sq/(sb/st) - sb
	return math.Max(1, 1+(x2/df-1)*(1+math.Sqrt(2/df))), true
}
