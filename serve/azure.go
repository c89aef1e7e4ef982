package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sloguard/sloguard/serve/azdo"
	"github.com/sloguard/sloguard/serve/store"
)

// azureAuth checks the credentials of the check's service connection
// (a Generic service connection sends them as basic auth).
func (s *Server) azureAuth(w http.ResponseWriter, r *http.Request) bool {
	if s.az == nil {
		writeError(w, http.StatusNotFound, "Azure DevOps is not configured: add serve.azure to the config")
		return false
	}
	user, pass, ok := r.BasicAuth()
	good := ok && subtle.ConstantTimeCompare([]byte(user), []byte(s.az.user)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.az.password)) == 1
	if good {
		return true
	}
	reason := "bad_credentials"
	if !ok {
		reason = "missing_credentials"
	}
	s.metrics.verifyFailures.WithLabelValues("azure", reason).Inc()
	w.Header().Set("WWW-Authenticate", `Basic realm="sloguard"`)
	writeError(w, http.StatusUnauthorized, "the check's service connection must send the user name and password sloguard reads from serve.azure.username_env and password_env")
	return false
}

// azureCheck reads and vets a check request: its pipeline run from the
// headers, its organisation against allowed_orgs, its project and
// environment from the query or the JSON body.
func (s *Server) azureCheck(w http.ResponseWriter, r *http.Request, mode string) (*store.Evaluation, bool) {
	if !s.azureAuth(w, r) {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAzureBody)
	chk, err := azdo.FromHeaders(r.Header, mode == "async")
	if err != nil {
		s.refuse(w, "azure", "bad_request", http.StatusBadRequest, "%v", err)
		return nil, false
	}
	if !chk.Allowed(s.sc.Azure.AllowedOrgs) {
		s.refuse(w, "azure", "org_not_allowed", http.StatusForbidden, "organisation %q is not in serve.azure.allowed_orgs: sloguard calls back only to the organisations listed there", chk.PlanURL)
		return nil, false
	}
	p, err := azureParams(r)
	if err != nil {
		s.refuse(w, "azure", "bad_request", http.StatusBadRequest, "%v", err)
		return nil, false
	}
	org, _ := chk.Org()
	now := s.clock.Now().UTC()
	e := &store.Evaluation{
		Key:      fmt.Sprintf("azure/%s/%s/%s/%s", org, chk.PlanID, chk.JobID, chk.TaskInstanceID),
		Platform: "azure", Mode: mode, Project: p.Project, Environment: p.Environment, ReceivedAt: now,
		Azure: &store.AzureCallback{PlanURL: chk.PlanURL, ProjectID: chk.ProjectID, HubName: chk.HubName, PlanID: chk.PlanID,
			JobID: chk.JobID, TimelineID: chk.TimelineID, TaskInstanceID: chk.TaskInstanceID},
	}
	if mode == "async" {
		e.Azure.AuthToken = chk.AuthToken
	}
	if b := r.Header.Get("BuildId"); buildID.MatchString(b) {
		e.RunURL = fmt.Sprintf("%s/%s/_build/results?buildId=%s", org, chk.ProjectID, b)
	}
	entry, ok := s.sc.MatchAzure(p.Project, p.Environment)
	s.resolve(e, entry, ok, p.request)
	return e, true
}

var buildID = regexp.MustCompile(`^[0-9]{1,12}$`)

type azureRequest struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	request
}

// azureParams reads project, environment, watch and since from the query
// (the check's URL suffix), then from a JSON body, which wins.
func azureParams(r *http.Request) (azureRequest, error) {
	q := r.URL.Query()
	p := azureRequest{Project: q.Get("project"), Environment: q.Get("environment"), request: request{Watch: q.Get("watch"), Since: q.Get("since")}}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return p, fmt.Errorf("body over %d bytes", maxAzureBody)
		}
		return p, err
	}
	if strings.TrimSpace(string(body)) != "" {
		var b azureRequest
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return p, fmt.Errorf(`the body must be JSON such as {"project": "shop", "environment": "production", "watch": "10m"}: %v`, err)
		}
		p.Project, p.Environment = or(b.Project, p.Project), or(b.Environment, p.Environment)
		p.Watch, p.Since = or(b.Watch, p.Watch), or(b.Since, p.Since)
	}
	if p.Project == "" || p.Environment == "" {
		return p, errors.New("name the project and the environment: add ?project=shop&environment=production to the check's URL suffix (or put them in a JSON body)")
	}
	return p, nil
}

// azureAsync is the asynchronous (Callback) check: acknowledged at once,
// answered later with the TaskCompleted event.
func (s *Server) azureAsync(w http.ResponseWriter, r *http.Request) {
	if e, ok := s.azureCheck(w, r, "async"); ok {
		s.admit(w, e, "")
	}
}

// azureSync is the synchronous (ApiResponse) check: the answer carries
// "decision", so that the success criterion eq(root['decision'], 'pass')
// decides. An evaluation that takes longer than a couple of seconds
// answers "pending" and the next poll (Time between evaluations) gets it.
func (s *Server) azureSync(w http.ResponseWriter, r *http.Request) {
	e, ok := s.azureCheck(w, r, "sync")
	if !ok {
		return
	}
	if s.draining.Load() {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "shutting down: retry in a moment")
		return
	}
	got, created, err := s.st.Admit(e, "")
	if err != nil {
		s.log.Error("cannot store an evaluation", "platform", "azure", "error", err)
		writeError(w, http.StatusInternalServerError, "cannot store the evaluation: see sloguard's log")
		return
	}
	s.metrics.admitted.WithLabelValues("azure", fmt.Sprint(!created)).Inc()
	if created {
		s.spawn(got)
	}
	s.mu.Lock()
	ch := s.waiters[got.ID]
	s.mu.Unlock()
	if ch != nil {
		t := time.NewTimer(syncWait)
		select {
		case <-ch:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	if cur, err := s.st.Get(got.ID); err == nil && cur != nil {
		got = cur
	}
	writeJSON(w, http.StatusOK, syncAnswer(got))
}

// syncAnswer is the synchronous check's body.
func syncAnswer(e *store.Evaluation) map[string]any {
	if e.State != store.Done || e.Decision == nil {
		return map[string]any{"decision": "pending", "state": e.State, "id": e.ID, "reason": "sloguard is still evaluating: the next poll gets the decision"}
	}
	slos := make([]map[string]any, 0, len(e.Decision.SLOs))
	for _, s := range e.Decision.SLOs {
		slos = append(slos, map[string]any{"name": s.Name, "decision": s.Decision, "reasons": s.Reasons})
	}
	return map[string]any{"decision": e.Decision.Decision, "result": e.Outcome, "reason": e.Decision.Reason, "state": e.State, "id": e.ID, "slos": slos}
}

// completeAzure writes the reasons to the check's log (once; a failure
// there is logged, never fatal) and posts TaskCompleted.
func (s *Server) completeAzure(ctx context.Context, e *store.Evaluation) error {
	a := e.Azure
	chk := azdo.Check{PlanURL: a.PlanURL, ProjectID: a.ProjectID, HubName: a.HubName, PlanID: a.PlanID, JobID: a.JobID,
		TimelineID: a.TimelineID, TaskInstanceID: a.TaskInstanceID, AuthToken: a.AuthToken}
	if e.Attempts == 1 {
		lines := []string{fmt.Sprintf("sloguard: %s (%s)", e.Outcome, e.Decision.Decision)}
		for _, l := range summary(e.Decision) {
			lines = append(lines, s.redact.Replace(l))
		}
		lines = append(lines, "evaluation "+e.ID+": GET /v1/decisions?environment="+e.Environment+" has the full record")
		e.Comment = strings.Join(lines, "\n")
		if err := s.az.client.Log(ctx, chk, lines); err != nil {
			s.log.Warn("cannot write the check's log; the decision is sent all the same", "id", e.ID, "error", s.redact.Replace(err.Error()))
		}
	}
	return s.az.client.Complete(ctx, chk, approves(e.Decision))
}
