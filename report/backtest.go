package report

import (
	"io"
	"sort"
	"time"
)

// BacktestSchema names the backtest record's format; additive changes only.
const BacktestSchema = "sloguard.backtest/v1"

// Backtest is the record of `sloguard backtest`: the watch policy replayed
// over past windows, one run per window, no action taken.
type Backtest struct {
	Schema         string            `json:"schema"`
	Config         string            `json:"config,omitempty"`
	SLOs           []string          `json:"slos"`
	From           time.Time         `json:"from"`
	To             time.Time         `json:"to"`
	Every          string            `json:"every"`
	Duration       string            `json:"duration"`
	Interval       string            `json:"interval"`
	Labels         map[string]string `json:"labels"`
	BaselineLabels map[string]string `json:"baseline_labels,omitempty"`
	Windows        int               `json:"windows"`
	Decisions      Tally             `json:"decisions"`
	Runs           []BacktestRun     `json:"runs"`
	Reads          Reads             `json:"reads"`
	// Warnings are what the checks before the replay found: a track whose
	// labels match no series in the range, with the closest values.
	Warnings []string `json:"warnings,omitempty"`
	// Error is why the backtest did not run (exit 2 or 3): then there are
	// no windows, and every count is 0.
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Run        *RunInfo  `json:"run,omitempty"`
}

// Tally counts the runs by decision.
type Tally struct {
	Pass         int `json:"pass"`
	Fail         int `json:"fail"`
	Inconclusive int `json:"inconclusive"`
}

// Add counts one decision.
func (t *Tally) Add(decision string) {
	switch decision {
	case Pass:
		t.Pass++
	case Fail:
		t.Fail++
	default:
		t.Inconclusive++
	}
}

// BacktestRun is one window, decided as `watch --since SINCE` would have.
type BacktestRun struct {
	Since     time.Time  `json:"since"`
	Decision  string     `json:"decision"`
	DecidedAt *time.Time `json:"decided_at"` // when the evidence crossed the rollback boundary; null otherwise
	// DecidedAfter is DecidedAt - Since ("3m30s"), or the window's elapsed
	// time when it ran to its end.
	DecidedAfter string        `json:"decided_after"`
	Reason       string        `json:"reason"`
	SLOs         []BacktestSLO `json:"slos"`
}

// BacktestSLO is one SLO's figures at the end of one run.
type BacktestSLO struct {
	Name          string     `json:"name"`
	Decision      string     `json:"decision"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	Canary        *Events    `json:"canary,omitempty"`
	Baseline      *Events    `json:"baseline,omitempty"`
	CanaryRatio   *float64   `json:"canary_error_ratio,omitempty"`
	BaselineRatio *float64   `json:"baseline_error_ratio,omitempty"`
	Statistic     *float64   `json:"statistic,omitempty"`
	Value         *float64   `json:"value,omitempty"`
}

// Reads counts what the replay asked the backends: range reads serve every
// window at once, point reads one evaluation time each (backends without
// range queries, or servers that move their times).
type Reads struct {
	Range int `json:"range"`
	Point int `json:"point"`
}

// BacktestRenderer writes a backtest record in one format.
type BacktestRenderer interface {
	RenderBacktest(w io.Writer, b *Backtest) error
}

// FailedRuns lists the runs that would have rolled back.
func (b *Backtest) FailedRuns() []BacktestRun { return b.runsWith(Fail) }

// UnsureRuns lists the inconclusive runs.
func (b *Backtest) UnsureRuns() []BacktestRun { return b.runsWith(Inconclusive) }

func (b *Backtest) runsWith(decision string) []BacktestRun {
	var out []BacktestRun
	for _, r := range b.Runs {
		if r.Decision == decision {
			out = append(out, r)
		}
	}
	return out
}

// MedianTimeToFail is the median of DecidedAt - Since over the failed runs
// that say when they decided, and whether there was one.
func (b *Backtest) MedianTimeToFail() (time.Duration, bool) {
	var ds []time.Duration
	for _, r := range b.Runs {
		if r.Decision == Fail && r.DecidedAt != nil {
			ds = append(ds, r.DecidedAt.Sub(r.Since))
		}
	}
	if len(ds) == 0 {
		return 0, false
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if n := len(ds); n%2 == 0 {
		return (ds[n/2-1] + ds[n/2]) / 2, true
	}
	return ds[len(ds)/2], true
}
