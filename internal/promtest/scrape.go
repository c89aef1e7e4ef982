package promtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// scrapeJob is the job name RunScraping's Prometheus gives its targets.
const scrapeJob = "svc"

// RunScraping starts a Prometheus with an empty TSDB that scrapes targets
// (host:port, path /metrics) every second, for live tests of `watch`.
func RunScraping(ctx context.Context, dir string, targets []string) (*Server, error) {
	return RunScrapingAfter(ctx, dir, targets, nil)
}

// RunScrapingAfter is RunScraping with history backfilled first (when
// history is not nil), the way a Prometheus that has scraped the targets
// for hours holds it: it returns once Prometheus serves every backfilled
// sample. The history must end before the targets' first scrape (see
// Prelude).
func RunScrapingAfter(ctx context.Context, dir string, targets []string, history Backfill) (*Server, error) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus is not on PATH: %w", ErrNotInstalled)
	}
	quoted := make([]string, len(targets))
	for i, t := range targets {
		quoted[i] = fmt.Sprintf("%q", t)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	body := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%s]
`, scrapeJob, strings.Join(quoted, ", "))
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if history != nil {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			return nil, fmt.Errorf("promtool is not on PATH: %w", ErrNotInstalled)
		}
		if err := backfill(ctx, history, promtool, dir, data); err != nil {
			return nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, prom, cfg, data, dir, "")
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		if err != nil || history == nil {
			return s, err
		}
		if err := s.verify(ctx, history); err != nil {
			return nil, errors.Join(err, s.Stop())
		}
		return s, nil
	}
}

// WaitSamples waits until every series of metric has at least n samples.
func (s *Server) WaitSamples(ctx context.Context, metric string, n int) error {
	q := fmt.Sprintf("min(count_over_time(%s[1m]))", metric)
	for {
		if v, err := s.Query(ctx, q, time.Now()); err == nil && int(v) >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %d samples of %s: %w; its log: %s", n, metric, ctx.Err(), s.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Kill ends Prometheus at once (SIGKILL), as a crash would.
func (s *Server) Kill() error { return s.proc.Kill() }

// Restart starts Prometheus again on the same address and data, after Kill
// or Stop, and waits until it is ready.
func (s *Server) Restart(ctx context.Context) error {
	a := s.args
	n, err := start(ctx, a[0], a[1], a[2], a[3], a[4])
	if err != nil {
		return err
	}
	s.proc = n.proc
	return nil
}
