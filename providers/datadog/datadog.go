// Package datadog reads SLIs from Datadog: event counts summed from the
// metrics query API (GET /api/v1/query), or an SLO object's error budget
// from GET /api/v1/slo/{id}/history.
package datadog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Default environment variables of the keys, as Datadog's own tools name them.
const (
	DefaultAPIKeyEnv = "DD_API_KEY"
	DefaultAppKeyEnv = "DD_APP_KEY"
)

// Provider queries one Datadog site.
type Provider struct {
	name              string
	base              string // https://api.datadoghq.com
	site              string
	apiKeyEnv, appEnv string
	client            *retryablehttp.Client
	lim               *providers.Limiter
	log               *slog.Logger

	mu    sync.Mutex
	known map[string]bool // metric names Diagnose found
}

// New builds a provider from its config; env reads the keys it names.
func New(ctx context.Context, cfg Config, env providers.Env) (*Provider, error) {
	cfg.defaults()
	p := &Provider{name: cfg.Name, site: cfg.Site, apiKeyEnv: cfg.APIKeyEnv, appEnv: cfg.AppKeyEnv, log: env.Logger(), known: map[string]bool{}}
	base, err := baseURL(cfg.URL, p.site)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
	}
	p.base = base
	apiKey, appKey := env.Env(p.apiKeyEnv), env.Env(p.appEnv)
	var missing []string
	if apiKey == "" {
		missing = append(missing, fmt.Sprintf("%s (api_key_env)", p.apiKeyEnv))
	}
	if appKey == "" {
		missing = append(missing, fmt.Sprintf("%s (app_key_env)", p.appEnv))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("provider %q: environment variable %s is empty: set the Datadog API and application keys there", cfg.Name, strings.Join(missing, " and "))
	}
	headers := map[string]string{"DD-API-KEY": apiKey, "DD-APPLICATION-KEY": appKey, "Accept": "application/json"}
	rc, err := httpconf.Client(ctx, cfg.Name, env, nil, cfg.Transport, httpconf.Extra{Headers: headers})
	if err != nil {
		return nil, err
	}
	// Datadog says how long to wait in X-RateLimit-Reset, not Retry-After.
	rc.HTTPClient.Transport = rateLimitReset{next: rc.HTTPClient.Transport}
	p.client = rc
	p.lim = cfg.Limiter()
	return p, nil
}

// MaxInFlight implements providers.InFlight.
func (p *Provider) MaxInFlight() int { return p.lim.MaxInFlight() }

// baseURL is url when set (tests, proxies), else https://api.<site>.
func baseURL(raw, site string) (string, error) {
	if raw != "" {
		return strings.TrimRight(raw, "/"), nil
	}
	site = strings.TrimPrefix(strings.TrimPrefix(site, "https://"), "app.")
	if site == "" || strings.ContainsAny(site, "/:?#@ ") {
		return "", fmt.Errorf("site %q is not a Datadog site such as datadoghq.com, datadoghq.eu or us3.datadoghq.com", site)
	}
	return "https://api." + site, nil
}

// Counts implements providers.Provider. Event counts are the sum of the
// as_count() points of each query over (at-window, at]; a scope's offset
// moves from and to back, the query unchanged.
func (p *Provider) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	at = q.Scope.Shift(at)
	c := providers.Counts{Start: at.Add(-q.Window), End: at}
	if q.SLI.DatadogSLOID != "" {
		return p.sloCounts(ctx, q, at, c)
	}
	if err := checkKind(q.SLI); err != nil {
		return c, err
	}
	agg := "sum"
	if q.SLI.Kind() == slo.KindThreshold {
		agg = "avg"
	}
	return providers.ReadSLI(ctx, q, c, providers.Reader{
		Provider: p.name,
		Resolve: func(query string) (string, error) {
			return p.resolve(query, q.Window, agg, rollupFor(q.Window), q.Scope)
		},
		Value:    func(ctx context.Context, rq string) (float64, error) { return p.average(ctx, rq, c.Start, at) },
		Count:    func(ctx context.Context, rq string) (float64, error) { return p.count(ctx, rq, c.Start, at) },
		NoSeries: func(err error) bool { return errors.Is(err, errNoSeries) },
	})
}

// average averages a threshold query's points over (from, to].
func (p *Provider) average(ctx context.Context, rq string, from, to time.Time) (float64, error) {
	pts, err := p.points(ctx, rq, from, to)
	if err != nil {
		return 0, err
	}
	sum, n := 0.0, 0
	for _, pt := range inWindow(pts, from, to) {
		sum, n = sum+pt.v, n+1
	}
	if n == 0 {
		return 0, p.queryErr(rq, errNoPoints)
	}
	return sum / float64(n), nil
}

// checkKind rejects the SLI shapes a metrics query cannot answer.
func checkKind(s slo.SLI) error {
	if s.Kind() == slo.KindRatio {
		return &providers.QueryError{Provider: "datadog", Query: s.ErrorRatioQuery, Err: providers.BadQuery(
			"a Datadog error ratio averages per-bucket ratios, not events: write error_query (or good_query) and total_query, which sloguard sums over the window, or use datadog_slo_id")}
	}
	if s.Counter {
		return &providers.QueryError{Provider: "datadog", Query: s.TotalQuery, Err: providers.BadQuery("counter: true is a Prometheus notion: write Datadog queries with .as_count()")}
	}
	return nil
}

func (p *Provider) resolve(query string, window time.Duration, agg string, rollup int, scope providers.Scope) (string, error) {
	rq, err := resolve(query, window, agg, rollup, scope)
	if err != nil {
		return rq, p.queryErr(rq, err)
	}
	return rq, nil
}

// count sums a query's points over (from, to].
func (p *Provider) count(ctx context.Context, rq string, from, to time.Time) (float64, error) {
	pts, err := p.points(ctx, rq, from, to)
	if err != nil {
		return 0, err
	}
	sum, n := 0.0, 0
	for _, pt := range inWindow(pts, from, to) {
		if pt.v < 0 {
			return 0, p.queryErr(rq, providers.BadQuery("returned %v at %s: event counts cannot be negative", pt.v, pt.t.Format(time.RFC3339)))
		}
		sum, n = sum+pt.v, n+1
	}
	if n == 0 {
		return 0, p.queryErr(rq, errNoPoints)
	}
	return sum, nil
}

var errNoPoints = fmt.Errorf("%w: the series has no points in the window (no traffic?)", providers.ErrNoData)

// point is one bucket: it starts at t and lasts width.
type point struct {
	t     time.Time
	width time.Duration
	v     float64
}

// inWindow keeps the buckets of which at least half lies in (from, to]:
// Datadog aligns buckets to multiples of their length since the epoch, so
// the edge buckets straddle the window's edges.
func inWindow(pts []point, from, to time.Time) []point {
	var out []point
	for _, pt := range pts {
		mid := pt.t.Add(pt.width / 2)
		if mid.After(from) && !mid.After(to) {
			out = append(out, pt)
		}
	}
	return out
}

func (p *Provider) queryErr(rq string, err error) error {
	return &providers.QueryError{Provider: p.name, Query: rq, Err: err}
}

// queryURL builds the metrics query request.
func (p *Provider) queryURL(rq string, from, to time.Time) string {
	v := url.Values{}
	v.Set("from", fmt.Sprint(from.Unix()))
	v.Set("to", fmt.Sprint(ceilUnix(to)))
	v.Set("query", rq)
	return p.base + "/api/v1/query?" + v.Encode()
}

// ceilUnix rounds a time up to the second, so that the range covers it.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}
