package ci

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/ghtest"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
)

// checkRunReply is GitHub's documented 201 answer to "Create a check run",
// trimmed to the fields a client reads.
const checkRunReply = `{"id": 4, "head_sha": "ce587453ced02b1526dfb4cb910479d431683101", "node_id": "MDg6Q2hlY2tSdW40",
 "external_id": "", "url": "https://api.github.com/repos/acme/shop/check-runs/4", "html_url": "https://github.com/acme/shop/runs/4",
 "details_url": "https://example.com", "status": "completed", "conclusion": "failure", "name": "sloguard check",
 "output": {"title": "t", "summary": "s", "annotations_count": 2}}`

func decision(verdict string, failing, unsure int) *report.Decision {
	d := &report.Decision{Command: "check", Decision: verdict, Reason: "error budget spent",
		StartedAt: time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 23, 17, 0, 9, 0, time.UTC)}
	for i := 0; i < failing; i++ {
		d.SLOs = append(d.SLOs, report.SLO{Name: fmt.Sprintf("bad-%d", i), Decision: report.Fail, Reasons: []string{"budget spent", "burning 14.4×"}})
	}
	for i := 0; i < unsure; i++ {
		d.SLOs = append(d.SLOs, report.SLO{Name: fmt.Sprintf("unsure-%d", i), Decision: report.Inconclusive, Reasons: []string{"no data"}})
	}
	d.SLOs = append(d.SLOs, report.SLO{Name: "fine", Decision: report.Pass})
	return d
}

func locateAll(slo string) (string, int, bool) { return "deploy/sloguard.yaml", len(slo), true }

func TestConclusion(t *testing.T) {
	tests := map[string]struct {
		d    *report.Decision
		want string
	}{
		"pass succeeds":                         {&report.Decision{Decision: report.Pass}, "success"},
		"an override is neutral":                {&report.Decision{Decision: report.Overridden}, "neutral"},
		"a breach fails":                        {&report.Decision{Decision: report.Fail}, "failure"},
		"inconclusive asks a human":             {&report.Decision{Decision: report.Inconclusive}, "action_required"},
		"a failed rollback action fails it all": {&report.Decision{Decision: report.Pass, Actions: []report.Action{{Status: "failed"}}}, "failure"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Conclusion(tc.d); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCreateCheckRun(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/check-runs", ghtest.Reply{Status: 201, Body: checkRunReply})
	cr := VerdictCheckRun("sloguard check", "ce587453", decision(report.Fail, 1, 1), []byte("### ❌ sloguard check: fail\n"), locateAll)
	id, err := newAPI(t, srv).CreateCheckRun(t.Context(), cr)
	if err != nil || id != 4 {
		t.Fatalf("got %d, %v", id, err)
	}
	wantJSON(t, only(t, srv, "POST", repoPath+"/check-runs"), map[string]any{
		"name": "sloguard check", "head_sha": "ce587453", "status": "completed", "conclusion": "failure",
		"details_url": "https://ghe.example/acme/shop/actions/runs/4242",
		"started_at":  "2026-11-23T17:00:00Z", "completed_at": "2026-11-23T17:00:09Z",
		"output": map[string]any{
			"title": "fail: error budget spent", "summary": "### ❌ sloguard check: fail\n",
			"annotations": []any{
				map[string]any{"path": "deploy/sloguard.yaml", "start_line": 5.0, "end_line": 5.0, "annotation_level": "failure",
					"title": "SLO bad-0: fail", "message": "budget spent\nburning 14.4×"},
				map[string]any{"path": "deploy/sloguard.yaml", "start_line": 8.0, "end_line": 8.0, "annotation_level": "warning",
					"title": "SLO unsure-0: inconclusive", "message": "no data"},
			},
		},
	})
}

// TestAnnotationsGoFiftyARequest: GitHub takes 50 annotations per request;
// the rest follow in updates of the same check run.
func TestAnnotationsGoFiftyARequest(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/check-runs", ghtest.Reply{Status: 201, Body: checkRunReply})
	srv.Handle("PATCH "+repoPath+"/check-runs/4", ghtest.Reply{Status: 200, Body: checkRunReply})
	cr := VerdictCheckRun("sloguard check", "ce587453", decision(report.Fail, 120, 0), []byte("summary"), locateAll)
	if _, err := newAPI(t, srv).CreateCheckRun(t.Context(), cr); err != nil {
		t.Fatal(err)
	}
	var got []int
	var first []string
	for i, c := range srv.Calls() {
		out := c.JSON(t)["output"].(map[string]any)
		anns := out["annotations"].([]any)
		got = append(got, len(anns))
		first = append(first, anns[0].(map[string]any)["title"].(string))
		if out["title"] != "fail: error budget spent" || out["summary"] != "summary" {
			t.Errorf("request %d: output without its title and summary: %v", i, out)
		}
		if i > 0 && (c.Method != "PATCH" || c.JSON(t)["conclusion"] != nil) {
			t.Errorf("request %d: %s, conclusion %v: want PATCHes that only add annotations", i, c.Method, c.JSON(t)["conclusion"])
		}
	}
	if !reflect.DeepEqual(got, []int{50, 50, 20}) || !reflect.DeepEqual(first, []string{"SLO bad-0: fail", "SLO bad-50: fail", "SLO bad-100: fail"}) {
		t.Errorf("annotations per request %v, first of each %q; want 50, 50, 20 in order", got, first)
	}
}

func TestCompleteCheckRun(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("PATCH "+repoPath+"/check-runs/4", ghtest.Reply{Status: 200, Body: checkRunReply})
	cr := VerdictCheckRun("sloguard watch", "ce587453", decision(report.Pass, 0, 0), []byte("ok"), locateAll)
	if err := newAPI(t, srv).CompleteCheckRun(t.Context(), 4, cr); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, only(t, srv, "PATCH", repoPath+"/check-runs/4"), map[string]any{
		"name": "sloguard watch", "status": "completed", "conclusion": "success", "completed_at": "2026-11-23T17:00:09Z",
		"output": map[string]any{"title": "pass: error budget spent", "summary": "ok"},
	})
}

func TestCheckRunOutputKeepsToGitHubsLimits(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/check-runs", ghtest.Reply{Status: 201, Body: checkRunReply})
	long := strings.Repeat("| `slo` | 99.9 | pass |\n", 5000) // 125,000 characters
	d := decision(report.Fail, 1, 0)
	d.Reason = strings.Repeat("r", 400)
	if _, err := newAPI(t, srv).CreateCheckRun(t.Context(), VerdictCheckRun(strings.Repeat("n", 300), "sha", d, []byte(long), locateAll)); err != nil {
		t.Fatal(err)
	}
	body := only(t, srv, "POST", repoPath+"/check-runs").JSON(t)
	out := body["output"].(map[string]any)
	summary := out["summary"].(string)
	if n := len([]rune(summary)); n > 65535 || !strings.HasSuffix(summary, "cut to GitHub's size limit: the whole summary is in the run's job summary and the JSON record.\n") {
		t.Errorf("summary of %d characters ending %q", n, summary[len(summary)-80:])
	}
	if !strings.Contains(summary, "| `slo` | 99.9 | pass |\n\n…") {
		t.Error("the summary is not cut at a line break")
	}
	if n := len([]rune(out["title"].(string))); n != 255 {
		t.Errorf("title of %d characters, want 255", n)
	}
	if n := len([]rune(body["name"].(string))); n != 255 {
		t.Errorf("name of %d characters, want 255", n)
	}
}

func TestCheckRunWithoutPermissionNamesIt(t *testing.T) {
	tests := map[string]struct {
		header map[string]string
		want   string
	}{
		"the permission GitHub names": {map[string]string{"X-Accepted-GitHub-Permissions": "checks=write"}, "checks: write"},
		"the one sloguard knows":      {nil, "checks: write"},
		"several, the first set":      {map[string]string{"X-Accepted-GitHub-Permissions": "checks=write,metadata=read; administration=write"}, "checks: write, metadata: read"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := ghtest.New(t)
			srv.Handle("POST "+repoPath+"/check-runs", ghtest.Reply{Status: 403, Header: tc.header,
				Body: `{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run", "status": "403"}`})
			_, err := newAPI(t, srv).CreateCheckRun(t.Context(), VerdictCheckRun("sloguard check", "sha", decision(report.Pass, 0, 0), nil, locateAll))
			var pe *PermissionError
			if !errors.As(err, &pe) || pe.Permission != tc.want {
				t.Fatalf("got %v, want a PermissionError for %s", err, tc.want)
			}
			want := `create check run "sloguard check": the token lacks the permission ` + tc.want + `: add it to the job's permissions: block`
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got %v\nwant %s…", err, want)
			}
			if n := len(srv.Calls()); n != 1 {
				t.Errorf("%d calls: a missing permission is not retried", n)
			}
		})
	}
}

// issueComment is GitHub's documented issue comment, trimmed.
func issueComment(id int, body string) string {
	return fmt.Sprintf(`{"id": %d, "node_id": "MDEyOklzc3VlQ29tbWVudDE=", "url": "https://api.github.com/repos/acme/shop/issues/comments/%d",
 "html_url": "https://github.com/acme/shop/pull/7#issuecomment-%d", "body": %q, "user": {"login": "github-actions[bot]", "type": "Bot"},
 "created_at": "2026-11-23T17:00:00Z", "updated_at": "2026-11-23T17:00:00Z", "author_association": "NONE"}`, id, id, id, body)
}

func TestUpsertCommentCreatesOnce(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("GET "+repoPath+"/issues/7/comments", ghtest.Reply{Status: 200, Body: "[" + issueComment(1, "LGTM") + "]"})
	srv.Handle("POST "+repoPath+"/issues/7/comments", ghtest.Reply{Status: 201, Body: issueComment(2, "x")})
	url, err := newAPI(t, srv).UpsertComment(t.Context(), 7, CommentMarker("sloguard check"), "### ✅ pass\n")
	if err != nil || url != "https://github.com/acme/shop/pull/7#issuecomment-2" {
		t.Fatalf("got %q, %v", url, err)
	}
	calls := srv.Calls()
	if len(calls) != 2 || calls[0].Query.Get("per_page") != "100" {
		t.Fatalf("calls %v", calls)
	}
	wantJSON(t, calls[1], map[string]any{"body": "<!-- sloguard: sloguard check -->\n### ✅ pass\n"})
}

func TestUpsertCommentUpdatesItsOwnInPlace(t *testing.T) {
	srv := ghtest.New(t)
	mine := issueComment(9, "<!-- sloguard: sloguard check -->\n### ❌ fail\n")
	other := issueComment(8, "<!-- sloguard: sloguard watch -->\n### ✅ pass\n")
	srv.Handle("GET "+repoPath+"/issues/7/comments",
		ghtest.Reply{Status: 200, Header: map[string]string{"Link": `<` + srv.APIURL() + `/repos/acme/shop/issues/7/comments?page=2&per_page=100>; rel="next"`},
			Body: "[" + issueComment(1, "LGTM") + "," + other + "]"},
		ghtest.Reply{Status: 200, Body: "[" + mine + "]"})
	srv.Handle("PATCH "+repoPath+"/issues/comments/9", ghtest.Reply{Status: 200, Body: issueComment(9, "x")})
	if _, err := newAPI(t, srv).UpsertComment(t.Context(), 7, CommentMarker("sloguard check"), "### ✅ pass\n"); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 3 || calls[1].Query.Get("page") != "2" {
		t.Fatalf("calls %v: want two pages read, then one update", calls)
	}
	wantJSON(t, calls[2], map[string]any{"body": "<!-- sloguard: sloguard check -->\n### ✅ pass\n"})
}

func TestCommentWithoutPermissionNamesIt(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("GET "+repoPath+"/issues/7/comments", ghtest.Reply{Status: 200, Body: "[]"})
	srv.Handle("POST "+repoPath+"/issues/7/comments", ghtest.Reply{Status: 403, Header: map[string]string{"X-Accepted-GitHub-Permissions": "issues=write; pull_requests=write"},
		Body: `{"message": "Resource not accessible by integration"}`})
	_, err := newAPI(t, srv).UpsertComment(t.Context(), 7, CommentMarker("sloguard check"), "x")
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Permission != "issues: write" || !strings.HasPrefix(err.Error(), "comment on pull request #7: the token lacks the permission issues: write") {
		t.Fatalf("got %v", err)
	}
}

func TestDeploymentStatusCarriesTheEnvironmentURL(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/42/statuses", ghtest.Reply{Status: 201, Body: `{"id": 1, "state": "success"}`})
	api := newAPI(t, srv)
	api.EnvironmentURL = "https://shop.example"
	if err := api.SetDeploymentStatus(t.Context(), 42, "success", "production", "canary healthy"); err != nil {
		t.Fatal(err)
	}
	wantJSON(t, only(t, srv, "POST", repoPath+"/deployments/42/statuses"), map[string]any{
		"state": "success", "log_url": "https://ghe.example/acme/shop/actions/runs/4242", "description": "canary healthy",
		"environment": "production", "environment_url": "https://shop.example",
	})
}

func TestDeploymentStatusWithoutPermissionNamesIt(t *testing.T) {
	srv := ghtest.New(t)
	srv.Handle("POST "+repoPath+"/deployments/42/statuses", ghtest.Reply{Status: 403, Header: map[string]string{"X-Accepted-GitHub-Permissions": "deployments=write"},
		Body: `{"message": "Resource not accessible by integration"}`})
	err := newAPI(t, srv).SetDeploymentStatus(t.Context(), 42, "success", "production", "ok")
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Permission != "deployments: write" {
		t.Fatalf("got %v", err)
	}
}

func TestReadEvent(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/event.json"
	writeTestFile(t, path, `{"action": "synchronize", "number": 7, "pull_request": {"number": 7, "head": {"sha": "headsha", "ref": "feature"}, "base": {"sha": "basesha"}}}`)
	tests := map[string]struct {
		env  map[string]string
		want Event
	}{
		"a pull request: its number and head": {
			map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": path, "GITHUB_SHA": "mergesha"},
			Event{Name: "pull_request", PR: 7, HeadSHA: "headsha"},
		},
		"a push: the commit": {
			map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": path, "GITHUB_SHA": "pushsha"},
			Event{Name: "push", HeadSHA: "pushsha"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ReadEvent(envOf(tc.env)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	ev := ReadEvent(envOf(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": dir + "/missing.json", "GITHUB_SHA": "s"}))
	if ev.EventErr == nil || ev.PR != 0 || ev.HeadSHA != "s" {
		t.Errorf("a missing event file: %+v", ev)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDispatchWithoutPermissionNamesIt(t *testing.T) {
	tests := map[string]struct {
		route string
		call  func(*GitHubAPI) error
		want  string
	}{
		"repository_dispatch needs contents: write": {"POST " + repoPath + "/dispatches", func(g *GitHubAPI) error {
			_, err := g.Dispatch(t.Context(), rollback.GitHub{DispatchEvent: "sloguard-rollback"}, &report.Decision{})
			return err
		}, "repository_dispatch sloguard-rollback: the token lacks the permission contents: write"},
		"workflow_dispatch needs actions: write": {"POST " + repoPath + "/actions/workflows/rollback.yml/dispatches", func(g *GitHubAPI) error {
			_, err := g.WorkflowDispatch(t.Context(), rollback.GitHub{Workflow: &rollback.WorkflowDispatch{File: "rollback.yml"}}, &report.Decision{})
			return err
		}, "workflow_dispatch rollback.yml: the token lacks the permission actions: write"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := ghtest.New(t)
			srv.Handle(tc.route, ghtest.Reply{Status: 403, Body: `{"message": "Resource not accessible by integration"}`})
			err := tc.call(newAPI(t, srv))
			var pe *PermissionError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s…", err, tc.want)
			}
		})
	}
}
