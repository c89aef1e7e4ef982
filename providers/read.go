package providers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// Reader is what a query backend supplies for ReadSLI: how it resolves a
// query of the SLI for the reading, and how it reads one value. ReadSLI
// does the rest, the same for every backend: which queries an SLI shape
// sends, in which order, and how their answers make a reading.
type Reader struct {
	Provider string // for the errors, which name the provider and the query
	// Resolve resolves one of the SLI's queries; its error quotes the
	// resolved query already.
	Resolve func(query string) (string, error)
	// Value reads a threshold's or an error ratio's one value (NaN, no
	// observations, is no data there).
	Value func(ctx context.Context, rq string) (float64, error)
	// Count reads an event count: finite, not negative.
	Count func(ctx context.Context, rq string) (float64, error)
	// NoSeries says whether an error means the query matched no series
	// at all, for Counts.Unmatched; nil when the backend cannot tell.
	NoSeries func(error) bool
}

// ReadSLI reads q's SLI into c (whose Start and End the backend set): a
// threshold's value, an error ratio as Good out of Total = 1, or an
// events SLI's good and total events, its two queries read at once.
func ReadSLI(ctx context.Context, q Query, c Counts, r Reader) (Counts, error) {
	if kind := q.SLI.Kind(); kind == slo.KindThreshold || kind == slo.KindRatio {
		return readValue(ctx, kind, ValueQuery(q.SLI), c, r)
	}
	partQuery, good := PartQuery(q.SLI)
	// Resolve both before sending either: a bad query is a config error,
	// and the backend should not see half of it.
	rqT, errT := r.Resolve(q.SLI.TotalQuery)
	rqP, errP := r.Resolve(partQuery)
	c.Resolved = []string{rqP, rqT}
	if err := JoinErrors(errT, errP); err != nil {
		return c, err
	}
	var (
		mu    sync.Mutex
		empty = map[string]bool{}
		err   error
	)
	c.Good, c.Total, err = ReadEvents(ctx, r.Provider, rqP, rqT, good, func(ctx context.Context, rq string) (float64, error) {
		v, err := r.Count(ctx, rq)
		if r.NoSeries != nil && r.NoSeries(err) {
			mu.Lock()
			empty[rq] = true
			mu.Unlock()
		}
		return v, err
	})
	for _, rq := range []string{rqT, rqP} { // the total first: its emptiness is the one to explain
		if empty[rq] {
			c.Unmatched = append(c.Unmatched, rq)
		}
	}
	return c, err
}

func readValue(ctx context.Context, kind slo.Kind, query string, c Counts, r Reader) (Counts, error) {
	rq, err := r.Resolve(query)
	c.Resolved = []string{rq}
	if err != nil {
		return c, err
	}
	v, err := r.Value(ctx, rq)
	if r.NoSeries != nil && r.NoSeries(err) {
		c.Unmatched = []string{rq}
	}
	if err != nil {
		return c, err
	}
	if kind == slo.KindThreshold {
		c.Value, c.Total = v, 1
		return c, nil
	}
	if v < 0 || v > 1 {
		return c, &QueryError{Provider: r.Provider, Query: rq, Err: BadQuery("error ratio %v is outside [0, 1]", v)}
	}
	c.Good, c.Total = 1-v, 1
	return c, nil
}

// ValueQuery is the one query of a threshold or raw error-ratio SLI.
func ValueQuery(s slo.SLI) string {
	if s.Kind() == slo.KindRatio {
		return s.ErrorRatioQuery
	}
	return s.Query
}

// Grid is r's slices, oldest first, each with its bounds and no reading
// yet: always (End-Start)/Step of them, so that the newest k cover the
// last k steps; none when that is not positive.
func (r Range) Grid() []Counts {
	if r.Step <= 0 {
		return nil
	}
	n := int(r.End.Sub(r.Start) / r.Step)
	if n <= 0 {
		return nil
	}
	out := make([]Counts, n)
	for i := range out {
		end := r.End.Add(-time.Duration(n-1-i) * r.Step)
		out[i] = Counts{Start: end.Add(-r.Step), End: end}
	}
	return out
}

// SliceEvents reads an events SLI's two resolved queries at once, one
// value per slice of out (NaN where a slice has none), and fills out's
// good and total events. A part query without any series is zero events
// in every slice, and comes back as unmatched. A slice whose part exceeds
// its total past PartTolerance is provider's ErrBadQuery on partQuery.
func SliceEvents(ctx context.Context, provider string, out []Counts, partQuery, totalQuery string, good bool, read func(ctx context.Context, rq string) ([]float64, error)) (unmatched []string, err error) {
	var (
		wg          sync.WaitGroup
		total, part []float64
		errT, errP  error
	)
	wg.Add(2)
	go func() { defer wg.Done(); total, errT = read(ctx, totalQuery) }()
	go func() { defer wg.Done(); part, errP = read(ctx, partQuery) }()
	wg.Wait()
	if errors.Is(errP, ErrNoData) {
		part, errP = nil, nil // no error series at all: no errors
		unmatched = []string{partQuery}
	}
	if err := JoinErrors(errT, errP); err != nil {
		return nil, err
	}
	for i := range out {
		t, pv := total[i], 0.0
		if part != nil && !math.IsNaN(part[i]) {
			pv = part[i]
		}
		if math.IsNaN(t) {
			continue
		}
		g, err := GoodEvents(pv, t, good, totalQuery)
		if err != nil {
			return nil, &QueryError{Provider: provider, Query: partQuery, Err: fmt.Errorf("slice ending %s: %w", out[i].End.UTC().Format(time.RFC3339), err)}
		}
		out[i].Total, out[i].Good = t, g
	}
	return unmatched, nil
}
