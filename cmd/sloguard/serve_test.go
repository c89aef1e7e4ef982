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
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/servetest"
	"github.com/sloguard/sloguard/serve/store"
)

func TestServeStopsGracefullyAndKeepsWhatIsPending(t *testing.T) {
	key, _, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	api := "http://127.0.0.1:9/api/v3" // never called: the watch outlives the test
	cfg := filepath.Join(dir, "sloguard.yaml")
	if err := os.WriteFile(cfg, []byte(servetest.PendingConfig(api)), 0o600); err != nil {
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
	var stderr servetest.Log
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"sloguard", "serve", "-c", cfg, "--listen", addr, "--state", state}, &stdout, &stderr)
	}()
	base := "http://" + addr
	if err := servetest.WaitReady(http.DefaultClient, base, 30*time.Second); err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr.String())
	}
	deadline := time.Now().Add(30 * time.Second)
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
	for servetest.Watching(http.DefaultClient, base, "") != 1 {
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
