package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
)

// These tests run `sloguard backtest` in-process against a real Prometheus
// holding six hours of bursty history backfilled with promtool: one
// service on four instances, errors in compound-Poisson clumps (variance
// 5× the mean), the canary one instance (web-0, zone a) and the baseline
// the rest (zone b), with a planted bad release: web-0's errors 10× for the
// hour from 3 h to 2 h before the end.

func burstySixHours(end time.Time) *promtest.Bursty {
	return &promtest.Bursty{
		Service: "shop", End: end.UTC().Truncate(time.Minute), Span: 6*time.Hour + 15*time.Minute, Step: 15 * time.Second, Seed: 9,
		Instances: []promtest.Instance{
			{Name: "web-0", Zone: "a", Rate: 50},
			{Name: "web-1", Zone: "b", Rate: 17}, {Name: "web-2", Zone: "b", Rate: 17}, {Name: "web-3", Zone: "b", Rate: 16},
		},
		ErrorRatio: 0.002, Dispersion: 5,
		Faults: []promtest.Fault{{Instance: "web-0", From: 3 * time.Hour, To: 2 * time.Hour, Factor: 10}},
	}
}

func backtestConfig(url string) string {
	return fmt.Sprintf(`version: 1
providers:
  - {name: prom, type: prometheus, url: %q, timeout: 10s, retries: 0}
slos:
  - name: shop-availability
    objective: 99
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service="shop",code="500"}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service="shop"}[{{.window}}]))
canary:
  canary:   {labels: {instance: web-0}}
  baseline: {labels: {zone: b}}
`, url)
}

type backtestOutcome struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) backtestOutcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"sloguard"}, args...), &stdout, &stderr)
	return backtestOutcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestBacktestAgainstPrometheus(t *testing.T) {
	h := burstySixHours(time.Now())
	srv := promtest.StartBackfill(t, h)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(cfg, []byte(backtestConfig(srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	from, to := h.End.Add(-6*time.Hour), h.End
	window := []string{"backtest", "-c", cfg, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}

	recPath := filepath.Join(dir, "out", "backtest.json")
	o := runCLI(t, append(window, "-o", "json", "--report", recPath)...)
	if o.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", o.code, o.stderr)
	}
	rec := checkBacktestRecord(t, o.stdout, from, to)
	if file, err := os.ReadFile(recPath); err != nil || string(file) != o.stdout {
		t.Errorf("--report file differs from stdout (%v)", err)
	}

	// The windows inside the planted bad hour roll back.
	badFrom, badTo := h.End.Add(-3*time.Hour), h.End.Add(-2*time.Hour)
	planted := 0
	for _, r := range rec.Runs {
		if !r.Since.Before(badFrom) && !r.Since.Add(10*time.Minute).After(badTo) {
			planted++
			if r.Decision != report.Fail || r.DecidedAt == nil || !strings.HasPrefix(r.Reason, "canary breached: shop-availability: canary error ratio") {
				t.Errorf("window %s in the bad hour: %s at %v (%s), want a rollback", r.Since, r.Decision, r.DecidedAt, r.Reason)
			}
		}
	}
	if planted != 6 {
		t.Errorf("%d windows inside the bad hour, want 6", planted)
	}
	t.Logf("tally over 36 windows of bursty history (6 bad): %+v; reads %+v", rec.Decisions, rec.Reads)

	t.Run("every window is decided as watch --since would have", func(t *testing.T) {
		for i, r := range rec.Runs {
			w := watchSince(t, cfg, r.Since)
			var wantAt, gotAt string
			if w.Canary.DecidedAt != nil {
				wantAt = w.Canary.DecidedAt.UTC().Format(time.RFC3339)
			}
			if r.DecidedAt != nil {
				gotAt = r.DecidedAt.UTC().Format(time.RFC3339)
			}
			if r.Decision != w.Decision || r.Reason != w.Reason || gotAt != wantAt {
				t.Errorf("window %d (%s): backtest %s at %q: %s\nwatch --since: %s at %q: %s", i, r.Since.Format(time.RFC3339), r.Decision, gotAt, r.Reason, w.Decision, wantAt, w.Reason)
			}
		}
	})

	t.Run("watch --since started hours after its window decides as backtest, on the wall clock", func(t *testing.T) {
		// every sixth window, the bad hour's among them: each watch reads
		// its past intervals at once and ends at since + duration
		for i := 0; i < len(rec.Runs); i += 6 {
			r := rec.Runs[i]
			o := runCLI(t, "watch", "-c", cfg, "--since", r.Since.Format(time.RFC3339), "--no-rollback", "-o", "json")
			var w report.Decision
			if err := json.Unmarshal([]byte(o.stdout), &w); err != nil {
				t.Fatalf("window %s: exit %d, %v; stderr:\n%s", r.Since.Format(time.RFC3339), o.code, err, o.stderr)
			}
			if r.Decision != w.Decision || r.Reason != w.Reason || fmt.Sprint(r.DecidedAt) != fmt.Sprint(w.Canary.DecidedAt) || w.Canary.Elapsed != r.DecidedAfter {
				t.Errorf("window %s: backtest %s at %v after %s: %s\nwatch --since: %s at %v after %s: %s", r.Since.Format(time.RFC3339),
					r.Decision, r.DecidedAt, r.DecidedAfter, r.Reason, w.Decision, w.Canary.DecidedAt, w.Canary.Elapsed, w.Reason)
			}
			if want := map[string]int{report.Pass: 0, report.Fail: 1, report.Inconclusive: 3}[r.Decision]; o.code != want {
				t.Errorf("window %s: exit %d, want %d for %s", r.Since.Format(time.RFC3339), o.code, want, r.Decision)
			}
		}
	})

	t.Run("text and markdown show the same tally and the windows that did not pass", func(t *testing.T) {
		tally := fmt.Sprintf("would roll back %d (", rec.Decisions.Fail)
		text := runCLI(t, window...)
		if text.code != 0 || !strings.Contains(text.stdout, "sloguard backtest: 36 windows of 10m every 10m, read every 30s") || !strings.Contains(text.stdout, tally) {
			t.Errorf("text (exit %d):\n%s", text.code, text.stdout)
		}
		md := runCLI(t, append(window, "-o", "markdown")...)
		heading := fmt.Sprintf("### ❌ sloguard backtest: %d of 36 windows would have rolled back", rec.Decisions.Fail)
		if md.code != 0 || !strings.HasPrefix(md.stdout, heading) || !strings.Contains(md.stdout, "```mermaid\nxychart-beta") {
			t.Errorf("markdown (exit %d):\n%s", md.code, md.stdout)
		}
		for _, r := range rec.FailedRuns() {
			since := r.Since.Format(time.RFC3339)
			if !strings.Contains(text.stdout, since+"  fail") || !strings.Contains(md.stdout, "| "+since+" | ❌ fail |") {
				t.Errorf("window %s fails but is not listed", since)
			}
		}
	})

	t.Run("in GitHub Actions the summary goes to the job summary and the outputs", func(t *testing.T) {
		ci := t.TempDir()
		env := map[string]string{
			"GITHUB_ACTIONS": "true", "RUNNER_TEMP": ci, "GITHUB_OUTPUT": filepath.Join(ci, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(ci, "summary"),
		}
		var stdout, stderr bytes.Buffer
		d := app.New(&stdout, &stderr, envFunc(env), time.Now)
		opts := app.BacktestOptions{Config: cfg, From: from, To: to, Output: "text"}
		err := app.Backtest(t.Context(), d, opts)
		d.Close()
		if err != nil {
			t.Fatalf("%v; stderr: %s", err, stderr.String())
		}
		outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
		summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
		want := fmt.Sprintf("windows=36\nfail=%d\npass=%d\ninconclusive=%d\nreport=%s", rec.Decisions.Fail, rec.Decisions.Pass, rec.Decisions.Inconclusive, ci)
		if !strings.HasPrefix(string(outputs), want) {
			t.Errorf("$GITHUB_OUTPUT:\n%s\nwant it to start with:\n%s", outputs, want)
		}
		if !strings.HasPrefix(string(summary), "### ❌ sloguard backtest:") {
			t.Errorf("job summary:\n%s", summary)
		}
		path := strings.TrimSpace(string(outputs)[strings.Index(string(outputs), "report=")+len("report="):])
		if data, err := os.ReadFile(path); err != nil || !bytes.Contains(data, []byte(`"schema": "sloguard.backtest/v1"`)) {
			t.Errorf("the record at %s: %v", path, err)
		}
	})

	t.Run("without a split (the whole service against the hour before) too", func(t *testing.T) {
		noSplit := filepath.Join(dir, "nosplit.yaml")
		c := strings.Replace(backtestConfig(srv.URL), "  canary:   {labels: {instance: web-0}}\n  baseline: {labels: {zone: b}}\n", "  baseline: {offset: 1h}\n", 1)
		if err := os.WriteFile(noSplit, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		// Two hours around the start of the bad hour.
		lo, hi := badFrom.Add(-time.Hour), badFrom.Add(time.Hour)
		o := runCLI(t, "backtest", "-c", noSplit, "--from", lo.Format(time.RFC3339), "--to", hi.Format(time.RFC3339), "-o", "json")
		var rec report.Backtest
		if err := json.Unmarshal([]byte(o.stdout), &rec); o.code != 0 || err != nil || rec.Windows != 12 || rec.BaselineLabels != nil {
			t.Fatalf("exit %d, %v, %d windows; stderr:\n%s", o.code, err, rec.Windows, o.stderr)
		}
		for _, r := range rec.Runs {
			w := watchSince(t, noSplit, r.Since)
			if r.Decision != w.Decision || r.Reason != w.Reason {
				t.Errorf("window %s: backtest %s (%s), watch --since %s (%s)", r.Since.Format(time.RFC3339), r.Decision, r.Reason, w.Decision, w.Reason)
			}
		}
		t.Logf("without a split: %+v", rec.Decisions)
	})

	t.Run("a stopped Prometheus cannot be read: exit 3, a record saying so", func(t *testing.T) {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		gone := filepath.Join(dir, "gone.json")
		o := runCLI(t, append(window, "-o", "json", "--report", gone)...)
		if o.code != 3 || o.stdout != "" || !strings.Contains(o.stderr, "sloguard: cannot read the history: provider \"prom\"") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 3 and the reason", o.code, o.stdout, o.stderr)
		}
		data, err := os.ReadFile(gone)
		if err != nil {
			t.Fatalf("no record at --report: %v", err)
		}
		var rec report.Backtest
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Schema != report.BacktestSchema || rec.Windows != 0 || len(rec.Runs) != 0 || rec.Decisions != (report.Tally{}) ||
			!strings.HasPrefix(rec.Error, `cannot read the history: provider "prom"`) {
			t.Errorf("record %+v: want no windows and the error", rec)
		}
	})
}

// checkBacktestRecord asserts the record's shape as the README documents
// it, and returns it.
func checkBacktestRecord(t *testing.T, stdout string, from, to time.Time) report.Backtest {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not one JSON record: %v\n%s", err, stdout)
	}
	for _, k := range []string{"schema", "windows", "decisions", "runs", "from", "to", "every", "duration", "interval", "labels", "baseline_labels", "slos", "reads", "config"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("the record has no %q", k)
		}
	}
	runs, _ := raw["runs"].([]any)
	for i, r := range runs {
		m, _ := r.(map[string]any)
		if _, ok := m["decided_at"]; !ok {
			t.Errorf("run %d has no decided_at (null or a time)", i)
		}
		if s, _ := m["since"].(string); !strings.HasSuffix(s, "Z") {
			t.Errorf("run %d: since %q is not RFC 3339 UTC", i, s)
		}
	}
	var rec report.Backtest
	if err := json.Unmarshal([]byte(stdout), &rec); err != nil {
		t.Fatal(err)
	}
	d := rec.Decisions
	if rec.Schema != "sloguard.backtest/v1" || rec.Windows != 36 || len(rec.Runs) != 36 || d.Pass+d.Fail+d.Inconclusive != 36 {
		t.Errorf("schema %q, %d windows, %d runs, tally %+v: want sloguard.backtest/v1 and 36 of each", rec.Schema, rec.Windows, len(rec.Runs), d)
	}
	if !rec.From.Equal(from) || !rec.To.Equal(to) || rec.Every != "10m" || rec.Duration != "10m" || rec.Interval != "30s" {
		t.Errorf("from %s to %s every %s, duration %s, interval %s", rec.From, rec.To, rec.Every, rec.Duration, rec.Interval)
	}
	counted := report.Tally{}
	for i, r := range rec.Runs {
		counted.Add(r.Decision)
		if want := from.Add(time.Duration(i) * 10 * time.Minute); !r.Since.Equal(want) || r.Reason == "" || len(r.SLOs) != 1 {
			t.Errorf("run %d: since %s (want %s), reason %q, %d SLOs", i, r.Since, want, r.Reason, len(r.SLOs))
		}
		if (r.Decision == report.Fail) != (r.DecidedAt != nil) {
			t.Errorf("run %d: %s with decided_at %v", i, r.Decision, r.DecidedAt)
		}
	}
	if counted != d {
		t.Errorf("the runs count %+v, the tally says %+v", counted, d)
	}
	// One range read per query and tick offset: 20 ticks × 2 scopes; and
	// the history before the windows (how bursty errors are) in one long
	// slice read, checked once against the first window's own.
	if rec.Reads.Range != 41 || rec.Reads.Point != 1 {
		t.Errorf("reads %+v, want 41 range reads (40 and the history) and one point read", rec.Reads)
	}
	return rec
}

// watchSince runs `sloguard watch --since SINCE --no-rollback` as if started
// at SINCE (a clock that starts there and jumps through the intervals),
// against the same Prometheus, and returns its record.
func watchSince(t *testing.T, cfg string, since time.Time) report.Decision {
	t.Helper()
	var stdout, stderr bytes.Buffer
	d := app.New(&stdout, &stderr, envFunc(nil), time.Now)
	d.SetLogLevel("error")
	err := app.Watch(t.Context(), d, app.WatchOptions{Config: cfg, Since: since, NoRollback: true, Output: "json"}, rollout.NewJumpClock(since))
	d.Close()
	if code := app.ExitCode(err, &stderr); code != 0 && code != 1 && code != 3 {
		t.Fatalf("watch --since %s: exit %d: %s", since, code, stderr.String())
	}
	var rec report.Decision
	if err := json.Unmarshal(stdout.Bytes(), &rec); err != nil {
		t.Fatalf("watch --since %s: %v\n%s", since, err, stdout.String())
	}
	return rec
}
