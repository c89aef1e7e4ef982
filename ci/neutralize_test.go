package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/report"
)

// hostile is a backend body that tries to fake an annotation, mask a
// value and mark the Azure task succeeded, on lines of its own, after a
// CR, and inside a line.
const hostile = "x\n::error title=pwned::fake annotation\n  ::add-mask::y\r::warning::z\n##vso[task.complete result=Succeeded;]done\n" +
	"prefix ##vso[task.setvariable variable=decision]pass and ##[error]v1 and ##VSO[task.complete result=Succeeded;]"

// commandLine says whether a runner would run line as a command: GitHub
// runs "::cmd::" at the start once white space is trimmed, and "##[cmd]"
// anywhere; Azure runs "##vso[" anywhere and "##[" commands.
func commandLine(line string) bool {
	for _, l := range strings.Split(line, "\r") {
		if strings.HasPrefix(strings.TrimLeft(l, " \t\v\f\u00a0\u0085"), "::") {
			return true
		}
		if strings.Contains(l, "##[") || strings.Contains(strings.ToLower(l), "##vso[") {
			return true
		}
	}
	return false
}

func TestNeutralizeLeavesNoCommandInUntrustedText(t *testing.T) {
	for _, line := range strings.Split(hostile, "\n") {
		got := Neutralize(line)
		if commandLine(got) {
			t.Errorf("Neutralize(%q) = %q: still a command", line, got)
		}
		if strings.ReplaceAll(strings.ReplaceAll(got, ": :", "::"), "# #", "##") != line {
			t.Errorf("Neutralize(%q) = %q: changed more than the command markers", line, got)
		}
	}
	for _, plain := range []string{"## Heading", "a::b", "C# # notes", "no markers"} {
		if got := Neutralize(plain); got != plain {
			t.Errorf("Neutralize(%q) = %q: changed harmless text", plain, got)
		}
	}
}

func TestNeutralizerOnlyInCI(t *testing.T) {
	if Neutralizer(envOf(nil)) != nil {
		t.Error("a local run neutralises its output")
	}
	for _, env := range []map[string]string{{"GITHUB_ACTIONS": "true"}, {"TF_BUILD": "True"}} {
		if Neutralizer(envOf(env)) == nil {
			t.Errorf("%v: no neutraliser", env)
		}
	}
}

// A hostile body quoted in an SLO's reasons and in a failed action's error
// reaches the annotations, the log groups and the task's result: none of
// them may carry a second command.
func TestPublishedCommandsCarryNoInjectedCommand(t *testing.T) {
	d := failing(1)
	d.Reason = "gate closed: " + hostile
	d.SLOs[1].Reasons = []string{"cannot read the SLI: " + hostile}
	d.SLOs[1].Error = hostile
	d.Actions = []report.Action{{Type: "webhook", Target: "https://hooks.example", Status: "failed", Error: hostile}}
	gh, ghOut, _ := newGitHub(t)
	az, azOut, dir := newAzure(t)
	if err := gh.Publish(d, "r.json", nil); err != nil {
		t.Fatal(err)
	}
	if err := az.Publish(d, filepath.Join(dir, "r.json"), nil); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"github": ghOut.String(), "azure": azOut.String()} {
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			// Each line is one command of sloguard's or a labelled detail
			// line; past its own prefix no marker may remain.
			rest := line
			for _, own := range []string{"::group::", "::endgroup::", "::error title=", "::warning title=", "##[group]", "##[endgroup]", "##vso[task."} {
				if strings.HasPrefix(line, own) {
					rest = line[len(own):]
				}
			}
			if strings.Contains(rest, "##vso[") || strings.Contains(rest, "##[") || strings.Contains(strings.ToLower(rest), "##vso[") || strings.Contains(rest, "\r") {
				t.Errorf("%s: injected command in %q", name, line)
			}
			if rest == line && commandLine(line) {
				t.Errorf("%s: a detail line is a command: %q", name, line)
			}
		}
		if n := strings.Count("\n"+out, "\n##vso[task.complete"); n > 1 {
			t.Errorf("%s: %d task.complete commands", name, n)
		}
	}
}

// Every channel is attempted even when one fails: an unwritable
// $GITHUB_OUTPUT costs neither the annotations nor the summary.
func TestGitHubPublishGoesOnAfterAFailure(t *testing.T) {
	g, out, env := newGitHub(t)
	env["GITHUB_OUTPUT"] = t.TempDir() // a directory: cannot be appended to
	err := g.Publish(failing(1), "r.json", []byte("### summary\n"))
	if err == nil || !strings.Contains(err.Error(), "write $GITHUB_OUTPUT") {
		t.Fatalf("got %v, want the output failure reported", err)
	}
	if !strings.Contains(out.String(), "::error title=SLO api%3Av0%2Ceu::") {
		t.Errorf("no annotation after the failure:\n%s", out)
	}
	if b, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); !bytes.Contains(b, []byte("### summary")) {
		t.Errorf("no summary after the failure: %q", b)
	}
}

func TestAzurePublishSetsTheResultWhenTheSummaryFails(t *testing.T) {
	a, out, dir := newAzure(t)
	if err := os.Mkdir(filepath.Join(dir, "r.md"), 0o755); err != nil { // the summary's path is taken
		t.Fatal(err)
	}
	err := a.Publish(failing(1), filepath.Join(dir, "r.json"), []byte("### s\n"))
	if err == nil || !strings.Contains(err.Error(), "write summary") {
		t.Fatalf("got %v, want the summary failure reported", err)
	}
	if !strings.Contains(out.String(), "##vso[task.complete result=Failed;]gate closed\n") || strings.Contains(out.String(), "uploadsummary") {
		t.Errorf("want the result set and no upload of a missing summary:\n%s", out)
	}
}

// A run that evaluated nothing still tells the pipeline why: decision
// error in the outputs, the summary, a failed task on Azure (the error's
// annotation is the caller's, on the config's lines when it can).
func TestErrorDecisionIsPublished(t *testing.T) {
	d := &report.Decision{Schema: report.Schema, Command: "watch", Decision: report.Error, Reason: "the config has 1 problem(s): slos[0].objective: required"}
	g, gout, env := newGitHub(t)
	if err := g.Publish(d, "r.json", []byte("### 🛑 sloguard watch: error\n")); err != nil {
		t.Fatal(err)
	}
	outs := parseOutputs(t, readFile(t, env["GITHUB_OUTPUT"]))
	if outs["decision"] != "error" || outs["report"] != "r.json" || outs["rolled-back"] != "false" {
		t.Errorf("outputs %v", outs)
	}
	if gout.Len() != 0 {
		t.Errorf("commands for a decision without SLOs:\n%s", gout)
	}
	if b, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); !bytes.Contains(b, []byte("sloguard watch: error")) {
		t.Errorf("summary %q", b)
	}
	a, aout, dir := newAzure(t)
	if err := a.Publish(d, filepath.Join(dir, "r.json"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"##vso[task.setvariable variable=decision;isoutput=true]error", "##vso[task.uploadsummary]", "##vso[task.complete result=Failed;]the config"} {
		if !strings.Contains(aout.String(), want) {
			t.Errorf("azure output lacks %q:\n%s", want, aout)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Renaming over a device or a directory as root would replace it: refused.
func TestWriteFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{os.DevNull: "device", dir: "directory"}
	if fifo := filepath.Join(dir, "fifo"); mkfifo(fifo) == nil {
		cases[fifo] = "named pipe"
	}
	for path, kind := range cases {
		err := WriteFile(path, []byte("{}"))
		if err == nil || !strings.Contains(err.Error(), "is a "+kind+", not a regular file") {
			t.Errorf("WriteFile(%s) = %v, want it refused as a %s", path, err, kind)
		}
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v", os.DevNull, err)
	}
}
