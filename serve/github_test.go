package serve

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sloguard/sloguard/internal/servetest"
	"github.com/sloguard/sloguard/report"
)

func TestASignedEventIsAnsweredAtOnceAndReviewedWithTheVerdict(t *testing.T) {
	h := newHarness(t)
	ev := h.event("production")
	code, body := h.deliver(ev, "d-1", "")
	if code != http.StatusAccepted || body["status"] != "accepted" {
		t.Fatalf("answer %d %v, want 202 accepted", code, body)
	}
	h.idle()
	reviews := h.gh.Reviews()
	if len(reviews) != 1 {
		t.Fatalf("reviews = %+v, want one", reviews)
	}
	r := reviews[0]
	if r.State != "approved" || r.RunID != ev.RunID || r.EnvironmentName != "production" || r.Installation != installation || r.Owner != "acme" || r.Repo != "shop" {
		t.Errorf("review = %+v, want run %d of acme/shop approved for production with installation %d's token", r, ev.RunID, installation)
	}
	if h.gh.Exchanges() != 1 {
		t.Errorf("token exchanges = %d, want 1 (a JWT signed with the App's key, checked by the fake)", h.gh.Exchanges())
	}
	evs := h.evaluations("?environment=production")
	if len(evs) != 1 {
		t.Fatalf("decisions = %d, want 1", len(evs))
	}
	d := evs[0].Decision
	if d == nil || d.Decision != report.Pass || len(d.SLOs) != 1 || d.SLOs[0].Name != "healthy" || d.Run == nil || !strings.HasSuffix(d.Run.URL, "/acme/shop/actions/runs/1001") {
		t.Fatalf("record = %+v, want the gate's pass on healthy with the run", d)
	}
	if !strings.Contains(r.Comment, "sloguard: approved (pass)") || !strings.Contains(r.Comment, d.Reason) || !strings.Contains(r.Comment, "- healthy: pass") {
		t.Errorf("comment %q must hold the verdict and the record's reason %q", r.Comment, d.Reason)
	}
	if evs[0].State != "done" || evs[0].Outcome != "approved" || evs[0].Comment != r.Comment {
		t.Errorf("evaluation = %+v, want done, approved, with the comment sent", evs[0])
	}
}

func TestUnsignedOrWronglySignedEventsAre401AndDoNothing(t *testing.T) {
	h := newHarness(t)
	ev := h.event("production")
	wrong := servetest.Sign([]byte("another secret"), ev.JSON())
	cases := map[string]struct {
		sig    string
		tamper bool
	}{
		"no signature":                       {sig: "-"},
		"signed with another secret":         {sig: wrong},
		"an empty sha256":                    {sig: "sha256="},
		"a sha1 signature in the 256 header": {sig: "sha1=" + strings.TrimPrefix(servetest.Sign([]byte(webhookKey), ev.JSON()), "sha256=")},
		"a body changed after signing":       {tamper: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := servetest.Request(h.web.URL+"/v1/github/webhook", []byte(webhookKey), ev.JSON(), "bad-"+name, tc.sig)
			if err != nil {
				t.Fatal(err)
			}
			if tc.tamper {
				body := strings.Replace(string(ev.JSON()), `"burning"`, `"production"`, 1)
				body = strings.Replace(body, `"environment":"production"`, `"environment":"burning"`, 1)
				req, _ = servetest.Request(h.web.URL+"/v1/github/webhook", nil, []byte(body), "bad-"+name, servetest.Sign([]byte(webhookKey), ev.JSON()))
			}
			if code, body := h.do(req); code != http.StatusUnauthorized {
				t.Errorf("answer %d %v, want 401", code, body)
			}
		})
	}
	if n := len(h.evaluations("")); n != 0 {
		t.Errorf("%d evaluations stored from unsigned requests, want 0", n)
	}
	if h.gh.Calls() != 0 {
		t.Errorf("GitHub got %d calls, want none", h.gh.Calls())
	}
	_, metrics := h.get("/metrics")
	for _, want := range []string{
		`sloguard_webhook_verification_failures_total{platform="github",reason="missing_signature"} 2`,
		`sloguard_webhook_verification_failures_total{platform="github",reason="bad_signature"} 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestARedeliveredEventIsNeverReviewedTwice(t *testing.T) {
	h := newHarness(t)
	ev := h.event("production")
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = h.deliver(ev, "d-same", "")
		}()
	}
	wg.Wait()
	accepted := 0
	for _, c := range codes {
		switch c {
		case http.StatusAccepted:
			accepted++
		case http.StatusOK:
		default:
			t.Errorf("answer %d to a redelivery, want 200", c)
		}
	}
	if accepted != 1 {
		t.Errorf("%d deliveries accepted for evaluation, want 1 (codes %v)", accepted, codes)
	}
	h.idle()
	// After the review: the same delivery again, and the same deployment
	// under a new delivery id (GitHub's "Redeliver" makes a new one).
	for _, d := range []string{"d-same", "d-new"} {
		if code, body := h.deliver(ev, d, ""); code != http.StatusOK || body["status"] != "duplicate" || body["state"] != "done" {
			t.Errorf("redelivery %s after the review: %d %v, want 200 duplicate done", d, code, body)
		}
	}
	h.idle()
	if n := len(h.gh.Reviews()); n != 1 {
		t.Errorf("reviews = %d, want exactly 1", n)
	}
	evs := h.evaluations("")
	if len(evs) != 1 || len(evs[0].Deliveries) != 2 {
		t.Errorf("evaluations = %+v, want one that knows both delivery ids", evs)
	}
	// A re-run of the run makes a new deployment, waiting for a new review.
	h.gh.Rerun(ev.RunID)
	rerun := ev
	rerun.DeploymentID++
	if code, _ := h.deliver(rerun, "d-rerun", ""); code != http.StatusAccepted {
		t.Errorf("a re-run: %d, want 202", code)
	}
	h.idle()
	if n := len(h.gh.Reviews()); n != 2 {
		t.Errorf("reviews = %d after a re-run, want 2", n)
	}
}

func TestDeploymentsOfOneRunToOneEnvironmentShareOneReview(t *testing.T) {
	h := newHarness(t, blocking) // the watch holds the evaluation pending
	ev := h.event("canary")
	if code, _ := h.deliver(ev, "d-job-1", ""); code != http.StatusAccepted {
		t.Fatalf("first job: %d, want 202", code)
	}
	other := ev
	other.DeploymentID++ // a second job of the run (a matrix) deploying to the same environment
	if code, body := h.deliver(other, "d-job-2", ""); code != http.StatusOK || body["status"] != "duplicate" {
		t.Errorf("second job: %d %v, want 200 duplicate: GitHub's review answers both", code, body)
	}
	if n := len(h.evaluations("")); n != 1 {
		t.Errorf("%d evaluations, want 1", n)
	}
}

func TestAClosedGateRejectsInTheRecordsWords(t *testing.T) {
	h := newHarness(t)
	h.deliver(h.event("burning"), "d-1", "")
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "rejected" {
		t.Fatalf("reviews = %+v, want one rejection", r)
	}
	d := h.evaluations("?environment=burning")[0].Decision
	if d.Decision != report.Fail || len(d.SLOs[0].Reasons) == 0 {
		t.Fatalf("record = %+v, want fail with reasons", d)
	}
	for _, want := range []string{"sloguard: rejected (fail)", d.Reason, "- burning: fail: " + d.SLOs[0].Reasons[0]} {
		if !strings.Contains(r[0].Comment, want) {
			t.Errorf("comment %q lacks %q", r[0].Comment, want)
		}
	}
}

func TestAnUnknownEnvironmentIsApprovedWithAComment(t *testing.T) {
	h := newHarness(t)
	ev := h.event("qa")
	ev.Repo = "website"
	h.deliver(ev, "d-1", "")
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "approved" || !strings.Contains(r[0].Comment, "sloguard has no SLOs for github acme/website environment qa") {
		t.Fatalf("reviews = %+v, want an approval saying sloguard has no SLOs for it", r)
	}
}

func TestDefaultRejectRejectsUnknownEnvironments(t *testing.T) {
	h := newHarness(t, withExtra("  default: reject\n"))
	h.deliver(h.event("qa"), "d-1", "")
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "rejected" || !strings.Contains(r[0].Comment, "serve.default is reject") {
		t.Fatalf("reviews = %+v, want a rejection naming serve.default", r)
	}
}

func TestACallbackOffTheConfiguredAPIIsRefusedEvenWhenSigned(t *testing.T) {
	h := newHarness(t)
	cases := map[string]string{
		"another host":       "https://attacker.example/api/v3/repos/acme/shop/actions/runs/7/deployment_protection_rule",
		"another repository": h.gh.APIURL() + "/repos/acme/payroll/actions/runs/7/deployment_protection_rule",
		"another endpoint":   h.gh.APIURL() + "/repos/acme/shop/dispatches",
		"credentials in it":  strings.Replace(h.gh.APIURL(), "http://", "http://user:pw@", 1) + "/repos/acme/shop/actions/runs/7/deployment_protection_rule",
	}
	for name, cb := range cases {
		t.Run(name, func(t *testing.T) {
			ev := h.event("production")
			ev.CallbackURL = cb
			if code, body := h.deliver(ev, "d-"+name, ""); code != http.StatusBadRequest || !strings.Contains(body["error"].(string), "deployment_callback_url") {
				t.Errorf("answer %d %v, want 400 about deployment_callback_url", code, body)
			}
		})
	}
	if h.gh.Calls() != 0 || len(h.evaluations("")) != 0 {
		t.Errorf("GitHub calls %d, evaluations %d: a refused event must cause neither", h.gh.Calls(), len(h.evaluations("")))
	}
}

// The review goes to the endpoint built from the run id, not to the
// callback URL: a query string on an otherwise right callback cannot send
// it elsewhere, so the deployment is reviewed, at the endpoint without it.
func TestACallbackWithAQueryStringIsReviewedAtItsEndpoint(t *testing.T) {
	h := newHarness(t)
	ev := h.event("production")
	ev.CallbackURL = fmt.Sprintf("%s/repos/acme/shop/actions/runs/%d/deployment_protection_rule?ref=x#y", h.gh.APIURL(), ev.RunID)
	if code, body := h.deliver(ev, "d-1", ""); code != http.StatusAccepted {
		t.Fatalf("answer %d %v, want 202", code, body)
	}
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].RunID != ev.RunID || r[0].Owner != "acme" || r[0].Repo != "shop" || r[0].EnvironmentName != "production" {
		t.Fatalf("reviews = %+v, want one for run %d of acme/shop in production", r, ev.RunID)
	}
}

func TestAnInvalidRequestInThePayloadIsRejectedWithTheReason(t *testing.T) {
	h := newHarness(t)
	ev := h.event("canary")
	ev.Payload = map[string]any{"sloguard": map[string]any{"watch": "forever"}}
	h.deliver(ev, "d-1", "")
	h.idle()
	r := h.gh.Reviews()
	if len(r) != 1 || r[0].State != "rejected" || !strings.Contains(r[0].Comment, `watch "forever" is not a duration`) {
		t.Fatalf("reviews = %+v, want a rejection that says why", r)
	}
}

func TestAReviewIsRetriedThroughAnOutageAndGivenUpOnARefusal(t *testing.T) {
	h := newHarness(t)
	// Retries: 1 in the client, so each attempt is two calls.
	h.gh.FailReviews(http.StatusBadGateway, http.StatusBadGateway, http.StatusBadGateway)
	h.deliver(h.event("production"), "d-1", "")
	h.idle()
	if r := h.gh.Reviews(); len(r) != 1 {
		t.Fatalf("reviews = %+v, want the review through after the outage", r)
	}
	if e := h.evaluations("")[0]; e.Attempts != 2 || e.Error != "" {
		t.Errorf("attempts %d error %q, want 2 and none", e.Attempts, e.Error)
	}
	h.gh.FailReviews(http.StatusForbidden)
	h.deliver(h.event("production"), "d-2", "")
	h.idle()
	e := h.evaluations("")[0]
	if e.Attempts != 1 || !strings.Contains(e.Error, "deployments: read & write") {
		t.Errorf("attempts %d error %q, want one attempt and the permissions named", e.Attempts, e.Error)
	}
	_, metrics := h.get("/metrics")
	for _, want := range []string{`sloguard_callbacks_total{platform="github",result="error"} 1`, `sloguard_callbacks_total{platform="github",result="ok"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
