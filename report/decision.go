// Package report holds the decision record, sloguard's one output, and its
// renderings: text for people, JSON for machines, markdown for job
// summaries.
package report

import (
	"io"
	"time"
)

// Schema names the record's format; changes to it are additive only.
const Schema = "sloguard.decision/v1"

// Decisions.
const (
	Pass         = "pass"
	Fail         = "fail"
	Inconclusive = "inconclusive"
	Overridden   = "overridden"
	// Error is the decision of a run that evaluated nothing (exit 2: a
	// config or usage error, a bad query): written so that CI still gets a
	// record, outputs and a summary that say why.
	Error = "error"
)

// Decision is the decision record of one run.
type Decision struct {
	Schema      string    `json:"schema"`
	Command     string    `json:"command"`
	Decision    string    `json:"decision"`
	Reason      string    `json:"reason"`
	Override    string    `json:"override,omitempty"` // the reason given with --override
	Config      string    `json:"config,omitempty"`
	EvaluatedAt time.Time `json:"evaluated_at,omitzero"` // the one timestamp every query of the run used; absent when nothing was evaluated (decision error)
	SLOs        []SLO     `json:"slos"`
	Canary      *Canary   `json:"canary,omitempty"`
	Actions     []Action  `json:"actions,omitempty"`
	// RollbackID identifies one rollback to every receiver: the webhook's
	// webhook-id, the dispatch events' delivery_id, SLOGUARD_ROLLBACK_ID.
	RollbackID string    `json:"rollback_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"` // absent in the record the rollback actions get: the run is not over
	Run        *RunInfo  `json:"run,omitempty"`
}

// RunInfo says where the run happened, when it ran in CI.
type RunInfo struct {
	Platform string `json:"platform"` // github | azure
	URL      string `json:"url,omitempty"`
	Commit   string `json:"commit,omitempty"`
}

// SLO is the verdict on one SLO, with the figures behind it.
type SLO struct {
	Name                 string              `json:"name"`
	Service              string              `json:"service,omitempty"`
	Objective            float64             `json:"objective"`
	Window               string              `json:"window"`
	Budgeting            string              `json:"budgeting"`
	SLI                  *float64            `json:"sli"`                    // percent; null without data
	ErrorBudgetRemaining *float64            `json:"error_budget_remaining"` // percent; null without data
	BurnRates            map[string]*float64 `json:"burn_rates"`             // null: no data in that window, or it could not be read
	Events               *Events             `json:"events,omitempty"`
	Slices               *Slices             `json:"slices,omitempty"`
	Alerts               []Alert             `json:"burn_rate_alerts,omitempty"`
	Decision             string              `json:"decision"`
	Reasons              []string            `json:"reasons"`
	Queries              []string            `json:"queries,omitempty"` // as sent to the backend
	Error                string              `json:"error,omitempty"`
	Warnings             []string            `json:"warnings,omitempty"` // e.g. a label value that matches no series, with the closest ones
}

// Events are the good and total events over the SLO window.
type Events struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
}

// Slices count time slices over the SLO window (timeslices budgeting).
type Slices struct {
	Good  int    `json:"good"`
	Total int    `json:"total"`
	Size  string `json:"size"`
}

// Alert is one multi-window multi-burn-rate pair as evaluated.
type Alert struct {
	Long      string  `json:"long"`
	Short     string  `json:"short"`
	Factor    float64 `json:"factor"`
	LongBurn  float64 `json:"long_burn_rate"`
	ShortBurn float64 `json:"short_burn_rate"`
	Firing    bool    `json:"firing"`
}

// Canary is what `watch` adds to the record.
type Canary struct {
	Duration  string            `json:"duration"`
	Interval  string            `json:"interval"`
	Since     time.Time         `json:"since"`
	Elapsed   string            `json:"elapsed"`
	DecidedAt *time.Time        `json:"decided_at,omitempty"`
	Labels    map[string]string `json:"labels"`
	Baseline  map[string]string `json:"baseline_labels,omitempty"`
	// Judged and BaselineDescription say in words what was watched and
	// what it was compared with; BaselineOffset is set when the baseline
	// is the same queries that long before (a deploy without a split).
	Judged              string      `json:"judged,omitempty"`
	BaselineDescription string      `json:"baseline_description,omitempty"`
	BaselineOffset      string      `json:"baseline_offset,omitempty"`
	SLOs                []CanarySLO `json:"slos"`
	Timeline            []Tick      `json:"timeline"`
	Interrupted         bool        `json:"interrupted,omitempty"`
}

// CanarySLO holds one SLO's canary figures and its sequential statistics.
type CanarySLO struct {
	Name          string     `json:"name"`
	Kind          string     `json:"kind"` // events | threshold
	Canary        *Events    `json:"canary,omitempty"`
	Baseline      *Events    `json:"baseline,omitempty"`
	CanaryRatio   *float64   `json:"canary_error_ratio,omitempty"`
	BaselineRatio *float64   `json:"baseline_error_ratio,omitempty"`
	AllowedRatio  float64    `json:"allowed_error_ratio,omitempty"`
	Tests         []Test     `json:"tests,omitempty"`
	Statistic     *float64   `json:"statistic,omitempty"` // log of the absolute question's evidence; each test in Tests has its own boundary
	Value         *float64   `json:"value,omitempty"`
	BaselineValue *float64   `json:"baseline_value,omitempty"`
	Threshold     string     `json:"threshold,omitempty"`
	BadIntervals  int        `json:"consecutive_bad_intervals,omitempty"`
	Decision      string     `json:"decision"`
	Reason        string     `json:"reason,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	Queries       []string   `json:"queries,omitempty"`
	// Intervals counts a threshold SLI's intervals with a value, and the
	// bad ones among them.
	Intervals *Intervals `json:"intervals,omitempty"`
	// Dispersion is what the events test assumes about error bursts.
	Dispersion *Dispersion `json:"dispersion,omitempty"`
	// BaselineBurning: the canary breached the SLO while the baseline
	// burned as fast (on_baseline_breach decides).
	BaselineBurning bool `json:"baseline_burning,omitempty"`
	// Error is the SLO's latest reading error, while its readings fail.
	Error string `json:"error,omitempty"`
}

// Intervals counts a threshold SLI's intervals.
type Intervals struct {
	Bad   int `json:"bad"`
	Total int `json:"total"`
}

// Dispersion is the variance over the mean of error counts that the
// events test assumes (1: Poisson), as estimated from history at the start
// and raised during the watch when the baseline shows more.
type Dispersion struct {
	Assumed     float64 `json:"assumed"`
	FromHistory float64 `json:"history"`
	Source      string  `json:"source"`
}

// Test is one sequential test's state. Statistic is the log of its mixture
// likelihood ratio (the canary rolls back when the SLO's combined evidence
// reaches Reject, log 1/α); EffectStatistic is the log likelihood ratio of
// "bad by the effect size" against "healthy", which must fall to Accept
// (log β) for a pass.
type Test struct {
	Name            string  `json:"name"` // absolute | relative
	Statistic       float64 `json:"statistic"`
	Reject          float64 `json:"reject_boundary"`
	EffectStatistic float64 `json:"effect_statistic"`
	Accept          float64 `json:"accept_boundary"`
	Alpha           float64 `json:"alpha"`
	Hypothesis      string  `json:"hypothesis"`
}

// Tick is one interval of a watch.
type Tick struct {
	At      time.Time          `json:"at"`
	Elapsed string             `json:"elapsed"`
	SLOs    map[string]TickSLO `json:"slos"`
	Error   string             `json:"error,omitempty"`
}

// TickSLO is one SLO's reading at a tick.
type TickSLO struct {
	CanaryRatio   *float64 `json:"canary_error_ratio,omitempty"`
	BaselineRatio *float64 `json:"baseline_error_ratio,omitempty"`
	Value         *float64 `json:"value,omitempty"`
	BaselineValue *float64 `json:"baseline_value,omitempty"`
	CanaryTotal   float64  `json:"canary_total,omitempty"`
	Statistic     float64  `json:"statistic,omitempty"`
	Error         string   `json:"error,omitempty"` // this SLO's reading failed at this tick
}

// Action is the outcome of one rollback action.
type Action struct {
	Type     string `json:"type"` // command | webhook | github
	Target   string `json:"target"`
	Status   string `json:"status"` // succeeded | failed | skipped | dry-run
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	Duration string `json:"duration"`
}

// LowestBudget is the lowest budget remaining across SLOs, and whether any
// SLO had one.
func (d *Decision) LowestBudget() (float64, bool) {
	var low float64
	found := false
	for _, s := range d.SLOs {
		if s.ErrorBudgetRemaining != nil && (!found || *s.ErrorBudgetRemaining < low) {
			low, found = *s.ErrorBudgetRemaining, true
		}
	}
	return low, found
}

// Failing lists the SLOs whose own decision is fail.
func (d *Decision) Failing() []SLO { return d.withDecision(Fail) }

// Unsure lists the SLOs whose own decision is inconclusive.
func (d *Decision) Unsure() []SLO { return d.withDecision(Inconclusive) }

func (d *Decision) withDecision(decision string) []SLO {
	var out []SLO
	for _, s := range d.SLOs {
		if s.Decision == decision {
			out = append(out, s)
		}
	}
	return out
}

// Renderer writes a decision in one format.
type Renderer interface {
	Render(w io.Writer, d *Decision) error
}

// Outcomes of a rollback by hand, which Outcome leads its renderings with.
const (
	RolledBack     = "rolled back"
	RollbackFailed = "rollback failed"
	RollbackDryRun = "dry run"
	NotRolledBack  = "nothing rolled back"
)

// Outcome is the word a rendering leads with: the decision, except for a
// rollback by hand, whose decision (fail, the reason it ran) does not say
// what happened: then whether its actions rolled back.
func (d *Decision) Outcome() string {
	if d.Command != "rollback" || d.Decision == Error {
		return d.Decision
	}
	n := map[string]int{}
	for _, a := range d.Actions {
		n[a.Status]++
	}
	switch {
	case n["failed"] > 0:
		return RollbackFailed
	case n["succeeded"] > 0:
		return RolledBack
	case n["dry-run"] > 0:
		return RollbackDryRun
	}
	return NotRolledBack
}
