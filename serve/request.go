package serve

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sloguard/sloguard/serve/store"
	"github.com/sloguard/sloguard/slo"
)

// request is what a deployment may ask of sloguard: the canary window to
// watch (under policy check_then_watch) and when the canary started.
type request struct {
	Watch string `json:"watch"`
	Since string `json:"since"`
}

// resolve fills in what an evaluation is judged on: the matching
// environment entry's SLOs and policy, and the canary window. A request
// that cannot be honoured makes the evaluation invalid: it is answered
// with a rejection that says why, never silently judged on something
// else.
func (s *Server) resolve(e *store.Evaluation, env Environment, ok bool, req request) {
	e.Matched = ok
	if !ok {
		return
	}
	e.Policy, e.SLOs = env.Policy, env.SLOs
	if env.Policy != PolicyCheckThenWatch {
		return
	}
	watch := env.Watch
	if req.Watch != "" {
		d, err := slo.ParseDuration(req.Watch)
		switch {
		case err != nil || d <= 0:
			e.Invalid = fmt.Sprintf("watch %q is not a duration such as 10m", req.Watch)
		case d > s.sc.MaxWatch:
			e.Invalid = fmt.Sprintf("watch %s is longer than serve.max_watch (%s)", req.Watch, slo.FormatDuration(s.sc.MaxWatch))
		case baselineOffset(s.cfg) > 0 && d > baselineOffset(s.cfg):
			e.Invalid = fmt.Sprintf("watch %s is longer than canary.baseline.offset (%s): the baseline would overlap the period after the deploy", req.Watch, slo.FormatDuration(baselineOffset(s.cfg)))
		default:
			watch = d
		}
	}
	e.Watch = slo.FormatDuration(watch)
	if req.Since != "" {
		t, err := time.Parse(time.RFC3339, req.Since)
		now := s.clock.Now()
		switch {
		case err != nil:
			e.Invalid = fmt.Sprintf("since %q is not an RFC 3339 time such as 2026-11-23T17:00:00Z", req.Since)
		case t.After(now.Add(time.Minute)):
			e.Invalid = fmt.Sprintf("since %s is in the future", req.Since)
		case t.Before(now.Add(-s.sc.MaxWatch - 24*time.Hour)):
			e.Invalid = fmt.Sprintf("since %s is more than a day before the longest watch", req.Since)
		default:
			t = t.UTC()
			e.Since = &t
		}
	}
}

// admit stores the evaluation (or finds the one a redelivery names) and
// answers: 202 for a new one (200 to Azure DevOps), 200 "duplicate" for a
// repeat. Nothing is evaluated twice.
func (s *Server) admit(w http.ResponseWriter, e *store.Evaluation, delivery string) {
	if s.draining.Load() {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "shutting down: retry in a moment")
		return
	}
	if s.pending.Load() >= maxPending {
		w.Header().Set("Retry-After", "30")
		s.refuse(w, e.Platform, "too_many_pending", http.StatusServiceUnavailable, "%d evaluations pending: retry later", maxPending)
		return
	}
	got, created, err := s.st.Admit(e, delivery)
	if err != nil {
		s.log.Error("cannot store an evaluation", "platform", e.Platform, "error", err)
		writeError(w, http.StatusInternalServerError, "cannot store the evaluation: see sloguard's log")
		return
	}
	s.metrics.admitted.WithLabelValues(e.Platform, fmt.Sprint(!created)).Inc()
	if !created {
		s.log.Info("repeat of a known deployment: not evaluated again", "id", got.ID, "platform", e.Platform, "delivery", delivery, "state", got.State)
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate", "id": got.ID, "state": got.State})
		return
	}
	s.log.Info("deployment admitted", "id", e.ID, "platform", e.Platform, "repository", e.Repository, "project", e.Project,
		"environment", e.Environment, "matched", e.Matched, "policy", e.Policy, "watch", e.Watch, "delivery", delivery)
	s.spawn(e)
	status := http.StatusAccepted
	if e.Platform == "azure" {
		status = http.StatusOK // Azure DevOps documents receipt as an HTTP 200
	}
	writeJSON(w, status, map[string]string{"status": "accepted", "id": e.ID})
}

// refuse answers an authenticated request sloguard will not act on.
func (s *Server) refuse(w http.ResponseWriter, platform, reason string, status int, format string, args ...any) {
	s.metrics.refused.WithLabelValues(platform, reason).Inc()
	msg := s.redact.Replace(fmt.Sprintf(format, args...))
	s.log.Warn("request refused", "platform", platform, "reason", reason, "detail", msg)
	writeError(w, status, "%s", strings.TrimSpace(msg))
}
