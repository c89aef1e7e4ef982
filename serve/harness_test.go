package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/serve/store"
	"github.com/sloguard/sloguard/slo"
)

// One real Prometheus for the package, holding a month of traffic that
// ends at history.End: the evaluations run at that time.
var prom *promtest.Server

func history() *promtest.History {
	return promtest.New(time.Now(),
		promtest.Service{Name: "healthy", Rate: 10, ErrorRatio: 0.0002},
		promtest.Service{Name: "burning", Rate: 10, Segments: []promtest.Segment{{From: 10 * time.Minute, ErrorRatio: 0.1}}},
		// 3 % errors in the last 10 minutes: under every burn-rate pair
		// of the gate, 30× the budget for a canary.
		promtest.Service{Name: "lateburn", Rate: 10, ErrorRatio: 0.0001, Segments: []promtest.Segment{{From: 10 * time.Minute, ErrorRatio: 0.03}}},
	)
}

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	dir, err := os.MkdirTemp("", "sloguard-serve-")
	if err == nil {
		prom, err = promtest.Run(ctx, history(), dir)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve tests need a real Prometheus:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := prom.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	appID        = 1234
	installation = 42
	jobToken     = "job-token-3f9a"
	webhookKey   = "whsec-test-0c8b"
	azureUser    = "sloguard"
	azurePass    = "check-password-77"
)

// testClock is the history's end, forever. A blocking clock never wakes
// a watch up (its evaluations wait until the server stops).
type testClock struct {
	now   time.Time
	block bool
}

func (c testClock) Now() time.Time { return c.now }

func (c testClock) Sleep(ctx context.Context, _ time.Time) error {
	if c.block {
		<-ctx.Done()
	}
	return ctx.Err()
}

// sloSection is the SLOs (one per promtest service) and the canary policy
// every test config starts with.
func sloSection(promURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: %q, timeout: 10s, retries: 1}\nslos:\n", promURL)
	for _, s := range []string{"healthy", "burning", "lateburn"} {
		fmt.Fprintf(&b, `  - name: %[1]s
    objective: 99.9
    window: 30d
    sli:
      error_query: sum(rate(http_requests_total{service=%[1]q,code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{service=%[1]q}[{{.window}}]))
`, s)
	}
	b.WriteString("canary:\n  duration: 10m\n  interval: 30s\n")
	return b.String()
}

// environments is the serve: block's environments the tests share.
const environments = `  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [healthy]
    - github: {repository: acme/shop, environment: burning}
      slos: [burning]
    - github: {repository: acme/*, environment: canary}
      slos: [lateburn]
      policy: check_then_watch
    - github: {repository: acme/shop, environment: canary-healthy}
      slos: [healthy]
      policy: check_then_watch
      watch: 10m
    - azure: {project: shop, environment: production}
      slos: [healthy]
    - azure: {project: shop, environment: burning}
      slos: [burning]
    - azure: {project: shop, environment: canary}
      slos: [lateburn]
      policy: check_then_watch
`

type harness struct {
	t      *testing.T
	srv    *Server
	web    *httptest.Server
	gh     *servetest.GitHub
	az     *servetest.Azure
	st     *store.Store
	key    []byte
	env    map[string]string
	config string
	state  string
	runs   atomic.Int64
	clock  testClock
	logs   servetest.Log
}

type harnessOption func(*harness)

// withExtra adds keys to the serve: block (e.g. "  default: reject\n").
func withExtra(extra string) harnessOption {
	return func(h *harness) { h.config = strings.Replace(h.config, "serve:\n", "serve:\n"+extra, 1) }
}

func blocking(h *harness) { h.clock.block = true }

// withEnv sets an environment variable the server reads.
func withEnv(k, v string) harnessOption { return func(h *harness) { h.env[k] = v } }

// newHarness starts fakes of GitHub and Azure DevOps and a server in
// front of the shared Prometheus.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	key, pub, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, key: key, gh: servetest.NewGitHub(appID, pub), az: servetest.NewAzure(jobToken), clock: testClock{now: prom.History.End}}
	h.state = filepath.Join(t.TempDir(), "state.db")
	h.config = sloSection(prom.URL) + fmt.Sprintf("serve:\n  github:\n    api_url: %s\n  azure:\n    allowed_orgs: [%s]\n", h.gh.APIURL(), h.az.Org()) + environments
	h.env = map[string]string{"GITHUB_APP_ID": fmt.Sprint(appID), "GITHUB_APP_PRIVATE_KEY": string(key), "GITHUB_WEBHOOK_SECRET": webhookKey,
		"SLOGUARD_AZURE_USERNAME": azureUser, "SLOGUARD_AZURE_PASSWORD": azurePass}
	for _, o := range opts {
		o(h)
	}
	t.Cleanup(func() {
		h.stop()
		h.gh.Close()
		h.az.Close()
		for _, p := range append(h.gh.Problems(), h.az.Problems()...) {
			t.Errorf("the platform would have refused: %s", p)
		}
	})
	h.start()
	return h
}

// start builds a server on the harness's state file and config.
func (h *harness) start() {
	t := h.t
	t.Helper()
	path := filepath.Join(t.TempDir(), "sloguard.yaml")
	if err := os.WriteFile(path, []byte(h.config), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := slo.Load(path, slo.Options{Types: all.Backends().Types()})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	provs := map[string]providers.Provider{}
	for _, pc := range cfg.Providers {
		if provs[pc.Name], err = all.Backends().New(t.Context(), pc, providers.Env{}); err != nil {
			t.Fatal(err)
		}
	}
	if h.st, err = store.Open(h.state); err != nil {
		t.Fatal(err)
	}
	h.srv, err = New(Options{Config: cfg, Serve: sc, Providers: provs, Store: h.st, Getenv: func(k string) string { return h.env[k] }, Clock: h.clock, Retries: 1,
		Log: slog.New(slog.NewJSONHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	h.srv.backoff = []time.Duration{0, 10 * time.Millisecond, 10 * time.Millisecond}
	if err := h.srv.Resume(); err != nil {
		t.Fatal(err)
	}
	h.web = httptest.NewServer(h.srv.Handler())
}

// stop stops the server as SIGTERM would, leaving the state file.
func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	h.web.Close()
	h.srv.Stop()
	h.st.Close()
	h.srv = nil
}

// event is a protection-rule event for acme/shop with a new run id.
func (h *harness) event(env string) servetest.Event {
	return servetest.Event{APIURL: h.gh.APIURL(), Owner: "acme", Repo: "shop", Environment: env, RunID: 1000 + h.runs.Add(1), DeploymentID: 500 + h.runs.Load(), Installation: installation}
}

// deliver posts a signed event; sig as servetest.Request takes it.
func (h *harness) deliver(ev servetest.Event, delivery, sig string) (int, map[string]any) {
	h.t.Helper()
	req, err := servetest.Request(h.web.URL+"/v1/github/webhook", []byte(webhookKey), ev.JSON(), delivery, sig)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	if m == nil {
		m = map[string]any{"raw": string(body)}
	}
	return resp.StatusCode, m
}

// get fetches a path of the server.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.web.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// azure sends a check request with the fake organisation's headers.
func (h *harness) azure(method, query string, chk servetest.Check, user, pass string) (int, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.web.URL+"/v1/azure/check"+query, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	chk.Headers(req.Header)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	return h.do(req)
}

// evaluations reads the audit query.
func (h *harness) evaluations(query string) []store.Evaluation {
	h.t.Helper()
	code, body := h.get("/v1/decisions" + query)
	if code != http.StatusOK {
		h.t.Fatalf("GET /v1/decisions%s: %d %s", query, code, body)
	}
	var out struct{ Decisions []store.Evaluation }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		h.t.Fatal(err)
	}
	return out.Decisions
}

// waitFor polls until cond holds; the deadline is generous (a busy CI
// machine), and only a broken server ever reaches it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idle waits until no evaluation is pending.
func (h *harness) idle() {
	h.t.Helper()
	waitFor(h.t, "every evaluation to finish", func() bool { return h.srv.pending.Load() == 0 })
}
