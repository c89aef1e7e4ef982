package ci

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestAnnotateProblems(t *testing.T) {
	ws := t.TempDir()
	cfg := filepath.Join(ws, "deploy", "sloguard, prod.yaml")
	problems := []Problem{
		{File: cfg, Line: 7, Msg: "slos[0].objective: must be a percent between 0 and 100 (exclusive), e.g. 99.9, got 100"},
		{File: cfg, Msg: "no such file: create it"},
		{File: "/elsewhere/sloguard.yaml", Line: 3, Msg: "outside the repository"},
	}
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"GitHub: ::error on the file and line, relative to the workspace": {
			map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws},
			"::error file=deploy/sloguard%2C prod.yaml,line=7,title=sloguard config::slos[0].objective: must be a percent between 0 and 100 (exclusive), e.g. 99.9, got 100\n" +
				"::error file=deploy/sloguard%2C prod.yaml,title=sloguard config::no such file: create it\n" +
				"::error title=sloguard config::outside the repository\n",
		},
		"Azure: logissue with sourcepath and linenumber": {
			map[string]string{"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws},
			"##vso[task.logissue type=error;sourcepath=deploy/sloguard, prod.yaml;linenumber=7]slos[0].objective: must be a percent between 0 and 100 (exclusive), e.g. 99.9, got 100\n" +
				"##vso[task.logissue type=error;sourcepath=deploy/sloguard, prod.yaml]no such file: create it\n" +
				"##vso[task.logissue type=error]outside the repository\n",
		},
		"by hand: nothing (the error text follows)": {map[string]string{}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			AnnotateProblems(envOf(tc.env), &out, "sloguard config", problems)
			if out.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}

// TestAnnotateProblemsKeepsToTen: GitHub shows ten error annotations per
// step; the tenth says how many more the log holds.
func TestAnnotateProblemsKeepsToTen(t *testing.T) {
	var problems []Problem
	for i := 1; i <= 14; i++ {
		problems = append(problems, Problem{File: "sloguard.yaml", Line: i, Msg: fmt.Sprintf("problem %d", i)})
	}
	var out bytes.Buffer
	AnnotateProblems(envOf(map[string]string{"GITHUB_ACTIONS": "true"}), &out, "sloguard config", problems)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 || lines[8] != "::error file=sloguard.yaml,line=9,title=sloguard config::problem 9" ||
		lines[9] != "::error title=sloguard config::5 more problem(s): see the log" {
		t.Errorf("got\n%s", out.String())
	}
}

func TestWarn(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want string
	}{
		"GitHub": {map[string]string{"GITHUB_ACTIONS": "true"}, "::warning title=sloguard::cannot create check run: 50%25, a%0Ab\n"},
		"Azure":  {map[string]string{"TF_BUILD": "True"}, "##vso[task.logissue type=warning]sloguard: cannot create check run: 50%AZP25, a%0Ab\n"},
		"local":  {map[string]string{}, "sloguard: warning: sloguard: cannot create check run: 50%, a\nb\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			Warn(envOf(tc.env), &out, "sloguard", "cannot create check run: 50%, a\nb")
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}
