package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// TestPoissonHasTheRightMeanAndVariance checks both samplers (Knuth below
// 10, PTRS above) against the distribution's mean = variance = lambda.
func TestPoissonHasTheRightMeanAndVariance(t *testing.T) {
	for _, lambda := range []float64{0.02, 2, 9.9, 10, 29, 180, 5000} {
		rng := rand.New(rand.NewPCG(1, uint64(lambda*100)))
		const n = 200000
		var sum, sq float64
		for range n {
			x := float64(Poisson(rng, lambda))
			sum += x
			sq += x * x
		}
		mean := sum / n
		variance := sq/n - mean*mean
		// Five standard errors of the mean; 5 % on the variance.
		if se := math.Sqrt(lambda / n); math.Abs(mean-lambda) > 5*se {
			t.Errorf("lambda %g: mean %g, want %g ± %g", lambda, mean, lambda, 5*se)
		}
		if math.Abs(variance-lambda) > 0.05*lambda+1e-3 {
			t.Errorf("lambda %g: variance %g, want %g ± 5%%", lambda, variance, lambda)
		}
	}
}

func TestServiceCountsHistoryAndLiveTraffic(t *testing.T) {
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	s := NewService(start, 1)
	s.History = []Phase{{From: -48 * time.Hour, Track: Track{RPS: 10, ErrorRatio: 0.01}}, {From: -time.Hour, Track: Track{RPS: 10, ErrorRatio: 0.5}}}
	s.Canary = []Phase{{Track: Track{RPS: 100, ErrorRatio: 0}}, {From: 10 * time.Second, Track: Track{RPS: 100, ErrorRatio: 1}}}
	ctx := context.Background()

	c, err := s.Counts(ctx, providers.Query{SLO: "x", Window: 2 * time.Hour}, start)
	if err != nil {
		t.Fatal(err)
	}
	// One hour at 1 % and one at 50 % errors, 36,000 requests each.
	if c.Total != 72000 || math.Abs(c.Bad()-(360+18000)) > 1e-6 {
		t.Errorf("history: %g bad of %g, want 18360 of 72000", c.Bad(), c.Total)
	}
	c, err = s.Counts(ctx, providers.Query{SLO: "x", Scope: providers.Scope{Name: providers.ScopeCanary}, Window: 20 * time.Second}, start.Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Ten clean seconds, then ten where every request fails.
	if c.Bad() <= 0.3*c.Total || c.Bad() >= 0.7*c.Total {
		t.Errorf("canary: %g bad of %g, want about half", c.Bad(), c.Total)
	}
	if _, err := s.Counts(ctx, providers.Query{SLO: "x", Scope: providers.Scope{Name: providers.ScopeBaseline}, Window: time.Minute}, start.Add(time.Minute)); err == nil {
		t.Error("a baseline without traffic should be no data")
	}
}
