package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/report"
)

func newAzure(t *testing.T) (*Azure, *bytes.Buffer, string) {
	dir := t.TempDir()
	env := map[string]string{
		"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": dir, "BUILD_SOURCEVERSION": "abc", "BUILD_BUILDID": "7",
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/acme", "SYSTEM_TEAMPROJECT": "shop",
	}
	var out bytes.Buffer
	return &Azure{Out: &out, Getenv: envOf(env)}, &out, dir
}

func TestAzurePublishFail(t *testing.T) {
	a, out, dir := newAzure(t)
	d := failing(1)
	d.Reason = "gate closed; 100% [sic]"
	md := []byte("### summary\n| a | b |\n")
	reportPath := filepath.Join(dir, "sloguard-1.json")
	if err := a.Publish(d, reportPath, md); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "sloguard-1.md")
	want := strings.Join([]string{
		"##vso[task.setvariable variable=decision;isoutput=true]fail",
		"##vso[task.setvariable variable=budgetRemaining;isoutput=true]0.00",
		"##vso[task.setvariable variable=report;isoutput=true]" + reportPath,
		"##vso[task.logissue type=error]SLO api:v0,eu: budget 100%AZP25 spent%0D%0Aby slo 0",
		"##vso[task.uploadsummary]" + summary,
		"##vso[task.complete result=Failed;]gate closed; 100%AZP25 [sic]",
	}, "\n") + "\n"
	if got := withoutGroups(out.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	got, err := os.ReadFile(summary)
	if err != nil || !bytes.Equal(got, md) {
		t.Errorf("summary file: %q, %v; want the markdown", got, err)
	}
}

func TestAzureSummaryPathIsAbsolute(t *testing.T) {
	a, out, dir := newAzure(t)
	t.Chdir(dir)
	if err := a.Publish(failing(0), "rel.json", []byte("md\n")); err != nil {
		t.Fatal(err)
	}
	var path string
	for _, l := range strings.Split(out.String(), "\n") {
		if p, ok := strings.CutPrefix(l, "##vso[task.uploadsummary]"); ok {
			path = p
		}
	}
	if !filepath.IsAbs(path) {
		t.Fatalf("uploadsummary %q: want an absolute path", path)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "md\n" {
		t.Errorf("summary: %q, %v", got, err)
	}
}

func TestAzureNoReportPathStillUploads(t *testing.T) {
	a, out, dir := newAzure(t)
	if err := a.Publish(failing(0), "", []byte("md\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "##vso[task.uploadsummary]"+dir+"/sloguard-") {
		t.Errorf("want the summary in AGENT_TEMPDIRECTORY:\n%s", out.String())
	}
}

func TestAzureResults(t *testing.T) {
	cases := map[string]struct {
		decision, want string
	}{
		"a pass completes nothing":       {report.Pass, ""},
		"a fail fails the task":          {report.Fail, "##vso[task.complete result=Failed;]why"},
		"inconclusive succeeds w/issues": {report.Inconclusive, "##vso[task.complete result=SucceededWithIssues;]why"},
		"an override succeeds w/issues":  {report.Overridden, "##vso[task.complete result=SucceededWithIssues;]why"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, out, dir := newAzure(t)
			d := &report.Decision{Command: "check", Decision: tc.decision, Reason: "why"}
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
		})
	}
}

func TestAzureInconclusiveWarns(t *testing.T) {
	a, out, dir := newAzure(t)
	d := &report.Decision{Command: "check", Decision: report.Inconclusive, SLOs: []report.SLO{{Name: "a", Decision: report.Inconclusive, Reasons: []string{"no traffic"}}}}
	if err := a.Publish(d, filepath.Join(dir, "r.json"), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "##vso[task.logissue type=warning]SLO a: no traffic\n") {
		t.Errorf("got\n%s", out.String())
	}
	if !strings.Contains(out.String(), "##vso[task.setvariable variable=budgetRemaining;isoutput=true]\n") {
		t.Errorf("want a blank budgetRemaining without data:\n%s", out.String())
	}
}

func TestAzureMask(t *testing.T) {
	a, out, _ := newAzure(t)
	a.Mask([]string{"s3cret", "multi\nline 100%\r\nsecret", ""})
	want := "##vso[task.setsecret]s3cret\n##vso[task.setsecret]multi\n##vso[task.setsecret]line 100%AZP25\n##vso[task.setsecret]secret\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestAzureRun(t *testing.T) {
	a, _, _ := newAzure(t)
	ri := a.Run()
	if ri.Platform != "azure" || ri.URL != "https://dev.azure.com/acme/shop/_build/results?buildId=7" || ri.Commit != "abc" {
		t.Errorf("got %+v", ri)
	}
}

func TestEscapeAzure(t *testing.T) {
	if got := escapeAzureData("100%\r\n];"); got != "100%AZP25%0D%0A];" {
		t.Errorf("data: %q", got)
	}
	if got := escapeAzureProperty("100%\r\n];"); got != "100%AZP25%0D%0A%5D%3B" {
		t.Errorf("property: %q", got)
	}
	a, out, _ := newAzure(t)
	a.setOutput("odd;name]", "v")
	if out.String() != "##vso[task.setvariable variable=odd%3Bname%5D;isoutput=true]v\n" {
		t.Errorf("setvariable: %q", out.String())
	}
}
