package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/app"
)

// runnerEnv is what the runner sets for a container action: every input
// declared in action.yml, blank when not given, defaults merged in.
func runnerEnv(inputs map[string]string) map[string]string {
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/github/workspace", "GITHUB_RUN_ID": "4242",
		"GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTION": "__sloguard_sloguard",
	}
	for _, in := range actionInputs() {
		env[inputEnv(in.name)] = ""
	}
	env["INPUT_CONFIG"] = "sloguard.yaml"
	env["INPUT_COMMAND"] = "check"
	env["INPUT_GITHUB-TOKEN"] = "ghs_defaultToken"
	for k, v := range inputs {
		env[inputEnv(k)] = v
	}
	return env
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const defaultReport = ".sloguard/check-4242-1-sloguard_sloguard.json"

func TestActionArgv(t *testing.T) {
	tests := map[string]struct {
		inputs map[string]string
		want   []string
	}{
		"the defaults run check on sloguard.yaml, the record under the workspace": {
			want: []string{"sloguard", "check", "--config", "sloguard.yaml", "--report", defaultReport},
		},
		"a blank config keeps the CLI's default": {
			inputs: map[string]string{"config": "  "},
			want:   []string{"sloguard", "check", "--report", defaultReport},
		},
		"slo takes a comma- or newline-separated list": {
			inputs: map[string]string{"slo": "checkout-availability, checkout-latency\nsearch\n\n"},
			want: []string{"sloguard", "check", "--config", "sloguard.yaml", "--slo", "checkout-availability", "--slo", "checkout-latency",
				"--slo", "search", "--report", defaultReport},
		},
		"override-reason becomes --override": {
			inputs: map[string]string{"override-reason": "hotfix for INC-42"},
			want:   []string{"sloguard", "check", "--config", "sloguard.yaml", "--override", "hotfix for INC-42", "--report", defaultReport},
		},
		"watch takes duration, interval, environment and dry-run": {
			inputs: map[string]string{"command": "watch", "duration": "15m", "interval": "1m", "environment": "production", "dry-run": "true"},
			want: []string{"sloguard", "watch", "--config", "sloguard.yaml", "--duration", "15m", "--interval", "1m", "--environment", "production",
				"--no-rollback", "--report", ".sloguard/watch-4242-1-sloguard_sloguard.json"},
		},
		"dry-run false adds nothing": {
			inputs: map[string]string{"command": "watch", "dry-run": "False"},
			want:   []string{"sloguard", "watch", "--config", "sloguard.yaml", "--report", ".sloguard/watch-4242-1-sloguard_sloguard.json"},
		},
		"rollback takes a reason and a deployment id": {
			inputs: map[string]string{"command": "rollback", "reason": "p99 doubled", "deployment-id": "17"},
			want: []string{"sloguard", "rollback", "--config", "sloguard.yaml", "--deployment-id", "17", "--reason", "p99 doubled",
				"--report", ".sloguard/rollback-4242-1-sloguard_sloguard.json"},
		},
		"check-run and comment become switches": {
			inputs: map[string]string{"check-run": "true", "comment": "TRUE", "check-name": "gate / checkout"},
			want: []string{"sloguard", "check", "--config", "sloguard.yaml", "--check-run", "--check-name", "gate / checkout", "--comment",
				"--report", defaultReport},
		},
		"environment-url goes with the environment": {
			inputs: map[string]string{"command": "watch", "environment": "production", "environment-url": "https://shop.example", "check-run": "false"},
			want: []string{"sloguard", "watch", "--config", "sloguard.yaml", "--environment", "production", "--environment-url", "https://shop.example",
				"--report", ".sloguard/watch-4242-1-sloguard_sloguard.json"},
		},
		"the install step's inputs and a default check-run do not reach rollback": {
			inputs: map[string]string{"command": "rollback", "reason": "r", "check-run": "true", "version": "v1.2.3", "releases-url": "https://x"},
			want:   []string{"sloguard", "rollback", "--config", "sloguard.yaml", "--reason", "r", "--report", ".sloguard/rollback-4242-1-sloguard_sloguard.json"},
		},
		"validate writes no record": {
			inputs: map[string]string{"command": "validate", "args": "--online"},
			want:   []string{"sloguard", "validate", "--config", "sloguard.yaml", "--online"},
		},
		"args are split as a shell would, after the inputs": {
			inputs: map[string]string{"args": `--prometheus-url "http://prom:9090" --at '2026-11-23T17:00:00Z'` + "\n--log-level debug"},
			want: []string{"sloguard", "check", "--config", "sloguard.yaml", "--report", defaultReport,
				"--prometheus-url", "http://prom:9090", "--at", "2026-11-23T17:00:00Z", "--log-level", "debug"},
		},
		"a --report in args replaces the default one": {
			inputs: map[string]string{"args": "--report=out/record.json"},
			want:   []string{"sloguard", "check", "--config", "sloguard.yaml", "--report=out/record.json"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			argv, _, err := actionArgv([]string{"sloguard"}, envFunc(runnerEnv(tc.inputs)), "/github/workspace")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(argv, tc.want) {
				t.Errorf("got  %q\nwant %q", argv, tc.want)
			}
		})
	}
}

func TestActionArgvRejects(t *testing.T) {
	tests := map[string]struct {
		inputs map[string]string
		want   string
	}{
		"an unknown command": {
			map[string]string{"command": "deploy"},
			`action input command: "deploy" is not a sloguard command: use check, watch, rollback or validate`,
		},
		"an input that does not apply to the command": {
			map[string]string{"duration": "10m"},
			"action input duration applies to watch, not to check: remove it from with:",
		},
		"dry-run that is not a boolean": {
			map[string]string{"command": "watch", "dry-run": "yes"},
			`action input dry-run: want true or false, got "yes"`,
		},
		"check-run that is not a boolean": {
			map[string]string{"check-run": "on"},
			`action input check-run: want true or false, got "on"`,
		},
		"a comment asked of rollback": {
			map[string]string{"command": "rollback", "reason": "r", "comment": "true"},
			"action input comment applies to check and watch, not to rollback: remove it from with:",
		},
		"args with an open quote": {
			map[string]string{"args": `--reason "too slow`},
			`action input args: unterminated " quote in "--reason \"too slow"`,
		},
		"every problem at once": {
			map[string]string{"override-reason": "x", "command": "rollback", "slo": "a"},
			"action input slo applies to check and watch, not to rollback: remove it from with:\n" +
				"action input override-reason applies to check, not to rollback: remove it from with:",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := actionArgv([]string{"sloguard"}, envFunc(runnerEnv(tc.inputs)), "/github/workspace")
			var ee *app.ExitError
			if !errors.As(err, &ee) || ee.Code != app.ExitUsage || err.Error() != tc.want {
				t.Fatalf("got %v, want exit 2 with\n%s", err, tc.want)
			}
		})
	}
}

// TestCompositeActionInputs: action.yml's run step maps every input itself,
// with underscores (INPUT_DRY_RUN), and sloguard runs on the runner, where
// $RUNNER_TEMP is: the record goes there.
func TestCompositeActionInputs(t *testing.T) {
	tmp := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": t.TempDir(), "RUNNER_TEMP": tmp, "GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_ACTION": "watch", "INPUT_COMMAND": "watch", "INPUT_CONFIG": "sloguard.yaml", "INPUT_DRY_RUN": "true",
		"INPUT_DEPLOYMENT_ID": "42", "INPUT_ENVIRONMENT_URL": "https://shop.example", "INPUT_CHECK_RUN": "true", "INPUT_COMMENT": "false",
		"INPUT_OVERRIDE_REASON": "", "INPUT_GITHUB_TOKEN": "ghs_composite", "INPUT_ARGS": "--log-level debug",
	}
	argv, getenv, err := actionArgv([]string{"sloguard"}, envFunc(env), "/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sloguard", "watch", "--config", "sloguard.yaml", "--environment-url", "https://shop.example", "--deployment-id", "42",
		"--no-rollback", "--check-run", "--report", filepath.Join(tmp, "sloguard", "watch-4242-1-watch.json"), "--log-level", "debug"}
	if !reflect.DeepEqual(argv, want) {
		t.Errorf("got  %q\nwant %q", argv, want)
	}
	if getenv("GITHUB_TOKEN") != "ghs_composite" {
		t.Errorf("GITHUB_TOKEN %q, want the github-token input", getenv("GITHUB_TOKEN"))
	}
}

func TestActionModeOnlyWhenTheRunnerStartsTheAction(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
	}{
		"outside GitHub Actions":                       {[]string{"sloguard"}, map[string]string{"INPUT_COMMAND": "check"}},
		"with arguments (the image run directly)":      {[]string{"sloguard", "check", "-c", "x.yaml"}, runnerEnv(nil)},
		"in a run step, where no command input is set": {[]string{"sloguard"}, map[string]string{"GITHUB_ACTIONS": "true"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			argv, env, err := actionArgv(tc.args, envFunc(tc.env), "/")
			if argv != nil || env != nil || err != nil {
				t.Errorf("got %q, %v; want CLI mode", argv, err)
			}
		})
	}
}

func TestActionTokenFeedsGITHUB_TOKEN(t *testing.T) {
	tests := map[string]struct {
		token, envToken, want string
	}{
		"the github-token input":                      {"ghs_input", "", "ghs_input"},
		"the input wins over a GITHUB_TOKEN variable": {"ghp_pat", "ghs_env", "ghp_pat"},
		"a blank input leaves GITHUB_TOKEN alone":     {"", "ghs_env", "ghs_env"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := runnerEnv(map[string]string{"github-token": tc.token})
			env["GITHUB_TOKEN"] = tc.envToken
			argv, getenv, err := actionArgv([]string{"sloguard"}, envFunc(env), "/github/workspace")
			if err != nil {
				t.Fatal(err)
			}
			if got := getenv("GITHUB_TOKEN"); got != tc.want {
				t.Errorf("GITHUB_TOKEN: got %q, want %q", got, tc.want)
			}
			if getenv("GITHUB_REPOSITORY") != env["GITHUB_REPOSITORY"] || getenv("INPUT_CONFIG") != "sloguard.yaml" {
				t.Error("other variables must read through")
			}
			if strings.Contains(strings.Join(argv, " "), tc.token) && tc.token != "" {
				t.Errorf("the token is on the command line: %q", argv)
			}
		})
	}
}

func TestActionReportPath(t *testing.T) {
	ws := t.TempDir()
	link := filepath.Join(t.TempDir(), "ws")
	if err := os.Symlink(ws, link); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		env        map[string]string
		wd, want   string
		wantSuffix bool
	}{
		"relative to the workspace when the action runs there": {
			map[string]string{"GITHUB_WORKSPACE": ws, "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_ACTION": "gate"}, ws, ".sloguard/watch-7-2-gate.json", false,
		},
		"the workspace reached through a symlink is the workspace": {
			map[string]string{"GITHUB_WORKSPACE": link, "GITHUB_RUN_ID": "7"}, ws, ".sloguard/watch-7.json", false,
		},
		"absolute under the workspace from elsewhere": {
			map[string]string{"GITHUB_WORKSPACE": ws, "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "1"}, "/", filepath.Join(ws, ".sloguard/watch-7-1.json"), false,
		},
		"step names become file-name safe": {
			map[string]string{"GITHUB_ACTION": "__run/../x y"}, "/", ".sloguard/watch-run_.._x_y.json", false,
		},
		"in $RUNNER_TEMP when it is there (the composite action, on the runner)": {
			map[string]string{"GITHUB_WORKSPACE": ws, "RUNNER_TEMP": ws, "GITHUB_RUN_ID": "7"}, ws, filepath.Join(ws, "sloguard", "watch-7.json"), false,
		},
		"under the workspace when $RUNNER_TEMP is not (a container)": {
			map[string]string{"GITHUB_WORKSPACE": ws, "RUNNER_TEMP": "/home/runner/work/_temp/nothere", "GITHUB_RUN_ID": "7"}, ws, ".sloguard/watch-7.json", false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := actionReportPath("watch", envFunc(tc.env), tc.wd); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSplitArgs(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"blanks separate words":                     {"  a\tb\n c  ", []string{"a", "b", "c"}},
		"nothing is no words":                       {" \n ", nil},
		"double quotes keep blanks":                 {`--reason "p99 doubled"`, []string{"--reason", "p99 doubled"}},
		"single quotes keep everything":             {`'a "b" \c $d'`, []string{`a "b" \c $d`}},
		"a backslash keeps the next character":      {`a\ b \'c\'`, []string{"a b", "'c'"}},
		"double quotes unescape only \\\" \\\\ \\$": {`"\"x\" \\ \$y \n"`, []string{`"x" \ $y \n`}},
		"quotes join into one word":                 {`--at=2026-'11'-"23"`, []string{"--at=2026-11-23"}},
		"an empty quoted word is a word":            {`--override ''`, []string{"--override", ""}},
		"a backslash-newline continues the line":    {"--log-level \\\ndebug", []string{"--log-level", "debug"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := splitArgs(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitArgs(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// TestActionYAMLMatchesTheAdapter keeps action.yml and actionInputs in
// step, and runs every command with the defaults action.yml declares.
func TestActionYAMLMatchesTheAdapter(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default *string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var declared, handled []string
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	for name, in := range action.Inputs {
		declared = append(declared, name)
		env[inputEnv(name)] = ""
		if in.Default != nil {
			env[inputEnv(name)] = *in.Default
		}
	}
	for _, in := range actionInputs() {
		handled = append(handled, in.name)
	}
	slices.Sort(declared)
	slices.Sort(handled)
	if !slices.Equal(declared, handled) {
		t.Errorf("action.yml declares %q; action.go handles %q", declared, handled)
	}
	for _, command := range []string{"check", "watch", "rollback", "validate"} {
		env["INPUT_COMMAND"] = command
		argv, _, err := actionArgv([]string{"sloguard"}, envFunc(env), "/")
		if err != nil || len(argv) < 2 || argv[1] != command {
			t.Errorf("%s with the defaults: %q, %v", command, argv, err)
		}
	}
}
