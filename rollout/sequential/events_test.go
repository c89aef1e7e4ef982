package sequential

import (
	"math/rand/v2"
	"testing"

	"github.com/sloguard/sloguard/internal/sim"
)

// track is one side of a simulated canary: requests per second, error
// ratio, how errors clump.
type track struct {
	rps, ratio float64
}

// simulate runs one canary through the test as `watch` does: the
// dispersion estimated from two hours of the baseline's history (with the
// incidents given, over by the watch), then an interval at a time for ten
// minutes. It returns the verdict at the first
// rollback or at the end, and the evidence.
func simulate(rng *rand.Rand, cfg Config, canary, base track, b sim.Bursts, interval int, incidents ...sim.Incident) (rolledBack bool, ev *Evidence) {
	cs, bs := sim.NewStream(rng, b), sim.NewStream(rng, b)
	hb, ht := bs.History(base.rps, base.ratio, 60, 120)
	for _, inc := range incidents {
		bs.AddIncident(hb, 120, base.rps, base.ratio, inc)
	}
	var c Contrasts
	for i := range hb {
		c.Add(hb[i], ht[i])
	}
	cfg.Dispersion = c.Estimate().Value
	ev = New(cfg)
	for t := 0; t < 600; t += interval {
		cb, ct := cs.Seconds(interval, canary.rps, canary.ratio)
		bb, bt := 0, 0
		if cfg.Baseline {
			bb, bt = bs.Seconds(interval, base.rps, base.ratio)
		}
		ev.Observe(float64(cb), float64(ct), float64(bb), float64(bt))
		if ev.Verdict() != Watching {
			return true, ev
		}
	}
	return false, ev
}

func defaultConfig(baseline bool) Config {
	return Config{Alpha: 0.01, Power: 0.95, Budget: 0.001, HealthyBurnRate: 1, BreachBurnRate: 3,
		Baseline: baseline, RelativeTolerance: 1.5, BreachRelative: 3}
}

// TestHealthyCanariesAreRarelyRolledBack is the false-rollback guarantee,
// checked by simulation: canaries exactly at the healthy boundary (the
// hardest healthy case), looked at every interval for 10 minutes, with
// Poisson errors and with errors in bursts (within a second, and hiccups
// spread over up to 10 s that straddle intervals), with and without a
// baseline, and after an incident that the history holds. 2,000 runs each
// resolve a rate of 1 % to ±0.45 %.
func TestHealthyCanariesAreRarelyRolledBack(t *testing.T) {
	cases := map[string]struct {
		rps       float64
		baseline  bool
		bursts    sim.Bursts
		interval  int
		incidents []sim.Incident // in the history, over by the watch
	}{
		"Poisson, 200 rps, baseline, 5s":         {200, true, sim.Bursts{}, 5, nil},
		"Poisson, 20 rps, baseline, 5s":          {20, true, sim.Bursts{}, 5, nil},
		"Poisson, 2000 rps, no baseline, 30s":    {2000, false, sim.Bursts{}, 30, nil},
		"variance 5×, 200 rps, baseline, 5s":     {200, true, sim.Bursts{Dispersion: 5}, 5, nil},
		"variance 10×, 200 rps, no baseline, 5s": {200, false, sim.Bursts{Dispersion: 10}, 5, nil},
		"hiccups, variance 10×, baseline, 30s":   {200, true, sim.Bursts{Dispersion: 10, Span: 10}, 30, nil},
		"hiccups, variance 2×, baseline, 5s":     {200, true, sim.Bursts{Dispersion: 2, Span: 10}, 5, nil},
		"variance 5×, 40 s at 8 % ten minutes before, baseline, 30s": {200, true, sim.Bursts{Dispersion: 5}, 30,
			[]sim.Incident{{From: 6600, Length: 40, Ratio: 0.08}}},
		"variance 10×, an hour at 8 % ending 30 min before, baseline, 5s": {200, true, sim.Bursts{Dispersion: 10, Span: 10}, 5,
			[]sim.Incident{{From: 1800, Length: 3600, Ratio: 0.08}}},
	}
	const runs = 2000
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(42, stream(name)))
			rollbacks := 0
			for range runs {
				if rb, _ := simulate(rng, defaultConfig(c.baseline), track{c.rps * 0.1, 0.001}, track{c.rps * 0.9, 0.001}, c.bursts, c.interval, c.incidents...); rb {
					rollbacks++
				}
			}
			rate := float64(rollbacks) / runs
			if rate > 0.01 {
				t.Errorf("false rollback rate %.2f%% over %d healthy canaries, want ≤ max_false_rollback, 1%%", 100*rate, runs)
			}
			t.Logf("false rollbacks: %d of %d (%.2f%%)", rollbacks, runs, 100*rate)
		})
	}
}

// TestCanariesAtTheEffectSizeAreCaught is the power promise: with enough
// traffic, a canary burning at the breach rate is rolled back at least 95 %
// of the time and passed at most 5 % of the time, with Poisson errors and
// with bursts.
func TestCanariesAtTheEffectSizeAreCaught(t *testing.T) {
	for name, b := range map[string]sim.Bursts{"Poisson": {}, "variance 5×": {Dispersion: 5}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const runs = 1000
			rng := rand.New(rand.NewPCG(7, stream(name)))
			rps := 200.0
			if b.Dispersion > 1 {
				rps = 600 // bursts carry less information per error
			}
			caught, passed := 0, 0
			for range runs {
				rb, ev := simulate(rng, defaultConfig(true), track{rps, 0.003}, track{9 * rps, 0.001}, b, 5)
				if rb {
					caught++
				} else if ev.Cleared() {
					passed++
				}
			}
			t.Logf("caught %d, passed %d of %d", caught, passed, runs)
			if float64(caught)/runs < 0.95 {
				t.Errorf("caught %d of %d canaries at the effect size, want ≥ 95%%", caught, runs)
			}
			if float64(passed)/runs > 0.05 {
				t.Errorf("passed %d of %d canaries at the effect size, want ≤ 5%%", passed, runs)
			}
		})
	}
}

// TestTheBaselineBurningTooIsNotTheCanarysFault: both tracks eight times
// over budget (an incident elsewhere) rolls back at most 5 % of canaries
// under on_baseline_breach: inconclusive, and ends inconclusive with the
// baseline burning; under on_baseline_breach: fail it rolls back; a canary
// ten times worse than the burning baseline is still rolled back.
func TestTheBaselineBurningTooIsNotTheCanarysFault(t *testing.T) {
	const runs = 1000
	cases := map[string]struct {
		canaryRatio float64
		fails       bool
		min, max    float64
		burning     float64 // at least this share ends with BaselineBreached
	}{
		"both tracks 8×, on_baseline_breach inconclusive": {0.008, false, 0, 0.05, 0.9},
		"both tracks 8×, on_baseline_breach fail":         {0.008, true, 0.95, 1, 0},
		"canary 80× while the baseline burns 8×":          {0.08, false, 0.95, 1, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(9, stream(name)))
			cfg := defaultConfig(true)
			cfg.BaselineBreachFails = c.fails
			rollbacks, burning := 0, 0
			for range runs {
				rb, ev := simulate(rng, cfg, track{20, c.canaryRatio}, track{180, 0.008}, sim.Bursts{}, 30)
				if rb {
					rollbacks++
				} else if ev.BaselineBreached() {
					burning++
				}
			}
			if r := float64(rollbacks) / runs; r < c.min || r > c.max {
				t.Errorf("rolled back %.1f%%, want %.0f–%.0f%%", 100*r, 100*c.min, 100*c.max)
			}
			if b := float64(burning) / runs; b < c.burning {
				t.Errorf("%.1f%% ended with the baseline burning too, want ≥ %.0f%%", 100*b, 100*c.burning)
			}
		})
	}
}

func TestEvidenceArithmetic(t *testing.T) {
	tests := map[string]struct {
		observe   [][4]float64
		verdict   Verdict
		cleared   bool
		wantTotal float64
	}{
		"no traffic is neither a breach nor a pass": {observe: [][4]float64{{0, 0, 0, 0}}},
		"many clean requests clear the canary":      {observe: [][4]float64{{0, 20000, 0, 180000}}, cleared: true, wantTotal: 20000},
		"a burst of errors breaches at once":        {observe: [][4]float64{{40, 1000, 9, 9000}}, verdict: BreachRelative, wantTotal: 1000},
		"negative increments count as nothing":      {observe: [][4]float64{{-5, -100, 0, 0}}, wantTotal: 0},
		"more bad than total is clamped":            {observe: [][4]float64{{50, 10, 0, 0}}, verdict: BreachAbsolute, wantTotal: 10},
		"errors on both tracks alike wait":          {observe: [][4]float64{{40, 1000, 360, 9000}}, wantTotal: 1000},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := New(defaultConfig(true))
			for _, o := range tc.observe {
				ev.Observe(o[0], o[1], o[2], o[3])
			}
			if got := ev.Verdict(); got != tc.verdict {
				t.Errorf("Verdict() = %v, want %v (absolute %.2f of %.2f, relative %.2f of %.2f)", got, tc.verdict,
					ev.AbsoluteLogE(), ev.AbsoluteBoundary(), ev.RelativeLogE(), ev.RelativeBoundary())
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

// TestTheBaselineRaisesTheDispersion: the test starts from the history's
// dispersion and raises it when the baseline's intervals show bursts the
// history did not; it never lowers it.
func TestTheBaselineRaisesTheDispersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for name, c := range map[string]struct {
		start    float64
		bursts   sim.Bursts
		min, max float64
	}{
		"steady baseline keeps Poisson":   {1, sim.Bursts{}, 1, 1},
		"bursty baseline raises it":       {1, sim.Bursts{Dispersion: 10}, 5, 20},
		"steady baseline never lowers it": {4, sim.Bursts{}, 4, 4},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := defaultConfig(true)
			cfg.Dispersion = c.start
			ev := New(cfg)
			bs := sim.NewStream(rng, c.bursts)
			for range 120 {
				bb, bt := bs.Seconds(5, 900, 0.002)
				ev.Observe(0, 500, float64(bb), float64(bt))
			}
			if d := ev.Dispersion(); d < c.min || d > c.max {
				t.Errorf("dispersion %g after 10 minutes, want %g–%g", d, c.min, c.max)
			}
		})
	}
}

func stream(name string) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}
