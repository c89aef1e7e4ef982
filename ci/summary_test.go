package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var backtestOutputs = [][2]string{{"windows", "288"}, {"fail", "3"}, {"false-rollbacks", "3"}}

func TestGitHubPublishSummary(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	var out bytes.Buffer
	g := &GitHub{Out: &out, Getenv: envOf(env)}
	md := []byte("### ❌ sloguard backtest: 3 of 288 windows would have rolled back\n")
	if err := PublishSummary(g, backtestOutputs, "/tmp/r.json", md); err != nil {
		t.Fatal(err)
	}
	outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	if want := "windows=288\nfail=3\nfalse-rollbacks=3\nreport=/tmp/r.json\n"; string(outputs) != want {
		t.Errorf("$GITHUB_OUTPUT = %q, want %q", outputs, want)
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if string(summary) != string(md)+"\n" {
		t.Errorf("job summary = %q", summary)
	}
	if out.Len() != 0 {
		t.Errorf("workflow commands printed: %q", out.String())
	}
}

func TestAzurePublishSummary(t *testing.T) {
	a, out, dir := newAzure(t)
	reportPath := filepath.Join(dir, "sloguard-bt.json")
	md := []byte("### summary\n")
	if err := PublishSummary(a, backtestOutputs, reportPath, md); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "sloguard-bt.md")
	want := strings.Join([]string{
		"##vso[task.setvariable variable=windows;isoutput=true]288",
		"##vso[task.setvariable variable=fail;isoutput=true]3",
		"##vso[task.setvariable variable=falseRollbacks;isoutput=true]3",
		"##vso[task.setvariable variable=report;isoutput=true]" + reportPath,
		"##vso[task.uploadsummary]" + summary,
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if got, err := os.ReadFile(summary); err != nil || !bytes.Equal(got, md) {
		t.Errorf("summary file %q, %v", got, err)
	}
}

func TestLocalPublishSummaryDoesNothing(t *testing.T) {
	if err := PublishSummary(Local{}, backtestOutputs, "", []byte("md")); err != nil {
		t.Error(err)
	}
}
