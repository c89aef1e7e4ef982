package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/serve/ghapp"
	"github.com/sloguard/sloguard/serve/store"
)

// githubWebhook receives the GitHub App's webhook. The signature is
// checked before anything else is read or done; a deployment_protection_
// rule event is admitted into the state file and answered 202 at once.
func (s *Server) githubWebhook(w http.ResponseWriter, r *http.Request) {
	if s.gh == nil {
		writeError(w, http.StatusNotFound, "GitHub is not configured: add serve.github (or an environment with github:) to the config")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxGitHubBody)
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if sig == "" || !strings.HasPrefix(sig, "sha256=") {
		s.metrics.verifyFailures.WithLabelValues("github", "missing_signature").Inc()
		writeError(w, http.StatusUnauthorized, "no %s header with a sha256= signature: set the App's webhook secret", github.SHA256SignatureHeader)
		return
	}
	payload, err := github.ValidatePayload(r, s.gh.secret)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.refused.WithLabelValues("github", "too_large").Inc()
			writeError(w, http.StatusRequestEntityTooLarge, "body over %d bytes", maxGitHubBody)
			return
		}
		s.metrics.verifyFailures.WithLabelValues("github", "bad_signature").Inc()
		writeError(w, http.StatusUnauthorized, "the signature does not match the webhook secret")
		return
	}
	delivery := github.DeliveryID(r)
	switch event := github.WebHookType(r); event {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"status": "pong"})
		return
	case "deployment_protection_rule":
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "event": event})
		return
	}
	var ev github.DeploymentProtectionRuleEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		s.refuse(w, "github", "bad_request", http.StatusBadRequest, "the event is not JSON: %v", err)
		return
	}
	if ev.GetAction() != "requested" {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "action": ev.GetAction()})
		return
	}
	e, err := s.githubEvaluation(&ev)
	if err != nil {
		s.refuse(w, "github", "bad_request", http.StatusBadRequest, "%v", err)
		return
	}
	if e.GitHub.RunID == 0 {
		s.refuse(w, "github", "callback_url", http.StatusBadRequest, "%s", e.Error)
		return
	}
	s.admit(w, e, delivery)
}

// githubEvaluation builds the evaluation of an event, after checking that
// its callback is GitHub's own review endpoint for its repository.
func (s *Server) githubEvaluation(ev *github.DeploymentProtectionRuleEvent) (*store.Evaluation, error) {
	repo := ev.GetRepo()
	owner, name := repo.GetOwner().GetLogin(), repo.GetName()
	if owner == "" || name == "" {
		if o, n, ok := strings.Cut(repo.GetFullName(), "/"); ok {
			owner, name = o, n
		}
	}
	env := ev.GetEnvironment()
	switch {
	case owner == "" || name == "":
		return nil, errors.New("the event names no repository")
	case env == "":
		return nil, errors.New("the event names no environment")
	case ev.GetInstallation().GetID() == 0:
		return nil, errors.New("the event has no installation id: is it from the GitHub App?")
	case ev.GetDeploymentCallbackURL() == "":
		return nil, errors.New("the event has no deployment_callback_url")
	}
	now := s.clock.Now().UTC()
	dep := ev.GetDeployment()
	e := &store.Evaluation{
		Platform: "github", Mode: "review", Repository: owner + "/" + name, Environment: env, ReceivedAt: now,
		GitHub: &store.GitHubCallback{Installation: ev.GetInstallation().GetID(), Owner: owner, Repo: name, DeploymentID: dep.GetID(), Environment: env, SHA: dep.GetSHA(), Ref: dep.GetRef()},
	}
	runID, err := s.gh.app.RunID(ev.GetDeploymentCallbackURL(), owner, name)
	if err != nil {
		e.Error = err.Error()
		return e, nil
	}
	e.GitHub.RunID = runID
	if html := repo.GetHTMLURL(); html != "" {
		e.RunURL = fmt.Sprintf("%s/actions/runs/%d", strings.TrimRight(html, "/"), runID)
	}
	// One evaluation per run and environment: GitHub's review answers every
	// deployment of the run to the environment at once. A new deployment
	// after the review is a re-run and is judged afresh.
	e.Key = fmt.Sprintf("github/%s/%d/%s", strings.ToLower(e.Repository), runID, strings.ToLower(env))
	e.Instance = fmt.Sprint(dep.GetID())
	req, perr := fromPayload(dep.Payload)
	entry, ok := s.sc.MatchGitHub(e.Repository, env)
	s.resolve(e, entry, ok, req)
	if perr != nil && e.Invalid == "" {
		e.Invalid = perr.Error()
	}
	return e, nil
}

// fromPayload reads what a deployment asks of sloguard from its payload:
// {"sloguard": {"watch": "10m", "since": "RFC 3339"}}, as an object or as
// a JSON string holding one (some clients send the payload as a string).
// A payload without a sloguard key asks nothing.
func fromPayload(raw json.RawMessage) (request, error) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = json.RawMessage(text)
	}
	var p struct {
		Sloguard json.RawMessage `json:"sloguard"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil || len(p.Sloguard) == 0 || string(p.Sloguard) == "null" {
		return request{}, nil
	}
	var req request
	dec := json.NewDecoder(strings.NewReader(string(p.Sloguard)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return request{}, fmt.Errorf(`the deployment payload's "sloguard" must be {"watch": "10m", "since": "2026-11-23T17:00:00Z"}: %v`, err)
	}
	return req, nil
}

// githubReview is the review an evaluation's decision calls for.
func githubReview(e *store.Evaluation, d *report.Decision) ghapp.Review {
	state := "rejected"
	if approves(d) {
		state = "approved"
	}
	return ghapp.Review{EnvironmentName: e.GitHub.Environment, State: state, Comment: comment(state, d, e.ID)}
}
