package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dispersionOf is the variance over the mean of counts.
func dispersionOf(xs []float64) (mean, d float64) {
	var s, sq float64
	for _, x := range xs {
		s += x
		sq += x * x
	}
	n := float64(len(xs))
	mean = s / n
	return mean, (sq/n - mean*mean) / mean
}

// TestBurstsHaveTheirDispersion: error counts have the configured mean
// and variance over mean, per second and summed over 30 s, for bursts
// within a second; bursts spread over up to 10 s keep the mean and reach
// the dispersion at long aggregations only.
func TestBurstsHaveTheirDispersion(t *testing.T) {
	tests := map[string]struct {
		b        Bursts
		step     int
		min, max float64
		block    int // seconds drawn at once (Seconds); 0: one by one
	}{
		"Poisson per second":                {Bursts{}, 1, 0.95, 1.05, 0},
		"dispersion 5 per second":           {Bursts{Dispersion: 5}, 1, 4.5, 5.5, 0},
		"dispersion 5 over 30 s":            {Bursts{Dispersion: 5}, 30, 4.5, 5.5, 0},
		"dispersion 10 per 5 s":             {Bursts{Dispersion: 10}, 5, 9, 11, 0},
		"hiccups of up to 10 s, per second": {Bursts{Dispersion: 5, Span: 10}, 1, 1.5, 3, 0},
		"hiccups of up to 10 s, over 60 s":  {Bursts{Dispersion: 5, Span: 10}, 60, 4.2, 5.5, 0},
		"hiccups drawn 5 s at a time":       {Bursts{Dispersion: 5, Span: 10}, 60, 4.2, 5.5, 5},
		"Poisson drawn 5 s at a time":       {Bursts{}, 5, 0.95, 1.05, 5},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewStream(rand.New(rand.NewPCG(3, 4)), tc.b)
			const seconds = 600000
			var sums []float64
			acc, total := 0.0, 0
			block := max(tc.block, 1)
			for i := 0; i < seconds; i += block {
				bad, n := s.Seconds(block, 100, 0.02)
				acc += float64(bad)
				total += n
				if (i+block)%tc.step == 0 {
					sums = append(sums, acc)
					acc = 0
				}
			}
			mean, d := dispersionOf(sums)
			if want := 2.0 * float64(tc.step); math.Abs(mean-want) > 0.02*want {
				t.Errorf("mean %g errors per %d s, want %g", mean, tc.step, want)
			}
			if d < tc.min || d > tc.max {
				t.Errorf("dispersion %g, want %g–%g", d, tc.min, tc.max)
			}
			if r := float64(total) / seconds; math.Abs(r-100) > 0.5 {
				t.Errorf("%g requests per second, want 100", r)
			}
		})
	}
}

func TestHistorySlicesHaveTheDispersion(t *testing.T) {
	s := NewStream(rand.New(rand.NewPCG(5, 6)), Bursts{Dispersion: 10, Span: 10})
	var all []float64
	for range 200 {
		bad, total := s.History(50, 0.01, 60, 120)
		for i := range bad {
			if bad[i] > total[i] {
				t.Fatalf("slice %d: %g bad of %g", i, bad[i], total[i])
			}
		}
		all = append(all, bad...)
	}
	mean, d := dispersionOf(all)
	if math.Abs(mean-60) > 1.5 || d < 9 || d > 11 {
		t.Errorf("history slices: mean %g (want 60), dispersion %g (want 10)", mean, d)
	}
}

func TestAnIncidentAddsItsErrorsWhereItHappened(t *testing.T) {
	s := NewStream(rand.New(rand.NewPCG(7, 8)), Bursts{Dispersion: 5})
	var inside, outside float64
	const runs = 200
	for range runs {
		bad, _ := s.History(180, 0.001, 60, 120)
		before := append([]float64(nil), bad...)
		s.AddIncident(bad, 120, 180, 0.001, Incident{From: 600, Length: 40, Ratio: 0.08})
		for i := range bad {
			if i == 5 {
				inside += bad[i] - before[i]
			} else {
				outside += bad[i] - before[i]
			}
		}
	}
	// 40 s at 180 rps and 7.9 % more errors: 569 per incident, all in the
	// slice from 600 s to 720 s
	if mean := inside / runs; math.Abs(mean-569) > 25 || outside != 0 {
		t.Errorf("%g extra errors per incident in its slice (want 569), %g elsewhere", mean, outside)
	}
}
