package providers

import (
	"context"
	"errors"
	"time"
)

// Times are evaluation times: Start, Start+Step, … (N of them).
type Times struct {
	Start time.Time
	Step  time.Duration
	N     int
}

// At is the i-th evaluation time.
func (t Times) At(i int) time.Time { return t.Start.Add(time.Duration(i) * t.Step) }

// Reading is one evaluation of a query: what Counts would have returned at
// that time, error included.
type Reading struct {
	Counts Counts
	Err    error
}

// RangeReader is a Provider that reads one query at many evaluation times
// with one request per chunk of times (a range query), so that `backtest`
// replays days of history in seconds, not one request per interval.
type RangeReader interface {
	// CountsRange reads q at every time of t. Reading i is exactly what
	// Counts(ctx, q, t.At(i)) returns: the same query, evaluated at the
	// same instant, classified the same way (ErrNoData where the backend
	// had no series at that time, ErrBadQuery for a value Counts rejects).
	// An error for the whole call means no reading could be made: an
	// outage, a bad query, or ErrNoRangeReads.
	CountsRange(ctx context.Context, q Query, t Times) ([]Reading, error)
}

// ErrNoRangeReads means a backend answered a range query, but not at the
// times asked (a VictoriaMetrics or a query frontend that aligns them to the
// step for its cache): its readings would not be Counts'. Callers fall back
// to Counts, one time at a time.
var ErrNoRangeReads = errors.New("the server moved the range query's evaluation times (aligned them to the step for its cache), so they are not the times asked")

// PresentOnly is a Provider that can only read the present (it scrapes
// endpoints now, or serves fixed values): there is no history to replay.
type PresentOnly interface {
	// NoHistory says why, for the error that refuses a replay.
	NoHistory() string
}
