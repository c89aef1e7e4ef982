// Package e2e_test runs the sloguard binary against a real Prometheus
// scraping fake services whose error ratios follow a schedule.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
)

// binary is the sloguard built for this run.
var binary string

func TestMain(m *testing.M) {
	if spec := os.Getenv("FAKE_SERVICE"); spec != "" {
		runFakeService(spec)
		return
	}
	dir, err := os.MkdirTemp("", "sloguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sloguard")
	build := exec.Command("go", "build", "-o", binary, "../cmd/sloguard")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sloguard:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startService runs a fake service as a child process and returns its
// address.
func startService(t *testing.T, tracks map[string]trackSpec) string {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	spec, _ := json.Marshal(serviceSpec{AddrFile: addrFile, Tracks: tracks})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAKE_SERVICE="+string(spec))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil {
			return string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("fake service did not start")
	return ""
}

// startPrometheus scrapes the targets every second and waits until it has
// a few samples of each.
func startPrometheus(t *testing.T, targets ...string) *promtest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := promtest.RunScraping(ctx, t.TempDir(), targets)
	if err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if err := s.WaitSamples(ctx, `http_requests_total`, 3); err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	return s
}

// watchConfig is a config for a service scraped by Prometheus at url.
type watchConfig struct {
	PromURL   string
	Objective float64
	Duration  string
	Interval  string
	Baseline  bool
	Command   []string
	Webhook   string
}

func (c watchConfig) write(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
providers:
  - {name: prom, type: prometheus, url: %q, retries: 1, timeout: 3s}
slos:
  - name: availability
    objective: %g
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total[{{.window}}]))
canary:
  duration: %s
  interval: %s
  canary: {labels: {track: canary}}
`, c.PromURL, c.Objective, c.Duration, c.Interval)
	if c.Baseline {
		b.WriteString("  baseline: {labels: {track: stable}}\n")
	}
	if c.Command != nil || c.Webhook != "" {
		b.WriteString("rollback:\n  timeout: 10s\n  retries: 1\n")
	}
	if c.Command != nil {
		q, _ := json.Marshal(c.Command)
		fmt.Fprintf(&b, "  command: %s\n", q)
	}
	if c.Webhook != "" {
		fmt.Fprintf(&b, "  webhook: {url: %q, secret_env: HOOK_SECRET}\n", c.Webhook)
	}
	path := filepath.Join(t.TempDir(), "sloguard.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is one sloguard run.
type result struct {
	code           int
	stdout, stderr string
	record         map[string]any
}

// sloguard runs the binary to completion (or until ctx ends it).
func sloguard(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	return sloguardWhile(t, cmd, nil)
}

// sloguardWhile is sloguard with during run on the started process (to
// signal it): the process is handed over after Start, never read from
// cmd while Run may still be setting it.
func sloguardWhile(t *testing.T, cmd *exec.Cmd, during func(*os.Process)) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Start()
	if err == nil {
		if during != nil {
			go during(cmd.Process)
		}
		err = cmd.Wait()
	}
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run sloguard: %v", err)
	}
	if json.Unmarshal(out.Bytes(), &r.record) != nil {
		t.Fatalf("stdout is not the JSON record (exit %d):\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

func command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// elapsedSeconds reads canary.decided_at - canary.since from a record.
func decidedAfter(t *testing.T, rec map[string]any) time.Duration {
	t.Helper()
	c, _ := rec["canary"].(map[string]any)
	since, err1 := time.Parse(time.RFC3339, fmt.Sprint(c["since"]))
	at, err2 := time.Parse(time.RFC3339, fmt.Sprint(c["decided_at"]))
	if err1 != nil || err2 != nil {
		t.Fatalf("record has no since/decided_at: %v", c)
	}
	return at.Sub(since)
}
