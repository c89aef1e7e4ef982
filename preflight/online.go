package preflight

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Reading is one SLO read once in one scope.
type Reading struct {
	SLO    string
	Scope  string        // service, canary or baseline
	Window time.Duration // the window read
	Counts providers.Counts
	// Err is what providers.Explain made of the reading's error: a bad
	// query (an unknown metric among them), no data (a *NoMatchError when
	// the backend found the label that matches nothing), or an outage.
	Err error
}

// Status sums a reading up in a word: ok, empty, error (a query that is
// itself wrong: exit 2) or down (the backend could not be read).
func (r Reading) Status() string {
	switch {
	case r.Err == nil:
		return "ok"
	case errors.Is(r.Err, providers.ErrBadQuery):
		return "error"
	case errors.Is(r.Err, providers.ErrNoData):
		return "empty"
	}
	return "down"
}

// Hint is the backend's explanation of an empty reading, "" without one.
func (r Reading) Hint() string {
	var nm *providers.NoMatchError
	if errors.As(r.Err, &nm) {
		return nm.Hint()
	}
	return ""
}

// Options say when Online reads and what.
type Options struct {
	At time.Time
	// Service also reads the whole service over the SLO window, as check
	// does (validate); watch and backtest read only the canary and the
	// baseline.
	Service bool
	// Span, when set, reads every scope over (At-Span, At] and explains
	// an empty reading there: backtest's --from to --to. Otherwise the
	// canary and the baseline are read over the watch's duration and
	// explained over the SLO's window.
	Span time.Duration
	// Duration, when set, is how long the canary and the baseline are read
	// (watch --duration); else canary.duration.
	Duration time.Duration
}

// Online reads each SLO once at o.At and explains the empty readings over
// the SLO's window: the service over the SLO window as check reads it
// (with o.Service; a timeslice SLO over one slice), and the canary and the
// baseline over the watch's duration as watch reads them (a canary without
// labels is the service itself: read once), or over o.Span. A metric with
// no series at all is a bad query; a label that matches nothing is no
// data with a hint. The readings come back in SLO order: service, canary,
// baseline.
func Online(ctx context.Context, cfg *slo.Config, bs providers.Backends, slos []slo.SLO, provs map[string]providers.Provider, o Options) []Reading {
	at, service := o.At, o.Service
	type job struct {
		s     slo.SLO
		scope providers.Scope
		out   *Reading
	}
	var jobs []job
	var out []*Reading
	for _, s := range slos {
		var scopes []providers.Scope
		if service {
			scopes = append(scopes, providers.Scope{Name: providers.ScopeService})
		}
		for _, sc := range Scopes(cfg, s) {
			if service && len(sc.Labels) == 0 && sc.Offset == 0 && sc.Name != providers.ScopeService {
				if p, _ := cfg.ProviderByName(s.Provider); bs.Caps(p).ScopesByLabels {
					continue // no split: the service reading above is this one
				}
			}
			scopes = append(scopes, sc)
		}
		for _, sc := range scopes {
			r := &Reading{SLO: s.Name, Scope: sc.Name}
			out = append(out, r)
			jobs = append(jobs, job{s, sc, r})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		p := provs[j.s.Provider]
		if p == nil {
			j.out.Err = errors.New("provider " + j.s.Provider + " is not configured")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Empty readings are explained over the SLO's window: a metric
			// that had series there is no typo, though a track may have
			// none in the watch's few minutes.
			explain := providers.Query{SLO: j.s.Name, SLI: j.s.SLI, Scope: j.scope, Window: j.s.Window}
			q := explain
			switch {
			case o.Span > 0:
				q.Window, explain.Window = o.Span, o.Span
			case j.scope.Name != providers.ScopeService:
				q.Window = cfg.Canary.Duration
				if o.Duration > 0 {
					q.Window = o.Duration
				}
			case j.s.Budgeting == slo.Timeslices:
				q.Window = j.s.Timeslice.Window
			}
			j.out.Window = q.Window
			c, err := p.Counts(ctx, q, at)
			j.out.Counts, j.out.Err = c, providers.Explain(ctx, p, explain, at, c, err)
		}()
	}
	wg.Wait()
	readings := make([]Reading, len(out))
	for i, r := range out {
		readings[i] = *r
	}
	return readings
}
