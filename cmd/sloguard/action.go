package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// The GitHub Action (action.yml) is a Docker container action whose image
// runs sloguard with no arguments (runs.args: [], so that the runner does
// not pass the `args` input as the container's arguments) and hands over
// its inputs as INPUT_<NAME> variables: upper-cased, hyphens kept
// (INPUT_DRY-RUN), "" for an input left blank. actionArgv turns them into
// the command line a user would have typed.

// actionInput maps one input of action.yml to sloguard flags.
type actionInput struct {
	name     string   // as declared in action.yml
	commands []string // the commands it applies to
	flag     string   // the flag it becomes; "" when handled apart
}

// actionInputs lists every input of action.yml, in the order the flags are
// built. TestActionYAMLMatchesTheAdapter keeps it and action.yml in step.
func actionInputs() []actionInput {
	all := []string{"check", "watch", "rollback", "validate"}
	return []actionInput{
		{name: "command", commands: all},
		{name: "config", commands: all, flag: "--config"},
		{name: "slo", commands: []string{"check", "watch"}, flag: "--slo"},
		{name: "duration", commands: []string{"watch"}, flag: "--duration"},
		{name: "interval", commands: []string{"watch"}, flag: "--interval"},
		{name: "environment", commands: []string{"watch", "rollback"}, flag: "--environment"},
		{name: "deployment-id", commands: []string{"watch", "rollback"}, flag: "--deployment-id"},
		{name: "dry-run", commands: []string{"watch", "rollback"}, flag: "--no-rollback"},
		{name: "override-reason", commands: []string{"check"}, flag: "--override"},
		{name: "reason", commands: []string{"rollback"}, flag: "--reason"},
		{name: "github-token", commands: all},
		{name: "args", commands: all},
	}
}

// inputEnv names the variable the runner sets for an input.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// actionArgv returns the argv of action mode, or nil when this is not the
// action: outside GitHub Actions, with arguments on the command line (the
// image used directly, `docker://…` with args), or without a command input.
// Blank inputs are skipped, so that the CLI's defaults hold. getenv, when
// returned, also answers GITHUB_TOKEN with the github-token input. wd is
// the working directory, where the runner mounts the workspace.
func actionArgv(args []string, getenv func(string) string, wd string) ([]string, func(string) string, error) {
	if getenv("GITHUB_ACTIONS") != "true" || len(args) > 1 || strings.TrimSpace(getenv(inputEnv("command"))) == "" {
		return nil, nil, nil
	}
	input := func(name string) string { return strings.TrimSpace(getenv(inputEnv(name))) }
	command := input("command")
	argv := []string{"sloguard", command}
	var problems []error
	switch command {
	case "check", "watch", "rollback", "validate":
	default:
		return nil, nil, &exitError{Code: exitUsage, Err: fmt.Errorf("action input command: %q is not a sloguard command: use check, watch, rollback or validate", command)}
	}
	for _, in := range actionInputs() {
		v := input(in.name)
		if in.flag == "" || v == "" {
			continue
		}
		if !slices.Contains(in.commands, command) {
			if in.name == "dry-run" && strings.EqualFold(v, "false") {
				continue
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
		case "dry-run":
			switch strings.ToLower(v) {
			case "true":
				argv = append(argv, in.flag)
			case "false":
			default:
				problems = append(problems, fmt.Errorf("action input dry-run: want true or false, got %q", v))
			}
		default:
			argv = append(argv, in.flag, v)
		}
	}
	extra, err := splitArgs(getenv(inputEnv("args")))
	if err != nil {
		problems = append(problems, fmt.Errorf("action input args: %w", err))
	}
	if len(problems) > 0 {
		return nil, nil, &exitError{Code: exitUsage, Err: errors.Join(problems...)}
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

// actionReportPath is where the action writes the record by default. The
// runner does not mount $RUNNER_TEMP into a container action, and paths in
// the container (/github/workspace) are not the host's: the record goes
// under the workspace, named relative to it when the action runs there (as
// the runner starts it), so that later steps, which run in the workspace
// too, can read the `report` output as it is.
func actionReportPath(command string, getenv func(string) string, wd string) string {
	name := command
	for _, part := range []string{getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT"), getenv("GITHUB_ACTION")} {
		if part = safeName(part); part != "" {
			name += "-" + part
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
