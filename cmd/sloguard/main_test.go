package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary double as the sloguard command, so that
// scripts run the real CLI in-process of its own: no prebuilt binary.
// (testscript.Main is RunMain without the deprecation: the registered
// function exits with run's code.)
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sloguard": func() { os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs testdata/script/*.txtar: the CLI contract (exit codes,
// stdout, stderr, $GITHUB_OUTPUT, job summary, ##vso lines, masking).
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                scriptCmds(),
	})
}

// scriptCmds are the commands every script directory may use.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exits":      cmdExits,
		"json1":      cmdJSON1,
		"jsonfield":  cmdJSONField,
		"ghoutput":   cmdGHOutput,
		"ghreport":   cmdGHReport,
		"vsofiles":   cmdVSOFiles,
		"maskfirst":  cmdMaskFirst,
		"nosecret":   cmdNoSecret,
		"lineprefix": cmdLinePrefix,
		"hostile":    cmdHostile,
		"basic":      cmdBasic,
		"nocommand":  cmdNoCommand,
		"expand":     cmdExpand,
	}
}

// exits CODE CMD [ARGS...]: run CMD and insist on its exit code.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE CMD [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// json1 FILE: FILE (or stdout) holds exactly one JSON document, ending with
// one newline, and nothing else.
func cmdJSON1(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: json1 FILE")
	}
	oneJSON(ts, args[0], ts.ReadFile(args[0]))
}

func oneJSON(ts *testscript.TestScript, name, data string) map[string]any {
	if !strings.HasPrefix(data, "{") || !strings.HasSuffix(data, "}\n") {
		ts.Fatalf("%s: want one JSON object ending with a newline, got %q", name, clip(data))
	}
	dec := json.NewDecoder(strings.NewReader(data))
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("%s: %v", name, err)
	}
	if rest := data[dec.InputOffset():]; rest != "\n" {
		ts.Fatalf("%s: after the JSON document: %q", name, clip(rest))
	}
	return v
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:100] + " ... " + s[len(s)-100:]
	}
	return s
}

// jsonfield FILE PATH WANT: the value at a dotted PATH (slos.0.decision)
// prints as WANT (null for null, numbers as Go prints them).
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonfield FILE PATH WANT")
	}
	var v any = oneJSON(ts, args[0], ts.ReadFile(args[0]))
	for _, k := range strings.Split(args[1], ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(c) {
				ts.Fatalf("%s: no element %s", args[1], k)
			}
			v = c[i]
		default:
			ts.Fatalf("%s: %s is not in a container", args[1], k)
		}
	}
	got := fmt.Sprint(v)
	if v == nil {
		got = "null"
	}
	if (got == args[2]) == neg {
		ts.Fatalf("%s: got %q, want %s%q", args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

// ghOutputs parses a $GITHUB_OUTPUT file the way the runner does.
func ghOutputs(ts *testscript.TestScript, file string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(file)))
	for sc.Scan() {
		line := sc.Text()
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		if eq >= 0 && (hd < 0 || eq < hd) {
			out[line[:eq]] = line[eq+1:]
			continue
		}
		if hd < 0 {
			ts.Fatalf("%s: bad line %q", file, line)
		}
		var val []string
		for sc.Scan() && sc.Text() != line[hd+2:] {
			val = append(val, sc.Text())
		}
		out[line[:hd]] = strings.Join(val, "\n")
	}
	return out
}

// ghoutput FILE NAME REGEXP: the step output NAME matches REGEXP entirely.
func cmdGHOutput(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: ghoutput FILE NAME REGEXP")
	}
	v, ok := ghOutputs(ts, args[0])[args[1]]
	if !ok {
		ts.Fatalf("%s: no output %s", args[0], args[1])
	}
	if regexp.MustCompile(`\A(?:`+args[2]+`)\z`).MatchString(v) == neg {
		ts.Fatalf("%s: %s=%q, want %s match %q", args[0], args[1], v, map[bool]string{true: "no", false: "a"}[neg], args[2])
	}
}

// ghreport FILE: the report output names an existing, absolute JSON record
// whose decision is the decision output.
func cmdGHReport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ghreport FILE")
	}
	outs := ghOutputs(ts, args[0])
	checkRecord(ts, outs["report"], outs["decision"])
}

func checkRecord(ts *testscript.TestScript, path, decision string) {
	if !filepath.IsAbs(path) {
		ts.Fatalf("report %q: want an absolute path", path)
	}
	data, err := os.ReadFile(path)
	ts.Check(err)
	rec := oneJSON(ts, path, string(data))
	if rec["schema"] != "sloguard.decision/v1" || rec["decision"] != decision {
		ts.Fatalf("report %s: schema %v, decision %v; want decision %q", path, rec["schema"], rec["decision"], decision)
	}
}

// vsofiles: on stdout, the report variable names an existing JSON record
// with the decision variable's value, and uploadsummary an absolute path to
// a markdown file holding the SLO table.
func cmdVSOFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: vsofiles")
	}
	vars, summary := map[string]string{}, ""
	for _, l := range strings.Split(ts.ReadFile("stdout"), "\n") {
		if rest, ok := strings.CutPrefix(l, "##vso[task.setvariable variable="); ok {
			name, val, _ := strings.Cut(rest, ";isoutput=true]")
			vars[name] = val
		}
		if p, ok := strings.CutPrefix(l, "##vso[task.uploadsummary]"); ok {
			summary = p
		}
	}
	checkRecord(ts, vars["report"], vars["decision"])
	if !filepath.IsAbs(summary) || filepath.Ext(summary) != ".md" {
		ts.Fatalf("uploadsummary %q: want an absolute path to a .md file", summary)
	}
	data, err := os.ReadFile(summary)
	ts.Check(err)
	if !bytes.Contains(data, []byte("| SLO |")) {
		ts.Fatalf("summary %s holds no SLO table:\n%s", summary, data)
	}
}

// maskfirst FILE PREFIX SECRET: FILE (stdout, stderr) starts with mask
// commands (PREFIX...), one of which is PREFIX+SECRET, and no other line of
// it holds the secret.
func cmdMaskFirst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: maskfirst FILE PREFIX SECRET")
	}
	file, prefix, secret := args[0], args[1], args[2]
	lines := strings.Split(ts.ReadFile(file), "\n")
	masks := 0
	for masks < len(lines) && strings.HasPrefix(lines[masks], prefix) {
		masks++
	}
	found := false
	for _, l := range lines[:masks] {
		found = found || l == prefix+secret
	}
	if !found {
		ts.Fatalf("the first %s lines %q hold no mask command %q", file, lines[:masks], prefix+secret)
	}
	for i, l := range lines[masks:] {
		if strings.Contains(l, secret) {
			ts.Fatalf("%s line %d shows the secret: %q", file, masks+i+1, l)
		}
	}
}

// nosecret SECRET FILE|DIR...: the secret is in none of these (stdout and
// stderr name the last command's streams; directories are searched whole)
// but in the mask commands that hide it.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nosecret SECRET FILE|DIR...")
	}
	secret := args[0]
	check := func(name, data string) {
		for _, line := range strings.SplitAfter(data, "\n") {
			if strings.HasPrefix(line, "::add-mask::") || strings.HasPrefix(line, "##vso[task.setsecret]") {
				continue // the runner's masking: maskfirst checks those lines
			}
			if i := strings.Index(line, secret); i >= 0 {
				ts.Fatalf("%s shows the secret: %q", name, clip(line[max(0, i-80):min(len(line), i+80)]))
			}
		}
	}
	for _, a := range args[1:] {
		if a == "stdout" || a == "stderr" {
			check(a, ts.ReadFile(a))
			continue
		}
		ts.Check(filepath.WalkDir(ts.MkAbs(a), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			check(p, string(data))
			return err
		}))
	}
}

// lineprefix FILE PREFIX: every non-empty line of FILE starts with PREFIX.
func cmdLinePrefix(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lineprefix FILE PREFIX")
	}
	for _, l := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if l != "" && !strings.HasPrefix(l, args[1]) {
			ts.Fatalf("%s: line %q does not start with %q", args[0], l, args[1])
		}
	}
}
