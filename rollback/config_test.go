package rollback

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/slo"
)

// withRollback is a valid config with block as its rollback: block.
func withRollback(block string) string {
	return `version: 1
providers: [{name: prom, type: prometheus, url: "http://127.0.0.1:9090"}]
slos:
  - name: a
    objective: 99.9
    sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}
rollback:
  ` + strings.ReplaceAll(strings.TrimSpace(block), "\n", "\n  ") + "\n"
}

var located = regexp.MustCompile(`(?m)^sloguard\.yaml(:\d+)?: `)

func load(t *testing.T, data string) (*slo.Config, []string) {
	t.Helper()
	cfg, err := slo.Parse("sloguard.yaml", []byte(data), slo.Options{Types: all.Backends().Types(), Actions: Types()})
	if err != nil {
		return nil, strings.Split(located.ReplaceAllString(err.Error(), ""), "\n")
	}
	return cfg, nil
}

func TestActionBlockProblems(t *testing.T) {
	inputs := make([]string, 11)
	for i := range inputs {
		inputs[i] = string(rune('a'+i)) + ": x"
	}
	for name, tc := range map[string]struct {
		block string
		want  []string
	}{
		"an empty rollback command": {
			"command: []",
			[]string{"rollback.command: needs a program: an argv list such as [kubectl, rollout, undo, deployment/checkout]"},
		},
		"a webhook without secret_env": {
			"webhook: {url: https://hooks.example/rollback}",
			[]string{"rollback.webhook.secret_env: required: the name of the environment variable holding the HMAC-SHA256 secret the webhook is signed with, e.g. HOOK_SECRET"},
		},
		"a webhook without url": {
			"webhook: {secret_env: HOOK_SECRET}",
			[]string{"rollback.webhook.url: required: the http(s) URL the decision record is posted to"},
		},
		"a webhook secret in place of its variable": {
			"webhook:\n  url: hooks.example/x?sig=abc\n  secret_env: sk-live.abc123",
			[]string{`rollback.webhook.url: "hooks.example/x" is not an http(s) URL`,
				"rollback.webhook.secret_env: must name an environment variable (letters, digits and _), not hold the secret itself"},
		},
		"a github rollback that does nothing": {
			"github:\n  token_env: ghp_secret-token",
			[]string{"rollback.github: does nothing: set deployment_status, dispatch_event or workflow",
				"rollback.github.token_env: must name an environment variable (letters, digits and _), not hold the secret itself"},
		},
		"a workflow without file and too many inputs": {
			"github:\n  workflow:\n    inputs: {" + strings.Join(inputs, ", ") + "}",
			[]string{"rollback.github.workflow.file: required: the workflow file name, e.g. rollback.yml",
				"rollback.github.workflow.inputs: GitHub accepts at most 10 inputs, got 11"},
		},
		"an action no kind has": {
			"comand: [true]",
			[]string{`rollback.comand: unknown key "comand": did you mean command?`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, got := load(t, withRollback(tc.block))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
			for _, p := range got {
				for _, secret := range []string{"sk-live.abc123", "ghp_secret-token", "sig=abc"} {
					if strings.Contains(p, secret) {
						t.Errorf("a problem echoes the secret %q: %s", secret, p)
					}
				}
			}
		})
	}
}

func TestActionsLoadInTheOrderTheyRun(t *testing.T) {
	cfg, got := load(t, withRollback(`
github: {deployment_status: true}
webhook: {url: https://hooks.example/rollback, secret_env: HOOK_SECRET}
command: [kubectl, rollout, undo, deployment/checkout]`))
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	want := slo.Rollback{Timeout: time.Minute, Retries: 2, Actions: []slo.RollbackAction{
		{Key: "command", Settings: Command{"kubectl", "rollout", "undo", "deployment/checkout"}},
		{Key: "webhook", Settings: &Webhook{URL: "https://hooks.example/rollback", SecretEnv: "HOOK_SECRET"}},
		{Key: "github", Settings: &GitHub{DeploymentStatus: true, TokenEnv: "GITHUB_TOKEN"}},
	}}
	if !reflect.DeepEqual(cfg.Rollback, want) {
		t.Errorf("rollback\n%+v\nwant\n%+v", cfg.Rollback, want)
	}
	var read []string
	Redact(redact.New(), cfg.Rollback, func(n string) string { read = append(read, n); return "" })
	if want := []string{"HOOK_SECRET", "GITHUB_TOKEN"}; !reflect.DeepEqual(read, want) {
		t.Errorf("secrets read from %q, want %q", read, want)
	}
}
