package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/ghtest"
)

const (
	checkRuns   = "/api/v3/repos/acme/shop/check-runs"
	prComments  = "/api/v3/repos/acme/shop/issues/7/comments"
	checkRunOK  = `{"id": 4, "name": "sloguard check", "head_sha": "headsha", "status": "completed", "html_url": "https://github.com/acme/shop/runs/4"}`
	gateConfigs = `version: 1
providers:
  - name: recorded
    type: static
    values:
      fine:
        service:
          30d: {bad: 0, total: 2592000}
          6h: {bad: 0, total: 21600}
          1h: {bad: 0, total: 3600}
          30m: {bad: 0, total: 1800}
          5m: {bad: 0, total: 300}
      spent:
        service:
          30d: {bad: 5184, total: 2592000}
          6h: {bad: 0, total: 21600}
          1h: {bad: 0, total: 3600}
          30m: {bad: 0, total: 1800}
          5m: {bad: 0, total: 300}
slos:
  - name: fine
    objective: 99.9
    window: 30d
  - name: spent
    objective: 99.9
    window: 30d
`
)

type ghRun struct {
	err            error
	stdout, stderr string
}

// githubCheck runs `sloguard check` as a step of a pull_request workflow
// would, in a workspace holding deploy/sloguard.yaml, against the fake API.
func githubCheck(t *testing.T, srv *ghtest.Server, opts CheckOptions, token string) ghRun {
	t.Helper()
	ws := t.TempDir()
	opts.Config = filepath.Join(ws, "deploy", "sloguard.yaml")
	os.MkdirAll(filepath.Dir(opts.Config), 0o755)
	if err := os.WriteFile(opts.Config, []byte(gateConfigs), 0o644); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(ws, "event.json")
	os.WriteFile(event, []byte(`{"action": "opened", "number": 7, "pull_request": {"number": 7, "head": {"sha": "headsha"}}}`), 0o644)
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_API_URL": srv.APIURL(), "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKSPACE": ws,
		"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242", "GITHUB_SHA": "mergesha", "GITHUB_EVENT_NAME": "pull_request",
		"GITHUB_EVENT_PATH": event, "GITHUB_TOKEN": token, "RUNNER_TEMP": ws,
		"GITHUB_OUTPUT": filepath.Join(ws, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(ws, "summary"),
	}
	var stdout, stderr bytes.Buffer
	// The run's clock is the evaluation time: static values cannot be
	// read as of a past --at.
	at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	d := New(&stdout, &stderr, envFunc(env), func() time.Time { return at })
	if opts.Output == "" {
		opts.Output = "text"
	}
	opts.Verdict.CommandName = "check"
	opts.At = at
	err := Check(t.Context(), d, opts)
	d.Close()
	return ghRun{err: err, stdout: stdout.String(), stderr: stderr.String()}
}

func TestCheckCreatesACheckRunOnThePullRequestHead(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+checkRuns, ghtest.Reply{Status: 201, Body: checkRunOK})
	r := githubCheck(t, srv, CheckOptions{Verdict: VerdictOptions{CheckRun: true, RunAsked: true}}, "ghs_t0ken")
	if exitOf(r.err) != ExitFail {
		t.Fatalf("exit %d, want 1 (spent closes the gate)", exitOf(r.err))
	}
	calls := srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	body := calls[0].JSON(t)
	out := body["output"].(map[string]any)
	if body["name"] != "sloguard check" || body["head_sha"] != "headsha" || body["status"] != "completed" || body["conclusion"] != "failure" ||
		body["details_url"] != "https://github.com/acme/shop/actions/runs/4242" {
		t.Errorf("check run %v", body)
	}
	if !strings.HasPrefix(out["title"].(string), "fail: ") || !strings.Contains(out["summary"].(string), "sloguard check: fail") {
		t.Errorf("output %v", out)
	}
	want := []any{map[string]any{"path": "deploy/sloguard.yaml", "start_line": 24.0, "end_line": 24.0, "annotation_level": "failure",
		"title": "SLO spent: fail", "message": out["annotations"].([]any)[0].(map[string]any)["message"]}}
	if !reflect.DeepEqual(out["annotations"], want) {
		t.Errorf("annotations %v, want one failure on the line of spent's name", out["annotations"])
	}
	if calls[0].Header.Get("Authorization") != "Bearer ghs_t0ken" {
		t.Errorf("Authorization %q", calls[0].Header.Get("Authorization"))
	}
	if strings.Contains(r.stderr, "::warning") {
		t.Errorf("warnings: %s", r.stderr)
	}
}

func TestCheckRunNamedAfterTheSLOSet(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+checkRuns, ghtest.Reply{Status: 201, Body: checkRunOK})
	r := githubCheck(t, srv, CheckOptions{SLOs: []string{"fine"}, Verdict: VerdictOptions{CheckRun: true, SLOs: []string{"fine"}}}, "ghs_t0ken")
	if exitOf(r.err) != ExitPass {
		t.Fatalf("exit %d", exitOf(r.err))
	}
	body := srv.Calls()[0].JSON(t)
	if body["name"] != "sloguard check (fine)" || body["conclusion"] != "success" || body["output"].(map[string]any)["annotations"] != nil {
		t.Errorf("check run %v", body)
	}
}

// TestCheckCommentsOncePerPullRequest: the first run comments, the re-run
// updates that comment, both beside the check run.
func TestCheckCommentsOncePerPullRequest(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+checkRuns, ghtest.Reply{Status: 201, Body: checkRunOK})
	srv.Handle("GET "+prComments, ghtest.Reply{Status: 200, Body: `[]`},
		ghtest.Reply{Status: 200, Body: `[{"id": 9, "body": "<!-- sloguard: sloguard check -->\nold verdict", "html_url": "https://github.com/acme/shop/pull/7#issuecomment-9"}]`})
	srv.Handle("POST "+prComments, ghtest.Reply{Status: 201, Body: `{"id": 9, "html_url": "https://github.com/acme/shop/pull/7#issuecomment-9"}`})
	srv.Handle("PATCH /api/v3/repos/acme/shop/issues/comments/9", ghtest.Reply{Status: 200, Body: `{"id": 9}`})
	opts := CheckOptions{Verdict: VerdictOptions{CheckRun: true, Comment: true, CommentSet: true}}
	githubCheck(t, srv, opts, "ghs_t0ken")
	githubCheck(t, srv, opts, "ghs_t0ken")
	routes, bodies := requests(t, srv)
	want := []string{"POST " + checkRuns, "GET " + prComments + "?per_page=100", "POST " + prComments,
		"POST " + checkRuns, "GET " + prComments + "?per_page=100", "PATCH /api/v3/repos/acme/shop/issues/comments/9"}
	if !reflect.DeepEqual(routes, want) {
		t.Fatalf("calls\n got %q\nwant %q", routes, want)
	}
	for _, i := range []int{2, 5} {
		body := bodies[i]["body"].(string)
		if !strings.HasPrefix(body, "<!-- sloguard: sloguard check -->\n### ❌ sloguard check: fail") {
			t.Errorf("comment %d: %.120q", i, body)
		}
	}
}

func TestCheckWithoutPermissionsWarnsAndKeepsTheVerdict(t *testing.T) {
	srv := ghtest.New(t)
	forbidden := ghtest.Reply{Status: 403, Header: map[string]string{"X-Accepted-GitHub-Permissions": "checks=write"},
		Body: `{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run"}`}
	srv.Handle("POST "+checkRuns, forbidden)
	srv.Handle("GET "+prComments, ghtest.Reply{Status: 200, Body: `[]`})
	srv.Handle("POST "+prComments, ghtest.Reply{Status: 403, Header: map[string]string{"X-Accepted-GitHub-Permissions": "pull_requests=write"},
		Body: `{"message": "Resource not accessible by integration"}`})
	r := githubCheck(t, srv, CheckOptions{Verdict: VerdictOptions{CheckRun: true, Comment: true, RunAsked: true}}, "ghs_t0ken")
	if exitOf(r.err) != ExitFail {
		t.Errorf("exit %d, want the verdict's 1", exitOf(r.err))
	}
	for _, want := range []string{
		`::warning title=sloguard::create check run "sloguard check": the token lacks the permission checks: write: add it to the job's permissions: block`,
		`::warning title=sloguard::comment on pull request #7: the token lacks the permission pull_requests: write: add it to the job's permissions: block`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestCheckRunWithoutATokenWarnsWhenAsked(t *testing.T) {
	srv := ghtest.New(t) // no call expected
	r := githubCheck(t, srv, CheckOptions{Verdict: VerdictOptions{CheckRun: true, RunAsked: true}}, "")
	want := "::warning title=sloguard::cannot publish the verdict to GitHub (check run, comment): no GitHub token: give the action github-token (its default is ${{ github.token }}), or set GITHUB_TOKEN\n"
	if !strings.Contains(r.stderr, want) || exitOf(r.err) != ExitFail {
		t.Errorf("exit %d, stderr:\n%s\nwant %s", exitOf(r.err), r.stderr, want)
	}
	r = githubCheck(t, srv, CheckOptions{}, "")
	if strings.Contains(r.stderr, "::warning") {
		t.Errorf("a warning nobody asked for: %s", r.stderr)
	}
}

// TestWatchCheckRunShowsTheWatchGoingOn: in_progress while watching, then
// completed with the verdict, on the same check run.
func TestWatchCheckRunShowsTheWatchGoingOn(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+checkRuns, ghtest.Reply{Status: 201, Body: checkRunOK})
	srv.Handle("PATCH "+checkRuns+"/4", ghtest.Reply{Status: 200, Body: checkRunOK})
	r := githubWatch(t, srv, watchConfig("300", ""), WatchOptions{Verdict: VerdictOptions{CheckRun: true, CommandName: "watch"}}, "ghs_t0ken")
	if exitOf(r.err) != ExitFail {
		t.Fatalf("exit %d", exitOf(r.err))
	}
	routes, bodies := requests(t, srv)
	if !reflect.DeepEqual(routes, []string{"POST " + checkRuns, "PATCH " + checkRuns + "/4"}) {
		t.Fatalf("calls %q", routes)
	}
	if bodies[0]["status"] != "in_progress" || bodies[0]["name"] != "sloguard watch" || bodies[0]["conclusion"] != nil {
		t.Errorf("start %v", bodies[0])
	}
	if bodies[1]["status"] != "completed" || bodies[1]["conclusion"] != "failure" || !strings.Contains(bodies[1]["output"].(map[string]any)["summary"].(string), "sloguard watch: fail") {
		t.Errorf("end %v", bodies[1])
	}
}

func TestWatchErrorCompletesTheCheckRun(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+checkRuns, ghtest.Reply{Status: 201, Body: checkRunOK})
	srv.Handle("PATCH "+checkRuns+"/4", ghtest.Reply{Status: 200, Body: checkRunOK})
	// A backend that passes the preflight (no series yet) and then
	// rejects the watch's first query: the watch ends with exit 2 after
	// its check run started. (An unwritable record no longer ends a watch:
	// the decision stands.)
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.FormValue("query"), "[30s]") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error: the backend changed its mind"}`)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	defer prom.Close()
	config := "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: " + prom.URL + ", retries: 0}\n" +
		"slos:\n  - {name: api, objective: 99.9, sli: {error_query: 'sum(rate(e[{{.window}}]))', total_query: 'sum(rate(t[{{.window}}]))'}}\n" +
		"canary: {duration: 1m, interval: 30s}\n"
	r := githubWatch(t, srv, config, WatchOptions{Verdict: VerdictOptions{CheckRun: true, CommandName: "watch"}}, "ghs_t0ken")
	if code := ExitCode(r.err, io.Discard); code != ExitUsage {
		t.Errorf("exit %d (%v), want 2", code, r.err)
	}
	routes, bodies := requests(t, srv)
	if !reflect.DeepEqual(routes, []string{"POST " + checkRuns, "PATCH " + checkRuns + "/4"}) {
		t.Fatalf("exit %d, calls %q", exitOf(r.err), routes)
	}
	out := bodies[1]["output"].(map[string]any)
	if title, _ := out["title"].(string); bodies[1]["status"] != "completed" || bodies[1]["conclusion"] != "failure" || !strings.HasPrefix(title, "error: ") || !strings.Contains(title, "backend changed its mind") {
		t.Errorf("end %v: a check run left in progress is completed, never as a pass", bodies[1])
	}
}
