package rollout

import (
	"math/rand/v2"
	"testing"

	"github.com/sloguard/sloguard/internal/sim"
)

// simulate runs one canary through the test, interval by interval, and
// says whether it was rolled back and whether it was cleared at the end.
func simulate(rng *rand.Rand, cfg TestConfig, canary, base sim.Track, seconds, interval int) (rolledBack, cleared bool) {
	ev := NewEvidence(cfg)
	for t := 0; t < seconds; t += interval {
		var cb, ct, bb, bt int
		for range interval {
			b, n := canary.Second(rng)
			cb, ct = cb+b, ct+n
			b, n = base.Second(rng)
			bb, bt = bb+b, bt+n
		}
		ev.Observe(float64(cb), float64(ct), float64(bb), float64(bt))
		if ev.Breached() {
			return true, false
		}
	}
	return false, ev.Cleared()
}

func defaultTest(baseline bool) TestConfig {
	return TestConfig{Alpha: 0.01, Power: 0.95, Budget: 0.001, HealthyBurnRate: 1, BreachBurnRate: 3,
		Baseline: baseline, RelativeTolerance: 1.5, BreachRelative: 3}
}

// TestHealthyCanariesAreRarelyRolledBack is the false-rollback guarantee,
// checked by simulation: canaries exactly at the healthy boundary (the
// hardest healthy case), looked at every 5 s for 10 minutes, at several
// traffic levels, with and without a baseline.
func TestHealthyCanariesAreRarelyRolledBack(t *testing.T) {
	cases := map[string]struct {
		rps      float64
		baseline bool
	}{
		"200 rps with a baseline":    {200, true},
		"20 rps with a baseline":     {20, true},
		"2000 rps without baseline":  {2000, false},
		"200 rps without a baseline": {200, false},
	}
	const runs = 2500
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(42, uint64(c.rps)))
			cfg := defaultTest(c.baseline)
			track := sim.Track{RPS: c.rps * 0.1, ErrorRatio: 0.001}
			base := sim.Track{RPS: c.rps * 0.9, ErrorRatio: 0.001}
			rollbacks := 0
			for range runs {
				if rb, _ := simulate(rng, cfg, track, base, 600, 5); rb {
					rollbacks++
				}
			}
			rate := float64(rollbacks) / runs
			// Ville's inequality bounds the rate by alpha = 1 %; ask for half
			// of it, a margin the test's 2,500 runs resolve.
			if rate > cfg.Alpha/2 {
				t.Errorf("false rollback rate %.2f%% over %d healthy canaries, want ≤ %.2f%%", 100*rate, runs, 100*cfg.Alpha/2)
			}
			t.Logf("false rollbacks: %d of %d (%.2f%%)", rollbacks, runs, 100*rate)
		})
	}
}

// TestCanariesAtTheEffectSizeAreCaught is the power promise: with enough
// traffic, a canary burning at the breach rate is rolled back at least 95 %
// of the time, and never passed more than 5 % of the time.
func TestCanariesAtTheEffectSizeAreCaught(t *testing.T) {
	const runs = 1000
	rng := rand.New(rand.NewPCG(7, 7))
	cfg := defaultTest(true)
	bad := sim.Track{RPS: 200, ErrorRatio: 0.003} // burn rate 3 = breach_burn_rate
	base := sim.Track{RPS: 1800, ErrorRatio: 0.001}
	caught, passed := 0, 0
	for range runs {
		rb, cleared := simulate(rng, cfg, bad, base, 600, 5)
		if rb {
			caught++
		}
		if cleared {
			passed++
		}
	}
	if float64(caught)/runs < cfg.Power {
		t.Errorf("caught %d of %d canaries at the effect size, want ≥ %.0f%%", caught, runs, 100*cfg.Power)
	}
	if float64(passed)/runs > 1-cfg.Power {
		t.Errorf("passed %d of %d canaries at the effect size, want ≤ %.0f%%", passed, runs, 100*(1-cfg.Power))
	}
}

func TestEvidenceArithmetic(t *testing.T) {
	tests := map[string]struct {
		observe   [][4]float64
		breached  bool
		cleared   bool
		wantTotal float64
	}{
		"no traffic is neither a breach nor a pass": {observe: [][4]float64{{0, 0, 0, 0}}},
		"many clean requests clear the canary":      {observe: [][4]float64{{0, 20000, 0, 180000}}, cleared: true, wantTotal: 20000},
		"a burst of errors breaches at once":        {observe: [][4]float64{{40, 1000, 9, 9000}}, breached: true, wantTotal: 1000},
		"negative increments count as nothing":      {observe: [][4]float64{{-5, -100, 0, 0}}, wantTotal: 0},
		"more bad than total is clamped":            {observe: [][4]float64{{50, 10, 0, 0}}, breached: true, wantTotal: 10},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := NewEvidence(defaultTest(true))
			for _, o := range tc.observe {
				ev.Observe(o[0], o[1], o[2], o[3])
			}
			if got := ev.Breached(); got != tc.breached {
				t.Errorf("Breached() = %v, want %v (log e %.2f, boundary %.2f)", got, tc.breached, ev.LogE(), ev.RejectBoundary())
			}
			if got := ev.Cleared(); got != tc.cleared {
				t.Errorf("Cleared() = %v, want %v", got, tc.cleared)
			}
			if _, ct, _, _ := ev.Totals(); ct != tc.wantTotal {
				t.Errorf("canary total %g, want %g", ct, tc.wantTotal)
			}
		})
	}
}
