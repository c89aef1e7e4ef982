package ci

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/internal/ghtest"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
)

const repoPath = "/api/v3/repos/acme/shop"

// newAPI is a client for the fake server, with the runner's environment
// of a GitHub Enterprise Server.
func newAPI(t *testing.T, srv *ghtest.Server) *GitHubAPI {
	t.Helper()
	env := map[string]string{
		"GITHUB_API_URL": srv.APIURL(), "GITHUB_SERVER_URL": "https://ghe.example", "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_RUN_ID": "4242", "GITHUB_SHA": "0123456789abcdef", "GITHUB_REF": "refs/heads/main",
	}
	g, err := NewGitHubAPI("ghs_t0ken", envOf(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// only returns the one call the server got, checking its method and path.
func only(t *testing.T, srv *ghtest.Server, method, path string) ghtest.Call {
	t.Helper()
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Method != method || calls[0].Path != path {
		var got []string
		for _, c := range calls {
			got = append(got, c.Method+" "+c.Path)
		}
		t.Fatalf("calls %q, want one %s %s", got, method, path)
	}
	if auth := calls[0].Header.Get("Authorization"); auth != "Bearer ghs_t0ken" {
		t.Errorf("Authorization %q, want the token as a bearer", auth)
	}
	return calls[0]
}

func wantJSON(t *testing.T, c ghtest.Call, want map[string]any) {
	t.Helper()
	if got := c.JSON(t); !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s body:\n got %s\nwant %v", c.Method, c.Path, c.Body, want)
	}
}

func TestFindDeployment(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("GET "+repoPath+"/deployments", ghtest.Reply{Status: 200, Body: `[{"id": 42, "sha": "0123456789abcdef", "environment": "production"}]`})
	id, err := newAPI(t, srv).FindDeployment(t.Context(), "production")
	if err != nil || id != 42 {
		t.Fatalf("got %d, %v; want 42", id, err)
	}
	c := only(t, srv, "GET", repoPath+"/deployments")
	want := map[string][]string{"sha": {"0123456789abcdef"}, "environment": {"production"}, "per_page": {"1"}}
	if !reflect.DeepEqual(map[string][]string(c.Query), want) {
		t.Errorf("query %v, want %v", c.Query, want)
	}
	if len(c.Body) != 0 {
		t.Errorf("a GET with a body: %s", c.Body)
	}
}

func TestFindDeploymentNoneSaysWhatToDo(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("GET "+repoPath+"/deployments", ghtest.Reply{Status: 200, Body: `[]`})
	_, err := newAPI(t, srv).FindDeployment(t.Context(), "production")
	want := `no deployment of 0123456 in environment "production": create one before the watch, or give deployment_id`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestSetDeploymentStatus(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/42/statuses", ghtest.Reply{Status: 201, Body: `{"id": 1, "state": "failure"}`})
	long := strings.Repeat("x", 200)
	if err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 42, "failure", "production", long); err != nil {
		t.Fatal(err)
	}
	c := only(t, srv, "POST", repoPath+"/deployments/42/statuses")
	wantJSON(t, c, map[string]any{
		"state": "failure", "log_url": "https://ghe.example/acme/shop/actions/runs/4242",
		"description": strings.Repeat("x", 139) + "…", "environment": "production",
	})
}

func TestDeploymentFailedByConfiguredID(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/7/statuses", ghtest.Reply{Status: 201, Body: `{"id": 1}`})
	target, err := newAPI(t, srv).DeploymentFailed(t.Context(), rollback.GitHub{DeploymentID: 7, Environment: "staging"}, &report.Decision{Reason: "canary breached"})
	if err != nil || target != "deployment 7" {
		t.Fatalf("got %q, %v", target, err)
	}
	wantJSON(t, only(t, srv, "POST", repoPath+"/deployments/7/statuses"), map[string]any{
		"state": "failure", "log_url": "https://ghe.example/acme/shop/actions/runs/4242", "description": "canary breached", "environment": "staging",
	})
}

func TestDispatch(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/dispatches", ghtest.Reply{Status: 204})
	d := &report.Decision{Decision: report.Fail, Reason: "canary breached", RollbackID: "msg_0123", SLOs: []report.SLO{{Name: "api", Decision: report.Fail}, {Name: "latency", Decision: report.Pass}}}
	target, err := newAPI(t, srv).Dispatch(t.Context(), rollback.GitHub{DispatchEvent: "sloguard-rollback", Environment: "production"}, d)
	if err != nil || target != "acme/shop" {
		t.Fatalf("got %q, %v", target, err)
	}
	wantJSON(t, only(t, srv, "POST", repoPath+"/dispatches"), map[string]any{
		"event_type": "sloguard-rollback",
		"client_payload": map[string]any{
			"decision": "fail", "reason": "canary breached", "sha": "0123456789abcdef", "environment": "production",
			"run_url": "https://ghe.example/acme/shop/actions/runs/4242", "slos": []any{"api"}, "rollback_id": "msg_0123",
		},
	})
}

func TestDispatchByHandListsNoSLOs(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/dispatches", ghtest.Reply{Status: 204})
	if _, err := newAPI(t, srv).Dispatch(t.Context(), rollback.GitHub{DispatchEvent: "e"}, &report.Decision{Decision: report.Fail}); err != nil {
		t.Fatal(err)
	}
	payload := only(t, srv, "POST", repoPath+"/dispatches").JSON(t)["client_payload"].(map[string]any)
	if slos, ok := payload["slos"].([]any); !ok || len(slos) != 0 {
		t.Errorf("slos: %v, want [] (a consumer iterates it)", payload["slos"])
	}
}

func TestWorkflowDispatch(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/actions/workflows/rollback.yml/dispatches", ghtest.Reply{Status: 204})
	gh := rollback.GitHub{Workflow: &rollback.WorkflowDispatch{File: "rollback.yml", Inputs: map[string]string{"service": "checkout", "to": "stable", "id": "{{.rollback_id}}"}}}
	target, err := newAPI(t, srv).WorkflowDispatch(t.Context(), gh, &report.Decision{RollbackID: "msg_0123"})
	if err != nil || target != "@refs/heads/main" {
		t.Fatalf("got %q, %v", target, err)
	}
	wantJSON(t, only(t, srv, "POST", repoPath+"/actions/workflows/rollback.yml/dispatches"), map[string]any{
		"ref": "refs/heads/main", "inputs": map[string]any{"service": "checkout", "to": "stable", "id": "msg_0123"},
	})
}

// A dispatch that GitHub may have acted on is not sent again: a second
// one would start the rollback workflow twice. One that never left, or
// that a rate limit turned away, is.
func TestDispatchesAreRetriedOnlyWhereNoDuplicateCanStart(t *testing.T) {
	tests := map[string]struct {
		replies []ghtest.Reply
		calls   int
		ok      bool
	}{
		"a 502 after sending is reported, not resent": {replies: []ghtest.Reply{{Status: 502, Body: `{"message": "Bad Gateway"}`}, {Status: 204}}, calls: 1},
		"a 500 is reported, not resent":               {replies: []ghtest.Reply{{Status: 500}, {Status: 204}}, calls: 1},
		"a 429 with Retry-After is waited out":        {replies: []ghtest.Reply{{Status: 429, Header: map[string]string{"Retry-After": "1"}}, {Status: 204}}, calls: 2, ok: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, kind := range []string{"repository_dispatch", "workflow_dispatch"} {
				srv := ghtest.New(t)
				api := newAPI(t, srv)
				var err error
				if kind == "repository_dispatch" {
					srv.Handle("POST "+repoPath+"/dispatches", tc.replies...)
					_, err = api.Dispatch(t.Context(), rollback.GitHub{DispatchEvent: "e"}, &report.Decision{})
				} else {
					srv.Handle("POST "+repoPath+"/actions/workflows/r.yml/dispatches", tc.replies...)
					_, err = api.WorkflowDispatch(t.Context(), rollback.GitHub{Workflow: &rollback.WorkflowDispatch{File: "r.yml"}}, &report.Decision{})
				}
				if (err == nil) != tc.ok || len(srv.Calls()) != tc.calls {
					t.Errorf("%s: %d calls, error %v; want %d calls, success %v", kind, len(srv.Calls()), err, tc.calls, tc.ok)
				}
			}
		})
	}
}

func TestDispatchRetryPolicy(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := map[string]struct {
		err   error
		retry bool
	}{
		"a refused connection never sent the request":  {&url.Error{Op: "Post", URL: "https://api.github.com", Err: refused}, true},
		"an unknown host never sent it":                {&net.DNSError{Err: "no such host", Name: "api.github.com", IsNotFound: true}, true},
		"a reset after sending may have been acted on": {&url.Error{Op: "Post", URL: "https://api.github.com", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, false},
		"an EOF instead of an answer too":              {&url.Error{Op: "Post", URL: "https://api.github.com", Err: io.ErrUnexpectedEOF}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if retry, err := dispatchRetry(t.Context(), nil, tc.err); retry != tc.retry || err != nil {
				t.Errorf("dispatchRetry = %v, %v; want %v", retry, err, tc.retry)
			}
		})
	}
}

// rateLimited answers the first call with limit, then success.
func rateLimited(t *testing.T, limit ghtest.Reply) (*ghtest.Server, error, time.Duration) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/42/statuses", limit, ghtest.Reply{Status: 201, Body: `{"id": 1}`})
	start := time.Now()
	err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 42, "in_progress", "production", "watching")
	return srv, err, time.Since(start)
}

func TestRateLimitsAreWaitedOut(t *testing.T) {
	tests := map[string]ghtest.Reply{
		"a spent primary limit waits for X-RateLimit-Reset": {Status: 403, Header: map[string]string{
			"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "1000",
			"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10), "X-RateLimit-Resource": "core",
		}, Body: `{"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`},
		"a secondary limit waits for Retry-After": {Status: 403, Header: map[string]string{"Retry-After": "1"},
			Body: `{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`},
		"a 429 waits for Retry-After": {Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: `{"message": "Too Many Requests"}`},
	}
	for name, limit := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, err, took := rateLimited(t, limit)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Calls()); n != 2 || took < 900*time.Millisecond {
				t.Errorf("%d calls in %s; want a retry after about a second", n, took)
			}
		})
	}
}

func TestRateLimitsBeyondTheBoundFailFast(t *testing.T) {
	tests := map[string]struct {
		limit    ghtest.Reply
		deadline time.Duration // 0: none
		want     string
	}{
		"a reset in an hour": {
			limit: ghtest.Reply{Status: 403, Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
				Body: `{"message": "API rate limit exceeded"}`},
			want: "GitHub rate limit (HTTP 403): it lifts in 1h0m",
		},
		"a 429 asking for ten minutes": {
			limit: ghtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "600"}},
			want:  "GitHub rate limit (HTTP 429): it lifts in 10m0s, longer than sloguard waits (2m0s); retry later",
		},
		"a secondary limit without headers, close to the deadline": {
			limit:    ghtest.Reply{Status: 403, Body: `{"message": "You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}`},
			deadline: 5 * time.Second,
			want:     "GitHub rate limit (HTTP 403): it lifts in 1m0s, longer than sloguard waits (5s)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ghtest.New(t)
			srv.Handle("POST "+repoPath+"/deployments/42/statuses", tc.limit)
			ctx := t.Context()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			start := time.Now()
			err := newAPI(t, srv).SetDeploymentStatus(ctx, 42, "in_progress", "production", "watching")
			var rl *RateLimitError
			if !errors.As(err, &rl) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a RateLimitError saying %q", err, tc.want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
			if took := time.Since(start); took > time.Second || len(srv.Calls()) != 1 {
				t.Errorf("%d calls in %s; want one, at once", len(srv.Calls()), took)
			}
		})
	}
}

func TestErrorsGiveAdvice(t *testing.T) {
	tests := map[string]struct {
		reply ghtest.Reply
		want  string
	}{
		"401 says the token is bad": {ghtest.Reply{Status: 401, Body: `{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}`},
			"/deployments/42/statuses: 401 Bad credentials, see https://docs.github.com/rest: the token is invalid or expired: give the action a valid github-token"},
		"403 without a limit names the permissions": {ghtest.Reply{Status: 403, Body: `{"message": "Resource not accessible by integration"}`},
			"set deployment 42 status success: the token lacks the permission deployments: write: add it to the job's permissions: block, or give github-token a token that has it (GitHub said: POST "},
		"403 without a message says its status": {ghtest.Reply{Status: 403, Body: `{}`}, "/deployments/42/statuses: 403 Forbidden)"},
		"404 names the permissions too":         {ghtest.Reply{Status: 404, Body: `{"message": "Not Found"}`}, "/deployments/42/statuses: 404 Not Found: can the token reach this repository"},
		"422 lists the field errors":            {ghtest.Reply{Status: 422, Body: `{"message": "Validation Failed", "errors": [{"resource": "DeploymentStatus", "field": "state", "code": "invalid"}]}`}, "/deployments/42/statuses: 422 Validation Failed (invalid error caused by state field on DeploymentStatus resource)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := ghtest.New(t)
			srv.Handle("POST "+repoPath+"/deployments/42/statuses", tc.reply)
			err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 42, "success", "", "ok")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "set deployment 42 status success: ") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "[]") || strings.Contains(err.Error(), "  ") {
				t.Errorf("got %q: go-github's empty list or a double space", err)
			}
			var ge *github.ErrorResponse
			if !errors.As(err, &ge) {
				t.Errorf("%v: the GitHub error is no longer in the chain", err)
			}
			if n := len(srv.Calls()); n != 1 {
				t.Errorf("%d calls: retrying will not fix this", n)
			}
		})
	}
}

func TestGitHubAPIURLs(t *testing.T) {
	tests := map[string]struct{ api, base, upload string }{
		"github.com by default":                       {"", "https://api.github.com/", "https://uploads.github.com/"},
		"github.com named":                            {"https://api.github.com", "https://api.github.com/", "https://uploads.github.com/"},
		"GitHub Enterprise Server":                    {"https://ghe.example/api/v3", "https://ghe.example/api/v3/", "https://ghe.example/api/uploads/"},
		"GitHub Enterprise Server, slash ended":       {"https://ghe.example/api/v3/", "https://ghe.example/api/v3/", "https://ghe.example/api/uploads/"},
		"GitHub Enterprise Cloud with data residency": {"https://api.acme.ghe.com", "https://api.acme.ghe.com/", "https://api.acme.ghe.com/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, err := NewGitHubAPI("tok", envOf(map[string]string{"GITHUB_API_URL": tc.api, "GITHUB_REPOSITORY": "acme/shop"}), nil)
			if err != nil {
				t.Fatal(err)
			}
			if b, u := g.client.BaseURL.String(), g.client.UploadURL.String(); b != tc.base || u != tc.upload {
				t.Errorf("base %s, upload %s; want %s, %s", b, u, tc.base, tc.upload)
			}
		})
	}
}

func TestNewGitHubAPIRefusesWhatCannotWork(t *testing.T) {
	tests := map[string]struct {
		token, repo, want string
	}{
		"no token":             {"", "acme/shop", "no GitHub token: give the action github-token (its default is ${{ github.token }}), or set GITHUB_TOKEN"},
		"no repository":        {"tok", "", `GITHUB_REPOSITORY "" is not owner/repo`},
		"a repository not o/r": {"tok", "shop", `GITHUB_REPOSITORY "shop" is not owner/repo`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewGitHubAPI(tc.token, envOf(map[string]string{"GITHUB_REPOSITORY": tc.repo}), nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// The token goes to the API's origin only: an answer that redirects to
// another origin (here another loopback port) is refused, and nothing
// reaches it. A redirect within the API's origin is followed.
func TestTheTokenStaysWithTheAPIsOrigin(t *testing.T) {
	other := ghtest.New(t)
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/42/statuses", ghtest.Reply{Status: 307, Header: map[string]string{"Location": other.APIURL() + "/repos/acme/shop/deployments/42/statuses"}})
	srv.Handle("POST "+repoPath+"/deployments/7/statuses", ghtest.Reply{Status: 307, Header: map[string]string{"Location": repoPath + "/deployments/8/statuses"}})
	srv.Handle("POST "+repoPath+"/deployments/8/statuses", ghtest.Reply{Status: 201, Body: `{"id": 1}`})
	err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 42, "failure", "production", "breach")
	if err == nil || !strings.Contains(err.Error(), "refused a redirect to another origin") {
		t.Errorf("err = %v, want the redirect refused", err)
	}
	if calls := other.Calls(); len(calls) != 0 {
		t.Errorf("the other origin got %d call(s), Authorization %q", len(calls), calls[0].Header.Get("Authorization"))
	}
	if err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 7, "failure", "production", "breach"); err != nil {
		t.Fatalf("a redirect within the origin: %v", err)
	}
	calls := srv.Calls()
	if last := calls[len(calls)-1]; last.Path != repoPath+"/deployments/8/statuses" || last.Header.Get("Authorization") != "Bearer ghs_t0ken" {
		t.Errorf("the redirected call: %s with Authorization %q", last.Path, last.Header.Get("Authorization"))
	}
}
