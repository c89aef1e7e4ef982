package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoSplitAgainstThePast deploys to the whole service at once (no
// canary) and watches it for a minute every 2 s against the same queries a
// minute earlier, through a real Prometheus scraping two services at 200
// requests/s and 0.15 % errors under an SLO of 99 %: one whose errors turn
// five times worse at the deploy (0.75 %, still under the 1 % the SLO
// allows, so only the past can tell), one that stays as it was.
func TestNoSplitAgainstThePast(t *testing.T) {
	t.Parallel()
	const (
		rps      = 200
		before   = 0.0015
		deployIn = 70 * time.Second // a minute of history before the deploy, and the first scrapes
	)
	started := time.Now()
	svc := startService(t, map[string]trackSpec{
		"regress": {RPS: rps, ErrorRatio: before, FaultAfter: deployIn, FaultRatio: 5 * before},
		"clean":   {RPS: rps, ErrorRatio: before},
	})
	prom := startPrometheus(t, svc)
	deploy := started.Add(deployIn).Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(deploy))

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

	clean := <-done["clean"]
	if clean.r.code != 0 || clean.r.record["decision"] != "pass" {
		t.Errorf("clean: exit %d, decision %v; want 0, pass (never a rollback)\n%s", clean.r.code, clean.r.record["decision"], clean.r.stderr)
	}
	if clean.mark != nil {
		t.Errorf("clean: rollback ran: %q", clean.mark)
	}
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
  interval: 2s
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
