package rollout

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Action statuses in the record.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	DryRun    = "dry-run"
)

// SignatureHeader carries the webhook body's HMAC-SHA256, GitHub style.
const SignatureHeader = "X-Sloguard-Signature-256"

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

// Run runs every action, each with its timeout and retries, and returns
// their outcomes. ctx should not be the watch's (which may be cancelled by
// a signal): the caller passes a fresh one.
func (a *Actions) Run(ctx context.Context, d *report.Decision, reportPath string, record []byte) []report.Action {
	var out []report.Action
	rb := a.Config
	if len(rb.Command) > 0 {
		out = append(out, a.attempt(ctx, "command", strings.Join(rb.Command, " "), rb.Retries, rb.Timeout, func(ctx context.Context) error {
			return a.command(ctx, d, reportPath)
		}))
	}
	if rb.Webhook != nil {
		// go-retryablehttp retries the POST itself, within one deadline.
		var tries int
		act := a.attempt(ctx, "webhook", redact(rb.Webhook.URL), 0, rb.Timeout*time.Duration(rb.Retries+1), func(ctx context.Context) error {
			return a.webhook(ctx, record, &tries)
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

// command runs argv without a shell, with the decision in its environment,
// streaming its output line by line with a prefix.
func (a *Actions) command(ctx context.Context, d *report.Decision, reportPath string) error {
	argv := a.Config.Command
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 2 * time.Second
	var failing []string
	for _, s := range d.SLOs {
		if s.Decision == report.Fail {
			failing = append(failing, s.Name)
		}
	}
	cmd.Env = append(os.Environ(),
		"SLOGUARD_DECISION="+d.Decision,
		"SLOGUARD_SLO="+strings.Join(failing, ","),
		"SLOGUARD_REASON="+d.Reason,
		"SLOGUARD_REPORT="+reportPath,
	)
	pw := &prefixWriter{w: a.Out, prefix: "rollback: "}
	cmd.Stdout, cmd.Stderr = pw, pw
	err := cmd.Run()
	pw.Flush()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: no exit within %s", argv[0], a.Config.Timeout)
		}
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	return nil
}

// Sign returns the signature header value for body: sha256=<hex HMAC>.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhook posts the record, signed; 2xx is success.
func (a *Actions) webhook(ctx context.Context, record []byte, tries *int) error {
	w := a.Config.Webhook
	secret := a.Getenv(w.SecretEnv)
	if secret == "" {
		return fmt.Errorf("environment variable %s (secret_env) is empty: cannot sign the webhook", w.SecretEnv)
	}
	c, err := httpclient.New(httpclient.Options{Retries: a.Config.Retries, Headers: w.Headers, Logger: a.Log})
	if err != nil {
		return err
	}
	c.RequestLogHook = func(retryablehttp.Logger, *http.Request, int) { *tries++ }
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, w.URL, record)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sloguard")
	req.Header.Set(SignatureHeader, Sign([]byte(secret), record))
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", redact(w.URL), stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("POST %s: %s: %s", redact(w.URL), resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// redact drops query strings, where webhook tokens often live.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// stripURL keeps url.Error from repeating the full URL, token included.
func stripURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.Contains(err.Error(), "?") {
		return ue.Unwrap()
	}
	return err
}

// prefixWriter prefixes every line written through it.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			p.buf.Write(line) // keep the partial line for later
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s", p.prefix, line)
	}
}

// Flush writes a final line without a newline.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len() > 0 {
		sc := bufio.NewScanner(&p.buf)
		for sc.Scan() {
			fmt.Fprintf(p.w, "%s%s\n", p.prefix, sc.Text())
		}
		p.buf.Reset()
	}
}
