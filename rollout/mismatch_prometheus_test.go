package rollout

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/slo"
)

// TestWatchStopsOnAGoodQueryBeyondTheTotal: a watch whose good_query
// counts more of the canary's events than its total_query (the queries
// swapped) stops at its first interval with a bad query naming both, as
// check does, instead of reading the canary as 100 % good. A real
// Prometheus answers, replayed on a fake clock.
func TestWatchStopsOnAGoodQueryBeyondTheTotal(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	h := promtest.New(end, promtest.Service{Name: "new", Rate: 50, ErrorRatio: 0.01})
	h.Span = 30 * time.Minute
	srv := promtest.Start(t, h)
	prov, err := prometheus.New(t.Context(), prometheus.Config{Name: "prom", URL: srv.URL, HTTP: httpconf.HTTP{Transport: httpconf.Transport{
		Timeout: slo.Duration(10 * time.Second), Retries: 1, MaxConcurrency: 4}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	pol := slo.DefaultCanary()
	pol.Duration, pol.Interval = 10*time.Minute, time.Minute
	pol.Canary = slo.Scope{Labels: map[string]string{"service": "new"}}
	s := slo.SLO{Name: "availability", Provider: "prom", Objective: 99.9, Window: 30 * 24 * time.Hour, SLI: slo.SLI{
		GoodQuery:  `sum(rate(http_requests_total[{{.window}}]))`,
		TotalQuery: `sum(rate(http_requests_total{code="500"}[{{.window}}]))`,
	}}
	since := end.Add(-15 * time.Minute)
	w := &Watch{SLOs: []slo.SLO{s}, Providers: map[string]providers.Provider{"prom": prov}, Policy: pol, Since: since, Clock: &fakeClock{now: since}}
	_, err = w.Run(t.Context())
	if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), `good_query counts more events than total_query "sum(rate(http_requests_total{code=\"500\",service=\"new\"}[2m]))" (6000 > 60)`) {
		t.Fatalf("err %v, want a bad query naming both queries", err)
	}
}
