package packaging

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/app"
	"github.com/sloguard/sloguard/providers/appinsights"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// azureExamples are the pipelines that use the SloGuard@1 task.
var azureExamples = []string{"examples/azure-pipelines.yml", "examples/azure-devops/power-platform.yml"}

// ppStep is one step of the Power Platform pipeline, as far as the test
// reads it.
type ppStep struct {
	Task        string            `yaml:"task"`
	Script      string            `yaml:"script"`
	Download    string            `yaml:"download"`
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Inputs      map[string]any    `yaml:"inputs"`
	Env         map[string]string `yaml:"env"`
}

type ppJob struct {
	Job        string   `yaml:"job"`
	Deployment string   `yaml:"deployment"`
	Steps      []ppStep `yaml:"steps"`
	Strategy   struct {
		RunOnce struct {
			Deploy struct {
				Steps []ppStep `yaml:"steps"`
			} `yaml:"deploy"`
		} `yaml:"runOnce"`
	} `yaml:"strategy"`
}

type ppPipeline struct {
	Variables []map[string]string `yaml:"variables"`
	Stages    []struct {
		Stage     string  `yaml:"stage"`
		DependsOn string  `yaml:"dependsOn"`
		Condition string  `yaml:"condition"`
		Jobs      []ppJob `yaml:"jobs"`
	} `yaml:"stages"`
}

// TestPowerPlatformRecipe checks examples/azure-devops/power-platform.yml
// against what it promises: check on Application Insights SLOs, then the
// Power Platform Build Tools import, then a watch of the whole app against
// its own past whose rollback command re-imports, with pac, the managed
// solution the pipeline downloaded as the one production ran before.
func TestPowerPlatformRecipe(t *testing.T) {
	var p ppPipeline
	readYAML(t, "examples/azure-devops/power-platform.yml", &p)
	var names []string
	steps := map[string][]ppStep{}
	for _, st := range p.Stages {
		names = append(names, st.Stage)
		for _, j := range st.Jobs {
			steps[st.Stage] = append(steps[st.Stage], j.Steps...)
			steps[st.Stage] = append(steps[st.Stage], j.Strategy.RunOnce.Deploy.Steps...)
		}
	}
	if !slices.Equal(names, []string{"Build", "Gate", "Deploy"}) {
		t.Fatalf("stages %q, want Build, Gate, Deploy", names)
	}
	if d := p.Stages[2]; d.DependsOn != "Gate" || !strings.Contains(d.Condition, "dependencies.Gate.outputs['check.gate.decision']") {
		t.Errorf("Deploy depends on %q with condition %q: want it to wait for the gate's decision", d.DependsOn, d.Condition)
	}
	zip := ""
	for _, v := range p.Variables {
		if v["name"] == "solutionZip" {
			zip = v["value"]
		}
	}

	gate := find(t, steps["Gate"], "SloGuard@1")
	if gate.Inputs["command"] != "check" || gate.Name != "gate" {
		t.Errorf("the gate step runs %v as %q, want check as gate", gate.Inputs["command"], gate.Name)
	}

	deploy := steps["Deploy"]
	order := map[string]int{}
	for i, s := range deploy {
		key := s.Task
		if strings.HasPrefix(s.Script, "pac auth create") {
			key = "pac auth create"
		}
		if _, seen := order[key]; !seen && key != "" {
			order[key] = i
		}
	}
	for _, pair := range [][2]string{
		{"DownloadPipelineArtifact@2", "PowerPlatformImportSolution@2"},
		{"PowerPlatformToolInstaller@2", "pac auth create"},
		{"pac auth create", "SloGuard@1"},
		{"PowerPlatformImportSolution@2", "SloGuard@1"},
	} {
		a, okA := order[pair[0]]
		b, okB := order[pair[1]]
		if !okA || !okB || a > b {
			t.Errorf("Deploy: %s must come before %s (steps %v)", pair[0], pair[1], order)
		}
	}
	if tl := find(t, deploy, "PowerPlatformToolInstaller@2"); tl.Inputs["AddToolsToPath"] != true {
		t.Errorf("the tool installer does not put pac on PATH, which the rollback command needs")
	}
	imp := find(t, deploy, "PowerPlatformImportSolution@2")
	if in, _ := imp.Inputs["SolutionInputFile"].(string); zip == "" || !strings.HasSuffix(in, "/solution/$(solutionZip)") {
		t.Errorf("the import reads %q, want this run's solution artifact ($(solutionZip) = %q)", in, zip)
	}
	prev := find(t, deploy, "DownloadPipelineArtifact@2")
	prevDir, _ := prev.Inputs["path"].(string)
	if prev.Inputs["tags"] != "sloguard-healthy" || prev.Inputs["artifact"] != "solution" || prevDir != "$(System.DefaultWorkingDirectory)/previous" {
		t.Errorf("the previous solution comes from %v", prev.Inputs)
	}
	watch := find(t, deploy, "SloGuard@1")
	if watch.Inputs["command"] != "watch" || watch.Inputs["config"] != gate.Inputs["config"] {
		t.Errorf("the watch step runs %v with %v", watch.Inputs["command"], watch.Inputs["config"])
	}
	for _, s := range []ppStep{gate, watch} {
		for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"} {
			if s.Env[k] == "" {
				t.Errorf("step %s does not map %s, which auth: environment reads", s.Name, k)
			}
		}
	}

	// The config the steps name is the example's.
	cfg, err := slo.Load(filepath.Join(root, "examples/azure-devops/sloguard.yaml"), app.LoadOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	var kql []string
	for _, s := range cfg.SLOs {
		if prov, _ := cfg.ProviderByName(s.Provider); prov.Type != "appinsights" || prov.Settings.(*appinsights.Config).Auth != "environment" {
			t.Errorf("slo %s reads %s with %+v, want Application Insights through the mapped service principal (auth: environment)", s.Name, prov.Type, prov.Settings)
		}
		kql = append(kql, s.SLI.ErrorQuery+s.SLI.GoodQuery)
	}
	if len(kql) != 2 || !strings.Contains(kql[0], "success == false") || !strings.Contains(kql[1], "duration") {
		t.Errorf("SLIs %q, want the requests' availability and latency", kql)
	}
	pol := cfg.Canary
	dur, err := slo.ParseDuration(watch.Inputs["duration"].(string))
	if err != nil || len(pol.Canary.Labels) != 0 || pol.Baseline == nil || pol.Baseline.Offset < dur || dur != pol.Duration {
		t.Errorf("canary %+v, baseline %+v, watch duration %v: want the whole app against the same queries at least one watch earlier", pol.Canary, pol.Baseline, dur)
	}
	if pol.Baseline != nil && pol.Baseline.Offset != 30*time.Minute {
		t.Errorf("offset %s, want 30m as the README says", pol.Baseline.Offset)
	}
	cmd, _ := rollback.Find[rollback.Command](cfg.Rollback)
	at := slices.Index(cmd, "--path")
	if len(cmd) < 3 || !slices.Equal(cmd[:3], []string{"pac", "solution", "import"}) || at < 0 || at+1 >= len(cmd) || cmd[at+1] != "previous/"+zip {
		t.Errorf("rollback.command %q, want pac solution import --path previous/%s (the download's path, relative to the working directory)", cmd, zip)
	}
	if cfg.Rollback.Timeout < 25*time.Minute {
		t.Errorf("rollback.timeout %s is shorter than the import's --max-async-wait-time", cfg.Rollback.Timeout)
	}
}

func find(t *testing.T, steps []ppStep, task string) ppStep {
	t.Helper()
	for _, s := range steps {
		if s.Task == task {
			return s
		}
	}
	t.Fatalf("no %s step", task)
	return ppStep{}
}
