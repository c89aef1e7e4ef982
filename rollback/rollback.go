// Package rollback runs the rollback actions a config lists under
// rollback:, when a canary breaches or by hand. Each kind of action
// (command, webhook, github) owns its block: it reads and checks it, and
// runs behind one small interface. Kinds lists them once, in the order
// they run.
package rollback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
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

// Action is one configured rollback action.
type Action interface {
	// Run runs the action for run's decision and returns its outcomes
	// for the record: one, or one per thing it does (github).
	Run(ctx context.Context, run *Run) []report.Action
	// Redact tells r the secrets the action reads (and the URLs and
	// header values that may carry one).
	Redact(r *redact.Redactor, getenv func(string) string)
	// Ready says what in the environment would make Run fail (an empty
	// secret variable), without reading anything but getenv: checked
	// before a watch waits, so that a breach never finds it out.
	Ready(getenv func(string) string) error
}

// Kind is one kind of rollback action as it registers: its key under
// rollback:, and how it reads its block into an Action.
type Kind struct {
	Key    string
	Decode func(b *slo.Block) Action
}

// Kinds lists every kind of rollback action, in the order they run: the
// one place the list exists.
func Kinds() []Kind {
	return []Kind{commandKind(), webhookKind(), githubKind()}
}

// Types are the kinds as config loading needs them.
func Types() []slo.ActionType {
	ks := Kinds()
	out := make([]slo.ActionType, len(ks))
	for i, k := range ks {
		decode := k.Decode
		out[i] = slo.ActionType{Key: k.Key, Decode: func(b *slo.Block) any { return decode(b) }}
	}
	return out
}

// Keys lists the kinds' keys, for "configure rollback.command, … or …".
func Keys() []string {
	var keys []string
	for _, k := range Kinds() {
		keys = append(keys, "rollback."+k.Key)
	}
	return keys
}

// GitHubReporter is what the github action needs from the GitHub API; the
// ci package implements it with go-github.
type GitHubReporter interface {
	DeploymentFailed(ctx context.Context, gh GitHub, d *report.Decision) (string, error)
	Dispatch(ctx context.Context, gh GitHub, d *report.Decision) (string, error)
	WorkflowDispatch(ctx context.Context, gh GitHub, d *report.Decision) (string, error)
}

// Run is what the actions of one rollback share: the decision and its
// record, the config's timeout and retries, and where output goes.
type Run struct {
	Decision   *report.Decision
	ReportPath string // the record written for the actions ("" when none)
	Record     []byte // the JSON record the webhook posts
	Timeout    time.Duration
	Retries    int
	DryRun     bool
	Getenv     func(string) string
	Out        io.Writer // command output, prefixed
	Log        *slog.Logger
	GitHub     GitHubReporter // nil without a GitHub token or repository
}

// Actions runs the configured rollback actions in order.
type Actions struct {
	Config slo.Rollback
	DryRun bool
	Getenv func(string) string
	Out    io.Writer
	Log    *slog.Logger
	GitHub GitHubReporter
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
	if d.RollbackID == "" {
		d.RollbackID = NewDeliveryID()
	}
	run := &Run{Decision: d, ReportPath: reportPath, Record: record, Timeout: a.Config.Timeout, Retries: a.Config.Retries,
		DryRun: a.DryRun, Getenv: a.Getenv, Out: a.Out, Log: a.Log, GitHub: a.GitHub}
	if run.Log == nil {
		run.Log = slog.New(slog.DiscardHandler)
	}
	var out []report.Action
	for _, c := range a.Config.Actions {
		if act, ok := c.Settings.(Action); ok {
			out = append(out, act.Run(ctx, run)...)
		}
	}
	return out
}

// Redact tells r the secrets every action of rb reads.
func Redact(r *redact.Redactor, rb slo.Rollback, getenv func(string) string) {
	for _, c := range rb.Actions {
		if act, ok := c.Settings.(Action); ok {
			act.Redact(r, getenv)
		}
	}
}

// NotReady is what Ready finds missing for one action: Key is the
// action's path in the config (rollback.webhook), so that validate can
// place it at its line.
type NotReady struct {
	Key string
	Err error
	Fix string // what to do, when not to set a variable
}

func (e *NotReady) Error() string { return e.Key + ": " + e.Err.Error() }

func (e *NotReady) Unwrap() error { return e.Err }

// NotReadies lists the *NotReady in an error Ready returned.
func NotReadies(err error) []*NotReady {
	if nr, ok := err.(*NotReady); ok {
		return []*NotReady{nr}
	}
	var out []*NotReady
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, NotReadies(e)...)
		}
	}
	return out
}

// Ready checks that every action of rb can run in the environment
// getenv reads: one error naming each action's key and variable, nil when
// all can.
func Ready(rb slo.Rollback, getenv func(string) string) error {
	var errs []error
	for _, c := range rb.Actions {
		if act, ok := c.Settings.(Action); ok {
			errs = append(errs, act.Ready(getenv))
		}
	}
	return errors.Join(errs...)
}

// Find returns rb's action of type T (a *GitHub, say), if configured.
func Find[T Action](rb slo.Rollback) (T, bool) {
	for _, c := range rb.Actions {
		if act, ok := c.Settings.(T); ok {
			return act, true
		}
	}
	var zero T
	return zero, false
}

// attempt runs fn up to retries+1 times, each within timeout.
func (r *Run) attempt(ctx context.Context, typ, target string, retries int, timeout time.Duration, fn func(context.Context) error) report.Action {
	act := report.Action{Type: typ, Target: target}
	started := time.Now()
	defer func() { act.Duration = time.Since(started).Round(time.Millisecond).String() }()
	if r.DryRun {
		act.Status = DryRun
		fmt.Fprintf(r.Out, "rollback (dry run): would run %s %s\n", typ, target)
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
		r.Log.Warn("rollback action failed", "type", typ, "target", target, "attempt", act.Attempts, "error", err)
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

// once runs fn as one attempt within the whole of the action's retries'
// time: for actions whose client retries on its own (webhook, GitHub).
func (r *Run) once(ctx context.Context, typ, target string, fn func(context.Context) error) report.Action {
	return r.attempt(ctx, typ, target, 0, r.Timeout*time.Duration(r.Retries+1), fn)
}

// commandKind registers the command action: an argv run without a shell.
func commandKind() Kind {
	return Kind{Key: "command", Decode: func(b *slo.Block) Action {
		var argv []string // decoded as a list, so that a problem says "a list"
		b.Decode(&argv)
		if len(argv) == 0 || argv[0] == "" {
			b.Problem("", "needs a program: an argv list such as [kubectl, rollout, undo, deployment/checkout]")
		}
		return Command(argv)
	}}
}

// Command is the command action: argv, run without a shell.
type Command []string

// Run implements Action.
func (c Command) Run(ctx context.Context, r *Run) []report.Action {
	return []report.Action{r.attempt(ctx, "command", strings.Join(c, " "), r.Retries, r.Timeout, func(ctx context.Context) error {
		return c.run(ctx, r)
	})}
}

// Redact implements Action: a command reads no secret of its own.
func (c Command) Redact(*redact.Redactor, func(string) string) {}

// Ready implements Action: the program is there, found as Run will find
// it (in PATH, or relative to the working directory when it names a
// path), so that a breach is not the moment kubectl turns out not to be
// installed.
func (c Command) Ready(func(string) string) error {
	if len(c) == 0 || c[0] == "" {
		return nil // a config problem, reported at load
	}
	if _, err := exec.LookPath(c[0]); err != nil {
		why := err
		if u := errors.Unwrap(err); u != nil {
			why = u
		}
		return &NotReady{Key: "rollback.command", Err: fmt.Errorf("program %q cannot be run: %v", c[0], why),
			Fix: "install it where watch and rollback run (in PATH), or name it by its full path"}
	}
	return nil
}
