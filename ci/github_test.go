package ci

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/report"
)

func f(v float64) *float64 { return &v }

// failing is a fail decision with n failing SLOs whose names and reasons
// carry the characters workflow commands must escape.
func failing(n int) *report.Decision {
	d := &report.Decision{Schema: report.Schema, Command: "check", Decision: report.Fail, Reason: "gate closed"}
	d.SLOs = append(d.SLOs, report.SLO{Name: "ok", ErrorBudgetRemaining: f(80), Decision: report.Pass, Reasons: []string{}})
	for i := 0; i < n; i++ {
		d.SLOs = append(d.SLOs, report.SLO{
			Name: fmt.Sprintf("api:v%d,eu", i), ErrorBudgetRemaining: f(float64(-i)), Decision: report.Fail,
			Reasons: []string{fmt.Sprintf("budget 100%% spent\r\nby slo %d", i)},
		})
	}
	return d
}

func newGitHub(t *testing.T) (*GitHub, *bytes.Buffer, map[string]string) {
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
		"RUNNER_TEMP": dir, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42", "GITHUB_SHA": "abc",
	}
	var out bytes.Buffer
	return &GitHub{Out: &out, Getenv: envOf(env)}, &out, env
}

// parseOutputs reads a $GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIM ... DELIM blocks.
func parseOutputs(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		if eq >= 0 && (hd < 0 || eq < hd) {
			out[line[:eq]] = line[eq+1:]
			continue
		}
		if hd < 0 {
			t.Fatalf("bad output line %q", line)
		}
		name, delim := line[:hd], line[hd+2:]
		var val []string
		for {
			if !sc.Scan() {
				t.Fatalf("output %s: delimiter %s never closed", name, delim)
			}
			if sc.Text() == delim {
				break
			}
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	if !strings.HasSuffix(data, "\n") {
		t.Errorf("outputs file does not end with a newline: %q", data)
	}
	return out
}

func TestGitHubOutputs(t *testing.T) {
	g, _, env := newGitHub(t)
	if err := os.WriteFile(env["GITHUB_OUTPUT"], []byte("earlier=step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.Publish(failing(2), "/tmp/r.json", []byte("md\n")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	got := parseOutputs(t, string(data))
	want := map[string]string{"earlier": "step", "decision": "fail", "budget-remaining": "-1.00", "report": "/tmp/r.json"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q\n%s", k, got[k], v, data)
		}
	}
}

func TestGitHubOutputsMultiline(t *testing.T) {
	value := "line one\nghadelimiter_x\nEOF\nlast"
	b := githubOutputs([][2]string{{"plain", "a=b"}, {"multi", value}, {"cr", "a\rb"}})
	s := string(b)
	if !strings.HasPrefix(s, "plain=a=b\nmulti<<") {
		t.Errorf("want plain=a=b then a multi<<DELIM block:\n%s", s)
	}
	lines := strings.Split(s, "\n")
	delim := strings.TrimPrefix(lines[1], "multi<<")
	if delim == "" || strings.Contains(value, delim) {
		t.Errorf("delimiter %q is empty or occurs in the value", delim)
	}
	got := parseOutputs(t, s)
	if got["multi"] != value || got["plain"] != "a=b" {
		t.Errorf("round trip: %q", got)
	}
	if !strings.Contains(s, "cr<<") {
		t.Errorf("a CR needs a delimited block too:\n%q", s)
	}
}

func TestGitHubNoBudgetIsBlank(t *testing.T) {
	g, _, env := newGitHub(t)
	d := &report.Decision{Command: "check", Decision: report.Inconclusive, SLOs: []report.SLO{{Name: "a", Decision: report.Inconclusive, Reasons: []string{"no traffic"}}}}
	if err := g.Publish(d, "/r.json", nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	if got := parseOutputs(t, string(data)); got["budget-remaining"] != "" || got["decision"] != "inconclusive" {
		t.Errorf("got %q", got)
	}
}

func TestGitHubSummaryIsAppended(t *testing.T) {
	g, _, env := newGitHub(t)
	earlier := "# from an earlier step\n"
	if err := os.WriteFile(env["GITHUB_STEP_SUMMARY"], []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, md := range []string{"### first\n", "### second\n"} {
		if err := g.Publish(failing(1), "/r.json", []byte(md)); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	s := string(data)
	if !strings.HasPrefix(s, earlier+"### first\n") || !strings.Contains(s, "### second\n") {
		t.Errorf("summary was not appended to:\n%s", s)
	}
}

func TestGitHubAnnotations(t *testing.T) {
	g, out, _ := newGitHub(t)
	if err := g.Publish(failing(1), "/r.json", nil); err != nil {
		t.Fatal(err)
	}
	want := "::error title=SLO api%3Av0%2Ceu::budget 100%25 spent%0D%0Aby slo 0\n"
	if got := annotations(out.String()); got != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// annotations keeps the ::error and ::warning lines of out.
func annotations(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(l, "::error ") || strings.HasPrefix(l, "::warning ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func TestGitHubAtMostTenAnnotations(t *testing.T) {
	g, out, env := newGitHub(t)
	if err := g.Publish(failing(13), "/r.json", []byte("table\n")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "::error "); n != 10 {
		t.Errorf("%d ::error annotations, want 10:\n%s", n, out.String())
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	s := string(summary)
	if !strings.Contains(s, "3 more failing SLO(s), not annotated") {
		t.Errorf("summary does not count the unannotated SLOs:\n%s", s)
	}
	for i := 0; i < 13; i++ {
		name := fmt.Sprintf("api:v%d,eu", i)
		annotated := strings.Contains(out.String(), escapeProperty("SLO "+name)+"::")
		listed := strings.Contains(s, "- `"+name+"`: budget 100% spent by slo")
		if annotated == listed {
			t.Errorf("%s: annotated=%v listed in summary=%v, want exactly one", name, annotated, listed)
		}
	}
}

func TestGitHubInconclusiveWarns(t *testing.T) {
	g, out, _ := newGitHub(t)
	d := &report.Decision{Command: "check", Decision: report.Inconclusive, SLOs: []report.SLO{{Name: "a", Decision: report.Inconclusive, Reasons: []string{"no traffic"}}}}
	if err := g.Publish(d, "/r.json", nil); err != nil {
		t.Fatal(err)
	}
	if annotations(out.String()) != "::warning title=SLO a::no traffic\n" {
		t.Errorf("got %q", out.String())
	}
}

func TestGitHubMask(t *testing.T) {
	g, out, _ := newGitHub(t)
	g.Mask([]string{"s3cret", "multi\nline 100%\r\nsecret", ""})
	want := "::add-mask::s3cret\n::add-mask::multi\n::add-mask::line 100%25\n::add-mask::secret\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestGitHubRun(t *testing.T) {
	g, _, _ := newGitHub(t)
	ri := g.Run()
	if ri.Platform != "github" || ri.URL != "https://github.com/acme/shop/actions/runs/42" || ri.Commit != "abc" {
		t.Errorf("got %+v", ri)
	}
}

func TestEscapeGitHub(t *testing.T) {
	if got := escapeData("100%\r\n: ,"); got != "100%25%0D%0A: ," {
		t.Errorf("data: %q", got)
	}
	if got := escapeProperty("100%\r\n: ,"); got != "100%25%0D%0A%3A %2C" {
		t.Errorf("property: %q", got)
	}
}
