package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
	"github.com/sloguard/sloguard/serve/store"
)

// lockedBuffer is stderr written by the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveConfig gates acme/shop's production on recorded values (the gate
// opens), then watches a canary for an hour that never reports: the
// evaluation stays pending.
const serveConfig = `version: 1
providers:
  - name: recorded
    type: static
    values:
      web:
        service: {30d: {total: 1000000, bad: 10}, 5m: {total: 1000, bad: 0}, 30m: {total: 6000, bad: 0}, 1h: {total: 12000, bad: 0}, 6h: {total: 72000, bad: 1}}
slos:
  - {name: web, objective: 99.9, window: 30d}
canary:
  interval: 30s
serve:
  github:
    api_url: %s
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [web]
      policy: check_then_watch
      watch: 1h
`

func TestServeStopsGracefullyAndKeepsWhatIsPending(t *testing.T) {
	key, _, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	api := "http://127.0.0.1:9/api/v3" // never called: the watch outlives the test
	cfg := filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(serveConfig, api)), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := promtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	state := filepath.Join(dir, "state.db")
	t.Setenv("GITHUB_APP_ID", "77")
	t.Setenv("GITHUB_APP_PRIVATE_KEY", string(key))
	t.Setenv("GITHUB_WEBHOOK_SECRET", "hook-secret-1")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout bytes.Buffer
	var stderr lockedBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"sloguard", "serve", "-c", cfg, "--listen", addr, "--state", state}, &stdout, &stderr)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ev := servetest.Event{APIURL: api, Owner: "acme", Repo: "shop", Environment: "production", RunID: 9, DeploymentID: 3, Installation: 1}
	req, _ := servetest.Request(base+"/v1/github/webhook", []byte("hook-secret-1"), ev.JSON(), "d-1", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("event: %d, want 202", resp.StatusCode)
	}
	for !strings.Contains(stderr.String(), `"checked"`) && !watching(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("the watch never started; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	cancel() // what main does on SIGTERM
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing: logs go to stderr", stdout.String())
	}
	var last map[string]any
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["msg"] != "stopped" || last["pending"] != 1.0 {
		t.Errorf("last log line %q, want a JSON \"stopped\" with pending 1", lines[len(lines)-1])
	}
	if strings.Contains(stderr.String(), "hook-secret-1") {
		t.Error("the webhook secret reached the log")
	}
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Pending()
	if err != nil || len(p) != 1 || p[0].Checked == nil || p[0].Since == nil {
		t.Fatalf("pending after the stop = %+v (%v), want the evaluation with its open gate and canary start", p, err)
	}
}

// watching reports whether the one evaluation has passed the gate.
func watching(t *testing.T, base string) bool {
	resp, err := http.Get(base + "/v1/decisions")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var out struct{ Decisions []store.Evaluation }
	if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Decisions) != 1 {
		return false
	}
	return out.Decisions[0].Checked != nil
}
