package serve

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/internal/servetest"
)

func TestHealthReadinessAndMetrics(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := h.get(p); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	h.deliver(h.event("production"), "d-1", "")
	h.deliver(h.event("burning"), "d-2", "")
	h.idle()
	_, metrics := h.get("/metrics")
	for _, want := range []string{
		`sloguard_decisions_total{platform="github",result="pass"} 1`,
		`sloguard_decisions_total{platform="github",result="fail"} 1`,
		`sloguard_evaluation_duration_seconds_count{platform="github",policy="check"} 2`,
		"sloguard_pending_evaluations 0",
		`sloguard_requests_admitted_total{duplicate="false",platform="github"} 2`,
		`sloguard_callbacks_total{platform="github",result="ok"} 2`,
		`sloguard_http_request_duration_seconds_count{code="202",route="POST /v1/github/webhook"} 2`,
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	h.srv.draining.Store(true)
	if code, _ := h.get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while shutting down: %d, want 503 (so that no new request is routed here)", code)
	}
	if code, _ := h.deliver(h.event("production"), "d-3", ""); code != http.StatusServiceUnavailable {
		t.Errorf("an event while shutting down: %d, want 503", code)
	}
}

func TestTheAuditQueryFiltersAndMayRequireAToken(t *testing.T) {
	h := newHarness(t, withExtra("  decisions_token_env: AUDIT_TOKEN\n"), withEnv("AUDIT_TOKEN", "audit-secret-9"))
	h.deliver(h.event("production"), "d-1", "")
	h.deliver(h.event("burning"), "d-2", "")
	h.idle()
	if code, _ := h.get("/v1/decisions"); code != http.StatusUnauthorized {
		t.Fatalf("without the token: %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodGet, h.web.URL+"/v1/decisions?environment=Burning&limit=5", nil)
	req.Header.Set("Authorization", "Bearer audit-secret-9")
	code, body := h.do(req)
	list, _ := body["decisions"].([]any)
	if code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["environment"] != "burning" {
		t.Fatalf("with the token: %d %v, want the one burning evaluation (names compare case-insensitively)", code, body)
	}
	req, _ = http.NewRequest(http.MethodGet, h.web.URL+"/v1/decisions?limit=0", nil)
	req.Header.Set("Authorization", "Bearer audit-secret-9")
	if code, _ := h.do(req); code != http.StatusBadRequest {
		t.Errorf("limit=0: %d, want 400", code)
	}
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	h := newHarness(t)
	big := []byte(`{"action":"requested","pad":"` + strings.Repeat("x", maxGitHubBody) + `"}`)
	req, _ := servetest.Request(h.web.URL+"/v1/github/webhook", []byte(webhookKey), big, "d-big", "")
	if code, _ := h.do(req); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 1 MiB webhook: %d, want 413", code)
	}
	req, _ = http.NewRequest(http.MethodPost, h.web.URL+"/v1/azure/check?project=shop&environment=production", strings.NewReader(`{"project":"`+strings.Repeat("x", maxAzureBody)+`"}`))
	h.az.Check("p", "j", "t").Headers(req.Header)
	req.SetBasicAuth(azureUser, azurePass)
	if code, body := h.do(req); code != http.StatusBadRequest || !strings.Contains(body["error"].(string), "body over") {
		t.Errorf("a 64 KiB check body: %d %v, want 400 body over", code, body)
	}
}

func TestNoSecretReachesTheLogsTheCommentsOrTheAudit(t *testing.T) {
	h := newHarness(t)
	h.gh.FailReviews(http.StatusForbidden)
	h.deliver(h.event("production"), "d-1", "")
	h.deliver(h.event("production"), "d-2", "-")
	h.azure(http.MethodPost, "?project=shop&environment=production", h.az.Check("p", "j", "t"), azureUser, azurePass)
	h.azure(http.MethodPost, "?project=shop&environment=production", h.az.Check("p", "j", "t2"), azureUser, "wrong")
	h.idle()
	_, audit := h.get("/v1/decisions")
	everything := h.logs.String() + audit
	for _, r := range h.gh.Reviews() {
		everything += r.Comment
	}
	for name, secret := range map[string]string{"webhook secret": webhookKey, "azure password": azurePass, "job token": jobToken, "private key": strings.Split(string(h.key), "\n")[1]} {
		if strings.Contains(everything, secret) {
			t.Errorf("the %s appears in the logs, comments or audit", name)
		}
	}
	if !strings.Contains(h.logs.String(), `"msg":"decided"`) {
		t.Errorf("the log lacks the decisions; got:\n%s", h.logs.String())
	}
}
