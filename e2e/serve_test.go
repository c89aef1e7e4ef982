package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
)

// serveYAML gates on recorded values (the gate opens) and then watches,
// for an hour, a canary that never reports, and reviews on the fake
// GitHub: evaluations stay pending until the process dies.
const serveYAML = `version: 1
providers:
  - name: recorded
    type: static
    values:
      web:
        service: {30d: {total: 1000000, bad: 10}, 5m: {total: 1000, bad: 0}, 30m: {total: 6000, bad: 0}, 1h: {total: 12000, bad: 0}, 6h: {total: 72000, bad: 1}}
slos:
  - {name: web, objective: 99.9, window: 30d}
serve:
  github:
    api_url: %s
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [web]
      policy: check_then_watch
      watch: 1h
`

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveProcess runs the binary's serve and waits until it is ready.
func serveProcess(t *testing.T, cfg, state, addr string, env []string) (*exec.Cmd, *lockedLog) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-c", cfg, "--state", state, "--listen", addr)
	cmd.Env = append(os.Environ(), env...)
	log := &lockedLog{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, log
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become ready:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pendingWatches(addr string) int {
	resp, err := http.Get("http://" + addr + "/v1/decisions")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var out struct {
		Decisions []struct {
			State   string
			Checked json.RawMessage
		}
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil {
		return -1
	}
	n := 0
	for _, d := range out.Decisions {
		if d.State == "pending" && len(d.Checked) > 0 && string(d.Checked) != "null" {
			n++
		}
	}
	return n
}

func TestServeExitsZeroOnSIGTERMAndResumesAfterSIGKILL(t *testing.T) {
	key, pub, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	gh := servetest.NewGitHub(77, pub)
	defer gh.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(serveYAML, gh.APIURL())), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.db")
	port, err := promtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := []string{"GITHUB_APP_ID=77", "GITHUB_APP_PRIVATE_KEY=" + string(key), "GITHUB_WEBHOOK_SECRET=hook-secret-2"}

	cmd, log := serveProcess(t, cfg, state, addr, env)
	for i := range 3 {
		ev := servetest.Event{APIURL: gh.APIURL(), Owner: "acme", Repo: "shop", Environment: "production", RunID: int64(100 + i), DeploymentID: int64(i + 1), Installation: 5}
		req, _ := servetest.Request("http://"+addr+"/v1/github/webhook", []byte("hook-secret-2"), ev.JSON(), fmt.Sprint("d-", i), "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("event %d: %d, want 202", i, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for pendingWatches(addr) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the watches never started:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v, want exit 0\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), `"msg":"stopped","service":"sloguard","pending":3`) {
		t.Errorf("the last words do not say 3 pending:\n%s", log.String())
	}

	// A restart resumes them; a kill -9 of that one loses nothing either.
	cmd, log = serveProcess(t, cfg, state, addr, env)
	if n := strings.Count(log.String(), "resuming a pending evaluation"); n != 3 {
		t.Errorf("resumed %d evaluations after SIGTERM, want 3:\n%s", n, log.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = cmd.Process.Wait()
	_, log = serveProcess(t, cfg, state, addr, env)
	if n := strings.Count(log.String(), "resuming a pending evaluation"); n != 3 {
		t.Errorf("resumed %d evaluations after kill -9, want 3:\n%s", n, log.String())
	}
	if pendingWatches(addr) != 3 || len(gh.Reviews()) != 0 || len(gh.Problems()) != 0 {
		t.Errorf("pending %d, reviews %v, problems %v: want 3 watches pending and GitHub untouched", pendingWatches(addr), gh.Reviews(), gh.Problems())
	}
}
