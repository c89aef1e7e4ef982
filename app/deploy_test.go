package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/ghtest"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

const (
	deployments = "/api/v3/repos/acme/shop/deployments"
	statuses    = deployments + "/42/statuses"
	runURL      = "https://github.com/acme/shop/actions/runs/4242"
)

// watchConfig is a canary of 3000 requests per 30 s, with bad of them
// failing, watched for a minute, after two steady hours (the history
// watch reads to learn how bursty errors are: 60 slices of 2 minutes).
func watchConfig(bad, rollback string) string {
	history := "[" + strings.Repeat("true, ", 50) + strings.Repeat("false, ", 9) + "false]"
	return `version: 1
providers:
  - name: recorded
    type: static
    values:
      api:
        service:
          2h: {slices: ` + history + `}
        canary:
          30s: {bad: ` + bad + `, total: 3000}
          1m: {bad: ` + bad + `, total: 6000}
slos:
  - {name: api, objective: 99.9, window: 30d}
canary:
  duration: 1m
  interval: 30s
` + rollback
}

type watchRun struct {
	err                     error
	stdout, stderr, summary string
}

// githubWatch runs `sloguard watch` as a GitHub Actions step would, with
// the fake API as GITHUB_API_URL.
func githubWatch(t *testing.T, srv *ghtest.Server, config string, opts WatchOptions, token string, extraEnv ...string) watchRun {
	t.Helper()
	dir := t.TempDir()
	opts.Config = filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(opts.Config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_API_URL": srv.APIURL(), "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242", "GITHUB_SHA": "0123456789abcdef", "GITHUB_REF": "refs/heads/main",
		"GITHUB_TOKEN": token, "RUNNER_TEMP": dir, "GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
	}
	for i := 0; i+1 < len(extraEnv); i += 2 {
		env[extraEnv[i]] = extraEnv[i+1]
	}
	var stdout, stderr bytes.Buffer
	d := New(&stdout, &stderr, envFunc(env), time.Now)
	if opts.Output == "" {
		opts.Output = "text"
	}
	err := Watch(t.Context(), d, opts, rollout.NewJumpClock(time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)))
	d.Close()
	if token != "" && strings.Contains(stderr.String(), "GitHub") {
		t.Errorf("GitHub warnings: %s", stderr.String())
	}
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	return watchRun{err: err, stdout: stdout.String(), stderr: stderr.String(), summary: string(summary)}
}

// status is a deployment status request as GitHub documents it.
func status(state, description string) map[string]any {
	return map[string]any{"state": state, "description": description, "environment": "production", "log_url": runURL}
}

// requests lists the calls as "METHOD path" with their JSON bodies.
func requests(t *testing.T, srv *ghtest.Server) ([]string, []map[string]any) {
	var routes []string
	var bodies []map[string]any
	for _, c := range srv.Calls() {
		r := c.Method + " " + c.Path
		if len(c.Query) > 0 {
			r += "?" + c.Query.Encode()
		}
		routes = append(routes, r)
		bodies = append(bodies, c.JSON(t))
	}
	return routes, bodies
}

func exitOf(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

func TestWatchKeepsTheDeploymentStatus(t *testing.T) {
	found := ghtest.Reply{Status: 200, Body: `[{"id": 42, "sha": "0123456789abcdef", "environment": "production"}]`}
	created := ghtest.Reply{Status: 201, Body: `{"id": 1}`}
	list := "GET " + deployments + "?environment=production&per_page=1&sha=0123456789abcdef"
	tests := map[string]struct {
		bad, rollback string
		opts          WatchOptions
		routes        map[string][]ghtest.Reply
		code          int
		wantRoutes    []string
		wantBodies    []map[string]any
	}{
		"a healthy canary: in_progress, then success": {
			bad: "0", opts: WatchOptions{Deploy: DeployOptions{Environment: "production"}}, code: ExitPass,
			routes:     map[string][]ghtest.Reply{"GET " + deployments: {found}, "POST " + statuses: {created}},
			wantRoutes: []string{list, "POST " + statuses, "POST " + statuses},
			wantBodies: []map[string]any{nil, status("in_progress", "sloguard is watching the canary"), status("success", "canary healthy after 1m: api: 6000 canary requests rule out a burn rate of 3x or worse")},
		},
		"a breach: in_progress, then failure linking the run": {
			bad: "600", opts: WatchOptions{Deploy: DeployOptions{Environment: "production"}, NoRollback: true}, code: ExitFail,
			routes:     map[string][]ghtest.Reply{"GET " + deployments: {found}, "POST " + statuses: {created}},
			wantRoutes: []string{list, "POST " + statuses, "POST " + statuses},
		},
		"a given deployment id needs no lookup": {
			bad: "0", opts: WatchOptions{Deploy: DeployOptions{Environment: "production", DeploymentID: 42}}, code: ExitPass,
			routes:     map[string][]ghtest.Reply{"POST " + statuses: {created}},
			wantRoutes: []string{"POST " + statuses, "POST " + statuses},
		},
		"the rollback action reports the failure once, on the same deployment, then dispatches": {
			bad: "600", rollback: "rollback:\n  github: {deployment_status: true, dispatch_event: sloguard-rollback}\n",
			opts: WatchOptions{Deploy: DeployOptions{Environment: "production"}}, code: ExitFail,
			routes: map[string][]ghtest.Reply{"GET " + deployments: {found}, "POST " + statuses: {created},
				"POST /api/v3/repos/acme/shop/dispatches": {{Status: 204}}},
			wantRoutes: []string{list, "POST " + statuses, "POST " + statuses, "POST /api/v3/repos/acme/shop/dispatches"},
		},
		"a dry run still marks the deployment failed": {
			bad: "600", rollback: "rollback:\n  github: {deployment_status: true}\n",
			opts: WatchOptions{Deploy: DeployOptions{Environment: "production"}, NoRollback: true}, code: ExitFail,
			routes:     map[string][]ghtest.Reply{"GET " + deployments: {found}, "POST " + statuses: {created}},
			wantRoutes: []string{list, "POST " + statuses, "POST " + statuses},
		},
		"without an environment nothing is called": {bad: "0", code: ExitPass},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := ghtest.New(t)
			for route, replies := range tc.routes {
				srv.Handle(route, replies...)
			}
			r := githubWatch(t, srv, watchConfig(tc.bad, tc.rollback), tc.opts, "ghs_t0ken")
			if exitOf(r.err) != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s", exitOf(r.err), r.err, tc.code, r.stdout)
			}
			routes, bodies := requests(t, srv)
			if !reflect.DeepEqual(routes, tc.wantRoutes) {
				t.Errorf("calls\n got %q\nwant %q", routes, tc.wantRoutes)
			}
			if tc.wantBodies != nil && !reflect.DeepEqual(bodies, tc.wantBodies) {
				t.Errorf("bodies\n got %v\nwant %v", bodies, tc.wantBodies)
			}
			if tc.code == ExitFail {
				last := bodies[2]
				if last["state"] != "failure" || last["log_url"] != runURL || !strings.HasPrefix(last["description"].(string), "canary breached: api: ") {
					t.Errorf("the failure status: %v", last)
				}
			}
			if len(bodies) == 4 {
				if p, _ := bodies[3]["client_payload"].(map[string]any); p["environment"] != "production" || bodies[3]["event_type"] != "sloguard-rollback" {
					t.Errorf("the dispatch names no environment: %v", bodies[3])
				}
			}
			for _, c := range srv.Calls() {
				if c.Header.Get("Authorization") != "Bearer ghs_t0ken" {
					t.Errorf("%s %s: Authorization %q", c.Method, c.Path, c.Header.Get("Authorization"))
				}
			}
		})
	}
}

func TestWatchWithoutATokenCallsNothing(t *testing.T) {
	srv := ghtest.New(t) // any request fails the test
	r := githubWatch(t, srv, watchConfig("0", ""), WatchOptions{Deploy: DeployOptions{Environment: "production"}}, "")
	if exitOf(r.err) != ExitPass || len(srv.Calls()) != 0 {
		t.Errorf("exit %d, %d calls", exitOf(r.err), len(srv.Calls()))
	}
	// An environment was named: that its status cannot be kept is said
	// where the run shows it, as a warning annotation.
	want := "::warning title=sloguard::cannot set the deployment status of the deployment in environment \"production\": no GitHub token: give the action github-token (its default is ${{ github.token }}), or set GITHUB_TOKEN\n"
	if strings.Count(r.stderr, "::warning") != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks the one warning %q:\n%s", want, r.stderr)
	}
}

func TestWatchOnGitHubShowsItsWork(t *testing.T) {
	srv := ghtest.New(t)
	r := githubWatch(t, srv, watchConfig("0", ""), WatchOptions{}, "")
	for _, want := range []string{"```mermaid\nxychart-beta\n", `x-axis ["30s", "1m"]`, "| `api` |"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("the job summary lacks %q:\n%s", want, r.summary)
		}
	}
	for _, want := range []string{"::group::SLO api: pass\n", "\ncanary: good 6000, total 6000, error ratio 0\n", "\nquery 1: values.api.canary.1m\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// A status description quotes an error (a bad query's, the backend's):
// what reaches GitHub has passed the redaction layer.
func TestTheDeploymentStatusDescriptionIsRedacted(t *testing.T) {
	const tok = "planted-prom-t0ken-6a5b"
	srv := ghtest.New(t)
	srv.Handle("POST "+statuses, ghtest.Reply{Status: 201, Body: `{"id": 1}`})
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_API_URL": srv.APIURL(), "GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_TOKEN": "ghs_t0ken", "PROM_TOKEN": tok,
	}
	var stdout, stderr bytes.Buffer
	d := New(&stdout, &stderr, envFunc(env), time.Now)
	cfg := &slo.Config{Providers: []slo.Provider{{Name: "prom", Type: "prometheus", Settings: &prometheus.Config{HTTP: httpconf.HTTP{Auth: httpconf.Auth{BearerTokenEnv: "PROM_TOKEN"}}}}}}
	out := newOutput(d, "watch", "text", "")
	out.secure(cfg)
	dep := newDeployment(t.Context(), d, out.platform, DeployOptions{Environment: "production", DeploymentID: 42}, cfg)
	dep.set(t.Context(), "error", "bad query: the proxy says you sent Authorization: Bearer "+tok+" to https://bob:hunter22@prom.example/?token=abc123")
	d.Close()
	_, bodies := requests(t, srv)
	if len(bodies) != 1 {
		t.Fatalf("statuses %v, want one", bodies)
	}
	desc := bodies[0]["description"].(string)
	for _, leak := range []string{tok, "hunter22", "abc123"} {
		if strings.Contains(desc, leak) {
			t.Errorf("description %q shows %q", desc, leak)
		}
	}
	if !strings.HasPrefix(desc, "bad query: the proxy says you sent Authorization: Bearer ***") {
		t.Errorf("description %q", desc)
	}
}
