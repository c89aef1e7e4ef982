package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Action statuses in the record.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	DryRun    = "dry-run"
)

// GitHubReporter is what the github action needs from the GitHub API; the
// ci package implements it with go-github.
type GitHubReporter interface {
	DeploymentFailed(ctx context.Context, gh slo.GitHubAction, d *report.Decision) (string, error)
	Dispatch(ctx context.Context, gh slo.GitHubAction, d *report.Decision) (string, error)
	WorkflowDispatch(ctx context.Context, gh slo.GitHubAction, d *report.Decision) (string, error)
}

// Actions runs the configured rollback actions in order.
type Actions struct {
	Config slo.Rollback
	DryRun bool
	Getenv func(string) string
	Out    io.Writer // command output, prefixed
	Log    *slog.Logger
	GitHub GitHubReporter // nil when no github action is configured
}

// NewDeliveryID returns a fresh id for one rollback: the webhook's
// webhook-id (constant across its retries), the dispatch events'
// delivery_id, the command's SLOGUARD_ROLLBACK_ID and the record's
// rollback_id, so that every receiver can tell a duplicate delivery.
func NewDeliveryID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// Run runs every action, each with its timeout and retries, and returns
// their outcomes. An action that succeeded is never run again. ctx should
// not be the watch's (which may be cancelled by a signal): the caller
// passes a fresh one. d.RollbackID is set when empty.
func (a *Actions) Run(ctx context.Context, d *report.Decision, reportPath string, record []byte) []report.Action {
	var out []report.Action
	rb := a.Config
	if d.RollbackID == "" {
		d.RollbackID = NewDeliveryID()
	}
	if len(rb.Command) > 0 {
		out = append(out, a.attempt(ctx, "command", strings.Join(rb.Command, " "), rb.Retries, rb.Timeout, func(ctx context.Context) error {
			return a.command(ctx, d, reportPath)
		}))
	}
	if rb.Webhook != nil {
		// go-retryablehttp retries the POST itself, within one deadline.
		var tries int
		act := a.attempt(ctx, "webhook", redact.URL(rb.Webhook.URL), 0, rb.Timeout*time.Duration(rb.Retries+1), func(ctx context.Context) error {
			return a.webhook(ctx, d.RollbackID, record, &tries)
		})
		act.Attempts = tries
		out = append(out, act)
	}
	if gh := rb.GitHub; gh != nil && a.GitHub != nil {
		if gh.DeploymentStatus {
			out = append(out, a.github(ctx, "deployment status failure", func(ctx context.Context) (string, error) { return a.GitHub.DeploymentFailed(ctx, *gh, d) }))
		}
		if gh.DispatchEvent != "" {
			out = append(out, a.github(ctx, "repository_dispatch "+gh.DispatchEvent, func(ctx context.Context) (string, error) { return a.GitHub.Dispatch(ctx, *gh, d) }))
		}
		if gh.Workflow != nil {
			out = append(out, a.github(ctx, "workflow_dispatch "+gh.Workflow.File, func(ctx context.Context) (string, error) { return a.GitHub.WorkflowDispatch(ctx, *gh, d) }))
		}
	}
	return out
}

// attempt runs fn up to retries+1 times, each within timeout.
func (a *Actions) attempt(ctx context.Context, typ, target string, retries int, timeout time.Duration, fn func(context.Context) error) report.Action {
	act := report.Action{Type: typ, Target: target}
	started := time.Now()
	defer func() { act.Duration = time.Since(started).Round(time.Millisecond).String() }()
	if a.DryRun {
		act.Status = DryRun
		fmt.Fprintf(a.Out, "rollback (dry run): would run %s %s\n", typ, target)
		act.Duration = "0s"
		return act
	}
	var err error
	for try := 0; try <= retries; try++ {
		act.Attempts++
		actx, cancel := context.WithTimeout(ctx, timeout)
		err = fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		a.log().Warn("rollback action failed", "type", typ, "target", target, "attempt", act.Attempts, "error", err)
		if try < retries {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(1<<try) * 500 * time.Millisecond):
			}
		}
	}
	act.Status = Succeeded
	if err != nil {
		act.Status, act.Error = Failed, err.Error()
	}
	act.Duration = time.Since(started).Round(time.Millisecond).String()
	return act
}

// github wraps a GitHub call; its client retries on its own (5xx, rate
// limits), within one deadline.
func (a *Actions) github(ctx context.Context, what string, fn func(context.Context) (string, error)) report.Action {
	var target string
	act := a.attempt(ctx, "github", what, 0, a.Config.Timeout*time.Duration(a.Config.Retries+1), func(ctx context.Context) error {
		t, err := fn(ctx)
		target = t
		return err
	})
	if target != "" {
		act.Target = what + " " + target
	}
	return act
}

func (a *Actions) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}
