// Package providers defines the small interface every metrics backend
// implements, and the errors they share.
package providers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// Scope names.
const (
	ScopeService  = "service"
	ScopeCanary   = "canary"
	ScopeBaseline = "baseline"
)

// Scope selects which part of the service a query reads: the whole service
// (no labels), or the canary or baseline by their labels. Each backend turns
// the labels into its own matchers, tags or filters. Offset makes Counts
// read the same query that much earlier (the watch's baseline from the
// past): Prometheus sets it on every selector, backends that take a time
// range shift the range, and backends without history refuse it. Slices
// (check's time slices) never gets an offset.
type Scope struct {
	Name   string
	Labels map[string]string
	Offset time.Duration
}

// Shift moves an evaluation time back by the scope's Offset.
func (s Scope) Shift(at time.Time) time.Time { return at.Add(-s.Offset) }

// Query asks for one SLI of one SLO over one window.
type Query struct {
	SLO    string
	SLI    slo.SLI
	Scope  Scope
	Window time.Duration
}

// Counts is one reading: events in (Start, End] for event SLIs (Total ==
// 0 means no traffic, which is not the same as healthy), the ratio as Good
// out of Total = 1 for raw error-ratio SLIs, or Value for threshold SLIs.
// Resolved holds the backend queries as sent, for the decision record.
type Counts struct {
	Good, Total float64
	Value       float64
	Start, End  time.Time
	Resolved    []string
	// Unmatched lists the resolved queries that matched no series at all,
	// whether the reading is no data or read them as zero (an events SLI's
	// error or good query): ask the backend why with Explain.
	Unmatched []string
}

// Bad is Total - Good.
func (c Counts) Bad() float64 { return c.Total - c.Good }

// Range asks for consecutive slices of Step each, ending at End.
type Range struct {
	Start, End time.Time
	Step       time.Duration
}

// Provider reads SLIs from a backend. Implementations are safe for
// concurrent use; at is the evaluation time, shared by every query of a run
// so that its readings are comparable and replayable.
type Provider interface {
	// Counts reads the SLI over (at - q.Window, at].
	Counts(ctx context.Context, q Query, at time.Time) (Counts, error)
	// Slices reads one Counts per Step-long slice in (r.Start, r.End],
	// oldest first, always (r.End-r.Start)/r.Step of them so that the
	// newest k slices cover the last k steps; a slice without data has
	// Total 0 (threshold SLIs: a slice without a value has Total 0 and no
	// Value). A Step that is not positive is ErrBadQuery.
	Slices(ctx context.Context, q Query, r Range) ([]Counts, error)
}

// ErrNoData means the backend has no series at all for a query: no
// traffic, or a selector that matches nothing (for a threshold SLI, also a
// value that is not a number, e.g. a quantile of no observations). An
// error that is ErrNoData is never also an outage: when one query of an
// SLI has no data and another fails, the failure alone is returned.
var ErrNoData = errors.New("no data")

// ErrNotRecorded is no data from a backend of recorded values (static):
// nobody recorded a value for the query's scope and window, which says
// nothing of the service, nor of a source that stopped.
var ErrNotRecorded = fmt.Errorf("%w: nothing recorded there", ErrNoData)

// ErrBadQuery means the query itself is wrong (syntax, result shape, NaN):
// a config error, not an outage, so the run stops with exit code 2.
var ErrBadQuery = errors.New("bad query")

// QueryError ties an error to the resolved query that caused it.
type QueryError struct {
	Provider string
	Query    string
	Err      error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("provider %q: query %q: %v", e.Provider, e.Query, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// BadQuery wraps a reason as ErrBadQuery.
func BadQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadQuery, fmt.Sprintf(format, args...))
}

// JoinErrors joins the errors of an SLI's queries. No data from one query
// never hides the failure of another: a caller would read the joined error
// as "no traffic" and let a release through.
func JoinErrors(errs ...error) error {
	var failed, noData []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, ErrNoData):
			noData = append(noData, err)
		default:
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	return errors.Join(noData...)
}

// PartQuery is the query an events SLI counts besides the total: the bad
// events (error_query), or the good ones (good_query).
func PartQuery(s slo.SLI) (query string, good bool) {
	if s.GoodQuery != "" {
		return s.GoodQuery, true
	}
	return s.ErrorQuery, false
}

// ReadEvents reads an events SLI's two resolved queries at once through
// read and combines them into good and total events. An empty part is zero
// events (no 5xx series at all means no errors); an empty total is no data.
// A part beyond the total (PartTolerance) is a *QueryError of provider's
// on partQuery, ErrBadQuery.
func ReadEvents(ctx context.Context, provider, partQuery, totalQuery string, good bool, read func(context.Context, string) (float64, error)) (goodEvents, total float64, err error) {
	var (
		wg         sync.WaitGroup
		part       float64
		errT, errP error
	)
	wg.Add(2)
	go func() { defer wg.Done(); total, errT = read(ctx, totalQuery) }()
	go func() {
		defer wg.Done()
		part, errP = read(ctx, partQuery)
		if errors.Is(errP, ErrNoData) {
			part, errP = 0, nil
		}
	}()
	wg.Wait()
	if err := JoinErrors(errT, errP); err != nil {
		return 0, 0, err
	}
	goodEvents, err = GoodEvents(part, total, good, totalQuery)
	if err != nil {
		return 0, 0, &QueryError{Provider: provider, Query: partQuery, Err: err}
	}
	return goodEvents, total, nil
}

// PartTolerance is how far an events SLI's part (good_query or
// error_query) may count past its total_query and still be read as the
// total: a relative 0.1 % plus one event. rate() and increase()
// extrapolate each series from its own first and last samples, so two
// queries of the same requests can disagree by that much; beyond it they
// do not count the same requests.
func PartTolerance(total float64) float64 { return total*0.001 + 1 }

// GoodEvents turns an events SLI's part (good events with good_query, bad
// ones with error_query) into good events, kept within [0, total] when the
// part exceeds the total by no more than PartTolerance. Beyond it the two
// queries do not select the same requests (a good_query without the
// service's matcher counts every service): the reading would be clipped to
// an SLI of 100 % (or 0 %), so it is ErrBadQuery, naming totalQuery and
// both counts.
func GoodEvents(part, total float64, good bool, totalQuery string) (float64, error) {
	if part > total+PartTolerance(total) {
		name := "error_query"
		if good {
			name = "good_query"
		}
		return 0, BadQuery("%s counts more events than total_query %q (%s > %s): do they select the same series?",
			name, totalQuery, formatCount(part), formatCount(total))
	}
	if good {
		return math.Min(part, total), nil
	}
	return math.Max(total-part, 0), nil
}

// formatCount prints an event count readably: 7200, 12.5, 1.2e+09.
func formatCount(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
