package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/report"
)

// withoutGroups drops the folded evidence (##[group] … ##[endgroup] and
// ::group:: … ::endgroup::) from out.
func withoutGroups(out string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.SplitAfter(out, "\n") {
		switch {
		case strings.HasPrefix(l, "##[group]"), strings.HasPrefix(l, "::group::"):
			in = true
		case strings.HasPrefix(l, "##[endgroup]"), strings.HasPrefix(l, "::endgroup::"):
			in = false
		case !in:
			b.WriteString(l)
		}
	}
	return b.String()
}

// checked is a check record with the figures a user asks for.
func checked() *report.Decision {
	return &report.Decision{Command: "check", Decision: report.Fail, Reason: "gate closed", SLOs: []report.SLO{{
		Name: "checkout", Objective: 99.9, Window: "30d", Budgeting: "occurrences",
		SLI: f(99.8), ErrorBudgetRemaining: f(-100), Events: &report.Events{Good: 2586816, Total: 2592000},
		BurnRates: map[string]*float64{"1h": f(20), "5m": f(24), "6h": f(2.5), "30m": f(1.0 / 3)},
		Alerts:    []report.Alert{{Long: "1h", Short: "5m", Factor: 14.4, LongBurn: 20, ShortBurn: 24, Firing: true}},
		Decision:  report.Fail, Reasons: []string{"error budget spent: -100.0% left"},
		Queries: []string{
			`sum(rate(http_requests_total{code=~"5.."}[30d]))`,
			"sum(rate(http_requests_total[30d]))\n  # ##vso[task.setvariable variable=decision]pass",
		},
	}}}
}

func TestGitHubGroupsShowTheEvidence(t *testing.T) {
	g, out, _ := newGitHub(t)
	if err := g.Publish(checked(), "/r.json", nil); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"::group::SLO checkout: fail",
		"objective: 99.9% over 30d (occurrences)",
		"events: good 2586816, total 2592000",
		"sli: 99.8%",
		"error budget remaining: -100%",
		"burn rates: 5m 24×, 30m 0.333333×, 1h 20×, 6h 2.5×",
		"burn-rate alert: 1h/5m above 14.4×: 20× and 24×, FIRING",
		`query 1: sum(rate(http_requests_total{code=~"5.."}[30d]))`,
		"query 2: sum(rate(http_requests_total[30d]))   # # #vso[task.setvariable variable=decision]pass",
		"reason 1: error budget spent: -100.0% left",
		"::endgroup::",
		"::error title=SLO checkout::error budget spent: -100.0%25 left",
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestAzureGroupsShowTheEvidence(t *testing.T) {
	a, out, dir := newAzure(t)
	if err := a.Publish(checked(), filepath.Join(dir, "r.json"), nil); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"\n##[group]SLO checkout: fail\nobjective: 99.9% over 30d (occurrences)\n",
		"\nquery 2: sum(rate(http_requests_total[30d]))   # # #vso[task.setvariable variable=decision]pass\n",
		"\nreason 1: error budget spent: -100.0% left\n##[endgroup]\n##vso[task.logissue type=error]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("want %q in\n%s", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "##vso["); i > 0 {
			t.Errorf("a value reads as a logging command: %q", l)
		}
	}
}

// TestWatchGroupsShowTheCanary: a watch's group names the SLO's own
// objective and window (not the time watched), the canary's figures with
// counts as whole numbers however large, and the statistics.
func TestWatchGroupsShowTheCanary(t *testing.T) {
	at := time.Date(2026, 11, 23, 17, 2, 0, 0, time.UTC)
	d := &report.Decision{Command: "watch", Decision: report.Fail, SLOs: []report.SLO{
		{Name: "api", Objective: 99.9, Window: "30d", Budgeting: "occurrences", Decision: report.Fail, Reasons: []string{"canary breached"}, Queries: []string{"q-canary"}},
		{Name: "latency", Objective: 99, Decision: report.Pass, Reasons: []string{"within"}},
	}, Canary: &report.Canary{SLOs: []report.CanarySLO{
		{Name: "api", Kind: "events", Canary: &report.Events{Good: 2049122.4, Total: 2156970.6}, CanaryRatio: f(0.05),
			Baseline: &report.Events{Good: 9990, Total: 10000}, BaselineRatio: f(0.001), AllowedRatio: 0.001, Statistic: f(7.25),
			Tests:     []report.Test{{Name: "absolute", Statistic: 7.25, Reject: 4.6, EffectStatistic: 9, Accept: -2.9, Alpha: 0.01, Hypothesis: "canary error ratio above 0.1%"}},
			DecidedAt: &at, Queries: []string{"q-canary", "q-baseline"}},
		{Name: "latency", Kind: "threshold", Value: f(0.21), Threshold: "< 0.3", BadIntervals: 0},
	}}}
	var got []string
	for _, g := range details(d) {
		got = append(got, g.title+"\n"+strings.Join(g.lines, "\n"))
	}
	want := []string{
		"SLO api: fail\n" +
			"objective: 99.9% over 30d (occurrences)\n" +
			"canary: good 2049122, total 2156971, error ratio 0.05\n" +
			"baseline: good 9990, total 10000, error ratio 0.001\n" +
			"allowed error ratio: 0.001\n" +
			"statistic: 7.25\n" +
			"test absolute: statistic 7.25 (rolls back at 4.6), effect statistic 9 (clears at -2.9), alpha 0.01: canary error ratio above 0.1%\n" +
			"decided at: 2026-11-23T17:02:00Z\n" +
			"query 1: q-canary\n" +
			"query 2: q-baseline\n" +
			"reason 1: canary breached",
		"SLO latency: pass\n" +
			"objective: 99% (–)\n" +
			"canary value: 0.21 (threshold < 0.3)\n" +
			"reason 1: within",
	}
	if strings.Join(got, "\n\n") != strings.Join(want, "\n\n") {
		t.Errorf("got\n%s\n\nwant\n%s", strings.Join(got, "\n\n"), strings.Join(want, "\n\n"))
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{2592000: "2592000", 0.2: "0.2", 99.98000000000002: "99.98", -100: "-100", 1.0 / 3: "0.333333", 0.000025: "2.5e-05"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %s, want %s", v, got, want)
		}
	}
}

func TestFailedRollbackActionsAreAnnotatedFirst(t *testing.T) {
	g, out, env := newGitHub(t)
	d := failing(12)
	d.Command = "watch"
	d.Actions = []report.Action{
		{Type: "command", Target: "kubectl rollout undo", Status: "failed", Error: "exit status 1"},
		{Type: "webhook", Target: "https://hooks.example/rollback", Status: "succeeded"},
	}
	if err := g.Publish(d, "/r.json", []byte("table\n")); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(annotations(out.String()), "\n")
	if lines[0] != "::error title=Rollback action failed::command kubectl rollout undo: exit status 1" {
		t.Errorf("first annotation %q, want the failed action", lines[0])
	}
	if n := strings.Count(out.String(), "::error "); n != 10 {
		t.Errorf("%d ::error annotations, want 10 in all", n)
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(summary), "3 more failing SLO(s), not annotated") {
		t.Errorf("summary:\n%s", summary)
	}
}

func TestAzureRollbackResult(t *testing.T) {
	ok := report.Action{Type: "command", Target: "kubectl rollout undo", Status: "succeeded"}
	bad := report.Action{Type: "webhook", Target: "https://hooks.example/rollback", Status: "failed", Error: "HTTP 500"}
	tests := map[string]struct {
		command string
		actions []report.Action
		want    string // the task.complete line, "" for none
	}{
		"a rollback by hand that ran completes nothing": {"rollback", []report.Action{ok}, ""},
		"a rollback by hand with a failed action fails the task": {"rollback", []report.Action{ok, bad},
			"##vso[task.complete result=Failed;]1 rollback action(s) failed: a human must act now. why"},
		"a breach rolled back fails the task": {"watch", []report.Action{ok}, "##vso[task.complete result=Failed;]why"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a, out, dir := newAzure(t)
			d := &report.Decision{Command: tc.command, Decision: report.Fail, Reason: "why", Actions: tc.actions}
			if err := a.Publish(d, filepath.Join(dir, "r.json"), nil); err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.HasPrefix(l, "##vso[task.complete") {
					got = l
				}
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !strings.Contains(out.String(), "##vso[task.setvariable variable=rolledBack;isoutput=true]true\n") {
				t.Errorf("rolledBack is not true:\n%s", out.String())
			}
			if tc.actions[len(tc.actions)-1].Status == "failed" && !strings.Contains(out.String(), "##vso[task.logissue type=error]rollback action failed: webhook https://hooks.example/rollback: HTTP 500\n") {
				t.Errorf("no issue for the failed action:\n%s", out.String())
			}
		})
	}
}
