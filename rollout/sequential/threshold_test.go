package sequential

import (
	"math/rand/v2"
	"testing"
)

// TestThresholdSLIsSpendTheBudget: a threshold SLI whose intervals are bad
// exactly as often as its SLO allows (1 %), independently, is rolled back
// at most α of the time over 120 intervals; one bad interval is never a
// breach; bad intervals ten times too often are caught.
func TestThresholdSLIsSpendTheBudget(t *testing.T) {
	const runs = 5000
	cases := map[string]struct {
		q        float64
		min, max float64
	}{
		"healthy: 1 % of intervals bad": {0.01, 0, 0.005},
		"10 % of intervals bad":         {0.1, 0.6, 1},
		"half the intervals bad":        {0.5, 0.999, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, stream(name)))
			rollbacks := 0
			for range runs {
				iv := NewIntervals(0.005, 0.01, 2)
				for range 120 {
					iv.Observe(rng.Float64() < c.q)
					if iv.Breached() {
						rollbacks++
						break
					}
				}
			}
			if r := float64(rollbacks) / runs; r < c.min || r > c.max {
				t.Errorf("rolled back %.2f%%, want %.1f–%.1f%%", 100*r, 100*c.min, 100*c.max)
			}
		})
	}
}

func TestOneBadIntervalIsNeverABreach(t *testing.T) {
	for _, q0 := range []float64{0.0001, 0.001, 0.01, 0.1} {
		iv := NewIntervals(0.01, q0, 2)
		iv.Observe(true)
		if iv.Breached() {
			t.Errorf("q0 %g: one bad interval breached (evidence %.1f)", q0, iv.LogE())
		}
		iv.Observe(true)
		if q0 <= 0.01 && !iv.Breached() {
			t.Errorf("q0 %g: two bad intervals in a row did not breach (evidence %.1f of %.1f)", q0, iv.LogE(), iv.Boundary())
		}
	}
}
