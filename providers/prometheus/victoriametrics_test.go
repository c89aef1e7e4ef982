package prometheus

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/vmtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// TestVictoriaMetricsReadsLikePrometheus loads the same generated month
// into a real Prometheus (backfilled with promtool) and a real
// VictoriaMetrics (imported through /api/v1/import/prometheus), runs the
// queries `check` runs through this provider against both, and compares
// what the gate would decide from them.
//
// The two engines read a window differently. Prometheus's rate() takes
// the increase between the first and the last sample inside the window and
// extrapolates it to the window's edges; VictoriaMetrics's takes it from
// the last sample before the window, with no extrapolation. Error and total
// series share their timestamps, so extrapolation cancels in their ratio,
// and the only difference left is the one scrape interval at the start of
// the window that VictoriaMetrics counts and Prometheus does not. That
// interval's share of a window is step/window: the error ratios may differ
// by at most that share of the larger one (0.0023 % for the 30-day
// budget, 1/30 for a 30-minute burn rate whose window straddles a change
// of error ratio), which the tolerances below allow and nothing more.
func TestVictoriaMetricsReadsLikePrometheus(t *testing.T) {
	if _, err := vmtest.Binary(); err != nil {
		t.Fatal(err) // before Prometheus starts: say what to install at once
	}
	h := promtest.New(time.Now().Truncate(time.Hour),
		promtest.Service{Name: "steady", Rate: 5, ErrorRatio: 0.002},
		promtest.Service{Name: "recent", Rate: 20, ErrorRatio: 0.0005, Segments: []promtest.Segment{{From: 10 * time.Minute, ErrorRatio: 0.2}}},
		promtest.Service{Name: "badweek", Rate: 2, ErrorRatio: 0.0001, Segments: []promtest.Segment{{From: 21 * promtest.Day, To: 14 * promtest.Day, ErrorRatio: 0.01}}},
		promtest.Service{Name: "idle"},
	)
	engines := map[string]string{"prometheus": promtest.Start(t, h).URL, "victoria-metrics": vmtest.Start(t, h).URL}
	objectives := map[string]float64{"steady": 99.5, "recent": 99.9, "badweek": 99.9, "idle": 99.9}
	windows := []time.Duration{30 * promtest.Day, 6 * time.Hour, time.Hour, 30 * time.Minute, 5 * time.Minute}

	type reading struct {
		ratio float64
		ok    bool // traffic in the window
	}
	read := map[string]map[string]map[time.Duration]reading{}
	for engine, url := range engines {
		p, _ := newProvider(t, testConfig(engine, url, time.Minute, 1, 4), nil)
		read[engine] = map[string]map[time.Duration]reading{}
		for svc := range objectives {
			read[engine][svc] = map[time.Duration]reading{}
			sli := slo.SLI{
				ErrorQuery: fmt.Sprintf(`sum(rate(http_requests_total{service=%q,code="500"}[{{.window}}]))`, svc),
				TotalQuery: fmt.Sprintf(`sum(rate(http_requests_total{service=%q}[{{.window}}]))`, svc),
			}
			for _, w := range windows {
				c, err := p.Counts(t.Context(), providers.Query{SLO: svc, SLI: sli, Scope: providers.Scope{Name: providers.ScopeService}, Window: w}, h.End)
				if err != nil {
					t.Fatalf("%s: %s over %s: %v", engine, svc, slo.FormatDuration(w), err)
				}
				r, ok := slo.ErrorRatio(c.Bad(), c.Total)
				read[engine][svc][w] = reading{r, ok}
			}
		}
	}

	for svc, objective := range objectives {
		for _, w := range windows {
			p, v := read["prometheus"][svc][w], read["victoria-metrics"][svc][w]
			name := fmt.Sprintf("%s over %s", svc, slo.FormatDuration(w))
			if p.ok != v.ok {
				t.Errorf("%s: traffic seen by prometheus %v, by victoria-metrics %v", name, p.ok, v.ok)
				continue
			}
			if !p.ok {
				continue
			}
			if want, ok := h.ErrorRatio(svc, h.End, w); ok && math.Abs(p.ratio-want) > 1e-9 {
				t.Errorf("%s: prometheus read error ratio %v, the history says %v", name, p.ratio, want)
			}
			share := float64(h.Step) / float64(w)
			if d := math.Abs(p.ratio - v.ratio); d > share*math.Max(p.ratio, v.ratio)+1e-12 {
				t.Errorf("%s: error ratios %v (prometheus) and %v (victoria-metrics) differ by %v, more than one scrape interval's share (%v)", name, p.ratio, v.ratio, d, share)
			}
			if w == 30*promtest.Day {
				bp, bv := slo.BudgetRemaining(p.ratio, objective), slo.BudgetRemaining(v.ratio, objective)
				if math.Abs(bp-bv) > 0.1 {
					t.Errorf("%s: budget remaining %.4f%% (prometheus) and %.4f%% (victoria-metrics) differ by more than 0.1 points", name, bp, bv)
				}
				t.Logf("%s: budget remaining %.4f%% (prometheus), %.4f%% (victoria-metrics)", name, bp, bv)
			}
		}
	}
}
