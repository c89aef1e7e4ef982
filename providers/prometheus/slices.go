package prometheus

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Slices implements providers.Provider with range queries whose step is the
// slice length, split so that no request asks for more than maxPoints.
func (p *Provider) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	n := int(r.End.Sub(r.Start) / r.Step)
	if n <= 0 {
		return nil, nil
	}
	out := make([]providers.Counts, n)
	for i := range out {
		end := r.End.Add(-time.Duration(n-1-i) * r.Step)
		out[i] = providers.Counts{Start: end.Add(-r.Step), End: end}
	}
	sq := q
	sq.Window = r.Step
	var resolved []string
	switch q.SLI.Kind() {
	case slo.KindThreshold, slo.KindRatio:
		query := q.SLI.Query
		if q.SLI.Kind() == slo.KindRatio {
			query = q.SLI.ErrorRatioQuery
		}
		vals, rq, err := p.series(ctx, sq, query, out)
		resolved = []string{rq}
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if math.IsNaN(v) {
				continue // no value in this slice: no traffic
			}
			if q.SLI.Kind() == slo.KindThreshold {
				out[i].Value, out[i].Total = v, 1
			} else {
				out[i].Good, out[i].Total = 1-v, 1
			}
		}
	default:
		partQuery, good := q.SLI.ErrorQuery, false
		if q.SLI.GoodQuery != "" {
			partQuery, good = q.SLI.GoodQuery, true
		}
		var (
			wg          sync.WaitGroup
			total, part []float64
			rqT, rqP    string
			errT, errP  error
		)
		wg.Add(2)
		go func() { defer wg.Done(); total, rqT, errT = p.series(ctx, sq, q.SLI.TotalQuery, out) }()
		go func() { defer wg.Done(); part, rqP, errP = p.series(ctx, sq, partQuery, out) }()
		wg.Wait()
		resolved = []string{rqP, rqT}
		if errors.Is(errP, providers.ErrNoData) {
			errP = nil // no error series at all: no errors
		}
		if err := errors.Join(errT, errP); err != nil {
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
			out[i].Total = t
			if good {
				out[i].Good = math.Min(pv, t)
			} else {
				out[i].Good = math.Max(t-pv, 0)
			}
		}
	}
	for i := range out {
		out[i].Resolved = resolved
	}
	return out, nil
}

// series runs a range query for the slices' end times and returns one value
// per slice, NaN where the server had none. Per-second rates are scaled to
// counts per slice. No series at all is ErrNoData.
func (p *Provider) series(ctx context.Context, q providers.Query, query string, slices []providers.Counts) ([]float64, string, error) {
	rq, perSecond, err := resolve(query, q.Window, q.SLI.Counter, q.Scope)
	if err != nil {
		return nil, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: err}
	}
	vals := make([]float64, len(slices))
	index := make(map[model.Time]int, len(slices))
	for i, s := range slices {
		vals[i] = math.NaN()
		index[model.TimeFromUnixNano(s.End.UnixNano())] = i
	}
	seen := false
	for lo := 0; lo < len(slices); lo += maxPoints {
		hi := min(lo+maxPoints, len(slices)) - 1
		rng := v1.Range{Start: slices[lo].End, End: slices[hi].End, Step: q.Window}
		val, err := p.do(ctx, rq, func(ctx context.Context) (model.Value, v1.Warnings, error) {
			v, w, _, err := p.api.QueryRange(ctx, rq, rng)
			return v, w, err
		})
		if err != nil {
			return nil, rq, err
		}
		m, ok := val.(model.Matrix)
		if !ok {
			return nil, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("range query returned a %s, want a matrix", val.Type())}
		}
		if len(m) > 1 {
			return nil, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("returned %d series: aggregate them into one, e.g. sum(...)", len(m))}
		}
		for _, s := range m {
			seen = true
			for _, pt := range s.Values {
				if i, ok := index[pt.Timestamp]; ok {
					v := float64(pt.Value)
					if perSecond && !math.IsNaN(v) {
						v *= q.Window.Seconds()
					}
					vals[i] = v
				}
			}
		}
	}
	if !seen {
		return nil, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.ErrNoData}
	}
	return vals, rq, nil
}
