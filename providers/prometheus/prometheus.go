// Package prometheus reads SLIs through the Prometheus HTTP API, which
// Thanos, Mimir, Cortex and VictoriaMetrics serve too.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
)

// maxPoints keeps range queries under Prometheus's 11,000 points per series.
const maxPoints = 10000

// Provider queries one Prometheus-compatible server.
type Provider struct {
	name string
	api  v1.API
	lim  *providers.Limiter
	log  *slog.Logger

	mu    sync.Mutex
	known map[knownKey]bool // metric names Diagnose found series for
}

// knownKey is a metric name Diagnose found series for, in windows that
// end shift before the evaluation time.
type knownKey struct {
	name  string
	shift time.Duration
}

// New builds a provider from its config; env reads the secrets it names.
func New(ctx context.Context, cfg Config, env providers.Env) (*Provider, error) {
	log := env.Logger()
	cfg = cfg.withToken(env)
	var x httpconf.Extra
	if cfg.PartialResponse != nil {
		x.Query = map[string]string{"partial_response": strconv.FormatBool(*cfg.PartialResponse)}
	}
	rc, err := httpconf.Client(ctx, cfg.Name, env, &cfg.Auth, cfg.Transport, x)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(api.Config{Address: cfg.URL, Client: httpclient.Standard(rc)})
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
	}
	return &Provider{name: cfg.Name, api: v1.NewAPI(c), lim: cfg.Limiter(), log: log, known: map[knownKey]bool{}}, nil
}

// MaxInFlight implements providers.InFlight.
func (p *Provider) MaxInFlight() int { return p.lim.MaxInFlight() }

// Counts implements providers.Provider. An offset is in the query
// itself; Start and End say what it read.
func (p *Provider) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	c := providers.Counts{Start: q.Scope.Shift(at).Add(-q.Window), End: q.Scope.Shift(at)}
	var mu sync.Mutex
	perSec := map[string]bool{}
	return providers.ReadSLI(ctx, q, c, providers.Reader{
		Provider: p.name,
		Resolve: func(query string) (string, error) {
			rq, ps, err := p.resolve(q, query)
			mu.Lock()
			perSec[rq] = ps
			mu.Unlock()
			return rq, err
		},
		// NaN is "no observations" for a threshold and 0/0 (no traffic) for
		// a raw error ratio: no data, which the policy decides, not a bad
		// query.
		Value: func(ctx context.Context, rq string) (float64, error) { return p.instant(ctx, rq, at, true) },
		Count: func(ctx context.Context, rq string) (float64, error) {
			v, err := p.instant(ctx, rq, at, false)
			if err != nil {
				return 0, err
			}
			mu.Lock()
			ps := perSec[rq]
			mu.Unlock()
			return p.count(rq, v, ps, q.Window)
		},
		NoSeries: func(err error) bool { return errors.Is(err, errNoSeries) },
	})
}

// resolve resolves one SLI query for q, its error quoting the query.
func (p *Provider) resolve(q providers.Query, query string) (string, bool, error) {
	rq, perSecond, err := resolve(query, q.Window, q.SLI.Counter, q.Scope)
	if err != nil {
		return rq, false, p.queryErr(rq, err)
	}
	return rq, perSecond, nil
}

// count checks an event query's value and converts a per-second rate to a
// count over the window.
func (p *Provider) count(rq string, v float64, perSecond bool, window time.Duration) (float64, error) {
	if v < 0 {
		return 0, p.queryErr(rq, providers.BadQuery("returned %v: event counts cannot be negative", v))
	}
	if perSecond {
		v *= window.Seconds()
	}
	return v, nil
}

// instant runs one instant query and insists on one finite sample (see one).
func (p *Provider) instant(ctx context.Context, rq string, at time.Time, nanIsNoData bool) (float64, error) {
	val, err := p.do(ctx, rq, func(ctx context.Context) (model.Value, v1.Warnings, error) {
		v, w, _, err := p.api.Query(ctx, rq, at)
		return v, w, err
	})
	if err != nil {
		return 0, err
	}
	switch r := val.(type) {
	case model.Vector:
		return p.one(rq, r, nanIsNoData)
	case *model.Scalar:
		return p.one(rq, model.Vector{{Value: r.Value}}, nanIsNoData)
	case model.Matrix:
		return 0, p.queryErr(rq, providers.BadQuery("returned a range vector (matrix): wrap the [range] selector in a function such as rate() or increase()"))
	}
	return 0, p.queryErr(rq, providers.BadQuery("returned a %s, want one number", val.Type()))
}

// one insists on one finite sample in one evaluation's result: none is no
// data, several are a query to aggregate. NaN is no data when nanIsNoData
// (a threshold query such as histogram_quantile over a window without
// observations, or a raw ratio's 0/0), a bad query otherwise. Instant and
// range reads share it, so that both classify a result alike.
func (p *Provider) one(rq string, vec model.Vector, nanIsNoData bool) (float64, error) {
	switch len(vec) {
	case 0:
		return 0, p.queryErr(rq, errNoSeries)
	case 1:
	default:
		return 0, p.queryErr(rq, providers.BadQuery("returned %d series (%s): aggregate them into one, e.g. sum(...)", len(vec), seriesList(len(vec), func(i int) model.Metric { return vec[i].Metric })))
	}
	if vec[0].Histogram != nil {
		return 0, p.queryErr(rq, errNativeHistogram)
	}
	v := float64(vec[0].Value)
	switch {
	case math.IsNaN(v) && nanIsNoData:
		return 0, p.queryErr(rq, fmt.Errorf("%w: returned NaN (no traffic or observations in the window?)", providers.ErrNoData))
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, p.queryErr(rq, providers.BadQuery("returned %v: a ratio of 0/0 or a division by zero? query error and total events separately (error_query, total_query) so that no traffic reads as no data", v))
	}
	return v, nil
}

// do runs one API call within the provider's concurrency bound and
// deadline, and classifies its error.
func (p *Provider) do(ctx context.Context, rq string, call func(context.Context) (model.Value, v1.Warnings, error)) (model.Value, error) {
	qctx, done, err := p.lim.Start(ctx)
	if err != nil {
		return nil, p.queryErr(rq, err)
	}
	defer done()
	val, warnings, err := call(qctx)
	for _, w := range warnings {
		p.log.Warn("prometheus warning", "provider", p.name, "query", rq, "warning", w)
	}
	if err != nil {
		return nil, p.queryErr(rq, p.classify(ctx, qctx, err))
	}
	if val == nil { // valid JSON, but no data.result in it
		return nil, p.queryErr(rq, fmt.Errorf("the server's answer is not a Prometheus API response (it holds no data.result): %s", apiRootHint))
	}
	return val, nil
}

func (p *Provider) queryErr(rq string, err error) error {
	return &providers.QueryError{Provider: p.name, Query: rq, Err: err}
}

// seriesList names the first series of a result, for messages.
func seriesList(n int, metric func(i int) model.Metric) string {
	parts := make([]string, 0, 4)
	for i := range min(n, 3) {
		parts = append(parts, metric(i).String())
	}
	if n > 3 {
		parts = append(parts, "…")
	}
	return strings.Join(parts, ", ")
}
