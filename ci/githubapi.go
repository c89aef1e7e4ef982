package ci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/gherr"
	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
)

// MaxRateLimitWait bounds how long a GitHub call waits out a rate limit
// before it fails with a clear message.
const MaxRateLimitWait = 2 * time.Minute

// GitHubAPI talks to the GitHub REST API (or GitHub Enterprise Server)
// through go-github over the retrying client.
type GitHubAPI struct {
	client      *github.Client
	dispatch    *github.Client // retries only what cannot start a workflow twice
	owner, repo string
	sha, ref    string
	runURL      string
	// EnvironmentURL, when set, is the environment_url of every deployment
	// status: the link to the deployed environment on the deployment.
	EnvironmentURL string
}

// NewGitHubAPI builds a client from the runner's environment: the token,
// GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF.
func NewGitHubAPI(token string, getenv func(string) string, log *slog.Logger) (*GitHubAPI, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	owner, repo, ok := strings.Cut(getenv("GITHUB_REPOSITORY"), "/")
	if !ok || owner == "" || repo == "" {
		return nil, fmt.Errorf("GITHUB_REPOSITORY %q is not owner/repo", getenv("GITHUB_REPOSITORY"))
	}
	c, err := newGitHubClient(token, getenv("GITHUB_API_URL"), githubRetry, log)
	if err != nil {
		return nil, err
	}
	dc, err := newGitHubClient(token, getenv("GITHUB_API_URL"), dispatchRetry, log)
	if err != nil {
		return nil, err
	}
	g := &GitHubAPI{client: c, dispatch: dc, owner: owner, repo: repo, sha: getenv("GITHUB_SHA"), ref: getenv("GITHUB_REF")}
	g.runURL = (&GitHub{Getenv: getenv}).Run().URL
	return g, nil
}

// newGitHubClient is go-github over the retrying client with the given
// retry policy, at api (GitHub Enterprise Server) when it is not GitHub's.
func newGitHubClient(token, api string, retry retryablehttp.CheckRetry, log *slog.Logger) (*github.Client, error) {
	rc, err := httpclient.New(httpclient.Options{Name: "GitHub API", Retries: 3, Logger: log})
	if err != nil {
		return nil, err
	}
	rc.CheckRetry = retry
	rc.Backoff = githubBackoff(log)
	c := github.NewClient(httpclient.Standard(rc)).WithAuthToken(token)
	if api != "" && strings.TrimRight(api, "/") != "https://api.github.com" {
		upload := strings.Replace(strings.TrimRight(api, "/"), "/api/v3", "/api/uploads", 1)
		if c, err = c.WithEnterpriseURLs(api, upload); err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q: %w", api, err)
		}
	}
	return c, nil
}

// FindDeployment returns the newest deployment of the current commit in
// the environment.
func (g *GitHubAPI) FindDeployment(ctx context.Context, environment string) (int64, error) {
	if g.sha == "" {
		return 0, errors.New("GITHUB_SHA is not set: give deployment_id instead")
	}
	deps, _, err := g.client.Repositories.ListDeployments(ctx, g.owner, g.repo, &github.DeploymentsListOptions{SHA: g.sha, Environment: environment, ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil {
		if pe := permissionError(err, "list deployments", "deployments: read"); pe != nil {
			return 0, pe
		}
		return 0, fmt.Errorf("list deployments: %w", explain(err))
	}
	if len(deps) == 0 {
		return 0, fmt.Errorf("no deployment of %s in environment %q: create one before the watch, or give deployment_id", short(g.sha), environment)
	}
	return deps[0].GetID(), nil
}

// SetDeploymentStatus sets a deployment's state (in_progress, success,
// failure, ...), linking the run's log.
func (g *GitHubAPI) SetDeploymentStatus(ctx context.Context, id int64, state, environment, description string) error {
	req := &github.DeploymentStatusRequest{State: github.String(state), Description: github.String(truncate(description, 140))}
	if g.runURL != "" {
		req.LogURL = github.String(g.runURL)
	}
	if environment != "" {
		req.Environment = github.String(environment)
	}
	if g.EnvironmentURL != "" {
		req.EnvironmentURL = github.String(g.EnvironmentURL)
	}
	if _, _, err := g.client.Repositories.CreateDeploymentStatus(ctx, g.owner, g.repo, id, req); err != nil {
		op := fmt.Sprintf("set deployment %d status %s", id, state)
		if pe := permissionError(err, op, "deployments: write"); pe != nil {
			return pe
		}
		return fmt.Errorf("%s: %w", op, explain(err))
	}
	return nil
}

// deployment resolves the configured or current deployment.
func (g *GitHubAPI) deployment(ctx context.Context, gh rollback.GitHub) (int64, error) {
	if gh.DeploymentID != 0 {
		return gh.DeploymentID, nil
	}
	return g.FindDeployment(ctx, gh.Environment)
}

// DeploymentFailed marks the deployment failed.
func (g *GitHubAPI) DeploymentFailed(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	id, err := g.deployment(ctx, gh)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("deployment %d", id), g.SetDeploymentStatus(ctx, id, "failure", gh.Environment, d.Reason)
}

// Dispatch sends a repository_dispatch event with the decision as payload,
// and the rollback's id (rollback_id) for the workflow to deduplicate on.
func (g *GitHubAPI) Dispatch(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	payload, err := json.Marshal(map[string]any{
		"decision": d.Decision, "reason": truncate(d.Reason, 1000), "sha": g.sha,
		"environment": gh.Environment, "run_url": g.runURL, "slos": failingNames(d),
		"rollback_id": d.RollbackID,
	})
	if err != nil {
		return "", err
	}
	raw := json.RawMessage(payload)
	if _, _, err := g.dispatch.Repositories.Dispatch(ctx, g.owner, g.repo, github.DispatchRequestOptions{EventType: gh.DispatchEvent, ClientPayload: &raw}); err != nil {
		op := "repository_dispatch " + gh.DispatchEvent
		if pe := permissionError(err, op, "contents: write"); pe != nil {
			return "", pe
		}
		return "", fmt.Errorf("%s: %w", op, explain(err))
	}
	return g.owner + "/" + g.repo, nil
}

// RollbackIDPlaceholder in a workflow input's value becomes the rollback's
// id: workflow_dispatch accepts only the inputs the workflow declares, so
// sloguard cannot add one of its own.
const RollbackIDPlaceholder = "{{.rollback_id}}"

// WorkflowDispatch starts the rollback workflow.
func (g *GitHubAPI) WorkflowDispatch(ctx context.Context, gh rollback.GitHub, d *report.Decision) (string, error) {
	w := gh.Workflow
	ref := w.Ref
	if ref == "" {
		ref = g.ref
	}
	if ref == "" {
		return "", errors.New("workflow_dispatch needs a ref: set rollback.github.workflow.ref (GITHUB_REF is not set)")
	}
	inputs := map[string]any{}
	for k, v := range w.Inputs {
		inputs[k] = strings.ReplaceAll(v, RollbackIDPlaceholder, d.RollbackID)
	}
	if _, err := g.dispatch.Actions.CreateWorkflowDispatchEventByFileName(ctx, g.owner, g.repo, w.File, github.CreateWorkflowDispatchEventRequest{Ref: ref, Inputs: inputs}); err != nil {
		op := "workflow_dispatch " + w.File
		if pe := permissionError(err, op, "actions: write"); pe != nil {
			return "", pe
		}
		return "", fmt.Errorf("%s: %w", op, explain(err))
	}
	return "@" + ref, nil
}

func failingNames(d *report.Decision) []string {
	out := []string{} // [] rather than null in the payload: consumers iterate it
	for _, s := range d.Failing() {
		out = append(out, s.Name)
	}
	return out
}

// rateLimitWait says how long GitHub asks us to wait: Retry-After on 429
// and secondary limits, X-RateLimit-Reset when the primary limit is spent,
// a minute for a secondary limit or a 429 that names no time (GitHub's
// advice).
func rateLimitWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return 0, false
	}
	if d, ok := httpclient.RetryAfter(resp.Header, now); ok {
		return d, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || secondaryLimit(resp) {
		return time.Minute, true
	}
	return 0, false
}

// secondaryLimit tells a 403 for a secondary rate limit, which may come
// without headers, from a 403 for missing permissions, by its message. The
// body stays readable for go-github.
func secondaryLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return err == nil && bytes.Contains(bytes.ToLower(b), []byte("secondary rate limit"))
}

type readCloser struct {
	io.Reader
	io.Closer
}

// RateLimitError says GitHub's limit outlasts what sloguard will wait.
type RateLimitError struct {
	Status int
	Wait   time.Duration // what GitHub asked for
	Limit  time.Duration // what sloguard would wait: MaxRateLimitWait, or less before a deadline
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("GitHub rate limit (HTTP %d): it lifts in %s, longer than sloguard waits (%s); retry later, or give a token with its own limit (a GitHub App installation token or a PAT) through github-token",
		e.Status, e.Wait.Round(time.Second), e.Limit.Round(time.Second))
}

func githubRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if limited, retry, rerr := rateLimitRetry(ctx, resp); limited {
		return retry, rerr
	}
	if resp != nil && resp.StatusCode == http.StatusForbidden {
		return false, nil // a permission problem: retrying will not help
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// dispatchRetry retries a dispatch only where GitHub cannot have acted on
// it: a connection that failed before the request was sent (dial, DNS),
// and a rate limit (GitHub answers it without acting). A 5xx, or a
// connection lost after sending, may have started the workflow already: a
// retry could start it twice, so the failure is reported instead.
func dispatchRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return notSent(err), nil
	}
	_, retry, rerr := rateLimitRetry(ctx, resp)
	return retry, rerr
}

// notSent says whether a transport error happened before any byte of the
// request left: no connection, no address.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// rateLimitRetry applies GitHub's rate limits: limited says whether resp
// is one; then retry within MaxRateLimitWait and the deadline, or an error
// that says how long GitHub asked for.
func rateLimitRetry(ctx context.Context, resp *http.Response) (limited, retry bool, err error) {
	wait, limited := rateLimitWait(resp, time.Now())
	if !limited {
		return false, false, nil
	}
	left := MaxRateLimitWait
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < left {
		left = time.Until(dl)
	}
	if wait > left {
		return true, false, &RateLimitError{Status: resp.StatusCode, Wait: wait, Limit: max(left, 0)}
	}
	return true, true, nil
}

// githubBackoff waits as long as a rate limit asks, saying so on the log.
func githubBackoff(log *slog.Logger) retryablehttp.Backoff {
	return func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		if wait, limited := rateLimitWait(resp, time.Now()); limited {
			if log != nil {
				log.Warn("GitHub rate limit: waiting before the next try", "status", resp.StatusCode, "wait", wait.Round(time.Second).String())
			}
			return wait
		}
		return retryablehttp.DefaultBackoff(min, max, attempt, resp)
	}
}

// explain turns go-github's errors into advice.
func explain(err error) error {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl // without the *url.Error around it: the URL adds nothing
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusUnauthorized:
			return gherr.Explained(err, "the token is invalid or expired: give the action a valid github-token (by hand: GITHUB_TOKEN, or the variable rollback.github.token_env names)")
		case http.StatusForbidden, http.StatusNotFound:
			return gherr.Explained(err, "can the token reach this repository, with permissions deployments: write (statuses), contents: write (repository_dispatch), actions: write (workflow_dispatch)?")
		}
		return gherr.Readable(err)
	}
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
