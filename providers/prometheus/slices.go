package prometheus

import (
	"context"
	"math"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Slices implements providers.Provider with range queries whose step is the
// slice length, split so that no request asks for more than maxPoints.
func (p *Provider) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if r.Step <= 0 {
		query := q.SLI.TotalQuery
		if q.SLI.Kind() != slo.KindEvents {
			query = providers.ValueQuery(q.SLI)
		}
		return nil, p.queryErr(query, providers.BadQuery("slice step must be longer than zero, got %s", r.Step))
	}
	out := r.Grid()
	if out == nil {
		return nil, nil
	}
	sq := q
	sq.Window = r.Step
	var resolved []string
	switch kind := q.SLI.Kind(); kind {
	case slo.KindThreshold, slo.KindRatio:
		rq, _, err := p.resolve(sq, providers.ValueQuery(q.SLI))
		resolved = []string{rq}
		if err != nil {
			return nil, err
		}
		// A value or a ratio, never scaled: a rate() inside it (a latency
		// quantile, a ratio of rates) is no count.
		vals, err := p.series(ctx, rq, false, r.Step, out)
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			switch {
			case math.IsNaN(v):
				continue // no value in this slice: no traffic
			case kind == slo.KindThreshold:
				out[i].Value, out[i].Total = v, 1
			case v < 0 || v > 1:
				return nil, p.queryErr(rq, providers.BadQuery("error ratio %v at %s is outside [0, 1]", v, out[i].End.Format(time.RFC3339)))
			default:
				out[i].Good, out[i].Total = 1-v, 1
			}
		}
	default:
		partQuery, good := providers.PartQuery(q.SLI)
		rqT, perSecT, errT := p.resolve(sq, q.SLI.TotalQuery)
		rqP, perSecP, errP := p.resolve(sq, partQuery)
		resolved = []string{rqP, rqT}
		if err := providers.JoinErrors(errT, errP); err != nil {
			return nil, err
		}
		perSec := map[string]bool{rqT: perSecT, rqP: perSecP}
		unmatched, err := providers.SliceEvents(ctx, p.name, out, rqP, rqT, good, func(ctx context.Context, rq string) ([]float64, error) {
			return p.eventSeries(ctx, rq, perSec[rq], r.Step, out)
		})
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i].Unmatched = unmatched
		}
	}
	for i := range out {
		out[i].Resolved = resolved
	}
	return out, nil
}

// eventSeries is series for event counts, which must be finite and not
// negative.
func (p *Provider) eventSeries(ctx context.Context, rq string, perSecond bool, step time.Duration, slices []providers.Counts) ([]float64, error) {
	vals, err := p.series(ctx, rq, perSecond, step, slices)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if math.IsInf(v, 0) || v < 0 {
			return nil, p.queryErr(rq, providers.BadQuery("returned %v at %s: event counts must be finite and not negative", v, slices[i].End.Format(time.RFC3339)))
		}
	}
	return vals, nil
}

// series runs range queries for the slices' end times and returns one
// value per slice, NaN where the server had none. Per-second rates are
// scaled to counts per slice. No series at all is ErrNoData.
//
// Each point is matched to the slice whose end is nearest: servers round
// the times they are sent to the millisecond (Prometheus) or align them to
// the step (VictoriaMetrics), so exact matches would lose points.
func (p *Provider) series(ctx context.Context, rq string, perSecond bool, step time.Duration, slices []providers.Counts) ([]float64, error) {
	vals := make([]float64, len(slices))
	for i := range vals {
		vals[i] = math.NaN()
	}
	first := slices[0].End
	seen := false
	err := p.rangeChunks(ctx, rq, first, step, len(slices), func(lo, hi int, m model.Matrix) error {
		if len(m) > 1 {
			return p.queryErr(rq, providers.BadQuery("returned %d series (%s): aggregate them into one, e.g. sum(...)", len(m), seriesList(len(m), func(i int) model.Metric { return m[i].Metric })))
		}
		for _, s := range m {
			seen = true
			if len(s.Histograms) > 0 {
				return p.queryErr(rq, errNativeHistogram)
			}
			for _, pt := range s.Values {
				off := pt.Timestamp.Time().Sub(first)
				i := int(math.Round(float64(off) / float64(step)))
				if i < lo || i > hi || (off-time.Duration(i)*step).Abs() > step/2 {
					continue
				}
				v := float64(pt.Value)
				if perSecond && !math.IsNaN(v) {
					v *= step.Seconds()
				}
				vals[i] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, p.queryErr(rq, errNoSeries)
	}
	return vals, nil
}

// rangeChunks runs the range query rq for the n evaluation times first,
// first+step, … in chunks of at most maxPoints, and hands each chunk's
// matrix to fn with the indexes [lo, hi] of the times it covers.
func (p *Provider) rangeChunks(ctx context.Context, rq string, first time.Time, step time.Duration, n int, fn func(lo, hi int, m model.Matrix) error) error {
	for lo := 0; lo < n; lo += maxPoints {
		hi := min(lo+maxPoints, n) - 1
		rng := v1.Range{Start: first.Add(time.Duration(lo) * step), End: first.Add(time.Duration(hi) * step), Step: step}
		val, err := p.do(ctx, rq, func(ctx context.Context) (model.Value, v1.Warnings, error) {
			v, w, _, err := p.api.QueryRange(ctx, rq, rng)
			return v, w, err
		})
		if err != nil {
			return err
		}
		m, ok := val.(model.Matrix)
		if !ok {
			return p.queryErr(rq, providers.BadQuery("range query returned a %s, want a matrix", val.Type()))
		}
		if err := fn(lo, hi, m); err != nil {
			return err
		}
	}
	return nil
}
