package datadog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sloguard/sloguard/internal/suggest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// errNoSeries is a query that matched no series at all: no traffic, a
// scope that matches nothing, or a metric Datadog has never seen, which
// Diagnose tells apart.
var errNoSeries = fmt.Errorf("%w: no series matched (no traffic, or a scope that matches nothing)", providers.ErrNoData)

// Diagnose implements providers.Diagnoser with the metric metadata
// endpoint (GET /api/v1/metrics/{metric_name}), which answers 404 for a
// metric Datadog does not know, and suggests names from the metrics active
// in the window (GET /api/v1/metrics?from=). Both need the metrics_read
// permission; without it, or on any other failure, it cannot tell and
// returns nil. Tags that match nothing get no hint.
func (p *Provider) Diagnose(ctx context.Context, q providers.Query, at time.Time, queries []string, _ bool) error {
	for _, rq := range queries {
		for _, name := range metricNames(rq) {
			known, err := p.knownMetric(ctx, name)
			if err != nil {
				p.log.Debug("cannot tell whether a metric exists", "provider", p.name, "metric", name, "error", err)
				return nil
			}
			if !known {
				return p.queryErr(rq, &providers.UnknownMetricError{Metric: name, Window: q.Window, Suggestions: p.closestNames(ctx, name, q.Scope.Shift(at).Add(-q.Window))})
			}
		}
	}
	return nil
}

// metricNames lists the metrics of a query's terms, agg:name{scope}, in
// order, each once; a by {…} group is no metric.
func metricNames(q string) []string {
	var names []string
	seen := map[string]bool{}
	for i := 0; i < len(q); i++ {
		if q[i] != '{' || precededBy(q[:i], "by") || !precededByMetric(q[:i]) {
			continue
		}
		j := i
		for j > 0 && (isWord(q[j-1]) || q[j-1] == '.') {
			j--
		}
		if name := q[j:i]; !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// knownMetric asks the metadata endpoint about a metric: 200 is known,
// 404 unknown, anything else an error. Known names are remembered.
func (p *Provider) knownMetric(ctx context.Context, name string) (bool, error) {
	p.mu.Lock()
	known := p.known[name]
	p.mu.Unlock()
	if known {
		return true, nil
	}
	code, _, err := p.getStatus(ctx, p.base+"/api/v1/metrics/"+url.PathEscape(name))
	switch {
	case err != nil:
		return false, err
	case code == http.StatusNotFound:
		return false, nil
	case code != http.StatusOK:
		return false, fmt.Errorf("metric metadata answered %d %s", code, http.StatusText(code))
	}
	p.mu.Lock()
	p.known[name] = true
	p.mu.Unlock()
	return true, nil
}

// closestNames suggests names among the metrics active since from.
func (p *Provider) closestNames(ctx context.Context, name string, from time.Time) []string {
	code, body, err := p.getStatus(ctx, p.base+"/api/v1/metrics?from="+fmt.Sprint(from.Unix()))
	var list struct {
		Metrics []string `json:"metrics"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &list) != nil {
		return nil
	}
	return suggest.Closest(name, list.Metrics, 3)
}

// ResolveQuery implements providers.Settings: query as Counts sends it for q (window, scope tags,
// rollup) without sending anything: validate checks every query and scope
// with it.
func (c *Config) ResolveQuery(query string, q providers.Query) (string, error) {
	if err := checkKind(q.SLI); err != nil {
		return query, err
	}
	agg := "sum"
	if q.SLI.Kind() == slo.KindThreshold {
		agg = "avg"
	}
	return resolve(query, q.Window, agg, rollupFor(q.Window), q.Scope)
}

var _ providers.Diagnoser = (*Provider)(nil)
