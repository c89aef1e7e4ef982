// Package servetest holds the fakes `sloguard serve` is tested and
// benchmarked against: a GitHub API that issues installation tokens and
// takes deployment protection rule reviews, and an Azure DevOps
// distributed task API that takes TaskCompleted events and check logs.
// Each checks every request as the platform documents it (the App's JWT,
// the installation token, the job token, paths, bodies, api-version) and
// records it; what the platform would have refused is listed by
// Problems, which tests assert empty. It also builds and signs the events
// GitHub sends.
package servetest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NewKey makes an RSA key as GitHub generates for an App, in PEM.
func NewKey() ([]byte, *rsa.PublicKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return p, &k.PublicKey, nil
}

// Sign is the X-Hub-Signature-256 GitHub sends with a body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Event is a deployment_protection_rule event ("requested").
type Event struct {
	APIURL       string // the callback is built on it, as GitHub does
	Owner, Repo  string
	Environment  string
	RunID        int64
	DeploymentID int64
	Installation int64
	SHA          string
	Payload      any    // the deployment's payload; nil: {}
	CallbackURL  string // overrides the callback GitHub would build
}

// JSON is the event as GitHub documents it.
func (e Event) JSON() []byte {
	cb := e.CallbackURL
	if cb == "" {
		cb = fmt.Sprintf("%s/repos/%s/%s/actions/runs/%d/deployment_protection_rule", e.APIURL, e.Owner, e.Repo, e.RunID)
	}
	payload := e.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	sha := e.SHA
	if sha == "" {
		sha = "2a1f8e5c9d3b7f6e4a0c1d2e3f4a5b6c7d8e9f00"
	}
	repoAPI := fmt.Sprintf("%s/repos/%s/%s", e.APIURL, e.Owner, e.Repo)
	ev := map[string]any{
		"action":                  "requested",
		"environment":             e.Environment,
		"event":                   "push",
		"deployment_callback_url": cb,
		"deployment": map[string]any{
			"url": fmt.Sprintf("%s/deployments/%d", repoAPI, e.DeploymentID), "id": e.DeploymentID, "node_id": "DE_kwDOA",
			"task": "deploy", "original_environment": e.Environment, "environment": e.Environment, "description": nil,
			"sha": sha, "ref": "refs/heads/main", "payload": payload,
			"creator":    map[string]any{"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
			"created_at": "2026-11-23T16:59:00Z", "updated_at": "2026-11-23T16:59:00Z",
			"statuses_url":   fmt.Sprintf("%s/deployments/%d/statuses", repoAPI, e.DeploymentID),
			"repository_url": repoAPI,
		},
		"pull_requests": []any{},
		"repository": map[string]any{
			"id": 1296269, "node_id": "R_kgDOA", "name": e.Repo, "full_name": e.Owner + "/" + e.Repo, "private": true,
			"owner":    map[string]any{"login": e.Owner, "id": 9919, "type": "Organization"},
			"html_url": "https://github.com/" + e.Owner + "/" + e.Repo, "url": repoAPI,
		},
		"organization": map[string]any{"login": e.Owner, "id": 9919},
		"installation": map[string]any{"id": e.Installation, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u"},
		"sender":       map[string]any{"login": "octocat", "id": 1, "type": "User"},
	}
	b, _ := json.Marshal(ev)
	return b
}

// Request posts a signed event to a sloguard webhook URL as GitHub does.
// A sig of "" signs with secret; "-" sends no signature.
func Request(url string, secret, body []byte, delivery, sig string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/abc123")
	req.Header.Set("X-GitHub-Event", "deployment_protection_rule")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", "123456")
	switch sig {
	case "":
		req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	case "-":
	default:
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	return req, nil
}

// Review is one review GitHub accepted.
type Review struct {
	Owner, Repo     string
	RunID           int64
	Installation    int64
	EnvironmentName string
	State           string
	Comment         string
	rerun           bool // the run was re-run after this review: it may be reviewed again
}

// GitHub is the fake API, rooted at URL + "/api/v3" like a GitHub
// Enterprise Server.
type GitHub struct {
	*httptest.Server
	appID int64
	pub   *rsa.PublicKey

	mu        sync.Mutex
	tokens    map[string]int64 // installation token -> installation
	exchanges int
	reviews   []Review
	fail      []int // statuses for the next review calls
	calls     int
	refusals
}

// NewGitHub starts the fake for an App.
func NewGitHub(appID int64, pub *rsa.PublicKey) *GitHub {
	g := &GitHub{appID: appID, pub: pub, tokens: map[string]int64{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// APIURL is the API root, for serve.github.api_url.
func (g *GitHub) APIURL() string { return g.URL + "/api/v3" }

// FailReviews makes the next review calls answer these statuses, in turn.
func (g *GitHub) FailReviews(statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail = append(g.fail, statuses...)
}

// Rerun re-runs a run (a new attempt, same run id): its deployments wait
// for a review again.
func (g *GitHub) Rerun(run int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.reviews {
		if g.reviews[i].RunID == run {
			g.reviews[i].rerun = true
		}
	}
}

// Reviews returns the reviews accepted so far.
func (g *GitHub) Reviews() []Review {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Review(nil), g.reviews...)
}

// Exchanges is how many installation tokens were issued.
func (g *GitHub) Exchanges() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.exchanges
}

// Calls is how many requests arrived, of any kind.
func (g *GitHub) Calls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

func (g *GitHub) problem(w http.ResponseWriter, status int, format string, args ...any) {
	g.refuse(w, status, "application/json; charset=utf-8", func(msg string) any {
		return map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"}
	}, format, args...)
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v3/")
	parts := strings.Split(path, "/")
	switch {
	case ok && r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "app" && parts[1] == "installations" && parts[3] == "access_tokens":
		g.exchange(w, r, parts[2])
	case ok && r.Method == http.MethodPost && len(parts) == 7 && parts[0] == "repos" && parts[3] == "actions" && parts[4] == "runs" && parts[6] == "deployment_protection_rule":
		g.review(w, r, parts[1], parts[2], parts[5], body)
	default:
		g.problem(w, http.StatusNotFound, "unexpected request %s %s", r.Method, r.URL.Path)
	}
}

// exchange is POST /app/installations/{id}/access_tokens, authenticated
// by the App's JWT (RS256, iss = App ID, at most 10 minutes long).
func (g *GitHub) exchange(w http.ResponseWriter, r *http.Request, inst string) {
	id, err := strconv.ParseInt(inst, 10, 64)
	if err != nil {
		g.problem(w, http.StatusNotFound, "installation %q", inst)
		return
	}
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		g.problem(w, http.StatusUnauthorized, "token exchange without an App JWT (Authorization: Bearer)")
		return
	}
	if err := g.verifyJWT(jwt); err != nil {
		g.problem(w, http.StatusUnauthorized, "App JWT: %v", err)
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := "ghs_" + hex.EncodeToString(b[:])
	g.mu.Lock()
	g.tokens[tok] = id
	g.exchanges++
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"token": tok, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"deployments": "write", "actions": "read", "metadata": "read"},
		"repository_selection": "selected",
	})
}

func (g *GitHub) verifyJWT(tok string) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var head struct{ Alg string }
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	for i, v := range []any{&head, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return err
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	now := time.Now().Unix()
	switch {
	case head.Alg != "RS256":
		return fmt.Errorf("alg %q, GitHub wants RS256", head.Alg)
	case rsa.VerifyPKCS1v15(g.pub, crypto.SHA256, sum[:], sig) != nil:
		return fmt.Errorf("signature is not the App's private key's")
	case claims.Iss != strconv.FormatInt(g.appID, 10):
		return fmt.Errorf("iss %q, want the App ID %d", claims.Iss, g.appID)
	case claims.Exp <= now || claims.Exp-claims.Iat > 600 || claims.Iat > now+60:
		return fmt.Errorf("iat %d / exp %d: expired, too long or in the future", claims.Iat, claims.Exp)
	}
	return nil
}

// review is POST /repos/{owner}/{repo}/actions/runs/{run_id}/
// deployment_protection_rule: 204 No Content.
func (g *GitHub) review(w http.ResponseWriter, r *http.Request, owner, repo, run string, body []byte) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	g.mu.Lock()
	inst, known := g.tokens[tok]
	var status int
	if ok && known && len(g.fail) > 0 {
		status, g.fail = g.fail[0], g.fail[1:]
	}
	g.mu.Unlock()
	if !ok || !known {
		g.problem(w, http.StatusUnauthorized, "review without an installation token")
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":"failing on purpose with %d"}`, status)
		return
	}
	runID, err := strconv.ParseInt(run, 10, 64)
	if err != nil {
		g.problem(w, http.StatusNotFound, "run id %q", run)
		return
	}
	var rv struct {
		EnvironmentName *string `json:"environment_name"`
		State           *string `json:"state"`
		Comment         *string `json:"comment"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rv); err != nil || rv.EnvironmentName == nil || rv.State == nil || (*rv.State != "approved" && *rv.State != "rejected") {
		g.problem(w, http.StatusUnprocessableEntity, "review body %s: want environment_name and state approved|rejected (%v)", body, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		g.problem(w, http.StatusUnsupportedMediaType, "review Content-Type %q", ct)
		return
	}
	rec := Review{Owner: owner, Repo: repo, RunID: runID, Installation: inst, EnvironmentName: *rv.EnvironmentName, State: *rv.State}
	if rv.Comment != nil {
		rec.Comment = *rv.Comment
	}
	g.mu.Lock()
	for _, old := range g.reviews {
		if !old.rerun && old.Owner == owner && old.Repo == repo && old.RunID == runID && strings.EqualFold(old.EnvironmentName, rec.EnvironmentName) {
			g.mu.Unlock()
			g.problem(w, http.StatusUnprocessableEntity, "run %d of %s/%s reviewed twice for %s", runID, owner, repo, rec.EnvironmentName)
			return
		}
	}
	g.reviews = append(g.reviews, rec)
	g.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
