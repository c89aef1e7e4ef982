// Package slo holds the SLO model, loads it from native, OpenSLO and Sloth
// files, and does the error-budget arithmetic. It is pure: no I/O beyond
// reading the config file, no clock, no network.
package slo

import (
	"fmt"
	"time"
)

// Formats a config file may be written in.
const (
	FormatNative  = "native"
	FormatOpenSLO = "openslo"
	FormatSloth   = "sloth"
)

// Budgeting methods: aggregate (good events / all events) or time-based
// (good time slices / all slices).
const (
	Occurrences = "occurrences"
	Timeslices  = "timeslices"
)

// Policies for no data and provider errors.
const (
	PolicyPass         = "pass"
	PolicyFail         = "fail"
	PolicyInconclusive = "inconclusive"
)

// Config is a validated sloguard configuration, whatever format it came from.
type Config struct {
	Source    string // path of the file it was loaded from
	Format    string // FormatNative, FormatOpenSLO or FormatSloth
	Providers []Provider
	SLOs      []SLO
	Gate      GatePolicy
	Canary    CanaryPolicy
	Rollback  Rollback
	Serve     *Section // the serve: block, which package serve decodes; nil when absent

	where  *problems // locates problems found after loading
	flawed []string  // native paths with a problem, in a partial config (ConfigError.Partial)
}

// Flawed reports whether a problem was found at path, at one of its
// parents, or under it (a whole block, a file-level problem included): a
// partial config's part that checks must leave alone. Always false for a
// config that loaded.
func (c *Config) Flawed(path string) bool {
	for _, f := range c.flawed {
		if f == "" || under(path, f) || under(f, path) {
			return true
		}
	}
	return false
}

// Problem places a problem found after loading (a query a backend
// rejects, a value the static provider refuses) the way Load places its
// own: path is the native path, such as slos[2].sli.error_query, and the
// problem names the file, the line and the field in the file's own terms
// (OpenSLO and Sloth files included).
func (c *Config) Problem(path, format string, args ...any) Problem {
	msg := fmt.Sprintf(format, args...)
	if c.where == nil {
		return Problem{File: c.Source, Path: path, Msg: msg}
	}
	p, _ := c.where.locate(path, msg)
	return p
}

// Errors turns problems found after loading into a *ConfigError, sorted by
// line as Load sorts its own; nil when there are none.
func (c *Config) Errors(list []Problem) error {
	if len(list) == 0 {
		return nil
	}
	ps := &problems{file: c.Source, list: list}
	return ps.err()
}

// SLO is one service level objective.
type SLO struct {
	Name        string
	Service     string
	Description string
	Provider    string  // name of the provider that answers its queries
	Objective   float64 // percent, 0 < objective < 100
	Window      time.Duration
	Budgeting   string    // Occurrences or Timeslices
	Timeslice   Timeslice // used with Timeslices budgeting
	SLI         SLI
}

// Budget is the allowed error ratio, 1 - objective, as a fraction.
func (s SLO) Budget() float64 { return 1 - s.Objective/100 }

// Timeslice says how long a slice is and when it counts as good.
type Timeslice struct {
	Window time.Duration
	Target float64 // percent: a ratio slice is good when its SLI >= Target
}

// SLI says how to measure an SLO. Exactly one shape is set: events
// (ErrorQuery or GoodQuery, with TotalQuery), a raw error ratio, or a
// threshold (Query, Op, Value). {{.window}} in a query stands for the range
// being evaluated.
type SLI struct {
	ErrorQuery      string
	GoodQuery       string
	TotalQuery      string
	ErrorRatioQuery string

	Query       string
	Op          string // < <= > >=
	Value       float64
	Consecutive int // watch: bad intervals in a row before a threshold SLI fails

	// Counter marks queries that select raw counters (OpenSLO counter: true
	// without {{.window}}); the provider takes their increase over the window.
	Counter bool

	// DatadogSLOID reads the SLI of a Datadog SLO object (datadog
	// providers only): its error budget over the window, as an error ratio.
	DatadogSLOID string
}

// Kind tells the SLI shapes apart.
type Kind int

// SLI kinds.
const (
	KindEvents Kind = iota
	KindRatio
	KindThreshold
)

// Kind returns the shape of the SLI.
func (s SLI) Kind() Kind {
	switch {
	case s.Op != "":
		return KindThreshold
	case s.ErrorRatioQuery != "" || s.DatadogSLOID != "":
		return KindRatio
	default:
		return KindEvents
	}
}

// Good reports whether a threshold value meets the SLI.
func (s SLI) Good(v float64) bool {
	switch s.Op {
	case "<":
		return v < s.Value
	case "<=":
		return v <= s.Value
	case ">":
		return v > s.Value
	case ">=":
		return v >= s.Value
	}
	return false
}

// BurnAlert is one multi-window multi-burn-rate pair: it fires when the
// burn rate over both Long and Short exceeds Factor.
type BurnAlert struct {
	Long, Short time.Duration
	Factor      float64
}

// DefaultBurnAlerts are the Google SRE workbook's page-level pairs.
func DefaultBurnAlerts() []BurnAlert {
	return []BurnAlert{
		{Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6},
	}
}

// GatePolicy is the policy `check` applies.
type GatePolicy struct {
	MinBudgetRemaining float64 // percent of the window's budget that must remain
	BurnAlerts         []BurnAlert
	OnNoData           string
	OnError            string
}

// Scope selects the canary or the baseline by label (or tag, or filter).
// Offset, for the baseline only, reads the same queries that much earlier:
// a deploy without a traffic split is compared with its own past.
type Scope struct {
	Labels map[string]string
	Offset time.Duration
}

// CanaryPolicy is the policy `watch` applies.
type CanaryPolicy struct {
	Duration time.Duration
	Interval time.Duration
	Canary   Scope  // no labels: the whole service is judged (no split)
	Baseline *Scope // nil: no baseline comparison

	MaxFalseRollback      float64 // alpha: P(rolling back a healthy canary) over the whole watch
	Power                 float64 // 1 - beta: P(catching a canary at the effect size)
	HealthyBurnRate       float64 // absolute test: a canary burning at most this is healthy
	BreachBurnRate        float64 // absolute test: the effect size a pass must rule out, as a burn rate
	RelativeTolerance     float64 // relative test: a canary with at most this × the baseline's error ratio is healthy
	BreachRelative        float64 // relative test: the effect size a pass must rule out, × the baseline's error ratio
	Consecutive           int     // threshold SLIs: never a breach on fewer bad intervals
	OnNoData              string
	OnError               string
	ConsecutiveErrorLimit int // per SLO: intervals in a row without readings before its verdict is OnError
	// OnBaselineBreach is what the absolute question's rollback becomes
	// while the baseline burns as fast as the canary: inconclusive (the
	// default: the trouble is not the canary's) or fail.
	OnBaselineBreach string
}

// Rollback is what runs when a canary breaches: its actions, in the order
// their kinds run, each attempt within Timeout.
type Rollback struct {
	Timeout time.Duration // per action attempt
	Retries int
	Actions []RollbackAction
}

// RollbackAction is one action under rollback:; its block belongs to its
// kind, which decoded it into Settings (package rollback's own type).
type RollbackAction struct {
	Key      string // command, webhook, github
	Settings any
}

// ActionType is what loading needs to know of one kind of rollback
// action: its key under rollback: and how it reads its block. Package
// rollback lists them; the app layer hands the list to Load.
type ActionType struct {
	Key    string
	Decode func(b *Block) any
}

// ProviderByName returns the named provider.
func (c *Config) ProviderByName(name string) (Provider, bool) {
	return findProvider(c.Providers, name)
}
