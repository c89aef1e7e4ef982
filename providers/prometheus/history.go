package prometheus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// CountsRange implements providers.RangeReader: the queries Counts would
// send, as range queries whose step is the time between readings. A range
// query evaluates its expression at each step exactly as an instant query
// at that time would (same window, same lookback, same extrapolation), so
// reading i is Counts' at t.At(i), bit for bit, classified by the same code.
func (p *Provider) CountsRange(ctx context.Context, q providers.Query, t providers.Times) ([]providers.Reading, error) {
	if t.N <= 0 {
		return nil, nil
	}
	if t.Step <= 0 {
		return nil, p.queryErr(q.SLI.TotalQuery, providers.BadQuery("range step must be longer than zero, got %s", t.Step))
	}
	if !t.Start.Equal(time.UnixMilli(t.Start.UnixMilli())) || t.Step%time.Millisecond != 0 {
		// Prometheus keeps milliseconds: finer times would be rounded, and
		// the readings would not be Counts'.
		return nil, fmt.Errorf("%w: times finer than a millisecond (%s every %s)", providers.ErrNoRangeReads, t.Start.Format(time.RFC3339Nano), t.Step)
	}
	out := make([]providers.Reading, t.N)
	for i := range out {
		at := q.Scope.Shift(t.At(i)) // an offset is in the query; Start and End say what it read
		out[i].Counts = providers.Counts{Start: at.Add(-q.Window), End: at}
	}
	if kind := q.SLI.Kind(); kind == slo.KindThreshold || kind == slo.KindRatio {
		rq, _, err := p.resolve(q, providers.ValueQuery(q.SLI))
		if err != nil {
			return nil, err
		}
		vecs, err := p.vectors(ctx, rq, t)
		if err != nil {
			return nil, err
		}
		for i := range out {
			// The very reading Counts makes of its instant read.
			out[i].Counts, out[i].Err = providers.ReadSLI(ctx, q, out[i].Counts, providers.Reader{
				Provider: p.name,
				Resolve:  func(string) (string, error) { return rq, nil },
				Value:    func(context.Context, string) (float64, error) { return p.one(rq, vecs[i], true) },
			})
		}
		return out, nil
	}
	partQuery, _ := providers.PartQuery(q.SLI)
	rqT, perSecT, errT := p.resolve(q, q.SLI.TotalQuery)
	rqP, perSecP, errP := p.resolve(q, partQuery)
	if err := providers.JoinErrors(errT, errP); err != nil {
		return nil, err
	}
	var (
		wg           sync.WaitGroup
		total, part  []model.Vector
		errTR, errPR error
	)
	wg.Add(2)
	go func() { defer wg.Done(); total, errTR = p.vectors(ctx, rqT, t) }()
	go func() { defer wg.Done(); part, errPR = p.vectors(ctx, rqP, t) }()
	wg.Wait()
	if err := providers.JoinErrors(errTR, errPR); err != nil {
		return nil, err
	}
	resolved := map[string]string{q.SLI.TotalQuery: rqT, partQuery: rqP}
	for i := range out {
		// The very combination Counts makes of its two instant reads.
		out[i].Counts, out[i].Err = providers.ReadSLI(ctx, q, out[i].Counts, providers.Reader{
			Provider: p.name,
			Resolve:  func(query string) (string, error) { return resolved[query], nil },
			Count: func(_ context.Context, rq string) (float64, error) {
				vec, perSec := total[i], perSecT
				if rq != rqT {
					vec, perSec = part[i], perSecP
				}
				v, err := p.one(rq, vec, false)
				if err != nil {
					return 0, err
				}
				return p.count(rq, v, perSec, q.Window)
			},
		})
	}
	return out, nil
}

// vectors runs rq as range queries over the times t and returns, for each
// time, the result an instant query at that time would have returned. A
// point at a time that was not asked means the server aligned the range to
// its step: ErrNoRangeReads.
func (p *Provider) vectors(ctx context.Context, rq string, t providers.Times) ([]model.Vector, error) {
	out := make([]model.Vector, t.N)
	start, step := model.TimeFromUnixNano(t.Start.UnixNano()), int64(t.Step/time.Millisecond)
	index := func(ts model.Time, lo, hi int) (int, error) {
		off := int64(ts - start)
		if off%step != 0 || off/step < int64(lo) || off/step > int64(hi) {
			return 0, p.queryErr(rq, fmt.Errorf("%w: a point at %s", providers.ErrNoRangeReads, ts.Time().UTC().Format(time.RFC3339Nano)))
		}
		return int(off / step), nil
	}
	err := p.rangeChunks(ctx, rq, t.Start, t.Step, t.N, func(lo, hi int, m model.Matrix) error {
		for _, s := range m {
			for _, pt := range s.Values {
				i, err := index(pt.Timestamp, lo, hi)
				if err != nil {
					return err
				}
				out[i] = append(out[i], &model.Sample{Metric: s.Metric, Value: pt.Value, Timestamp: pt.Timestamp})
			}
			for _, h := range s.Histograms {
				i, err := index(h.Timestamp, lo, hi)
				if err != nil {
					return err
				}
				out[i] = append(out[i], &model.Sample{Metric: s.Metric, Histogram: h.Histogram, Timestamp: h.Timestamp})
			}
		}
		return nil
	})
	return out, err
}
