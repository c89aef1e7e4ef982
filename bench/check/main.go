// Command check measures what `sloguard check` costs over the queries it
// cannot avoid. It backfills a month of traffic for N services into a real
// Prometheus, builds sloguard, and prints side by side the wall time of
// `sloguard check` on N SLOs (a subprocess, as CI runs it) and of sending
// the very same resolved queries straight through the same client stack
// (providers/httpconf + client_golang, 10 in flight like the provider's
// default max_concurrency), their ratio, and sloguard's peak RSS.
//
//	go run ./bench/check [-slos 20] [-reps 9]
//
// Targets: ratio ≤ 1.1, peak RSS < 40 MB. It prints; it asserts nothing.
package main

import (
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
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/peakrss"
	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// concurrency is the provider's default max_concurrency, which the raw
// side copies so that both send the same number of queries at once.
const concurrency = 10

func main() {
	n := flag.Int("slos", 20, "number of SLOs, one service each")
	reps := flag.Int("reps", 9, "measured repetitions of each side (after warm-up)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *n, *reps); err != nil {
		fmt.Fprintf(os.Stderr, "bench/check: %v\n", err)
		os.Exit(1)
	}
}

// services cycles through the stories the integration tests tell, with
// rates from 5 to 24 requests a second.
func services(n int) []promtest.Service {
	day := promtest.Day
	profiles := []promtest.Service{
		{ErrorRatio: 0.0002},
		{ErrorRatio: 0.0001, Segments: []promtest.Segment{{From: 21 * day, To: 14 * day, ErrorRatio: 0.005}}},
		{Segments: []promtest.Segment{{From: 10 * time.Minute, ErrorRatio: 0.1}}},
		{ErrorRatio: 0.0001, Segments: []promtest.Segment{{From: 2*day + time.Hour, To: 2 * day, ErrorRatio: 0.5}}},
		{ErrorRatio: 0.0001, Segments: []promtest.Segment{{From: 3 * day, ErrorRatio: 0.0035}}},
	}
	out := make([]promtest.Service, n)
	for i := range out {
		out[i] = profiles[i%len(profiles)]
		out[i].Name = fmt.Sprintf("svc-%02d", i)
		out[i].Rate = float64(5 + i%20)
	}
	return out
}

func config(url string, svcs []promtest.Service) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: %q}\nslos:\n", url)
	for _, s := range svcs {
		fmt.Fprintf(&b, `  - name: %[1]s
    service: %[1]s
    objective: 99.9
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service=%[1]q,code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service=%[1]q}[{{.window}}]))
`, s.Name)
	}
	return b.String()
}

func run(ctx context.Context, w io.Writer, n, reps int) error {
	if n < 1 || reps < 1 {
		return errors.New("-slos and -reps must be at least 1")
	}
	dir, err := os.MkdirTemp("", "sloguard-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	t0 := time.Now()
	h := promtest.New(time.Now(), services(n)...)
	srv, err := promtest.Run(ctx, h, dir)
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
	if err := os.WriteFile(cfgPath, []byte(config(srv.URL, h.Services)), 0o644); err != nil {
		return err
	}
	sg := app.New(io.Discard, io.Discard, os.Getenv, time.Now) // the app layer the commands run on
	cfg, err := sg.Load(cfgPath, "")
	if err != nil {
		return err
	}
	queries := resolved(cfg)
	raw, err := newRaw(srv.URL)
	if err != nil {
		return err
	}
	sub := subprocess{bin: bin, args: []string{"check", "-c", cfgPath, "-o", "json", "--at", h.End.Format(time.RFC3339)}}
	inproc := &inProcess{app: sg, cfg: cfg, at: h.End}

	// Warm up: the first 30-day queries load chunks from disk. Check on the
	// way that sloguard sends exactly the queries the raw side sends.
	for range 2 {
		rec, err := sub.run(ctx)
		if err != nil {
			return err
		}
		if err := sameQueries(rec, queries); err != nil {
			return err
		}
		if err := raw.run(ctx, queries, h.End); err != nil {
			return err
		}
		if _, err := inproc.run(ctx); err != nil {
			return err
		}
	}

	var tSub, tRaw, tIn, tStart []time.Duration
	var rss int64
	for range reps { // interleaved, so drift in the machine's load hits both sides alike
		t0 = time.Now()
		if _, err := sub.run(ctx); err != nil {
			return err
		}
		tSub = append(tSub, time.Since(t0))
		rss = max(rss, sub.maxRSS)
		t0 = time.Now()
		if err := raw.run(ctx, queries, h.End); err != nil {
			return err
		}
		tRaw = append(tRaw, time.Since(t0))
		d, err := inproc.run(ctx)
		if err != nil {
			return err
		}
		tIn = append(tIn, d)
		t0 = time.Now()
		if err := exec.CommandContext(ctx, bin, "version").Run(); err != nil {
			return err
		}
		tStart = append(tStart, time.Since(t0))
	}

	fmt.Fprintf(w, "sloguard check against Prometheus %s\n", srv.URL)
	fmt.Fprintf(w, "history: %d services × 30d at %s, %d samples; backfill and start %s; sloguard built in %s\n",
		n, h.Step, h.SampleCount(), setup.Round(100*time.Millisecond), build.Round(100*time.Millisecond))
	fmt.Fprintf(w, "%d SLOs × 5 windows (30d + default burn windows 5m 30m 1h 6h) × 2 = %d instant queries per run, %d in flight; %d reps after 2 warm-ups\n\n",
		n, len(queries), concurrency, reps)
	row := func(name string, ds []time.Duration) {
		fmt.Fprintf(w, "%-44s %10s %10s %10s\n", name, ms(median(ds)), ms(slices.Min(ds)), ms(slices.Max(ds)))
	}
	fmt.Fprintf(w, "%-44s %10s %10s %10s\n", "wall time", "median", "min", "max")
	row("sloguard check (subprocess, as CI runs it)", tSub)
	row("raw queries (one warm client, for the floor)", tRaw)
	row("gate.Check in-process (no process start)", tIn)
	row("sloguard version (process start alone)", tStart)
	ratio := func(a, b []time.Duration) string {
		return fmt.Sprintf("%.2f (medians), %.2f (minima)", float64(median(a))/float64(median(b)), float64(slices.Min(a))/float64(slices.Min(b)))
	}
	fmt.Fprintf(w, "\nratio sloguard / raw:    %s  target ≤ 1.1\n", ratio(tSub, tRaw))
	fmt.Fprintf(w, "ratio in-process / raw:  %s\n", ratio(tIn, tRaw))
	fmt.Fprintf(w, "sloguard peak RSS:       %.1f MB = %.1f MiB (largest of %d runs)  target < 40 MB\n", float64(rss)/1e6, float64(rss)/(1<<20), reps)
	return nil
}

// resolved lists the queries sloguard sends: per SLO, error and total
// over the SLO window and over every burn window. Without scope labels the
// provider sends {{.window}} expanded and nothing else changed.
func resolved(cfg *slo.Config) []string {
	windows := slo.BurnWindows(cfg.Gate.BurnAlerts)
	var qs []string
	for _, s := range cfg.SLOs {
		for _, win := range append([]time.Duration{s.Window}, windows...) {
			qs = append(qs, slo.ExpandWindow(s.SLI.ErrorQuery, win), slo.ExpandWindow(s.SLI.TotalQuery, win))
		}
	}
	return qs
}

// sameQueries checks the record's queries (the SLO window's) against ours.
func sameQueries(rec *report.Decision, queries []string) error {
	for _, s := range rec.SLOs {
		for _, q := range s.Queries {
			if !slices.Contains(queries, q) {
				return fmt.Errorf("sloguard sent %q, which the raw side does not send", q)
			}
		}
		if len(s.Queries) != 2 {
			return fmt.Errorf("slo %s: the record lists %d queries, want 2", s.Name, len(s.Queries))
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// subprocess runs the built binary as CI would.
type subprocess struct {
	bin    string
	args   []string
	maxRSS int64 // bytes, of the last run
}

func (s *subprocess) run(ctx context.Context) (*report.Decision, error) {
	cmd := exec.CommandContext(ctx, s.bin, s.args...)
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "TF_BUILD=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() != 2) {
		return nil, fmt.Errorf("sloguard %s: %v: %s", strings.Join(s.args, " "), err, stderr.String())
	}
	s.maxRSS = peakrss.Of(cmd.ProcessState)
	var rec report.Decision
	if err := json.Unmarshal(out, &rec); err != nil {
		return nil, fmt.Errorf("sloguard printed no record: %v: %s", err, stderr.String())
	}
	return &rec, nil
}

// rawClient sends queries the way the provider does, minus sloguard.
type rawClient struct{ api v1.API }

func newRaw(url string) (*rawClient, error) {
	// The provider's client with its defaults (3 retries): Prometheus's
	// HTTP client config inside sloguard's retrying client.
	tr := httpconf.Transport{Timeout: slo.Duration(httpconf.DefaultTimeout), Retries: httpconf.DefaultRetries, MaxConcurrency: concurrency}
	rc, err := httpconf.Client(context.Background(), "raw", providers.Env{}, nil, tr, httpconf.Extra{})
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(api.Config{Address: url, Client: httpclient.Standard(rc)})
	if err != nil {
		return nil, err
	}
	return &rawClient{api: v1.NewAPI(c)}, nil
}

func (r *rawClient) run(ctx context.Context, queries []string, at time.Time) error {
	sem := make(chan struct{}, concurrency)
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			qctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the provider's default timeout
			defer cancel()
			_, _, _, errs[i] = r.api.Query(qctx, q, at)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// inProcess runs what `sloguard check` runs (the app layer: providers
// built, gate.Check) without a process around it, which tells the
// cost of starting the binary apart from the cost of the check itself.
type inProcess struct {
	app *app.App
	cfg *slo.Config
	at  time.Time
}

func (p *inProcess) run(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	job, err := p.app.Select(ctx, p.cfg, nil, nil)
	if err != nil {
		return 0, err
	}
	_, err = gate.Check(ctx, p.cfg, job.Providers, gate.Options{At: p.at})
	return time.Since(t0), err
}
