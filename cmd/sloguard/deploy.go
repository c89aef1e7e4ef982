package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// deployOptions name the GitHub deployment whose status a watch keeps.
type deployOptions struct {
	Environment  string
	DeploymentID int64
}

func deployFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "environment", Usage: "GitHub deployment `ENVIRONMENT` whose status the watch sets (in_progress, success, failure)", EnvVars: env("environment")},
		&cli.Int64Flag{Name: "deployment-id", Usage: "GitHub deployment `ID` (default: the newest deployment of GITHUB_SHA in --environment)", EnvVars: env("deployment-id")},
	}
}

func deployOptionsFrom(c *cli.Context) deployOptions {
	return deployOptions{Environment: c.String("environment"), DeploymentID: c.Int64("deployment-id")}
}

// deployment keeps a GitHub deployment's status in step with the watch.
// Without GitHub, a token, or an environment it does nothing.
type deployment struct {
	api  *ci.GitHubAPI
	d    *deps
	env  string
	id   int64
	gh   *slo.GitHubAction
	warn bool
}

func newDeployment(ctx context.Context, d *deps, p ci.Platform, opts deployOptions, cfg *slo.Config) *deployment {
	dep := &deployment{d: d, env: opts.Environment, id: opts.DeploymentID, gh: cfg.Rollback.GitHub}
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
	if token == "" {
		if dep.gh != nil {
			d.log.Warn("rollback.github is configured but the token is empty: GitHub actions will fail", "token_env", tokenEnv)
		}
		return dep
	}
	api, err := ci.NewGitHubAPI(token, d.getenv, d.log)
	if err != nil {
		d.log.Warn("GitHub API unavailable", "error", err)
		return dep
	}
	dep.api = api
	return dep
}

// set reports a state on the deployment, when one is named. A failure to
// report is logged, never fatal: the watch's verdict matters more.
func (dep *deployment) set(ctx context.Context, state, description string) {
	if dep.api == nil || (dep.env == "" && dep.id == 0) {
		return
	}
	if state == "failure" && dep.gh != nil && dep.gh.DeploymentStatus {
		return // the rollback action reports the failure, with its outcome
	}
	id := dep.id
	if id == 0 {
		found, err := dep.api.FindDeployment(ctx, dep.env)
		if err != nil {
			dep.d.log.Warn("cannot find the GitHub deployment", "error", err)
			return
		}
		id, dep.id = found, found
	}
	if err := dep.api.SetDeploymentStatus(ctx, id, state, dep.env, description); err != nil {
		dep.d.log.Warn("cannot set the GitHub deployment status", "state", state, "error", err)
	}
}

// reporter is the GitHub API for the rollback action, or nil.
func (dep *deployment) reporter() rollout.GitHubReporter {
	if dep.api == nil {
		return nil
	}
	return dep.api
}
