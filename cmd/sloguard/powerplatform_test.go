package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sloguard "github.com/sloguard/sloguard/app"

	"github.com/sloguard/sloguard/internal/aitest"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// portal is the Application Insights telemetry of a Power Platform app:
// requests at a steady rate, a share failing (another share before the
// import), a share slower than 2 s.
type portal struct {
	mu                  sync.Mutex
	imported            time.Time // zero: not yet
	rps                 float64
	failBefore, failNow float64
	slow                float64
}

func (p *portal) importAt(t time.Time) { p.mu.Lock(); p.imported = t; p.mu.Unlock() }

// answer counts the requests of one query over (From, To].
func (p *portal) answer(r aitest.Request) (float64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before, after := r.To.Sub(r.From).Seconds(), 0.0
	if !p.imported.IsZero() && r.To.After(p.imported) {
		cut := p.imported
		if r.From.After(cut) {
			cut = r.From
		}
		before, after = cut.Sub(r.From).Seconds(), r.To.Sub(cut).Seconds()
	}
	total := p.rps * (before + after)
	switch r.Query {
	case "requests | where success == false | summarize sum(itemCount)":
		return p.rps * (before*p.failBefore + after*p.failNow), true
	case "requests | where duration <= 2000 | summarize sum(itemCount)":
		return total * (1 - p.slow), true
	case "requests | summarize sum(itemCount)":
		return total, true
	}
	return 0, false
}

// TestPowerPlatformRecipeThroughTheTask plays examples/azure-devops: the
// example's config (its Entra ID auth swapped for an API key, to reach the
// fake), the binary in Azure Pipelines mode with the flags SloGuard@1
// builds from the pipeline's inputs (buildArgs in azure-devops/task/src:
// `check --config sloguard.yaml`, `watch --config sloguard.yaml --duration
// 30m`, the duration shortened here), a fake Application Insights, and a
// fake pac on PATH that records what it was asked. A release five times
// worse than the half hour before, still under the SLO, is rolled back by
// re-importing the previous solution; a clean one passes and nothing runs.
func TestPowerPlatformRecipeThroughTheTask(t *testing.T) {
	for name, tc := range map[string]struct {
		failNow  float64
		code     int
		decision string
		rolled   bool
	}{
		"a release five times worse than before is rolled back with pac": {failNow: 0.003, code: 1, decision: "fail", rolled: true},
		"a clean release passes and nothing is re-imported":              {failNow: 0.0006, code: 0, decision: "pass"},
	} {
		t.Run(name, func(t *testing.T) {
			app := &portal{rps: 10000, failBefore: 0.0006, failNow: tc.failNow, slow: 0.003}
			ai := aitest.New(t, app.answer)
			work, pacLog := azureAgent(t, ai.URL)

			// Gate: check, before the import.
			code, out := runTask(t, "check", "--config", "sloguard.yaml")
			if code != 0 || !strings.Contains(out, "##vso[task.setvariable variable=decision;isoutput=true]pass\n") {
				t.Fatalf("check exited %d:\n%s", code, out)
			}

			// Deploy: the import, then the watch.
			app.importAt(time.Now().UTC().Truncate(time.Second))
			code, out = runTask(t, "watch", "--config", "sloguard.yaml", "--duration", "4s", "--interval", "1s")
			if code != tc.code {
				t.Fatalf("watch exited %d, want %d:\n%s", code, tc.code, out)
			}
			for _, want := range []string{
				"##vso[task.setvariable variable=decision;isoutput=true]" + tc.decision + "\n",
				fmt.Sprintf("##vso[task.setvariable variable=rolledBack;isoutput=true]%v\n", tc.rolled),
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if failed := strings.Contains(out, "##vso[task.complete result=Failed;]"); failed != tc.rolled {
				t.Errorf("task failed: %v, want %v", failed, tc.rolled)
			}
			if tc.rolled && !regexp.MustCompile(`(?m)^##vso\[task\.logissue type=error\]SLO portal-availability: the service's error ratio after the deploy .* of the same queries 30m earlier`).MatchString(out) {
				t.Errorf("no error issue naming portal-availability, the service after the deploy and the same queries 30m earlier:\n%s", out)
			}

			// The rollback: pac, with the example's arguments, in the
			// working directory where the previous solution was downloaded.
			cfg, err := slo.Load(filepath.Join(work, "sloguard.yaml"), sloguard.LoadOptions(""))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(pacLog)
			switch {
			case !tc.rolled && err == nil:
				t.Errorf("pac ran for a clean release: %s", got)
			case tc.rolled && err != nil:
				t.Errorf("pac never ran: %v", err)
			case tc.rolled:
				argv, _ := rollback.Find[rollback.Command](cfg.Rollback)
				want := strings.Join(append(argv[1:], "found previous/ContosoPortal_managed.zip"), "\n") + "\n"
				if string(got) != want {
					t.Errorf("pac was asked:\n%s\nwant:\n%s", got, want)
				}
			}

			// The record says what was compared, and the watch read the
			// same KQL half an hour earlier, with no filter added.
			rec := readRecord(t, out)
			if c := rec["canary"].(map[string]any); c["baseline_offset"] != "30m" || c["judged"] != "the whole service (no split: every query unscoped)" {
				t.Errorf("record canary: judged %v, offset %v", c["judged"], c["baseline_offset"])
			}
			ends := map[string][]time.Time{}
			for _, r := range ai.Requests() {
				if r.To.Sub(r.From) < time.Hour {
					ends[r.Query] = append(ends[r.Query], r.To)
				}
			}
			for q, ts := range ends {
				slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
				if len(ts) < 2 || !slices.ContainsFunc(ts, func(x time.Time) bool { return slices.Contains(ts, x.Add(30*time.Minute)) }) {
					t.Errorf("%s: read until %v, want each reading also 30m earlier", q, ts)
				}
			}
		})
	}
}

// azureAgent makes the test process look like a step of an Azure
// Pipelines job: TF_BUILD, the agent's temp directory, the working
// directory holding sloguard.yaml and the downloaded previous solution,
// the Application Insights key mapped into the step, and a pac on PATH.
func azureAgent(t *testing.T, aiURL string) (work, pacLog string) {
	dir := t.TempDir()
	work, bin := filepath.Join(dir, "s"), filepath.Join(dir, "bin")
	for _, d := range []string{filepath.Join(work, "previous"), bin, filepath.Join(dir, "_temp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "azure-devops", "sloguard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const auth = "    auth: environment\n"
	if !bytes.Contains(example, []byte(auth)) {
		t.Fatal("the example no longer reads Application Insights with auth: environment: update this test")
	}
	cfg := bytes.Replace(example, []byte(auth), []byte(fmt.Sprintf("    auth: api_key\n    api_key_env: AI_API_KEY\n    url: %s\n", aiURL)), 1)
	pacLog = filepath.Join(dir, "pac.log")
	pac := "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > \"$PAC_LOG\"\n[ -f previous/ContosoPortal_managed.zip ] && echo found previous/ContosoPortal_managed.zip >> \"$PAC_LOG\"\n"
	for path, body := range map[string]string{
		filepath.Join(work, "sloguard.yaml"):                         string(cfg),
		filepath.Join(work, "previous", "ContosoPortal_managed.zip"): "PK",
		filepath.Join(bin, "pac"):                                    pac,
	} {
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"TF_BUILD": "True", "GITHUB_ACTIONS": "", "AGENT_TEMPDIRECTORY": filepath.Join(dir, "_temp"), "BUILD_BUILDID": "412",
		"AI_API_KEY": "ai-key-for-the-test", "PAC_LOG": pacLog, "PATH": bin + string(os.PathListSeparator) + os.Getenv("PATH"),
	} {
		t.Setenv(k, v)
	}
	t.Chdir(work)
	return work, pacLog
}

// runTask runs the binary's main as the task does and returns its exit
// code and stdout (where the logging commands go).
func runTask(t *testing.T, args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"sloguard"}, args...), &stdout, &stderr)
	for _, line := range strings.Split(stdout.String()+stderr.String(), "\n") {
		if strings.Contains(line, "ai-key-for-the-test") && line != "##vso[task.setsecret]ai-key-for-the-test" {
			t.Errorf("the API key reached the output: %s", line)
		}
	}
	return code, stdout.String() + stderr.String()
}

// readRecord reads the record the report output variable points to.
func readRecord(t *testing.T, out string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`##vso\[task\.setvariable variable=report;isoutput=true\](.+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no report variable:\n%s", out)
	}
	b, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}
