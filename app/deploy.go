package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// DeployOptions name the GitHub deployment whose status a watch keeps.
type DeployOptions struct {
	Environment    string
	EnvironmentURL string
	DeploymentID   int64
}

// deployment keeps a GitHub deployment's status in step with the watch.
// Without GitHub, a token, or an environment it does nothing.
type deployment struct {
	api    *ci.GitHubAPI
	d      *App
	env    string
	id     int64
	gh     *rollback.GitHub
	warned bool // a status could not be set: said once, not per state
}

func newDeployment(ctx context.Context, d *App, p ci.Platform, opts DeployOptions, cfg *slo.Config) *deployment {
	dep := &deployment{d: d, env: opts.Environment, id: opts.DeploymentID}
	dep.gh, _ = rollback.Find[*rollback.GitHub](cfg.Rollback)
	tokenEnv := "GITHUB_TOKEN"
	if dep.gh != nil {
		tokenEnv = dep.gh.TokenEnv
		if dep.env == "" {
			dep.env = dep.gh.Environment
		}
		if dep.id == 0 {
			dep.id = dep.gh.DeploymentID
		}
	}
	if p.Name() != "github" && dep.gh == nil {
		return dep
	}
	token := d.getenv(tokenEnv)
	named := dep.env != "" || dep.id != 0
	if token == "" {
		// rollback.github without its token stopped the run already
		// (rollbackReady), or was warned about under --no-rollback.
		if named {
			ci.Warn(d.getenv, d.cmdErr, "sloguard", fmt.Sprintf("cannot set the deployment status of %s: %v", dep.describe(), ci.ErrNoToken))
		}
		return dep
	}
	api, err := ci.NewGitHubAPI(token, d.getenv, d.log)
	if err != nil {
		if named || dep.gh != nil {
			ci.Warn(d.getenv, d.cmdErr, "sloguard", fmt.Sprintf("GitHub API unavailable: %v", err))
		}
		return dep
	}
	api.EnvironmentURL = opts.EnvironmentURL
	dep.api = api
	return dep
}

func (dep *deployment) describe() string {
	if dep.id != 0 {
		return fmt.Sprintf("deployment %d", dep.id)
	}
	return fmt.Sprintf("the deployment in environment %q", dep.env)
}

// warn says once that a status could not be set: a missing permission
// (deployments: write) or no deployment to report on. The watch goes on.
func (dep *deployment) warn(err error) {
	if dep.warned {
		return
	}
	dep.warned = true
	ci.Warn(dep.d.getenv, dep.d.cmdErr, "sloguard", fmt.Sprintf("cannot set the status of %s: %v", dep.describe(), err))
}

// set reports a state on the deployment, when one is named. A failure to
// report is logged, never fatal: the watch's verdict matters more.
func (dep *deployment) set(ctx context.Context, state, description string) {
	if dep.api == nil || (dep.env == "" && dep.id == 0) {
		return
	}
	id := dep.id
	if id == 0 {
		found, err := dep.api.FindDeployment(ctx, dep.env)
		if err != nil {
			dep.warn(err)
			return
		}
		id, dep.id = found, found
	}
	if err := dep.api.SetDeploymentStatus(ctx, id, state, dep.env, dep.d.redact.String(description)); err != nil {
		dep.warn(err)
	}
}

// finish reports the watch's verdict, so that the deployment never stays
// in_progress: success on a pass, failure on a breach, error when the watch
// could not decide (no data, backend down, interrupted).
func (dep *deployment) finish(ctx context.Context, dec *report.Decision) {
	switch dec.Decision {
	case report.Pass:
		dep.set(ctx, "success", dec.Reason)
	case report.Fail:
		if !failureReported(dec) {
			dep.set(ctx, "failure", dec.Reason)
		}
	default:
		dep.set(ctx, "error", dec.Reason)
	}
}

// failureReported says whether the rollback action "deployment status
// failure" ran (not a dry run): it reported the failure already.
func failureReported(dec *report.Decision) bool {
	for _, a := range dec.Actions {
		if a.Type == "github" && strings.HasPrefix(a.Target, "deployment status failure") && a.Status != rollback.DryRun {
			return true
		}
	}
	return false
}

// reporter is the GitHub API for the rollback actions, or nil. It fills in
// the environment and the deployment the watch has been reporting on when
// rollback.github names none, so that the failure lands on the same
// deployment as in_progress did.
func (dep *deployment) reporter() rollback.GitHubReporter {
	if dep.api == nil {
		return nil
	}
	return deployReporter{dep}
}

type deployReporter struct{ dep *deployment }

func (r deployReporter) fill(gh rollback.GitHub) rollback.GitHub {
	if gh.Environment == "" {
		gh.Environment = r.dep.env
	}
	if gh.DeploymentID == 0 && gh.Environment == r.dep.env {
		gh.DeploymentID = r.dep.id
	}
	return gh
}

func (r deployReporter) DeploymentFailed(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	return r.dep.api.DeploymentFailed(ctx, r.fill(gh), d)
}

func (r deployReporter) Dispatch(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	return r.dep.api.Dispatch(ctx, r.fill(gh), d)
}

func (r deployReporter) WorkflowDispatch(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	return r.dep.api.WorkflowDispatch(ctx, r.fill(gh), d)
}
