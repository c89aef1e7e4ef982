package serve

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/internal/servetest"
	"github.com/sloguard/sloguard/report"
)

func TestAnAsyncCheckIsAcknowledgedThenCompletedWithALog(t *testing.T) {
	h := newHarness(t)
	cases := map[string]struct {
		env, result, decision string
	}{
		"an open gate succeeds": {"production", "succeeded", report.Pass},
		"a closed gate fails":   {"burning", "failed", report.Fail},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			task := "task-" + tc.env
			code, body := h.azure(http.MethodPost, "?project=shop&environment="+tc.env, h.az.Check("plan-"+tc.env, "job-1", task), azureUser, azurePass)
			if code != http.StatusOK || body["status"] != "accepted" {
				t.Fatalf("answer %d %v, want 200 accepted (Azure documents receipt as 200)", code, body)
			}
			h.idle()
			var got []string
			for _, ev := range h.az.Events() {
				if ev.TaskID == task {
					got = append(got, ev.Result)
					if ev.JobID != "job-1" || ev.Name != "TaskCompleted" || ev.PlanID != "plan-"+tc.env {
						t.Errorf("event = %+v, want TaskCompleted of job-1 in plan-%s", ev, tc.env)
					}
				}
			}
			if len(got) != 1 || got[0] != tc.result {
				t.Fatalf("TaskCompleted results = %v, want [%s]", got, tc.result)
			}
			e := h.evaluations("?platform=azure&environment=" + tc.env)[0]
			if e.Decision.Decision != tc.decision || e.Azure.AuthToken != "" {
				t.Errorf("evaluation: decision %s, token %q; want %s and no token in the audit", e.Decision.Decision, e.Azure.AuthToken, tc.decision)
			}
			log, ok := h.az.Log(task)
			if !ok || !strings.Contains(log, "sloguard: "+tc.result+" ("+tc.decision+")") || !strings.Contains(log, e.Decision.Reason) {
				t.Errorf("check log %q (attached %v), want the verdict and the reason %q", log, ok, e.Decision.Reason)
			}
		})
	}
}

func TestAzureRequestsThatAreNotTheChecksAreRefused(t *testing.T) {
	h := newHarness(t)
	good := h.az.Check("plan-1", "job-1", "task-1")
	with := func(f func(*servetest.Check)) servetest.Check {
		c := good
		f(&c)
		return c
	}
	cases := []struct {
		name, method, query string
		chk                 servetest.Check
		user, pass          string
		want                int
		msg                 string
	}{
		{"no credentials", http.MethodPost, "?project=shop&environment=production", good, "", "", http.StatusUnauthorized, "service connection"},
		{"a wrong password", http.MethodPost, "?project=shop&environment=production", good, azureUser, "guess", http.StatusUnauthorized, "service connection"},
		{"a wrong password, sync", http.MethodGet, "?project=shop&environment=production", good, azureUser, "guess", http.StatusUnauthorized, "service connection"},
		{"an organisation not allowed", http.MethodPost, "?project=shop&environment=production",
			with(func(c *servetest.Check) { c.PlanURL = "https://dev.azure.com/someone-else/" }), azureUser, azurePass, http.StatusForbidden, "not in serve.azure.allowed_orgs"},
		{"an organisation not allowed, sync", http.MethodGet, "?project=shop&environment=production",
			with(func(c *servetest.Check) { c.PlanURL = h.az.URL + "/acme-evil/" }), azureUser, azurePass, http.StatusForbidden, "not in serve.azure.allowed_orgs"},
		{"headers missing", http.MethodPost, "?project=shop&environment=production",
			with(func(c *servetest.Check) { c.JobID, c.TaskInstanceID = "", "" }), azureUser, azurePass, http.StatusBadRequest, "JobId, TaskInstanceId missing"},
		{"no job token in async mode", http.MethodPost, "?project=shop&environment=production",
			with(func(c *servetest.Check) { c.AuthToken = "" }), azureUser, azurePass, http.StatusBadRequest, "AuthToken missing"},
		{"an id that climbs out of the path", http.MethodPost, "?project=shop&environment=production",
			with(func(c *servetest.Check) { c.PlanID = "../../_apis/projects" }), azureUser, azurePass, http.StatusBadRequest, "PlanId are not ids"},
		{"no environment", http.MethodPost, "?project=shop", good, azureUser, azurePass, http.StatusBadRequest, "name the project and the environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.azure(tc.method, tc.query, tc.chk, tc.user, tc.pass)
			if msg, _ := body["error"].(string); code != tc.want || !strings.Contains(msg, tc.msg) {
				t.Errorf("answer %d %v, want %d with %q", code, body, tc.want, tc.msg)
			}
		})
	}
	if n := len(h.evaluations("")); n != 0 {
		t.Errorf("%d evaluations stored, want 0", n)
	}
	if ev := h.az.Events(); len(ev) != 0 {
		t.Errorf("Azure DevOps got %v, want nothing", ev)
	}
	_, metrics := h.get("/metrics")
	for _, want := range []string{
		`sloguard_requests_refused_total{platform="azure",reason="org_not_allowed"} 2`,
		`sloguard_webhook_verification_failures_total{platform="azure",reason="bad_credentials"} 2`,
		`sloguard_webhook_verification_failures_total{platform="azure",reason="missing_credentials"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestASyncCheckAnswersTheDecisionForTheSuccessCriterion(t *testing.T) {
	h := newHarness(t)
	cases := map[string]struct{ env, decision, result string }{
		"pass": {"production", report.Pass, "succeeded"},
		"fail": {"burning", report.Fail, "failed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			chk := h.az.Check("plan-sync-"+tc.env, "job-1", "task-1")
			chk.AuthToken = "" // the synchronous mode needs no token: sloguard never calls back
			var first map[string]any
			waitFor(t, "a decision", func() bool {
				code, body := h.azure(http.MethodGet, "?project=shop&environment="+tc.env, chk, azureUser, azurePass)
				if code != http.StatusOK {
					t.Fatalf("answer %d %v, want 200", code, body)
				}
				if first == nil {
					first = body
				}
				if body["id"] != first["id"] {
					t.Fatalf("a poll started another evaluation: %v then %v", first["id"], body["id"])
				}
				if body["decision"] == "pending" {
					return false
				}
				if body["decision"] != tc.decision || body["result"] != tc.result || body["reason"] == "" {
					t.Fatalf("answer %v, want decision %s result %s and a reason", body, tc.decision, tc.result)
				}
				return true
			})
		})
	}
	if ev := h.az.Events(); len(ev) != 0 {
		t.Errorf("the synchronous mode called back: %v", ev)
	}
}
