package rollback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// GitHub is the github action: the rollback said on GitHub, as a failed
// deployment status, a repository_dispatch event, a workflow_dispatch run,
// or all three.
type GitHub struct {
	DeploymentStatus bool              `yaml:"deployment_status"`
	Environment      string            `yaml:"environment"`
	DeploymentID     int64             `yaml:"deployment_id"`
	DispatchEvent    string            `yaml:"dispatch_event"`
	Workflow         *WorkflowDispatch `yaml:"workflow"`
	TokenEnv         string            `yaml:"token_env"`
}

// WorkflowDispatch starts a workflow_dispatch run.
type WorkflowDispatch struct {
	File   string            `yaml:"file"`
	Ref    string            `yaml:"ref"`
	Inputs map[string]string `yaml:"inputs"`
}

// githubKind registers the github action.
func githubKind() Kind {
	return Kind{Key: "github", Decode: func(b *slo.Block) Action {
		var g GitHub
		b.Decode(&g)
		if g.TokenEnv == "" {
			g.TokenEnv = "GITHUB_TOKEN"
		} else {
			slo.CheckEnvName(b, "token_env", g.TokenEnv)
		}
		if w := g.Workflow; w != nil {
			if w.File == "" {
				b.Problem("workflow.file", "required: the workflow file name, e.g. rollback.yml")
			}
			if len(w.Inputs) > 10 {
				b.Problem("workflow.inputs", "GitHub accepts at most 10 inputs, got %d", len(w.Inputs))
			}
		}
		if !g.DeploymentStatus && g.DispatchEvent == "" && g.Workflow == nil {
			b.Problem("", "does nothing: set deployment_status, dispatch_event or workflow")
		}
		return &g
	}}
}

// Run implements Action: each thing it is set to do is one outcome. The
// GitHub client retries on its own (5xx, rate limits), within one
// deadline each.
func (g *GitHub) Run(ctx context.Context, r *Run) []report.Action {
	if r.GitHub == nil && !r.DryRun {
		return []report.Action{{Type: "github", Target: "rollback.github", Status: Failed, Error: "no GitHub token or repository in the environment"}}
	}
	if r.GitHub == nil {
		// A dry run lists every configured action, and says why this one
		// could not run for real.
		why := "no GitHub token or repository in the environment"
		if err := g.Ready(r.Getenv); r.Getenv != nil && err != nil {
			var ms []string
			for _, nr := range NotReadies(err) {
				ms = append(ms, nr.Err.Error())
			}
			why = strings.Join(ms, "; ")
		}
		var out []report.Action
		for _, what := range g.targets() {
			act := r.attempt(ctx, "github", what, 0, 0, nil)
			act.Error = "could not run: " + why
			out = append(out, act)
		}
		return out
	}
	d := r.Decision
	var out []report.Action
	if g.DeploymentStatus {
		out = append(out, g.call(ctx, r, "deployment status failure", func(ctx context.Context) (string, error) { return r.GitHub.DeploymentFailed(ctx, *g, d) }))
	}
	if g.DispatchEvent != "" {
		out = append(out, g.call(ctx, r, "repository_dispatch "+g.DispatchEvent, func(ctx context.Context) (string, error) { return r.GitHub.Dispatch(ctx, *g, d) }))
	}
	if g.Workflow != nil {
		out = append(out, g.call(ctx, r, "workflow_dispatch "+g.Workflow.File, func(ctx context.Context) (string, error) { return r.GitHub.WorkflowDispatch(ctx, *g, d) }))
	}
	return out
}

// targets names what the action is set to do, as its outcomes do.
func (g *GitHub) targets() []string {
	var out []string
	if g.DeploymentStatus {
		out = append(out, "deployment status failure")
	}
	if g.DispatchEvent != "" {
		out = append(out, "repository_dispatch "+g.DispatchEvent)
	}
	if g.Workflow != nil {
		out = append(out, "workflow_dispatch "+g.Workflow.File)
	}
	return out
}

// call runs one GitHub call; the outcome's target names what it made.
func (g *GitHub) call(ctx context.Context, r *Run, what string, fn func(context.Context) (string, error)) report.Action {
	var target string
	act := r.once(ctx, "github", what, func(ctx context.Context) error {
		t, err := fn(ctx)
		target = t
		return err
	})
	if target != "" {
		act.Target = what + " " + target
	}
	return act
}

// Ready implements Action: the token and the repository the calls need.
// GitHub's own answer (a token without the permission) can only come when
// the action runs.
func (g *GitHub) Ready(getenv func(string) string) error {
	var errs []error
	if getenv(g.TokenEnv) == "" {
		errs = append(errs, &NotReady{Key: "rollback.github", Err: fmt.Errorf("environment variable %s (token_env) is empty: the GitHub rollback actions need a token (in GitHub Actions, give the job the token: GITHUB_TOKEN: ${{ github.token }})", g.TokenEnv)})
	}
	if owner, repo, ok := strings.Cut(getenv("GITHUB_REPOSITORY"), "/"); !ok || owner == "" || repo == "" {
		errs = append(errs, &NotReady{Key: "rollback.github", Err: fmt.Errorf("environment variable GITHUB_REPOSITORY (%q) is not owner/repo: the repository the GitHub rollback actions act on (GitHub Actions sets it)", getenv("GITHUB_REPOSITORY"))})
	}
	return errors.Join(errs...)
}

// Redact implements Action: the token.
func (g *GitHub) Redact(r *redact.Redactor, getenv func(string) string) {
	r.Add(getenv(g.TokenEnv))
}
