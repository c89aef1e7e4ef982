package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sloguard/sloguard/app"
)

// The GitHub Action (action.yml) hands its inputs to sloguard as
// INPUT_<NAME> variables and runs it with no arguments. The composite
// action maps each input itself, with underscores (INPUT_DRY_RUN); the
// runner of a container action (the image used with docker://) sets every
// declared input, upper-cased with hyphens kept (INPUT_DRY-RUN), "" for an
// input left blank. actionArgv turns either into the command line a user
// would have typed.

// actionInput maps one input of action.yml to sloguard flags.
type actionInput struct {
	name     string   // as declared in action.yml
	commands []string // the commands it applies to; none: the install step's
	flag     string   // the flag it becomes; "" when handled apart
	boolean  string   // for a true/false input: its default in action.yml
}

// actionInputs lists every input of action.yml, in the order the flags are
// built. TestActionYAMLMatchesTheAdapter keeps it and action.yml in step.
func actionInputs() []actionInput {
	all := []string{"check", "watch", "rollback", "validate"}
	gated := []string{"check", "watch"}
	deploy := []string{"watch", "rollback"}
	return []actionInput{
		{name: "command", commands: all},
		{name: "config", commands: all, flag: "--config"},
		{name: "slo", commands: gated, flag: "--slo"},
		{name: "duration", commands: []string{"watch"}, flag: "--duration"},
		{name: "interval", commands: []string{"watch"}, flag: "--interval"},
		{name: "environment", commands: deploy, flag: "--environment"},
		{name: "environment-url", commands: deploy, flag: "--environment-url"},
		{name: "deployment-id", commands: deploy, flag: "--deployment-id"},
		{name: "dry-run", commands: deploy, flag: "--no-rollback", boolean: "false"},
		{name: "override-reason", commands: []string{"check"}, flag: "--override"},
		{name: "reason", commands: []string{"rollback"}, flag: "--reason"},
		{name: "check-run", commands: gated, flag: "--check-run", boolean: "true"},
		{name: "check-name", commands: gated, flag: "--check-name"},
		{name: "comment", commands: gated, flag: "--comment", boolean: "false"},
		{name: "github-token", commands: all},
		{name: "args", commands: all},
		{name: "version"},      // the install step's (action/install.sh)
		{name: "releases-url"}, // the install step's
	}
}

// inputEnv names the variable a container action's runner sets for an
// input; inputEnvComposite the one action.yml's composite steps set.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

func inputEnvComposite(name string) string {
	return strings.ReplaceAll(inputEnv(name), "-", "_")
}

// actionArgv returns the argv of action mode, or nil when this is not the
// action: outside GitHub Actions, with arguments on the command line (the
// image used directly, `docker://…` with args), or without a command input.
// Blank inputs are skipped, so that the CLI's defaults hold. getenv, when
// returned, also answers GITHUB_TOKEN with the github-token input. wd is
// the working directory, where the runner mounts the workspace.
func actionArgv(args []string, getenv func(string) string, wd string) ([]string, func(string) string, error) {
	input := func(name string) string { return inputValue(getenv, name) }
	if getenv("GITHUB_ACTIONS") != "true" || len(args) > 1 || input("command") == "" {
		return nil, nil, nil
	}
	command := input("command")
	argv := []string{"sloguard", command}
	var problems []error
	switch command {
	case "check", "watch", "rollback", "validate":
	default:
		return nil, nil, &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("action input command: %q is not a sloguard command: use check, watch, rollback or validate", command)}
	}
	for _, in := range actionInputs() {
		v := input(in.name)
		if in.flag == "" || v == "" {
			continue
		}
		if !slices.Contains(in.commands, command) {
			if in.boolean != "" && strings.EqualFold(v, in.boolean) {
				continue // a boolean left at its default
			}
			problems = append(problems, fmt.Errorf("action input %s applies to %s, not to %s: remove it from with:", in.name, strings.Join(in.commands, " and "), command))
			continue
		}
		switch in.name {
		case "slo":
			for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
				if name = strings.TrimSpace(name); name != "" {
					argv = append(argv, in.flag, name)
				}
			}
		case "dry-run", "comment", "check-run":
			switch strings.ToLower(v) {
			case "true":
				argv = append(argv, in.flag)
			case "false":
			default:
				problems = append(problems, fmt.Errorf("action input %s: want true or false, got %q", in.name, v))
			}
		default:
			argv = append(argv, in.flag, v)
		}
	}
	extra, err := splitArgs(input("args"))
	if err != nil {
		problems = append(problems, fmt.Errorf("action input args: %w", err))
	}
	if len(problems) > 0 {
		return nil, nil, &app.ExitError{Code: app.ExitUsage, Err: errors.Join(problems...)}
	}
	if command != "validate" && !hasFlag(extra, "report") && getenv("SLOGUARD_REPORT") == "" {
		argv = append(argv, "--report", actionReportPath(command, getenv, wd))
	}
	argv = append(argv, extra...)
	token := input("github-token")
	env := func(k string) string {
		if k == "GITHUB_TOKEN" && token != "" {
			return token
		}
		return getenv(k)
	}
	return argv, env, nil
}

// inputValue is an input's value, from either form of its variable.
func inputValue(getenv func(string) string, name string) string {
	if v := strings.TrimSpace(getenv(inputEnv(name))); v != "" {
		return v
	}
	return strings.TrimSpace(getenv(inputEnvComposite(name)))
}

// recordActionError records inputs actionArgv rejected (dry-run: maybe) as
// a flag check, watch or rollback rejects: the record where the action
// would have put it, the outputs and the summary say why. err is returned.
func recordActionError(d *app.App, getenv func(string) string, wd string, err error) error {
	command := inputValue(getenv, "command")
	switch command {
	case "check", "watch", "rollback":
	default:
		return err
	}
	config := inputValue(getenv, "config")
	if config == "" {
		config = getenv("SLOGUARD_CONFIG")
	}
	if config == "" {
		config = defaultConfig
	}
	report := getenv("SLOGUARD_REPORT")
	if extra, serr := splitArgs(inputValue(getenv, "args")); serr == nil && hasFlag(extra, "report") {
		report = argValue(extra, "report", "")
	}
	if report == "" {
		report = actionReportPath(command, getenv, wd)
	}
	return app.FlagError(d, command, "text", report, config, err)
}

// actionReportPath is where the action writes the record by default: in
// $RUNNER_TEMP/sloguard when that directory is there (the composite action,
// which runs on the runner), else under the workspace. The runner does not
// mount $RUNNER_TEMP into a container (the image used with docker://), and
// paths in the container (/github/workspace) are not the host's: there the
// record goes under the workspace, named relative to it when sloguard runs
// there (as the runner starts it), so that later steps, which run in the
// workspace too, can read the `report` output as it is.
func actionReportPath(command string, getenv func(string) string, wd string) string {
	name := command
	for _, part := range []string{getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT"), getenv("GITHUB_ACTION")} {
		if part = safeName(part); part != "" {
			name += "-" + part
		}
	}
	if tmp := getenv("RUNNER_TEMP"); tmp != "" {
		if fi, err := os.Stat(tmp); err == nil && fi.IsDir() {
			return filepath.Join(tmp, "sloguard", name+".json")
		}
	}
	rel := filepath.Join(".sloguard", name+".json")
	ws := getenv("GITHUB_WORKSPACE")
	if ws == "" || samePath(ws, wd) {
		return rel
	}
	return filepath.Join(ws, rel)
}

// safeName keeps letters, digits, dot, dash and underscore (GITHUB_ACTION
// is a step id, or a name such as __sloguard_sloguard).
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return r
		}
		return '_'
	}, s)
	return strings.Trim(s, "_")
}

func samePath(a, b string) bool {
	ea, err1 := filepath.EvalSymlinks(a)
	eb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ea == eb
}

// hasFlag reports whether args set the flag --name or -name, alone or
// with =value.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// splitArgs splits s into words as a POSIX shell would, without expanding
// anything: blanks (newlines too) separate words, 'single quotes' keep
// everything, "double quotes" keep everything but \" \\ \$ \`, and a
// backslash outside quotes keeps the next character.
func splitArgs(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '\'' or '"'
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
			if quote == '"' && !strings.ContainsRune("\"\\$`\n", r) {
				cur.WriteRune('\\')
			}
			if r != '\n' {
				cur.WriteRune(r)
			}
			inWord = true
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\\':
			escaped = true
		case quote == '"':
			if r == '"' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	case escaped:
		return nil, fmt.Errorf("%q ends with a backslash", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
