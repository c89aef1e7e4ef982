package action

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository: action.yml and action/install.sh.
var root = filepath.Join("..")

// actionYAML is what the test runner reads of action.yml.
type actionYAML struct {
	Inputs map[string]struct {
		Default *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
			Uses  string            `yaml:"uses"`
			If    string            `yaml:"if"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionYAML {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYAML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// runner runs action.yml's composite steps as the GitHub runner does: each
// step's env: evaluated (only plain references such as ${{ inputs.x }}, so
// that the test sees every value the step gets), its run: with bash, its
// outputs read from its own $GITHUB_OUTPUT file, and the action's outputs
// mapped from the steps' at the end. A step that fails stops the action.
type runner struct {
	t      *testing.T
	with   map[string]string // the workflow's with:
	github map[string]string // the github context (action_ref, ...)
	env    map[string]string // the job's environment (RUNNER_OS, ...)
	tmp    string            // $RUNNER_TEMP
	// actionPath, when set, is where the runner put the action, under tmp
	// (_actions/<owner>/<name>/<ref>): a link to the repository.
	actionPath string
	outputs    map[string]map[string]string
}

// result is one run of the action.
type result struct {
	ok      bool
	failed  string // id of the step that failed
	stdout  string // every step's stdout and stderr, in order
	outputs map[string]string
	steps   map[string]map[string]string
}

var expr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
var plainRef = regexp.MustCompile(`^(inputs\.[a-z-]+|github\.[a-z_]+|steps\.[a-z_-]+\.outputs\.[a-z_-]+)$`)

// eval replaces the expressions of s; anything but a plain reference fails
// the test.
func (r *runner) eval(s string) string {
	a := readAction(r.t)
	return expr.ReplaceAllStringFunc(s, func(m string) string {
		ref := expr.FindStringSubmatch(m)[1]
		if !plainRef.MatchString(ref) {
			r.t.Fatalf("action.yml: %s is not a plain reference; keep expressions simple (and out of run:)", m)
		}
		parts := strings.Split(ref, ".")
		switch parts[0] {
		case "inputs":
			if v, ok := r.with[parts[1]]; ok {
				return v
			}
			in, ok := a.Inputs[parts[1]]
			if !ok {
				r.t.Fatalf("action.yml: %s names no input", m)
			}
			if in.Default != nil {
				return r.eval(*in.Default)
			}
			return ""
		case "github":
			return r.github[parts[1]]
		default:
			return r.outputs[parts[1]][parts[3]]
		}
	})
}

func (r *runner) run() result {
	r.t.Helper()
	a := readAction(r.t)
	if a.Runs.Using != "composite" {
		r.t.Fatalf("runs.using %q, want composite", a.Runs.Using)
	}
	r.outputs = map[string]map[string]string{}
	actionPath := absRoot(r.t)
	if r.actionPath != "" {
		link := filepath.Join(r.tmp, r.actionPath)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.Symlink(actionPath, link); err != nil && !os.IsExist(err) {
			r.t.Fatal(err)
		}
		actionPath = link
	}
	var log bytes.Buffer
	res := result{ok: true}
	for i, st := range a.Runs.Steps {
		if st.Uses != "" || st.If != "" {
			r.t.Fatalf("step %d: the test runner runs plain run: steps", i)
		}
		if st.Shell != "bash" {
			r.t.Errorf("step %s: shell %q, want bash (there on Linux, macOS and Windows runners)", st.ID, st.Shell)
		}
		if expr.MatchString(st.Run) {
			r.t.Errorf("step %s: run: holds an expression (%s): pass values through env:, never into the script", st.ID, expr.FindString(st.Run))
		}
		out := filepath.Join(r.tmp, "_runner_file_commands", "set_output_"+st.ID)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			r.t.Fatal(err)
		}
		os.WriteFile(out, nil, 0o644)
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.tmp, "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
			"GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + out, "RUNNER_TEMP=" + r.tmp, "GITHUB_ACTION_PATH=" + actionPath}
		for k, v := range r.env {
			env = append(env, k+"="+v)
		}
		for k, v := range st.Env {
			env = append(env, k+"="+r.eval(v))
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", st.Run)
		cmd.Env = env
		cmd.Dir = r.tmp
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		r.outputs[st.ID] = readOutputs(r.t, out)
		if err != nil {
			res.ok, res.failed = false, st.ID
			break
		}
	}
	res.stdout = log.String()
	res.steps = r.outputs
	res.outputs = map[string]string{}
	if res.ok {
		for name, o := range a.Outputs {
			res.outputs[name] = r.eval(o.Value)
		}
	}
	return res
}

func absRoot(t *testing.T) string {
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// readOutputs reads name=value lines of a $GITHUB_OUTPUT file (the
// install script writes no multi-line values).
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}
