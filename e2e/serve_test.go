package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
)

// serveProcess runs the binary's serve and waits until it is ready.
func serveProcess(t *testing.T, cfg, state, addr string, env []string) (*exec.Cmd, *servetest.Log) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-c", cfg, "--state", state, "--listen", addr)
	cmd.Env = append(os.Environ(), env...)
	log := &servetest.Log{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	if err := servetest.WaitReady(http.DefaultClient, "http://"+addr, 30*time.Second); err != nil {
		t.Fatalf("%v:\n%s", err, log.String())
	}
	return cmd, log
}

func pendingWatches(addr string) int {
	return servetest.Watching(http.DefaultClient, "http://"+addr, "")
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
	if err := os.WriteFile(cfg, []byte(servetest.PendingConfig(gh.APIURL())), 0o600); err != nil {
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
