package sequential

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sloguard/sloguard/internal/sim"
)

// history draws two hours of a reference in 60 slices of 2 minutes, as the
// watch reads it: rps requests per second at an error ratio, errors in
// bursts, and incidents on top.
func history(rng *rand.Rand, b sim.Bursts, rps, ratio float64, incs ...sim.Incident) (bad, total []float64) {
	s := sim.NewStream(rng, b)
	bad, total = s.History(rps, ratio, 60, 120)
	for _, inc := range incs {
		s.AddIncident(bad, 120, rps, ratio, inc)
	}
	return bad, total
}

func estimate(bad, total []float64) Estimate {
	var c Contrasts
	for i := range bad {
		c.Add(bad[i], total[i])
	}
	return c.Estimate()
}

// TestTheDispersionMeasuresBurstsNotLevels: the estimate from history is
// near the dispersion of the errors' bursts, whatever the error ratio did
// meanwhile: an incident of 40 s at 8 % minutes before the watch (which
// made the estimate before this one 190–490), an hour-long one, a step, a
// ramp. 300 histories per case: the median between 0.75 and 1.5 times the
// truth, nine in ten below twice it. At 20 rps an incident's 64 errors are
// hard to tell from a burst of variance 10× (mean size 5.5): there the
// estimate errs on the safe side, up to twice the truth (four times for
// one in ten).
func TestTheDispersionMeasuresBurstsNotLevels(t *testing.T) {
	short := sim.Incident{From: 6600, Length: 40, Ratio: 0.08}  // 10 minutes before the watch
	hour := sim.Incident{From: 1800, Length: 3600, Ratio: 0.08} // ended 30 minutes before
	tests := map[string]struct {
		bursts sim.Bursts
		rps    float64
		incs   []sim.Incident
		step   bool // the error ratio doubles halfway
		ramp   bool // the error ratio climbs from a half to twice
		aside  int  // at least this many pairs set aside, in half the histories
		loose  bool // the median up to twice the truth, the 90th percentile four times
	}{
		"Poisson errors":                            {rps: 180},
		"errors in bursts, variance 5×":             {bursts: sim.Bursts{Dispersion: 5}, rps: 180},
		"variance 10×, hiccups of 1–10 s":           {bursts: sim.Bursts{Dispersion: 10, Span: 10}, rps: 180},
		"variance 5× at 20 rps":                     {bursts: sim.Bursts{Dispersion: 5}, rps: 20},
		"Poisson, a 40 s incident at 8 %":           {rps: 180, incs: []sim.Incident{short}, aside: 1},
		"variance 5×, a 40 s incident at 8 %":       {bursts: sim.Bursts{Dispersion: 5}, rps: 180, incs: []sim.Incident{short}, aside: 1},
		"variance 10×, a 40 s incident at 20 rps":   {bursts: sim.Bursts{Dispersion: 10}, rps: 20, incs: []sim.Incident{short}, loose: true},
		"variance 5×, an hour-long incident at 8 %": {bursts: sim.Bursts{Dispersion: 5}, rps: 180, incs: []sim.Incident{hour}, aside: 2},
		"Poisson, two incidents":                    {rps: 180, incs: []sim.Incident{short, {From: 3000, Length: 300, Ratio: 0.03}}, aside: 3},
		"Poisson, the error ratio doubles halfway":  {rps: 180, step: true},
		"variance 2×, a ramp from 0.05 % to 0.2 %":  {bursts: sim.Bursts{Dispersion: 2}, rps: 180, ramp: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(3, stream(name)))
			d := max(tc.bursts.Dispersion, 1)
			var values, before []float64
			aside := 0
			for range 300 {
				var bad, total []float64
				switch {
				case tc.step:
					bad, total = history(rng, tc.bursts, tc.rps, 0.001)
					hb, _ := history(rng, tc.bursts, tc.rps, 0.001)
					for i := 30; i < 60; i++ {
						bad[i] += hb[i]
					}
				case tc.ramp:
					s := sim.NewStream(rng, tc.bursts)
					bad, total = make([]float64, 60), make([]float64, 60)
					for i := range bad {
						b, n := s.History(tc.rps, 0.0005*(1+3*float64(i)/59), 1, 120)
						bad[i], total[i] = b[0], n[0]
					}
				default:
					bad, total = history(rng, tc.bursts, tc.rps, 0.001, tc.incs...)
				}
				est := estimate(bad, total)
				if !est.OK {
					t.Fatalf("no estimate from %g errors", sum(bad))
				}
				values = append(values, est.Value)
				var p Pearson // one pooled ratio: the estimate before contrasts
				for i := range bad {
					p.Add(bad[i], total[i])
				}
				b, _ := pooled(p)
				before = append(before, b)
				if est.SetAside >= tc.aside {
					aside++
				}
			}
			slices.Sort(values)
			slices.Sort(before)
			med, q90 := values[len(values)/2], values[len(values)*9/10]
			hi, hi90 := 1.5, 2.0
			if tc.loose {
				hi, hi90 = 2, 4
			}
			if med < 0.75*d || med > hi*d || q90 > hi90*d {
				t.Errorf("dispersion assumed: median %.2f, 90th percentile %.2f; want the median within %g–%g, the 90th below %g", med, q90, 0.75*d, hi*d, hi90*d)
			}
			if tc.aside > 0 && aside < 150 {
				t.Errorf("%d pairs set aside in only %d of 300 histories", tc.aside, aside)
			}
			t.Logf("median %.2f, 90th percentile %.2f (one pooled ratio, before: median %.2f)", med, q90, before[len(before)/2])
		})
	}
}

func TestTooLittleHistoryGivesNoEstimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	bad, total := history(rng, sim.Bursts{}, 0.02, 0.001)
	if est := estimate(bad, total); est.OK || est.Value != 1 {
		t.Errorf("%g errors in %d slices: %+v, want no estimate", sum(bad), len(bad), est)
	}
	if est := estimate([]float64{5, 9, 7}, []float64{1000, 1000, 1000}); est.OK {
		t.Errorf("3 slices: %+v, want no estimate", est)
	}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}
