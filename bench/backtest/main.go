// Command backtest measures `sloguard backtest` on realistic history. It
// backfills two days of one service's counters, scraped every 15 s, into a
// real Prometheus (four instances: the canary web-0 at 50 rps, the
// baseline web-1..3 at 50 rps together, errors at half the budget in
// compound-Poisson clumps whose variance is 5× their mean, no fault: an
// A/A test), builds sloguard, and times the command a user runs over two
// days of 10-minute windows at 30 s, as a subprocess. Every window is
// healthy, so each rollback it reports is a false one.
//
//	go run ./bench/backtest [-days 2] [-step 15s] [-dispersion 5] [-every 10m] [-reps 3] [-seed 1] [-point]
//
// -point also times the same replay with one instant query per interval
// and window (what range reads save). Target: under 10 s. It prints; it
// asserts nothing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/backtest"
	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
)

type options struct {
	days       int
	step       time.Duration
	dispersion float64
	reps       int
	point      bool
	every      time.Duration
	seed       uint64
}

func main() {
	var o options
	flag.IntVar(&o.days, "days", 2, "days of history and of windows")
	flag.DurationVar(&o.step, "step", 15*time.Second, "scrape interval of the generated history")
	flag.Float64Var(&o.dispersion, "dispersion", 5, "variance / mean of the errors per scrape (1: Poisson)")
	flag.IntVar(&o.reps, "reps", 3, "timed runs of sloguard backtest (after one warm-up)")
	flag.DurationVar(&o.every, "every", 0, "time between window starts (default: the 10m duration)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated history (rerun with others: one seed's count is one draw)")
	flag.BoolVar(&o.point, "point", false, "also time the replay with point reads (one instant query per interval and window)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintf(os.Stderr, "bench/backtest: %v\n", err)
		os.Exit(1)
	}
}

const config = `version: 1
providers:
  - {name: prom, type: prometheus, url: %q, timeout: 1m}
slos:
  - name: shop-availability
    objective: 99.9
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service="shop",code="500"}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service="shop"}[{{.window}}]))
canary:
  duration: 10m
  interval: 30s
  canary:   {labels: {instance: web-0}}
  baseline: {labels: {zone: b}}
`

func run(ctx context.Context, w io.Writer, o options) error {
	if o.days < 1 || o.reps < 1 {
		return errors.New("-days and -reps must be at least 1")
	}
	dir, err := os.MkdirTemp("", "sloguard-bench-backtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	days := time.Duration(o.days) * promtest.Day
	h := &promtest.Bursty{
		Service: "shop", End: time.Now().UTC().Truncate(time.Minute), Span: days + 15*time.Minute, Step: o.step, Seed: o.seed,
		Instances: []promtest.Instance{
			{Name: "web-0", Zone: "a", Rate: 50},
			{Name: "web-1", Zone: "b", Rate: 17}, {Name: "web-2", Zone: "b", Rate: 17}, {Name: "web-3", Zone: "b", Rate: 16},
		},
		ErrorRatio: 0.0005, Dispersion: o.dispersion,
	}
	t0 := time.Now()
	srv, err := promtest.RunBackfill(ctx, h, dir)
	if err != nil {
		return err
	}
	defer srv.Stop()
	setup := time.Since(t0)

	t0 = time.Now()
	bin := filepath.Join(dir, "sloguard")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sloguard/sloguard/cmd/sloguard").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	build := time.Since(t0)
	cfgPath := filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, srv.URL), 0o644); err != nil {
		return err
	}
	from, to := h.End.Add(-days), h.End
	args := []string{"backtest", "-c", cfgPath, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "-o", "json"}
	if o.every > 0 {
		args = append(args, "--every", o.every.String())
	}

	var rec report.Backtest
	var times []time.Duration
	for i := range o.reps + 1 { // the first run warms Prometheus's caches up
		t0 = time.Now()
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("sloguard backtest: %v: %s", err, ee.Stderr)
			}
			return err
		}
		if i > 0 {
			times = append(times, time.Since(t0))
		}
		if err := json.NewDecoder(bytes.NewReader(out)).Decode(&rec); err != nil {
			return fmt.Errorf("sloguard backtest printed no record: %w", err)
		}
	}

	fmt.Fprintf(w, "sloguard backtest against Prometheus %s\n", srv.URL)
	fmt.Fprintf(w, "history: %d day(s) of 4 instances scraped every %s (canary web-0 50 rps, baseline web-1..3 50 rps), errors at half the 99.9%% budget in clumps (variance %g× the mean), no fault, seed %d; backfill and start %s; sloguard built in %s\n",
		o.days, o.step, o.dispersion, o.seed, setup.Round(100*time.Millisecond), build.Round(100*time.Millisecond))
	fmt.Fprintf(w, "replay: %d windows of %s every %s at %s; %d range reads, %d point reads\n\n", rec.Windows, rec.Duration, rec.Every, rec.Interval, rec.Reads.Range, rec.Reads.Point)
	fmt.Fprintf(w, "%-52s %10s %10s %10s\n", "wall time", "median", "min", "max")
	fmt.Fprintf(w, "%-52s %10s %10s %10s  target < 10 s\n", "sloguard backtest (subprocess, range reads)", sec(median(times)), sec(slices.Min(times)), sec(slices.Max(times)))
	if o.point {
		d, pr, err := pointReplay(ctx, cfgPath, from, to, o.every)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-52s %10s %10s %10s  (%d point reads)\n", "same replay, point reads (in-process, 1 run)", sec(d), "", "", pr.Reads.Point)
		if !sameRuns(pr, &rec) {
			return errors.New("point reads and range reads decided some window differently")
		}
		fmt.Fprintf(w, "%-52s %10s\n", "point and range reads decided every window alike", "yes")
	}
	fmt.Fprintf(w, "\nA/A decisions (every window healthy): fail (false rollback) %d of %d = %.1f %%, pass %d, inconclusive %d\n",
		rec.Decisions.Fail, rec.Windows, 100*float64(rec.Decisions.Fail)/float64(rec.Windows), rec.Decisions.Pass, rec.Decisions.Inconclusive)
	return nil
}

// pointOnly hides a backend's range reads.
type pointOnly struct{ providers.Provider }

// pointReplay runs the backtest in-process with point reads only.
func pointReplay(ctx context.Context, cfgPath string, from, to time.Time, every time.Duration) (time.Duration, *report.Backtest, error) {
	sg := app.New(io.Discard, io.Discard, os.Getenv, time.Now) // the app layer the commands run on
	cfg, err := sg.Load(cfgPath, "")
	if err != nil {
		return 0, nil, err
	}
	job, err := sg.Select(ctx, cfg, nil, nil)
	if err != nil {
		return 0, nil, err
	}
	provs := map[string]providers.Provider{}
	for name, p := range job.Providers {
		provs[name] = pointOnly{p}
	}
	b := &backtest.Backtest{SLOs: job.SLOs, Providers: provs, Policy: cfg.Canary, From: from, To: to, Every: every}
	t0 := time.Now()
	rec, err := b.Run(ctx)
	return time.Since(t0), rec, err
}

func sameRuns(a, b *report.Backtest) bool {
	if len(a.Runs) != len(b.Runs) {
		return false
	}
	for i := range a.Runs {
		if a.Runs[i].Decision != b.Runs[i].Decision || a.Runs[i].Reason != b.Runs[i].Reason {
			return false
		}
	}
	return true
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func sec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
