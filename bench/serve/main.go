// Command serve measures `sloguard serve` against its targets, on
// loopback, with a real Prometheus (a month of history) behind the gate
// and a fake GitHub (internal/servetest) that issues installation tokens
// and records every review, refusing a second one of the same run:
//
//  1. N concurrent signed deployment_protection_rule events: every one
//     answered 2xx and reviewed exactly once; p50/p99 acknowledgement
//     latency (target p99 < 1 s) and evaluations per second.
//
//  2. kill -9 with K evaluations pending (watching a canary), restart:
//     all K reviewed exactly once.
//
//  3. B requests with bad or missing signatures: all 401, no evaluation,
//     no call to GitHub.
//
//     go run ./bench/serve [-events 200] [-pending 50] [-bad 1000] [-slos 2]
//
// It prints figures; it asserts nothing, but exits 1 when a target's
// "every one" / "exactly once" does not hold.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
)

const (
	appID  = 4242
	secret = "bench-webhook-secret"
)

func main() {
	events := flag.Int("events", 200, "concurrent signed events")
	pending := flag.Int("pending", 50, "evaluations pending at the kill -9")
	bad := flag.Int("bad", 1000, "requests with bad or missing signatures")
	slos := flag.Int("slos", 2, "SLOs each deployment is gated on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *events, *pending, *bad, *slos); err != nil {
		fmt.Fprintf(os.Stderr, "bench/serve: %v\n", err)
		os.Exit(1)
	}
}

// bench is one run's parts.
type bench struct {
	dir, bin, cfg, state, addr string
	env                        []string
	gh                         *servetest.GitHub
	proc                       *exec.Cmd
	log                        *os.File
	client                     *http.Client
	nextRun                    int64
	prom                       *promtest.Server
	services                   []promtest.Service
}

func run(ctx context.Context, out io.Writer, events, pending, bad, nSLOs int) error {
	dir, err := os.MkdirTemp("", "sloguard-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, state: filepath.Join(dir, "state.db"), client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: events}}}

	services := make([]promtest.Service, nSLOs)
	for i := range services {
		services[i] = promtest.Service{Name: fmt.Sprintf("svc-%d", i), Rate: float64(10 + i), ErrorRatio: 0.0002}
	}
	start := time.Now()
	if err := os.Mkdir(filepath.Join(dir, "prom"), 0o700); err != nil {
		return err
	}
	prom, err := promtest.Run(ctx, promtest.New(time.Now(), services...), filepath.Join(dir, "prom"))
	if err != nil {
		return err
	}
	defer prom.Stop()
	b.prom, b.services = prom, services
	key, pub, err := servetest.NewKey()
	if err != nil {
		return err
	}
	b.gh = servetest.NewGitHub(appID, pub)
	defer b.gh.Close()
	b.bin = filepath.Join(dir, "sloguard")
	if msg, err := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/sloguard").CombinedOutput(); err != nil {
		return fmt.Errorf("build sloguard (run from the repository root): %v\n%s", err, msg)
	}
	b.cfg = filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(b.cfg, []byte(config(prom.URL, b.gh.APIURL(), services)), 0o600); err != nil {
		return err
	}
	port, err := promtest.FreePort()
	if err != nil {
		return err
	}
	b.addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.env = []string{fmt.Sprintf("GITHUB_APP_ID=%d", appID), "GITHUB_APP_PRIVATE_KEY=" + string(key), "GITHUB_WEBHOOK_SECRET=" + secret}
	if err := b.start(ctx); err != nil {
		return err
	}
	defer b.kill()
	fmt.Fprintf(out, "sloguard serve on %s; real Prometheus (%d services × 30 days at 1m) and a fake GitHub on loopback; setup %.1fs\n", b.addr, nSLOs, time.Since(start).Seconds())
	fmt.Fprintf(out, "each deployment is gated on %d SLOs (%d instant queries per check)\n\n", nSLOs, nSLOs*10)

	var failed []string
	if msg := b.concurrent(ctx, out, events, nSLOs*10); msg != "" {
		failed = append(failed, msg)
	}
	if msg := b.crash(ctx, out, pending); msg != "" {
		failed = append(failed, msg)
	}
	if msg := b.unsigned(ctx, out, bad); msg != "" {
		failed = append(failed, msg)
	}
	if p := b.gh.Problems(); len(p) > 0 {
		failed = append(failed, fmt.Sprintf("GitHub would have refused %d requests, e.g. %s", len(p), p[0]))
	}
	if len(failed) > 0 {
		return fmt.Errorf("targets missed:\n  %s\nserve's log: %s", strings.Join(failed, "\n  "), b.log.Name())
	}
	return nil
}

func config(promURL, api string, services []promtest.Service) string {
	var s strings.Builder
	fmt.Fprintf(&s, "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: %q}\nslos:\n", promURL)
	for _, svc := range services {
		fmt.Fprintf(&s, `  - name: %[1]s
    objective: 99.9
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service=%[1]q,code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service=%[1]q}[{{.window}}]))
`, svc.Name)
	}
	fmt.Fprintf(&s, `canary:
  interval: 5s
serve:
  github:
    api_url: %s
  environments:
    - github: {repository: acme/shop, environment: production}
    - github: {repository: acme/shop, environment: canary}
      policy: check_then_watch
      watch: 20s
`, api)
	return s.String()
}

// start runs sloguard serve and waits until it is ready.
func (b *bench) start(ctx context.Context) error {
	var err error
	if b.log, err = os.OpenFile(filepath.Join(b.dir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
		return err
	}
	b.proc = exec.Command(b.bin, "serve", "-c", b.cfg, "--state", b.state, "--listen", b.addr)
	b.proc.Env = append(os.Environ(), b.env...)
	b.proc.Stderr = b.log
	if err := b.proc.Start(); err != nil {
		return err
	}
	return servetest.WaitReady(b.client, "http://"+b.addr, time.Minute)
}

func (b *bench) kill() {
	if b.proc != nil {
		_ = b.proc.Process.Kill()
		_, _ = b.proc.Process.Wait()
	}
}

// send posts one event and returns its status and acknowledgement time.
func (b *bench) send(env string, run int64, sig string) (int, time.Duration, error) {
	ev := servetest.Event{APIURL: b.gh.APIURL(), Owner: "acme", Repo: "shop", Environment: env, RunID: run, DeploymentID: run, Installation: 7}
	req, err := servetest.Request("http://"+b.addr+"/v1/github/webhook", []byte(secret), ev.JSON(), fmt.Sprint("delivery-", run), sig)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(t0), nil
}

// burst sends n events at once and returns their statuses, latencies and
// run ids.
func (b *bench) burst(env string, n int, sig string) ([]int, []time.Duration, []int64) {
	codes, lat, runs := make([]int, n), make([]time.Duration, n), make([]int64, n)
	for i := range runs {
		b.nextRun++
		runs[i] = b.nextRun
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			c, d, err := b.send(env, runs[i], sig)
			if err != nil {
				c = -1
			}
			codes[i], lat[i] = c, d
		}()
	}
	close(gate)
	wg.Wait()
	return codes, lat, runs
}

// reviewed counts reviews per run among runs.
func (b *bench) reviewed(runs []int64) (once, twice, never int) {
	count := map[int64]int{}
	for _, r := range b.gh.Reviews() {
		count[r.RunID]++
	}
	for _, run := range runs {
		switch count[run] {
		case 0:
			never++
		case 1:
			once++
		default:
			twice++
		}
	}
	return once, twice, never
}

// waitReviews waits until every run has a review, or the deadline.
func (b *bench) waitReviews(ctx context.Context, runs []int64, limit time.Duration) time.Time {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, _, never := b.reviewed(runs); never == 0 {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Now()
}

func count2xx(codes []int) int {
	n := 0
	for _, c := range codes {
		if c >= 200 && c < 300 {
			n++
		}
	}
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s)-1)+0.5))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (b *bench) concurrent(ctx context.Context, out io.Writer, n, queries int) string {
	t0 := time.Now()
	codes, lat, runs := b.burst("production", n, "")
	acked := count2xx(codes)
	end := b.waitReviews(ctx, runs, 10*time.Minute)
	once, twice, never := b.reviewed(runs)
	elapsed := end.Sub(t0)
	fmt.Fprintf(out, "1. %d concurrent signed protection-rule events\n", n)
	fmt.Fprintf(out, "   answered 2xx:        %d/%d\n", acked, n)
	fmt.Fprintf(out, "   reviewed:            %d exactly once, %d more than once, %d never\n", once, twice, never)
	fmt.Fprintf(out, "   ack latency:         p50 %s, p99 %s, max %s (target p99 < 1 s)\n", ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)), ms(percentile(lat, 1)))
	fmt.Fprintf(out, "   evaluations/second:  %.1f (%d gate checks and reviews in %.2f s, first event sent to last review seen; %.0f queries/s to Prometheus)\n",
		float64(once)/elapsed.Seconds(), once, elapsed.Seconds(), float64(once*queries)/elapsed.Seconds())
	if qps, err := b.rawFloor(ctx, n); err == nil {
		fmt.Fprintf(out, "   Prometheus alone:    %.0f queries/s (the same %d queries sent raw, 10 in flight, right after): sloguard reaches %.0f %% of it\n\n",
			qps, n*queries, 100*float64(once*queries)/elapsed.Seconds()/qps)
	} else {
		fmt.Fprintf(out, "   Prometheus alone:    %v\n\n", err)
	}
	if acked != n || once != n {
		return fmt.Sprintf("concurrent events: %d/%d answered 2xx, %d/%d reviewed exactly once", acked, n, once, n)
	}
	return ""
}

// rawFloor sends the instant queries of n gate checks (each SLO over its
// 30d window and the four default burn-rate windows, errors and total)
// straight to Prometheus, 10 in flight like the provider's default
// max_concurrency, and returns the queries per second Prometheus answers.
func (b *bench) rawFloor(ctx context.Context, n int) (float64, error) {
	var queries []string
	for _, svc := range b.services {
		for _, w := range []string{"30d", "5m", "30m", "1h", "6h"} {
			queries = append(queries,
				fmt.Sprintf(`sum(rate(http_requests_total{service=%q,code=~"5.."}[%s]))`, svc.Name, w),
				fmt.Sprintf(`sum(rate(http_requests_total{service=%q}[%s]))`, svc.Name, w))
		}
	}
	at := time.Now()
	jobs := make(chan string)
	errs := make(chan error, 10)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := range jobs {
				if _, err := b.prom.Query(ctx, q, at); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for range n {
		for _, q := range queries {
			jobs <- q
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(n*len(queries)) / time.Since(t0).Seconds(), nil
}

// pendingWatches counts the canary environment's evaluations that passed
// the gate and are watching.
func (b *bench) pendingWatches() int {
	return servetest.Watching(b.client, "http://"+b.addr, "?environment=canary&limit=1000")
}

func (b *bench) crash(ctx context.Context, out io.Writer, n int) string {
	codes, _, runs := b.burst("canary", n, "")
	deadline := time.Now().Add(2 * time.Minute)
	for b.pendingWatches() != n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	watching := b.pendingWatches()
	b.kill() // SIGKILL: no goodbye
	before := len(b.gh.Reviews())
	t0 := time.Now()
	if err := b.start(ctx); err != nil {
		return err.Error()
	}
	end := b.waitReviews(ctx, runs, 5*time.Minute)
	once, twice, never := b.reviewed(runs)
	logText, _ := os.ReadFile(b.log.Name())
	resumed := strings.Count(string(logText), "resuming a pending evaluation")
	fmt.Fprintf(out, "2. kill -9 with %d evaluations pending (check_then_watch, 20s canary window), then restart\n", n)
	fmt.Fprintf(out, "   answered 2xx:        %d/%d; pending and watching at the kill: %d; reviews before the restart: %d\n", count2xx(codes), n, watching, before)
	fmt.Fprintf(out, "   resumed at restart:  %d\n", resumed)
	fmt.Fprintf(out, "   reviewed:            %d exactly once, %d more than once, %d never (%.1f s after the restart)\n\n", once, twice, never, end.Sub(t0).Seconds())
	if watching != n || once != n {
		return fmt.Sprintf("kill -9: %d/%d pending at the kill, %d/%d reviewed exactly once", watching, n, once, n)
	}
	return ""
}

// metric sums the samples of a metric family on /metrics.
func (b *bench) metric(name string) float64 {
	resp, err := b.client.Get("http://" + b.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			var v float64
			if _, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}

func (b *bench) unsigned(ctx context.Context, out io.Writer, n int) string {
	calls, admitted, failures := b.gh.Calls(), b.metric("sloguard_requests_admitted_total"), b.metric("sloguard_webhook_verification_failures_total")
	wrong := servetest.Sign([]byte("not the secret"), []byte("{}"))
	var codes []int
	for done := 0; done < n && ctx.Err() == nil; done += 100 {
		k := min(100, n-done)
		half := k / 2
		c1, _, _ := b.burst("production", half, "-")     // no signature
		c2, _, _ := b.burst("production", k-half, wrong) // a signature of another body and key
		codes = append(append(codes, c1...), c2...)
	}
	n401 := 0
	for _, c := range codes {
		if c == http.StatusUnauthorized {
			n401++
		}
	}
	dCalls, dAdmitted, dFailures := b.gh.Calls()-calls, b.metric("sloguard_requests_admitted_total")-admitted, b.metric("sloguard_webhook_verification_failures_total")-failures
	fmt.Fprintf(out, "3. %d requests with bad (%d) or missing (%d) signatures\n", n, n-n/2, n/2)
	fmt.Fprintf(out, "   answered 401:        %d/%d\n", n401, n)
	fmt.Fprintf(out, "   evaluations:         %.0f admitted (sloguard_requests_admitted_total), GitHub calls: %d, verification failures counted: %.0f\n", dAdmitted, dCalls, dFailures)
	if n401 != n || dAdmitted != 0 || dCalls != 0 || int(dFailures) != n {
		return fmt.Sprintf("unsigned: %d/%d answered 401, %.0f admitted, %d GitHub calls", n401, n, dAdmitted, dCalls)
	}
	return ""
}
