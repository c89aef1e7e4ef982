package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sloguard/sloguard/internal/suggest"
	"github.com/sloguard/sloguard/slo"
)

// Diagnoser is a backend that can tell a misspelt metric from a quiet
// service. Callers ask only after a reading came back empty, so that the
// happy path costs nothing.
type Diagnoser interface {
	// Diagnose looks at the metrics that queries (resolved queries of q
	// that matched no series, Counts.Unmatched) select over
	// (at-q.Window, at]. A metric name with no series at all there is an
	// *UnknownMetricError, wrapped in a *QueryError. With hints, a known
	// metric whose label matchers match nothing is a *NoMatchError naming
	// the matcher and the closest values that exist. nil when everything it
	// can check exists, or when it cannot tell (the backend failed).
	Diagnose(ctx context.Context, q Query, at time.Time, queries []string, hints bool) error
}

// Explain asks p why a reading came back empty and returns what the
// caller acts on: err itself when there is nothing to explain or p cannot
// tell; an *UnknownMetricError (a bad query: exit 2) when a metric of the
// empty queries has no series at all in the window; in place of a no-data
// err, a *NoMatchError (still no data) that says which label matched
// nothing. c and err are what p.Counts returned for q at at.
func Explain(ctx context.Context, p Provider, q Query, at time.Time, c Counts, err error) error {
	if len(c.Unmatched) == 0 || (err != nil && !errors.Is(err, ErrNoData)) {
		return err
	}
	d, ok := p.(Diagnoser)
	if !ok {
		return err
	}
	derr := d.Diagnose(ctx, q, at, c.Unmatched, err != nil)
	var (
		unknown *UnknownMetricError
		noMatch *NoMatchError
	)
	switch {
	case errors.As(derr, &unknown):
		return derr
	case err != nil && errors.As(derr, &noMatch):
		return derr
	}
	return err
}

// UnknownMetricError is a metric name with no series at all in the window
// evaluated: a misspelt name, not a quiet service. It is a bad query.
type UnknownMetricError struct {
	Metric      string
	Window      time.Duration
	In          string   // where it was looked for, when not the window (the scrapes of a provider's targets)
	Suggestions []string // the closest names that have series, nearest first
}

func (e *UnknownMetricError) Error() string {
	in := fmt.Sprintf("the %s window", slo.FormatDuration(e.Window))
	if e.In != "" {
		in = e.In
	}
	msg := fmt.Sprintf("unknown metric %s: no series at all in %s", e.Metric, in)
	if len(e.Suggestions) > 0 {
		return msg + ": did you mean " + suggest.Phrase(e.Suggestions) + "?"
	}
	return msg + ": check the name against the backend's metrics"
}

// Unwrap makes it a bad query: the run stops with exit code 2.
func (e *UnknownMetricError) Unwrap() error { return ErrBadQuery }

// NoMatchError is a known metric whose label matchers match none of its
// series: no data (a new service has no series yet, and its first deploy
// must not be blocked), with a hint that catches a misspelt value.
type NoMatchError struct {
	Selector    string   // the selector that matches no series
	Metric      string   // its metric
	Matcher     string   // the matcher no series of the metric meets; "" when only their combination fails
	Label       string   // the matcher's label
	Suggestions []string // the label's closest values, nearest first
	Values      []string // some of the label's values, when none is close
	// Outside, when set, is where the query looks ("<start> to <end>
	// (offset 1d)"): the metric has series, but none there, e.g. an
	// offset that reaches back before the metric existed.
	Outside string
}

func (e *NoMatchError) Error() string { return "no data: " + e.Hint() }

// Unwrap makes it no data: the policy (on_no_data) decides.
func (e *NoMatchError) Unwrap() error { return ErrNoData }

// Hint says what matched nothing and what exists instead.
func (e *NoMatchError) Hint() string {
	var b strings.Builder
	if e.Outside != "" {
		fmt.Fprintf(&b, "%s has no series from %s, where the query looks, though it has series nearer the evaluation time: the query looks before the metric existed", e.Metric, e.Outside)
		return b.String()
	}
	fmt.Fprintf(&b, "%s matches no series", e.Selector)
	switch {
	case e.Matcher == "":
		b.WriteString(", though each of its matchers matches some series of " + e.Metric)
	case len(e.Suggestions) > 0:
		fmt.Fprintf(&b, " (%s: did you mean %s?)", e.Matcher, suggest.Phrase(e.Suggestions))
	case len(e.Values) > 0:
		fmt.Fprintf(&b, " (%s: %s has %s)", e.Matcher, e.Label, valueList(e.Values))
	default:
		fmt.Fprintf(&b, " (%s: no series of %s has a %s label)", e.Matcher, e.Metric, e.Label)
	}
	return b.String()
}

func valueList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) > 5 {
		q = append(q[:5], "…")
	}
	return strings.Join(q, ", ")
}

// ScopeError is a canary or baseline label that a backend cannot hold (a
// name that is not a Prometheus label, a Datadog tag or a KQL column): the
// labels are at fault, not the query. It is a bad query.
type ScopeError struct {
	Scope, Label string
	Msg          string
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("%s label %q: %s", e.Scope, e.Label, e.Msg)
}

// Unwrap makes it a bad query: the run stops with exit code 2.
func (e *ScopeError) Unwrap() error { return ErrBadQuery }
