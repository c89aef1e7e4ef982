package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/serve/azdo"
	"github.com/sloguard/sloguard/serve/ghapp"
	"github.com/sloguard/sloguard/serve/store"
	"github.com/sloguard/sloguard/slo"
)

// spawn runs one evaluation in the background. Evaluations are cheap
// goroutines: the providers bound the queries in flight per backend.
func (s *Server) spawn(e *store.Evaluation) {
	s.mu.Lock()
	s.waiters[e.ID] = make(chan struct{})
	s.mu.Unlock()
	s.pending.Add(1)
	s.metrics.pending.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.process(s.evalCtx, e)
	}()
}

// done marks an evaluation finished for the sync waiters and the gauges.
func (s *Server) done(e *store.Evaluation) {
	s.pending.Add(-1)
	s.metrics.pending.Dec()
	s.mu.Lock()
	if ch, ok := s.waiters[e.ID]; ok {
		close(ch)
		delete(s.waiters, e.ID)
	}
	s.mu.Unlock()
}

// process decides, keeps the decision, and answers the platform. When
// the server stops midway (ctx done), what it has not finished stays
// pending in the state file and the next start resumes it: a decision
// already kept is answered without evaluating again.
func (s *Server) process(ctx context.Context, e *store.Evaluation) {
	defer func() {
		if e.State != store.Done {
			s.pending.Add(-1)
			s.metrics.pending.Dec()
		}
	}()
	if e.Decision == nil {
		d := s.decide(ctx, e)
		if ctx.Err() != nil {
			return
		}
		e.Decision = d
		e.Outcome = outcome(e, d)
		s.metrics.decisions.WithLabelValues(e.Platform, d.Decision).Inc()
		s.metrics.duration.WithLabelValues(e.Platform, policyLabel(e)).Observe(s.clock.Now().Sub(e.ReceivedAt).Seconds())
		s.log.Info("decided", "id", e.ID, "platform", e.Platform, "repository", e.Repository, "project", e.Project,
			"environment", e.Environment, "decision", d.Decision, "outcome", e.Outcome, "reason", s.redact.Replace(d.Reason))
		if e.Mode == "sync" { // the next poll carries the answer
			s.finish(e, "")
			return
		}
		if err := s.st.Save(e); err != nil {
			s.log.Error("cannot keep a decision; it is answered all the same", "id", e.ID, "error", err)
		}
	}
	s.deliver(ctx, e)
}

func policyLabel(e *store.Evaluation) string {
	if !e.Matched {
		return "unmatched"
	}
	return e.Policy
}

// decide turns an evaluation into a decision record: the engine's, or one
// that says why there was nothing to evaluate.
func (s *Server) decide(ctx context.Context, e *store.Evaluation) *report.Decision {
	now := s.clock.Now().UTC()
	plain := func(decision, reason string) *report.Decision {
		return &report.Decision{Schema: report.Schema, Command: "check", Decision: decision, Reason: reason, Config: s.cfg.Source,
			EvaluatedAt: now, SLOs: []report.SLO{}, StartedAt: now, FinishedAt: now}
	}
	where := e.Platform + " " + e.Repository + e.Project + " environment " + e.Environment
	var d *report.Decision
	switch {
	case e.Invalid != "":
		d = plain(report.Inconclusive, "the deployment's request to sloguard is invalid: "+e.Invalid)
	case !e.Matched && s.sc.Default == DefaultReject:
		d = plain(report.Fail, "sloguard has no SLOs for "+where+", and serve.default is reject")
	case !e.Matched:
		d = plain(report.Pass, "sloguard has no SLOs for "+where+": approved without a check (serve.default: approve)")
	default:
		t := Target{SLOs: e.SLOs, Checked: e.Checked}
		if e.Policy == PolicyCheckThenWatch {
			t.Watch, _ = parseWatch(e.Watch)
		}
		if e.Since != nil {
			t.Since = *e.Since
		}
		var err error
		d, err = Evaluate(ctx, s.cfg, s.provs, t, EvalOptions{Clock: s.clock, Log: s.log.With("id", e.ID), OnChecked: func(c *report.Decision, since time.Time) {
			e.Checked, e.Since = c, &since
			if err := s.st.Save(e); err != nil {
				s.log.Error("cannot keep the gate's decision: a restart would check again", "id", e.ID, "error", err)
			}
		}})
		if err != nil {
			d = plain(report.Inconclusive, "sloguard cannot evaluate: "+s.redact.Replace(err.Error()))
		}
	}
	d.Run = runInfo(e)
	return d
}

// runInfo says where the deployment runs, for the record.
func runInfo(e *store.Evaluation) *report.RunInfo {
	r := &report.RunInfo{Platform: e.Platform, URL: e.RunURL}
	if e.GitHub != nil {
		r.Commit = e.GitHub.SHA
	}
	return r
}

func parseWatch(s string) (time.Duration, error) { return slo.ParseDuration(s) }

func outcome(e *store.Evaluation, d *report.Decision) string {
	ok := approves(d)
	switch {
	case e.Platform == "github" && ok:
		return "approved"
	case e.Platform == "github":
		return "rejected"
	case ok:
		return "succeeded"
	}
	return "failed"
}

// deliver answers the platform, retrying outages for minutes (the HTTP
// client retries each call too). A refusal that repeating cannot fix ends
// the evaluation with the error kept.
func (s *Server) deliver(ctx context.Context, e *store.Evaluation) {
	resumed := e.Attempts > 0
	var err error
	for i, wait := range s.backoff {
		if err = sleep(ctx, wait); err != nil {
			return
		}
		e.Attempts++
		if err = s.callback(ctx, e); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		if permanent(err) || i == len(s.backoff)-1 {
			break
		}
		s.log.Warn("cannot answer the platform yet; retrying", "id", e.ID, "platform", e.Platform, "attempt", e.Attempts, "error", s.redact.Replace(err.Error()))
	}
	msg := ""
	if err != nil {
		msg = s.redact.Replace(err.Error())
		if resumed {
			msg += " (an earlier attempt, before a restart, may have been delivered)"
		}
		s.metrics.callbacks.WithLabelValues(e.Platform, "error").Inc()
		s.log.Error("cannot answer the platform: giving up", "id", e.ID, "platform", e.Platform, "attempts", e.Attempts, "error", msg)
	} else {
		s.metrics.callbacks.WithLabelValues(e.Platform, "ok").Inc()
		s.log.Info("answered", "id", e.ID, "platform", e.Platform, "outcome", e.Outcome, "attempts", e.Attempts)
	}
	s.finish(e, msg)
}

// finish marks the evaluation done in the state file.
func (s *Server) finish(e *store.Evaluation, errText string) {
	now := s.clock.Now().UTC()
	e.State, e.FinishedAt, e.Error = store.Done, &now, errText
	if err := s.st.Save(e); err != nil {
		s.log.Error("cannot mark an evaluation done: a restart answers it again", "id", e.ID, "error", err)
	}
	s.done(e)
}

// callback sends the decision to the platform once.
func (s *Server) callback(ctx context.Context, e *store.Evaluation) error {
	switch {
	case e.GitHub != nil:
		if s.gh == nil {
			return &ghapp.PermanentError{Err: errors.New("GitHub is no longer configured: cannot review")}
		}
		r := githubReview(e, e.Decision)
		r.Comment = s.redact.Replace(r.Comment)
		e.Comment = r.Comment
		g := e.GitHub
		return s.gh.app.Review(ctx, g.Installation, g.Owner, g.Repo, g.RunID, r)
	case e.Azure != nil:
		if s.az == nil {
			return &azdo.StatusError{Status: 400, Body: "Azure DevOps is no longer configured: cannot call back"}
		}
		return s.completeAzure(ctx, e)
	}
	return fmt.Errorf("evaluation %s has no platform to answer", e.ID)
}

func permanent(err error) bool {
	var pe *ghapp.PermanentError
	var se *azdo.StatusError
	return errors.As(err, &pe) || (errors.As(err, &se) && se.Permanent())
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
