package scrape

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/internal/suggest"
	"github.com/sloguard/sloguard/providers"
)

// Diagnose implements providers.Diagnoser: a metric name absent from
// every scrape the provider holds, of every target whatever its scope, is
// unknown (a canary that has served nothing yet may lack a labelled
// counter, but its baseline has it). With nothing scraped yet it cannot
// tell. Label matchers get no hint.
func (p *Provider) Diagnose(_ context.Context, q providers.Query, _ time.Time, queries []string, _ bool) error {
	names := p.names()
	if len(names) == 0 {
		return nil
	}
	for _, rq := range queries {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(rq)
		if err != nil {
			continue
		}
		var unknown string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok || unknown != "" {
				return nil
			}
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					if _, found := slices.BinarySearch(names, m.Value); !found {
						unknown = m.Value
					}
				}
			}
			return nil
		})
		if unknown != "" {
			return &providers.QueryError{Provider: p.name, Query: rq, Err: &providers.UnknownMetricError{
				Metric: unknown, Window: q.Window, In: "the scrapes of every target of provider " + p.name,
				Suggestions: suggest.Closest(unknown, names, 3),
			}}
		}
	}
	return nil
}

// names lists, sorted, the metric names of every snapshot held.
func (p *Provider) names() []string {
	seen := map[string]bool{}
	for _, h := range p.hist {
		h.mu.Lock()
		for _, s := range h.snaps {
			for _, smp := range s.series {
				seen[smp.labels.Get(labels.MetricName)] = true
			}
		}
		h.mu.Unlock()
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ResolveQuery implements providers.Settings: it checks query as Counts reads it for q (the PromQL subset
// scrape evaluates, the scope's targets) without scraping: validate checks
// every query and scope with it. It returns the query with the window
// filled in.
func (c *Config) ResolveQuery(query string, q providers.Query) (string, error) {
	if err := checkKind(q.SLI); err != nil {
		return query, err
	}
	scope := or(q.Scope.Name, providers.ScopeService)
	if _, ok := c.Targets[scope]; !ok && scope != providers.ScopeService {
		return query, providers.BadQuery("no targets for the %s: add targets.%s to the provider", scope, scope)
	}
	_, rq, _, err := compile(query, q.Window, q.SLI.Counter)
	return rq, err
}

var _ providers.Diagnoser = (*Provider)(nil)
