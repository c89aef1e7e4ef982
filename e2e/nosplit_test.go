package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
)

// TestNoSplitAgainstThePast deploys to the whole service at once (no
// canary) and watches it for a minute every 5 s against the same queries a
// minute earlier, through a real Prometheus scraping two services at 200
// requests/s and 0.15 % errors under an SLO of 99 %: one whose errors turn
// five times worse at the deploy (0.75 %, still under the 1 % the SLO
// allows, so only the past can tell), one that stays as it was.
//
// Like a production Prometheus, this one holds hours of each service's
// counters before the test starts scraping them live (backfilled with
// promtool: the same series, Poisson requests and errors at the same
// ratio, ending just before the services start, which Prometheus reads as
// a restart), so the watch estimates how bursty the errors are from the
// two hours before the deploy instead of assuming very bursty ones.
func TestNoSplitAgainstThePast(t *testing.T) {
	t.Parallel()
	const (
		rps      = 200
		before   = 0.0015
		deployIn = 70 * time.Second // a minute of live scrapes before the deploy, the baseline's minute
	)
	// The history ends before the services start counting from zero.
	seam := time.Now().Truncate(time.Second).Add(-500 * time.Millisecond)
	started := time.Now()
	svc := startService(t, map[string]trackSpec{
		"regress": {RPS: rps, ErrorRatio: before, FaultAfter: deployIn, FaultRatio: 5 * before},
		"clean":   {RPS: rps, ErrorRatio: before},
	})
	history := &promtest.Prelude{End: seam, Span: 2*time.Hour + 10*time.Minute, Step: time.Second, Seed: 13}
	for _, track := range []string{"regress", "clean"} {
		labels := promtest.ScrapeLabels(svc)
		labels["track"] = track
		history.Targets = append(history.Targets, promtest.Target{Labels: labels, Rate: rps, ErrorRatio: before})
	}
	prom := startPrometheusAfter(t, history, svc)
	deploy := started.Add(deployIn).Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(deploy))
	// A minute after the seam, the last minute's samples are all live.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := prom.WaitSamples(ctx, "http_requests_total", 10); err != nil {
		t.Fatalf("prometheus does not scrape the services: %v", err)
	}

	type outcome struct {
		r    result
		mark []string
	}
	done := map[string]chan outcome{}
	for _, track := range []string{"regress", "clean"} {
		argv, mark := marker(t)
		cfg := noSplitConfig(t, prom.URL, track, argv)
		ch := make(chan outcome, 1)
		done[track] = ch
		go func() {
			r := sloguard(t, command(t.Context(), nil, "watch", "-c", cfg, "-o", "json", "--since", deploy.UTC().Format(time.RFC3339)))
			ch <- outcome{r, markerLines(t, mark)}
		}()
	}

	reg := <-done["regress"]
	if reg.r.code != 1 || reg.r.record["decision"] != "fail" {
		t.Errorf("regress: exit %d, decision %v; want 1, fail\n%s", reg.r.code, reg.r.record["decision"], reg.r.stderr)
	} else if after := decidedAfter(t, reg.r.record); after >= time.Minute {
		t.Errorf("regress: decided after %s, want within the minute", after)
	} else {
		t.Logf("regress: rolled back %s after the deploy", after)
	}
	if why := fmt.Sprint(reg.r.record["reason"]); !strings.HasPrefix(why, "the release breached: availability: the service's error ratio after the deploy ") || !strings.Contains(why, " of the same queries 1m earlier ") {
		t.Errorf("regress: reason %q does not name the release and the minute before", why)
	}
	if len(reg.mark) != 1 || !strings.HasPrefix(reg.mark[0], "fail|availability|") {
		t.Errorf("regress: rollback ran %d times (%q), want once", len(reg.mark), reg.mark)
	}
	c := reg.r.record["canary"].(map[string]any)
	if c["baseline_offset"] != "1m" || !strings.Contains(fmt.Sprint(c["baseline_description"]), "offset 1m") {
		t.Errorf("regress: the record's canary says baseline %v, offset %v", c["baseline_description"], c["baseline_offset"])
	}
	queries, _ := json.Marshal(reg.r.record["slos"].([]any)[0].(map[string]any)["queries"])
	if !strings.Contains(string(queries), ` offset 1m))`) {
		t.Errorf("regress: the baseline's queries %s carry no offset", queries)
	}
	fromHistory(t, "regress", reg.r.record)

	// The clean release is never rolled back; it passes, rather than
	// ending inconclusive, because the minute's 12,000 requests at the
	// error ratio of the minute before rule out three times the errors on
	// both questions when the history says errors are Poisson (about 9,000
	// would do). Assuming the default dispersion of 10, as without
	// history, they would be too few, and the watch would end
	// inconclusive (exit 3).
	clean := <-done["clean"]
	if clean.r.code != 0 || clean.r.record["decision"] != "pass" {
		t.Errorf("clean: exit %d, decision %v; want 0, pass (never a rollback)\n%s", clean.r.code, clean.r.record["decision"], clean.r.stderr)
	} else {
		t.Logf("clean: %v", clean.r.record["reason"])
	}
	if clean.mark != nil {
		t.Errorf("clean: rollback ran: %q", clean.mark)
	}
	fromHistory(t, "clean", clean.r.record)
}

// fromHistory checks that a watch learnt how bursty the errors are from
// the backfilled hours before the deploy, not from a default: Poisson
// errors read as a dispersion of 1, or a little more (the estimate of the
// excess is noisy, and inflated by a standard error).
func fromHistory(t *testing.T, track string, rec map[string]any) {
	t.Helper()
	s := rec["canary"].(map[string]any)["slos"].([]any)[0].(map[string]any)
	d, _ := s["dispersion"].(map[string]any)
	h, _ := d["history"].(float64)
	if src := fmt.Sprint(d["source"]); !strings.HasPrefix(src, "the baseline's last 2h") || h < 1 || h > 1.5 {
		t.Errorf("%s: dispersion %v from %q; want Poisson (1 to 1.5), from the baseline's last 2h", track, d["history"], src)
	}
	t.Logf("%s: dispersion %.2f from %s (assumed at the end: %v)", track, h, d["source"], d["assumed"])
}

// startPrometheusAfter backfills history, then scrapes the targets.
func startPrometheusAfter(t *testing.T, history promtest.Backfill, targets ...string) *promtest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s, err := promtest.RunScrapingAfter(ctx, t.TempDir(), targets, history)
	if err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// noSplitConfig watches one track as the whole service: its selector is in
// the queries, and canary.canary is left out.
func noSplitConfig(t *testing.T, promURL, track string, rollback []string) string {
	t.Helper()
	q, _ := json.Marshal(rollback)
	cfg := fmt.Sprintf(`version: 1
providers:
  - {name: prom, type: prometheus, url: %q, retries: 1, timeout: 3s}
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{track=%q,code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{track=%q}[{{.window}}]))
canary:
  duration: 1m
  interval: 5s
  baseline: {offset: 1m}
rollback:
  timeout: 10s
  retries: 0
  command: %s
`, promURL, track, track, q)
	path := filepath.Join(t.TempDir(), "sloguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
