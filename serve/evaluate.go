package serve

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// Target is what one deployment is judged on.
type Target struct {
	SLOs  []string      // names; empty: every SLO of the config
	Watch time.Duration // the canary window; 0: the gate alone
	Since time.Time     // the canary's start; zero: when the gate opens
	// Checked is the gate's decision from before a restart: the watch
	// resumes without checking again.
	Checked *report.Decision
}

// EvalOptions are the clock, the log, and a hook for the moment the gate
// opened and the watch begins.
type EvalOptions struct {
	Clock rollout.Clock // nil: the wall clock
	Log   *slog.Logger
	// OnChecked is called once the gate is open and before the watch
	// starts, with the canary's start, so that the caller can keep both.
	OnChecked func(checked *report.Decision, since time.Time)
}

// Evaluate judges one environment: gate.Check over its SLOs, then, when
// the target names a canary window and the gate is open, rollout.Watch
// over that window. It runs no rollback action: the platform's rejection
// is the action. It returns an error only when nothing could be decided
// (an unknown SLO, a query that is itself wrong). This is the one place
// serve meets the engine.
func Evaluate(ctx context.Context, cfg *slo.Config, provs map[string]providers.Provider, t Target, o EvalOptions) (*report.Decision, error) {
	clock := o.Clock
	if clock == nil {
		clock = rollout.RealClock{}
	}
	checked := t.Checked
	if checked == nil {
		started := clock.Now().UTC()
		d, err := gate.Check(ctx, cfg, provs, gate.Options{SLOs: t.SLOs, At: started.Truncate(time.Second)})
		if err != nil {
			return nil, err
		}
		d.Config, d.StartedAt, d.FinishedAt = cfg.Source, started, clock.Now().UTC()
		if t.Watch <= 0 || d.Decision != report.Pass {
			return d, nil
		}
		checked = d
		if t.Since.IsZero() {
			t.Since = clock.Now().UTC().Truncate(time.Second)
		}
		if o.OnChecked != nil {
			o.OnChecked(d, t.Since)
		}
	}
	slos, err := gate.Select(cfg.SLOs, t.SLOs)
	if err != nil {
		return nil, err
	}
	pol := cfg.Canary
	pol.Duration = t.Watch
	pol.Interval = min(pol.Interval, pol.Duration)
	w := &rollout.Watch{SLOs: slos, Providers: provs, Policy: pol, Since: t.Since, Clock: clock, Log: o.Log}
	d, err := w.Run(ctx)
	if err != nil {
		return nil, err
	}
	d.Config, d.SLOs, d.StartedAt, d.FinishedAt = cfg.Source, checked.SLOs, checked.StartedAt, clock.Now().UTC()
	d.Reason = "gate open; canary: " + d.Reason
	return d, nil
}

// approves says whether a decision lets the deployment through.
func approves(d *report.Decision) bool {
	return d.Decision == report.Pass || d.Decision == report.Overridden
}

// summary is the verdict in the decision record's own words: the reason,
// then one line per SLO with its decision and reasons (and the canary's),
// for the GitHub review comment and the Azure check's log.
func summary(d *report.Decision) []string {
	lines := []string{d.Reason}
	for _, s := range d.SLOs {
		line := fmt.Sprintf("- %s: %s", s.Name, s.Decision)
		if len(s.Reasons) > 0 {
			line += ": " + strings.Join(s.Reasons, "; ")
		}
		lines = append(lines, line)
	}
	if d.Canary != nil {
		for _, s := range d.Canary.SLOs {
			line := fmt.Sprintf("- canary %s: %s", s.Name, s.Decision)
			if s.Reason != "" {
				line += ": " + s.Reason
			}
			lines = append(lines, line)
		}
	}
	return lines
}

// maxComment bounds the review comment; the full record stays in
// GET /v1/decisions.
const maxComment = 4000

// comment is the GitHub review comment: verdict, reasons, and where the
// full record is. Mentions are broken up: a backend's error text must not
// notify anyone.
func comment(outcome string, d *report.Decision, id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sloguard: %s (%s)\n", outcome, d.Decision)
	footer := fmt.Sprintf("\nFull record: GET /v1/decisions (evaluation %s)", id)
	for i, l := range summary(d) {
		if b.Len()+len(l)+len(footer) > maxComment {
			fmt.Fprintf(&b, "… %d more line(s) in the record\n", len(summary(d))-i)
			break
		}
		b.WriteString(l + "\n")
	}
	b.WriteString(footer)
	return strings.ReplaceAll(b.String(), "@", "@\u200b")
}
