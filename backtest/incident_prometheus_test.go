package backtest

import (
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// TestABadReleaseAfterAnEnvironmentWideIncidentIsRolledBack replays the
// outside review's history against a real Prometheus: errors in clumps
// (variance 5×) at 0.1 % under an SLO of 99 %, an hour when every
// instance failed 7 % of requests, and 1.5 hours after it ended a bad
// release on the canary (30× the baseline's errors). The estimate before
// read the incident in a window's two hours of history as bursts, and left
// the release's windows whose history held it, and the incident's own,
// inconclusive for "too few requests"; now every window of the release is
// rolled back within minutes, and the windows inside the incident say the
// baseline burns too.
func TestABadReleaseAfterAnEnvironmentWideIncidentIsRolledBack(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	h := &promtest.Bursty{
		Service: "shop", End: end, Span: 6*time.Hour + 15*time.Minute, Step: 15 * time.Second, Seed: 14,
		Instances: []promtest.Instance{
			{Name: "web-0", Zone: "a", Rate: 50},
			{Name: "web-1", Zone: "b", Rate: 50}, {Name: "web-2", Zone: "b", Rate: 50}, {Name: "web-3", Zone: "b", Rate: 50},
		},
		ErrorRatio: 0.001, Dispersion: 5,
	}
	for _, in := range h.Instances {
		h.Faults = append(h.Faults, promtest.Fault{Instance: in.Name, From: 4 * time.Hour, To: 3 * time.Hour, Factor: 70})
	}
	h.Faults = append(h.Faults, promtest.Fault{Instance: "web-0", From: 90 * time.Minute, To: 0, Factor: 30})
	srv := promtest.StartBackfill(t, h)
	prov, err := prometheus.New(t.Context(), prometheus.Config{Name: "prom", URL: srv.URL, HTTP: httpconf.HTTP{Transport: httpconf.Transport{
		Timeout: slo.Duration(10 * time.Second), Retries: 1, MaxConcurrency: 4}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	pol := slo.DefaultCanary()
	pol.Canary = slo.Scope{Labels: map[string]string{"instance": "web-0"}}
	pol.Baseline = &slo.Scope{Labels: map[string]string{"zone": "b"}}
	b := &Backtest{
		SLOs: []slo.SLO{{Name: "shop-availability", Provider: "prom", Objective: 99, Window: 30 * 24 * time.Hour, SLI: slo.SLI{
			ErrorQuery: `sum(rate(http_requests_total{service="shop",code="500"}[{{.window}}]))`,
			TotalQuery: `sum(rate(http_requests_total{service="shop"}[{{.window}}]))`,
		}}},
		Providers: map[string]providers.Provider{"prom": prov}, Policy: pol,
		From: end.Add(-4 * time.Hour), To: end,
	}
	rec, err := b.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	incident, release := 0, 0
	for _, r := range rec.Runs {
		switch ago := end.Sub(r.Since); {
		case ago <= 90*time.Minute && ago >= 10*time.Minute: // inside the bad release
			release++
			if r.Decision != report.Fail || r.DecidedAt == nil || r.DecidedAt.Sub(r.Since) > 3*time.Minute {
				t.Errorf("window %s of the bad release: %s after %s: %s; want a rollback within 3m", r.Since.Format(time.RFC3339), r.Decision, r.DecidedAfter, r.Reason)
			}
		case ago <= 4*time.Hour && ago > 3*time.Hour: // inside the incident
			incident++
			if r.Decision == report.Fail || !strings.Contains(r.Reason, "the baseline is burning too") {
				t.Errorf("window %s inside the incident: %s: %s; want inconclusive, the baseline burning too", r.Since.Format(time.RFC3339), r.Decision, r.Reason)
			}
		}
	}
	if release != 9 || incident != 6 {
		t.Errorf("%d windows of the bad release (want 9), %d inside the incident (want 6)", release, incident)
	}
	t.Logf("tally over %d windows: %+v", rec.Windows, rec.Decisions)
}
