package rollback

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

func failing() *report.Decision {
	return &report.Decision{Decision: report.Fail, Reason: "canary breached: availability",
		SLOs: []report.SLO{{Name: "availability", Decision: report.Fail}, {Name: "latency", Decision: report.Pass}}}
}

func getenv(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestCommandGetsTheDecisionAndStreamsItsOutput(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	var out bytes.Buffer
	a := &Actions{Config: rollbackConfig(10*time.Second, 0, Command([]string{"sh", "-c",
		`printf '%s|%s|%s|%s' "$SLOGUARD_DECISION" "$SLOGUARD_SLO" "$SLOGUARD_REASON" "$SLOGUARD_REPORT" > "$0"; echo undoing; echo done >&2`, envFile})),
		Out: &out, Getenv: getenv(nil)}
	acts := a.Run(t.Context(), failing(), "/tmp/record.json", nil)
	if len(acts) != 1 || acts[0].Status != Succeeded || acts[0].Attempts != 1 {
		t.Fatalf("actions %+v, want one success in one attempt", acts)
	}
	got, _ := os.ReadFile(envFile)
	if want := "fail|availability|canary breached: availability|/tmp/record.json"; string(got) != want {
		t.Errorf("command saw %q, want %q", got, want)
	}
	for _, line := range []string{"rollback: undoing\n", "rollback: done\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output %q lacks the prefixed line %q", out.String(), line)
		}
	}
}

func TestCommandRetriesAndTimeouts(t *testing.T) {
	tests := map[string]struct {
		argv     []string
		retries  int
		timeout  time.Duration
		attempts int
		errText  string
	}{
		"a failing command is retried, then reported": {argv: []string{"false"}, retries: 2, timeout: 5 * time.Second, attempts: 3, errText: "exit status 1"},
		"a hanging command is killed at the timeout":  {argv: []string{"sleep", "30"}, retries: 0, timeout: 300 * time.Millisecond, attempts: 1, errText: "no exit within 300ms"},
		"a missing program fails clearly":             {argv: []string{"/nonexistent/kubectl"}, retries: 0, timeout: time.Second, attempts: 1, errText: "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := &Actions{Config: rollbackConfig(tc.timeout, tc.retries, Command(tc.argv)), Out: io.Discard, Getenv: getenv(nil)}
			acts := a.Run(t.Context(), failing(), "", nil)
			if acts[0].Status != Failed || acts[0].Attempts != tc.attempts || !strings.Contains(acts[0].Error, tc.errText) {
				t.Errorf("got %+v, want failed after %d attempts with %q", acts[0], tc.attempts, tc.errText)
			}
		})
	}
}

func TestWebhookIsSignedAndRetriedThroughTheClient(t *testing.T) {
	var (
		mu     sync.Mutex
		calls  int
		bodies [][]byte
		sigs   []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		b, _ := io.ReadAll(r.Body)
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(SignatureHeader))
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			t.Errorf("%s with %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		if calls == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	record := []byte(`{"decision":"fail"}`)
	a := &Actions{Config: rollbackConfig(5*time.Second, 2, &Webhook{URL: srv.URL + "/hook?token=abc", SecretEnv: "HOOK"}),
		Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": hookSecret})}
	acts := a.Run(t.Context(), failing(), "", record)
	if acts[0].Status != Succeeded || acts[0].Attempts != 2 {
		t.Fatalf("got %+v, want success on the 2nd attempt", acts[0])
	}
	if strings.Contains(acts[0].Target, "abc") {
		t.Errorf("target %q leaks the URL's query", acts[0].Target)
	}
	for i, b := range bodies {
		if !bytes.Equal(b, record) || sigs[i] != Sign([]byte(hookSecret), record) {
			t.Errorf("request %d: body %s signature %s, want the record signed", i, b, sigs[i])
		}
	}
	// The signature is what GitHub-style receivers compute.
	if got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!")); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Errorf("Sign = %s, want GitHub's documented example", got)
	}
}

func TestWebhookFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusForbidden)
	}))
	defer srv.Close()
	tests := map[string]struct {
		env     map[string]string
		errText string
	}{
		"a 4xx is not retried and is reported":            {env: map[string]string{"HOOK": hookSecret}, errText: "403 Forbidden: nope"},
		"a missing secret is reported, not sent unsigned": {env: nil, errText: "HOOK (secret_env) is empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := &Actions{Config: rollbackConfig(time.Second, 2, &Webhook{URL: srv.URL, SecretEnv: "HOOK"}), Out: io.Discard, Getenv: getenv(tc.env)}
			acts := a.Run(t.Context(), failing(), "", []byte("{}"))
			if acts[0].Status != Failed || !strings.Contains(acts[0].Error, tc.errText) {
				t.Errorf("got %+v, want failed with %q", acts[0], tc.errText)
			}
		})
	}
}

type fakeGitHub struct{ calls []string }

func (f *fakeGitHub) DeploymentFailed(_ context.Context, gh GitHub, _ *report.Decision) (string, error) {
	f.calls = append(f.calls, "status:"+gh.Environment)
	return "deployment 7", nil
}

func (f *fakeGitHub) Dispatch(_ context.Context, gh GitHub, _ *report.Decision) (string, error) {
	f.calls = append(f.calls, "dispatch:"+gh.DispatchEvent)
	return "", errors.New("403 Forbidden")
}

func (f *fakeGitHub) WorkflowDispatch(_ context.Context, gh GitHub, _ *report.Decision) (string, error) {
	f.calls = append(f.calls, "workflow:"+gh.Workflow.File)
	return "@main", nil
}

func TestActionsRunInOrderAndReportEachOutcome(t *testing.T) {
	gh := &fakeGitHub{}
	a := &Actions{Config: rollbackConfig(time.Second, 0, Command([]string{"true"}), &GitHub{
		DeploymentStatus: true, Environment: "production", DispatchEvent: "sloguard-rollback", Workflow: &WorkflowDispatch{File: "rollback.yml"}}),
		Out: io.Discard, Getenv: getenv(nil), GitHub: gh}
	acts := a.Run(t.Context(), failing(), "", nil)
	var got []string
	for _, x := range acts {
		got = append(got, x.Type+" "+x.Status)
	}
	want := "command succeeded,github succeeded,github failed,github succeeded"
	if strings.Join(got, ",") != want {
		t.Errorf("outcomes %q, want %q", strings.Join(got, ","), want)
	}
	if strings.Join(gh.calls, ",") != "status:production,dispatch:sloguard-rollback,workflow:rollback.yml" {
		t.Errorf("GitHub calls %v", gh.calls)
	}
}

func TestDryRunRunsNothing(t *testing.T) {
	var out bytes.Buffer
	marker := filepath.Join(t.TempDir(), "ran")
	a := &Actions{Config: rollbackConfig(time.Second, 0, Command([]string{"touch", marker})), DryRun: true, Out: &out, Getenv: getenv(nil)}
	acts := a.Run(t.Context(), failing(), "", nil)
	if acts[0].Status != DryRun || acts[0].Attempts != 0 {
		t.Errorf("got %+v, want a dry-run", acts[0])
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran during a dry run")
	}
	if !strings.Contains(out.String(), "would run command touch") {
		t.Errorf("dry run printed %q", out.String())
	}
}

// rollbackConfig is a rollback block as loading builds it: its actions in
// the order their kinds run.
func rollbackConfig(timeout time.Duration, retries int, actions ...Action) slo.Rollback {
	rb := slo.Rollback{Timeout: timeout, Retries: retries}
	for _, a := range actions {
		key := map[string]string{"rollback.Command": "command", "*rollback.Webhook": "webhook", "*rollback.GitHub": "github"}[fmt.Sprintf("%T", a)]
		rb.Actions = append(rb.Actions, slo.RollbackAction{Key: key, Settings: a})
	}
	return rb
}

// Ready says, before any action runs, what in the environment would make
// one fail: each variable by name, every action at once.
func TestReadyNamesEveryMissingVariable(t *testing.T) {
	rb := rollbackConfig(time.Second, 0, Command{"true"}, &Webhook{URL: "http://hooks.example", SecretEnv: "HOOK"},
		&GitHub{DispatchEvent: "rollback", TokenEnv: "GH_TOKEN"})
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"all set": {map[string]string{"HOOK": hookSecret, "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"}, ""},
		"nothing set": {nil, "rollback.webhook: environment variable HOOK (secret_env) is empty: cannot sign the webhook\n" +
			"rollback.github: environment variable GH_TOKEN (token_env) is empty: the GitHub rollback actions need a token (in GitHub Actions, give the job the token: GITHUB_TOKEN: ${{ github.token }})\n" +
			`rollback.github: environment variable GITHUB_REPOSITORY ("") is not owner/repo: the repository the GitHub rollback actions act on (GitHub Actions sets it)`},
		"a whsec_ secret that is not base64": {map[string]string{"HOOK": "whsec_!!", "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env): the secret starts with whsec_ but the rest is not base64: give the secret as the receiver shows it"},
		// Before, these passed and the webhook was signed with the empty
		// key (whsec_ alone) or a guessable one.
		"an empty whsec_ key": {map[string]string{"HOOK": "whsec_", "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env): the key (base64 after the prefix) is 0 bytes, too short to sign with: anyone could forge the signature: use at least 16 bytes (e.g. openssl rand -hex 32, or the secret the receiver shows)"},
		"a whsec_ key of 15 bytes": {map[string]string{"HOOK": "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcde")), "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env): the key (base64 after the prefix) is 15 bytes, too short to sign with: anyone could forge the signature: use at least 16 bytes (e.g. openssl rand -hex 32, or the secret the receiver shows)"},
		"a blank secret": {map[string]string{"HOOK": "   ", "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env) is blank: cannot sign the webhook: set it to a random secret of at least 16 bytes (e.g. openssl rand -hex 32)"},
		"a secret of 3 characters": {map[string]string{"HOOK": "abc", "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env): the secret is 3 bytes, too short to sign with: anyone could forge the signature: use at least 16 bytes (e.g. openssl rand -hex 32, or the secret the receiver shows)"},
		"a secret of 15 characters padded with spaces": {map[string]string{"HOOK": "  0123456789abcde  ", "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"},
			"rollback.webhook: environment variable HOOK (secret_env): the secret is 15 bytes, too short to sign with: anyone could forge the signature: use at least 16 bytes (e.g. openssl rand -hex 32, or the secret the receiver shows)"},
		"a whsec_ key of 16 bytes": {map[string]string{"HOOK": "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), "GH_TOKEN": "t", "GITHUB_REPOSITORY": "acme/shop"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			err := Ready(rb, getenv(tc.env))
			if got := fmt.Sprint(err); (tc.want == "") != (err == nil) || err != nil && got != tc.want {
				t.Errorf("Ready = %v\nwant %s", err, tc.want)
			}
			var keys []string // where validate places each
			for _, nr := range NotReadies(err) {
				keys = append(keys, nr.Key)
				if !strings.HasPrefix(tc.want, nr.Key+": ") && !strings.Contains(tc.want, "\n"+nr.Key+": ") {
					t.Errorf("NotReady %s not in %q", nr.Key, tc.want)
				}
			}
			if len(keys) != strings.Count(tc.want, "rollback.") {
				t.Errorf("NotReadies = %v, want one per line of %q", keys, tc.want)
			}
		})
	}
}
