package serve

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/report"
)

// The deployment names the canary's start (its payload, or the Azure
// request): ten minutes before the history's end, so that the watch,
// started late, decides at once on those ten minutes.
func canaryPayload(end time.Time) map[string]any {
	return map[string]any{"sloguard": map[string]any{"watch": "10m", "since": end.Add(-10 * time.Minute).Format(time.RFC3339)}}
}

func TestCheckThenWatchRejectsABurningCanaryThatPassedTheGate(t *testing.T) {
	h := newHarness(t)
	ev := h.event("canary")
	ev.Payload = canaryPayload(prom.History.End)
	h.deliver(ev, "d-1", "")
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "rejected" {
		t.Fatalf("reviews = %+v, want a rejection", r)
	}
	e := h.evaluations("?environment=canary")[0]
	d := e.Decision
	if e.Policy != PolicyCheckThenWatch || e.Watch != "10m" || e.Checked == nil || e.Checked.Decision != report.Pass {
		t.Fatalf("evaluation = %+v, want check_then_watch over 10m after an open gate", e)
	}
	if d.Command != "watch" || d.Decision != report.Fail || d.Canary == nil || len(d.SLOs) != 1 || d.SLOs[0].Decision != report.Pass {
		t.Fatalf("record = %+v, want the watch's fail beside the gate's pass", d)
	}
	if !strings.Contains(r[0].Comment, "gate open; canary: ") || !strings.Contains(r[0].Comment, "- canary lateburn: fail: "+d.Canary.SLOs[0].Reason) {
		t.Errorf("comment %q must say the gate opened and why the canary failed (%q)", r[0].Comment, d.Canary.SLOs[0].Reason)
	}
}

func TestCheckThenWatchApprovesAHealthyCanary(t *testing.T) {
	h := newHarness(t)
	ev := h.event("canary-healthy")
	ev.Payload = map[string]any{"sloguard": map[string]any{"since": prom.History.End.Add(-10 * time.Minute).Format(time.RFC3339)}}
	h.deliver(ev, "d-1", "")
	h.idle()
	d := h.evaluations("")[0].Decision
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "approved" || d.Decision != report.Pass || d.Command != "watch" {
		t.Fatalf("reviews = %+v, record %s %q, want an approval after the watch passed", r, d.Decision, d.Reason)
	}
}

func TestAnAzureRequestNamesTheCanaryWindowInItsBody(t *testing.T) {
	h := newHarness(t)
	req, err := http.NewRequest(http.MethodPost, h.web.URL+"/v1/azure/check",
		strings.NewReader(`{"project": "shop", "environment": "canary", "watch": "10m", "since": "`+prom.History.End.Add(-10*time.Minute).Format(time.RFC3339)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	h.az.Check("plan-1", "job-1", "task-1").Headers(req.Header)
	req.SetBasicAuth(azureUser, azurePass)
	if code, body := h.do(req); code != http.StatusOK || body["status"] != "accepted" {
		t.Fatalf("answer %d %v, want 200 accepted", code, body)
	}
	h.idle()
	ev := h.az.Events()
	if len(ev) != 1 || ev[0].Result != "failed" {
		t.Fatalf("events = %+v, want the canary failed", ev)
	}
	if d := h.evaluations("")[0].Decision; d.Command != "watch" || d.Canary.SLOs[0].Decision != report.Fail {
		t.Errorf("record = %s %+v, want the watch's fail", d.Command, d.Canary)
	}
}

func TestPendingEvaluationsResumeAfterARestartAndAreAnsweredOnce(t *testing.T) {
	h := newHarness(t, blocking)
	payload := canaryPayload(prom.History.End)
	for range 3 {
		ev := h.event("canary")
		ev.Payload = payload
		if code, _ := h.deliver(ev, "", ""); code != http.StatusAccepted {
			t.Fatalf("answer %d, want 202", code)
		}
	}
	for i, task := range []string{"task-a", "task-b"} {
		q := "?project=shop&environment=canary&watch=10m&since=" + prom.History.End.Add(-10*time.Minute).Format(time.RFC3339)
		if code, body := h.azure(http.MethodPost, q, h.az.Check("plan-r", "job-1", task), azureUser, azurePass); code != http.StatusOK || body["status"] != "accepted" {
			t.Fatalf("azure %d: %d %v, want 200 accepted", i, code, body)
		}
	}
	waitFor(t, "every gate to open and every watch to start", func() bool {
		evs := h.evaluations("")
		for _, e := range evs {
			if e.Checked == nil {
				return false
			}
		}
		return len(evs) == 5
	})
	h.stop() // what SIGTERM does; a crash leaves the same state file
	if len(h.gh.Reviews())+len(h.az.Events()) != 0 {
		t.Fatal("answered before the watches ended")
	}
	h.clock = testClock{now: prom.History.End.Add(time.Second)} // a gate checked again would say so in its times
	h.start()
	h.idle()
	if r := h.gh.Reviews(); len(r) != 3 {
		t.Errorf("reviews after the restart = %d, want 3", len(r))
	}
	if ev := h.az.Events(); len(ev) != 2 {
		t.Errorf("TaskCompleted after the restart = %d, want 2", len(ev))
	}
	for _, e := range h.evaluations("") {
		if e.State != "done" || e.Decision.Command != "watch" || !e.Decision.StartedAt.Equal(e.Checked.StartedAt) || !e.Checked.StartedAt.Equal(prom.History.End) {
			t.Errorf("%s: state %s, record %s started %s, gate started %s: want the watch resumed after the gate of before the restart",
				e.ID, e.State, e.Decision.Command, e.Decision.StartedAt, e.Checked.StartedAt)
		}
	}
	if !strings.Contains(h.logs.String(), "resuming a pending evaluation") {
		t.Error("the log does not say that evaluations resumed")
	}
}
