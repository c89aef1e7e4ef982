package rollout

import (
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/slo"
)

// TestTheHistoryComesFromARealPrometheus replays a watch over backfilled
// data in a real Prometheus (a fake clock in the past, as a backtest
// does): the watch reads the baseline's two hours before --since in 2m
// slices, through the provider's range query, and estimates their
// dispersion. Steady counters are Poisson-like (dispersion 1); a baseline
// whose error ratio jumped twentyfold for ten minutes of those two hours
// is not burstier for it: the pairs of slices around and inside the jump
// are left out as a change of level, and it says so.
func TestTheHistoryComesFromARealPrometheus(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	h := promtest.New(end,
		promtest.Service{Name: "steady", Rate: 50, ErrorRatio: 0.001},
		promtest.Service{Name: "jumpy", Rate: 50, ErrorRatio: 0.001, Segments: []promtest.Segment{{From: 70 * time.Minute, To: 60 * time.Minute, ErrorRatio: 0.02}}},
		promtest.Service{Name: "new", Rate: 50, ErrorRatio: 0.001},
	)
	h.Span = 3 * time.Hour
	srv := promtest.Start(t, h)
	prov, err := prometheus.New(t.Context(), prometheus.Config{Name: "prom", URL: srv.URL, HTTP: httpconf.HTTP{Transport: httpconf.Transport{
		Timeout: slo.Duration(10 * time.Second), Retries: 1, MaxConcurrency: 4}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	since := end.Add(-10 * time.Minute)
	for _, tc := range []struct {
		baseline, source string
	}{
		{"steady", "the baseline's last 2h"},
		{"jumpy", "the baseline's last 2h, without 6 of 59 slice pairs where the error ratio changed level"},
	} {
		t.Run(tc.baseline, func(t *testing.T) {
			pol := slo.DefaultCanary()
			pol.Duration, pol.Interval = 10*time.Minute, time.Minute
			pol.Canary = slo.Scope{Labels: map[string]string{"service": "new"}}
			pol.Baseline = &slo.Scope{Labels: map[string]string{"service": tc.baseline}}
			s := slo.SLO{Name: "availability", Provider: "prom", Objective: 99.9, Window: 30 * 24 * time.Hour, SLI: slo.SLI{
				ErrorQuery: `sum(rate(http_requests_total{code="500"}[{{.window}}]))`,
				TotalQuery: `sum(rate(http_requests_total[{{.window}}]))`,
			}}
			w := &Watch{SLOs: []slo.SLO{s}, Providers: map[string]providers.Provider{"prom": prov}, Policy: pol, Since: since, Clock: &fakeClock{now: since}}
			d, err := w.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			disp := d.Canary.SLOs[0].Dispersion
			if disp == nil || disp.Source != tc.source || disp.FromHistory != 1 || disp.Assumed != 1 {
				t.Errorf("dispersion %+v, want 1 from %s", disp, tc.source)
			}
			if c := d.Canary.SLOs[0].Canary; c == nil || c.Total < 29000 || c.Total > 31000 {
				t.Errorf("canary events %+v, want the 30,000 requests of the 10 minutes watched", c)
			}
		})
	}
}
