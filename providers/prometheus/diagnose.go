package prometheus

import (
	"context"
	"slices"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/internal/suggest"
	"github.com/sloguard/sloguard/providers"
)

// Bounds on what a diagnosis reads: it runs only after a query came back
// empty, and a large server has hundreds of thousands of names.
const (
	nameLimit  = 50000 // metric names read to suggest the closest
	valueLimit = 10000 // values of one label read to find a match
)

// Diagnose implements providers.Diagnoser through the label values API
// (GET /api/v1/label/<name>/values with match[], start and end), which
// Prometheus, Thanos, Mimir and VictoriaMetrics serve: the window bounds
// what it reads, so that a metric renamed months ago is unknown today.
func (p *Provider) Diagnose(ctx context.Context, q providers.Query, at time.Time, queries []string, hints bool) error {
	var hint error
	for _, rq := range queries {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(rq)
		if err != nil {
			continue
		}
		for _, vs := range selectors(e) {
			name := metricName(vs)
			if name == "" || vs.Timestamp != nil || vs.StartOrEnd != 0 {
				continue // a regex on the name, or pinned by @: nothing to compare with
			}
			start, end := at.Add(-q.Window-vs.OriginalOffset), at.Add(-vs.OriginalOffset)
			known, err := p.knownMetric(ctx, name, start, end)
			if err != nil {
				p.log.Debug("cannot tell whether a metric exists", "provider", p.name, "metric", name, "error", err)
				return nil
			}
			if !known {
				return p.queryErr(rq, &providers.UnknownMetricError{Metric: name, Window: q.Window, Suggestions: p.closestNames(ctx, name, start, end)})
			}
			if hints && hint == nil {
				if nm := p.noMatch(ctx, vs, name, start, end); nm != nil {
					hint = p.queryErr(rq, nm)
				}
			}
		}
	}
	return hint
}

// selectors lists the query's vector selectors, each once.
func selectors(e parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && !seen[vs.String()] {
			seen[vs.String()] = true
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// metricName is the name a selector asks for by equality, "" otherwise.
func metricName(vs *parser.VectorSelector) string {
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// selector writes matchers as a PromQL selector, escaped by the parser's
// own printer.
func selector(ms ...*labels.Matcher) string {
	return (&parser.VectorSelector{LabelMatchers: ms}).String()
}

// knownMetric reports whether name has any series in [start, end]. Known
// names are remembered for the provider's life: a run asks about the same
// few metrics again and again.
func (p *Provider) knownMetric(ctx context.Context, name string, start, end time.Time) (bool, error) {
	p.mu.Lock()
	known := p.known[name]
	p.mu.Unlock()
	if known {
		return true, nil
	}
	m := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name)
	vals, err := p.labelValues(ctx, labels.MetricName, []string{selector(m)}, start, end, 1)
	if err != nil || len(vals) == 0 {
		return false, err
	}
	p.mu.Lock()
	p.known[name] = true
	p.mu.Unlock()
	return true, nil
}

// closestNames suggests metric names near a misspelt one; none when the
// server cannot list them.
func (p *Provider) closestNames(ctx context.Context, name string, start, end time.Time) []string {
	vals, err := p.labelValues(ctx, labels.MetricName, nil, start, end, nameLimit)
	if err != nil {
		p.log.Debug("cannot list metric names", "provider", p.name, "error", err)
		return nil
	}
	return suggest.Closest(name, vals, 3)
}

// noMatch finds why a selector of a known metric matches nothing: the
// first matcher that no series of the metric meets, with the label's
// closest values; or the combination when each matcher alone is met. nil
// when the selector does match series (the query is empty for another
// reason) or the server cannot tell.
func (p *Provider) noMatch(ctx context.Context, vs *parser.VectorSelector, name string, start, end time.Time) *providers.NoMatchError {
	byName := selector(labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name))
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName || m.Matches("") {
			continue // a matcher that a missing label meets rules nothing out
		}
		vals, err := p.labelValues(ctx, m.Name, []string{byName}, start, end, valueLimit)
		if err != nil {
			return nil
		}
		if slices.ContainsFunc(vals, m.Matches) {
			continue
		}
		nm := &providers.NoMatchError{Selector: vs.String(), Metric: name, Matcher: m.String(), Label: m.Name}
		if m.Type == labels.MatchEqual {
			nm.Suggestions = suggest.Closest(m.Value, vals, 3)
		}
		if len(nm.Suggestions) == 0 && len(vals) > 0 {
			nm.Values = vals[:min(len(vals), 6)]
		}
		return nm
	}
	// Every matcher alone is met: is the selector as a whole?
	qctx, done, err := p.lim.Start(ctx)
	if err != nil {
		return nil
	}
	defer done()
	series, _, _, err := p.api.Series(qctx, []string{vs.String()}, start, end, v1.WithLimit(1))
	if err != nil || len(series) > 0 {
		return nil
	}
	return &providers.NoMatchError{Selector: vs.String(), Metric: name}
}

// labelValues reads a label's values, sorted, within the provider's
// concurrency bound and deadline.
func (p *Provider) labelValues(ctx context.Context, label string, match []string, start, end time.Time, limit uint64) ([]string, error) {
	qctx, done, err := p.lim.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	vals, _, _, err := p.api.LabelValues(qctx, label, match, start, end, v1.WithLimit(limit))
	if err != nil {
		return nil, p.classify(ctx, qctx, err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out, nil
}

var _ providers.Diagnoser = (*Provider)(nil)
