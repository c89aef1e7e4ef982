package packaging

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

type actionYAML struct {
	Name     string                       `yaml:"name"`
	Branding map[string]string            `yaml:"branding"`
	Inputs   map[string]map[string]any    `yaml:"inputs"`
	Outputs  map[string]map[string]string `yaml:"outputs"`
	Runs     struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID  string `yaml:"id"`
			Run string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

type taskJSON struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	FriendlyName    string `json:"friendlyName"`
	Category        string `json:"category"`
	Version         struct{ Major, Minor, Patch int }
	Inputs          []struct{ Name, Type, DefaultValue string }
	OutputVariables []struct{ Name string }
	Execution       map[string]struct{ Target string }
	Groups          []struct{ Name string }
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// published runs a platform's Publish on a watch that rolled back and
// returns the output names it set.
func published(t *testing.T, platform string) []string {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum"), "AGENT_TEMPDIRECTORY": dir}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	var p ci.Platform = &ci.Azure{Out: &out, Getenv: getenv}
	if platform == "github" {
		p = &ci.GitHub{Out: &out, Getenv: getenv}
	}
	b := 12.5
	d := &report.Decision{Command: "watch", Decision: report.Fail, SLOs: []report.SLO{{Name: "a", ErrorBudgetRemaining: &b, Decision: report.Fail}},
		Actions: []report.Action{{Type: "command", Status: "succeeded"}}}
	if err := p.Publish(d, filepath.Join(dir, "r.json"), nil); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	if platform == "github" {
		data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			name, _, _ := strings.Cut(l, "=")
			names[name] = true
		}
	} else {
		for _, m := range regexp.MustCompile(`##vso\[task\.setvariable variable=([^;]+);isoutput=true\]`).FindAllStringSubmatch(out.String(), -1) {
			names[m[1]] = true
		}
	}
	return sorted(names)
}

func TestActionMetadata(t *testing.T) {
	var a actionYAML
	readYAML(t, "action.yml", &a)
	// A composite action: it installs the released binary and runs it on
	// the runner, on Linux, macOS and Windows (action/install_test.go runs
	// its steps).
	if a.Runs.Using != "composite" || len(a.Runs.Steps) != 2 || a.Runs.Steps[0].ID != "install" || a.Runs.Steps[1].ID != "run" {
		t.Errorf("runs: using %q with %d steps; want a composite action: install, then run", a.Runs.Using, len(a.Runs.Steps))
	}
	if _, err := os.Stat(filepath.Join(root, "action", "install.sh")); err != nil || !strings.Contains(a.Runs.Steps[0].Run, "$GITHUB_ACTION_PATH/action/install.sh") {
		t.Errorf("the install step does not run action/install.sh from the action's path: %v", err)
	}
	for name, o := range a.Outputs {
		if name != "version" && o["value"] != "${{ steps.run.outputs."+name+" }}" {
			t.Errorf("output %s: value %q, want the run step's", name, o["value"])
		}
	}
	if a.Branding["icon"] == "" || a.Branding["color"] == "" {
		t.Errorf("branding %v: want an icon and a color", a.Branding)
	}
	var outputs []string
	for name := range a.Outputs {
		if name != "version" { // the install step's
			outputs = append(outputs, name)
		}
	}
	sort.Strings(outputs)
	if got := published(t, "github"); !slices.Equal(outputs, got) {
		t.Errorf("action.yml declares outputs %q; the binary sets %q", outputs, got)
	}
	if d := a.Inputs["github-token"]["default"]; d != "${{ github.token }}" {
		t.Errorf("github-token default %v, want ${{ github.token }}", d)
	}
}

func TestAzureTask(t *testing.T) {
	var task taskJSON
	readJSON(t, "azure-devops/task/task.json", &task)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(task.ID) {
		t.Errorf("id %q is not a GUID", task.ID)
	}
	if n := len([]rune(task.FriendlyName)); n == 0 || n > 40 {
		t.Errorf("friendlyName %q: tfx wants 1 to 40 characters, got %d", task.FriendlyName, n)
	}
	if task.Name != "SloGuard" || task.Version.Major != 1 || task.Category != "Deploy" {
		t.Errorf("name %q, major %d, category %q: want SloGuard@1 in Deploy", task.Name, task.Version.Major, task.Category)
	}
	for _, handler := range []string{"Node20_1", "Node24"} {
		if e, ok := task.Execution[handler]; !ok || e.Target != "dist/src/index.js" {
			t.Errorf("execution %v: want %s running dist/src/index.js (tsc's output for src/index.ts)", task.Execution, handler)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "azure-devops/task/src/index.ts")); err != nil {
		t.Error(err)
	}
	var outputs []string
	for _, o := range task.OutputVariables {
		outputs = append(outputs, o.Name)
	}
	sort.Strings(outputs)
	if got := published(t, "azure"); !slices.Equal(outputs, got) {
		t.Errorf("task.json declares outputVariables %q; the binary sets %q", outputs, got)
	}

	t.Run("the inputs mirror the action's", func(t *testing.T) {
		var a actionYAML
		readYAML(t, "action.yml", &a)
		// The agent's own, and the service connections.
		want := map[string]bool{"workingDirectory": true, "sloguardPath": true, "metricsConnection": true, "azureSubscription": true, "githubConnection": true}
		for name := range a.Inputs {
			switch name {
			case "version", "releases-url": // the task bundles its binaries
			case "check-run", "check-name", "comment": // GitHub Actions only
			default:
				want[camel(name)] = true
			}
		}
		got := map[string]bool{}
		for _, in := range task.Inputs {
			got[in.Name] = true
		}
		if !slices.Equal(sorted(got), sorted(want)) {
			t.Errorf("task inputs %q, want %q", sorted(got), sorted(want))
		}
	})
}

// camel turns an action input name into the task's: dry-run → dryRun.
func camel(s string) string {
	parts := strings.Split(s, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

func TestExtensionManifest(t *testing.T) {
	var ext struct {
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
		Contributions []struct {
			Type       string            `json:"type"`
			Targets    []string          `json:"targets"`
			Properties map[string]string `json:"properties"`
		} `json:"contributions"`
	}
	readJSON(t, "azure-devops/vss-extension.json", &ext)
	if len(ext.Contributions) != 1 || ext.Contributions[0].Type != "ms.vss-distributed-task.task" ||
		!slices.Equal(ext.Contributions[0].Targets, []string{"ms.vss-distributed-task.tasks"}) {
		t.Fatalf("contributions %+v: want one ms.vss-distributed-task.task", ext.Contributions)
	}
	dir := ext.Contributions[0].Properties["name"]
	if _, err := os.Stat(filepath.Join(root, "azure-devops", dir, "task.json")); err != nil {
		t.Errorf("the contribution names %q, which holds no task.json: %v", dir, err)
	}
	packaged := map[string]bool{}
	for _, f := range ext.Files {
		packaged[f.Path] = true
	}
	for _, want := range []string{"task/task.json", "task/dist/src", "task/bin", "task/node_modules", "task/icon.png", "images"} {
		if !packaged[want] {
			t.Errorf("the package leaves out %s", want)
		}
	}
	var icons struct {
		Icons map[string]string `json:"icons"`
	}
	readJSON(t, "azure-devops/vss-extension.json", &icons)
	if icons.Icons["default"] != "images/icon.png" {
		t.Errorf("icons %v: want default images/icon.png", icons.Icons)
	}
}

// TestExtensionPublisher: `make azure-extension PUBLISHER=…` packages the
// extension under that Marketplace publisher, and darwin-x64 is bundled.
func TestExtensionPublisher(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed: apt-get install -y make")
	}
	for publisher, want := range map[string]string{"": `--publisher "sloguard"`, "acme-sre": `--publisher "acme-sre"`} {
		args := []string{"-s", "-n", "azure-extension"}
		if publisher != "" {
			args = append(args, "PUBLISHER="+publisher)
		}
		cmd := exec.Command("make", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("make -n azure-extension: %v", err)
		}
		if !strings.Contains(string(out), "tfx-cli@0.23.1 extension create --manifest-globs vss-extension.json "+want) {
			t.Errorf("PUBLISHER=%q: tfx is not given %s:\n%s", publisher, want, out)
		}
		if !strings.Contains(string(out), "GOOS=darwin  GOARCH=amd64") || !strings.Contains(string(out), "bin/darwin-x64/sloguard") {
			t.Errorf("make azure-extension builds no darwin-x64 binary:\n%s", out)
		}
	}
}

func TestAzureExampleUsesTheTaskAsDeclared(t *testing.T) {
	for _, path := range azureExamples {
		t.Run(path, func(t *testing.T) { checkAzureExample(t, path) })
	}
}

func checkAzureExample(t *testing.T, path string) {
	var task taskJSON
	readJSON(t, "azure-devops/task/task.json", &task)
	inputs, outputs := map[string]bool{}, map[string]bool{}
	for _, in := range task.Inputs {
		inputs[in.Name] = true
	}
	for _, o := range task.OutputVariables {
		outputs[o.Name] = true
	}
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	steps := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			m := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				m[n.Content[i].Value] = n.Content[i+1]
			}
			if task, ok := m["task"]; ok && strings.HasPrefix(task.Value, "SloGuard@") {
				if task.Value != "SloGuard@1" {
					t.Errorf("line %d: %s, want SloGuard@1", task.Line, task.Value)
				}
				if name, ok := m["name"]; ok {
					steps[name.Value] = true
				}
				if in := m["inputs"]; in != nil {
					for i := 0; i < len(in.Content); i += 2 {
						if k := in.Content[i]; !inputs[k.Value] {
							t.Errorf("line %d: SloGuard@1 has no input %q", k.Line, k.Value)
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	refs := regexp.MustCompile(`outputs\['(?:[A-Za-z0-9_]+\.)*([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)'\]`).FindAllStringSubmatch(string(data), -1)
	if len(refs) == 0 {
		t.Fatal("the example reads no output variable")
	}
	for _, r := range refs {
		if !steps[r[1]] || !outputs[r[2]] {
			t.Errorf("%s: no SloGuard@1 step named %q with the output %q", r[0], r[1], r[2])
		}
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := slo.Load(filepath.Join(root, "examples/github/sloguard.yaml"), app.LoadOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if gh, ok := rollback.Find[*rollback.GitHub](cfg.Rollback); !ok || gh.DispatchEvent != "sloguard-rollback" {
		t.Errorf("rollback.github.dispatch_event must be what canary.yml's rollback job listens for")
	}
	canary, err := os.ReadFile(filepath.Join(root, "examples/github/canary.yml"))
	if err != nil || !bytes.Contains(canary, []byte("types: [sloguard-rollback]")) {
		t.Errorf("canary.yml does not listen for sloguard-rollback: %v", err)
	}
}
