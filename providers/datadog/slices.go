package datadog

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Slices implements providers.Provider: each query runs with
// .rollup(sum, step) (avg for threshold SLIs), split into requests of at
// most maxPoints buckets, and each bucket goes to the slice whose end is
// nearest its own (Datadog aligns buckets to the epoch, not to r.End).
func (p *Provider) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if r.Step <= 0 {
		return nil, p.queryErr(firstQuery(q.SLI), providers.BadQuery("slice step must be longer than zero, got %s", r.Step))
	}
	if q.SLI.DatadogSLOID != "" {
		return nil, p.queryErr("slo "+q.SLI.DatadogSLOID, providers.BadQuery("a Datadog SLO object has no time slices here: use budgeting: occurrences"))
	}
	if err := checkKind(q.SLI); err != nil {
		return nil, err
	}
	out := r.Grid()
	if out == nil {
		return nil, nil
	}
	step := int(r.Step / time.Second)
	if step < 1 {
		step = 1
	}
	var resolved []string
	if q.SLI.Kind() == slo.KindThreshold {
		rq, err := p.resolve(q.SLI.Query, r.Step, "avg", step, q.Scope)
		if err != nil {
			return nil, err
		}
		resolved = []string{rq}
		vals, err := p.buckets(ctx, rq, r.Step, out, false)
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if !math.IsNaN(v) {
				out[i].Value, out[i].Total = v, 1
			}
		}
	} else {
		partQuery, good := providers.PartQuery(q.SLI)
		rqT, errT := p.resolve(q.SLI.TotalQuery, r.Step, "sum", step, q.Scope)
		rqP, errP := p.resolve(partQuery, r.Step, "sum", step, q.Scope)
		if err := errors.Join(errT, errP); err != nil {
			return nil, err
		}
		resolved = []string{rqP, rqT}
		if _, err := providers.SliceEvents(ctx, p.name, out, rqP, rqT, good, func(ctx context.Context, rq string) ([]float64, error) {
			return p.buckets(ctx, rq, r.Step, out, true)
		}); err != nil {
			return nil, err
		}
	}
	for i := range out {
		out[i].Resolved = resolved
	}
	return out, nil
}

// buckets returns one value per slice, NaN where Datadog had none; event
// counts must not be negative.
func (p *Provider) buckets(ctx context.Context, rq string, step time.Duration, slices []providers.Counts, counts bool) ([]float64, error) {
	vals := make([]float64, len(slices))
	for i := range vals {
		vals[i] = math.NaN()
	}
	first := slices[0].End
	seen := false
	for lo := 0; lo < len(slices); lo += maxPoints {
		hi := min(lo+maxPoints, len(slices)) - 1
		pts, err := p.points(ctx, rq, slices[lo].Start, slices[hi].End)
		if errors.Is(err, providers.ErrNoData) {
			continue
		}
		if err != nil {
			return nil, err
		}
		seen = true
		for _, pt := range pts {
			if pt.width != step {
				return nil, p.queryErr(rq, providers.BadQuery("Datadog answered in %s buckets, not the %s slices asked for: use a longer timeslice window", pt.width, step))
			}
			off := pt.t.Add(pt.width).Sub(first)
			i := int(math.Round(float64(off) / float64(step)))
			if i < lo || i > hi {
				continue
			}
			if counts && pt.v < 0 {
				return nil, p.queryErr(rq, providers.BadQuery("returned %v at %s: event counts cannot be negative", pt.v, pt.t.Format(time.RFC3339)))
			}
			vals[i] = pt.v
		}
	}
	if !seen {
		return nil, p.queryErr(rq, errNoPoints)
	}
	return vals, nil
}

func firstQuery(s slo.SLI) string {
	for _, q := range []string{s.ErrorQuery, s.GoodQuery, s.TotalQuery, s.Query, s.ErrorRatioQuery, s.DatadogSLOID} {
		if q != "" {
			return q
		}
	}
	return ""
}
