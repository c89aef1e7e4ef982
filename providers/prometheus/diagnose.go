package prometheus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
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
			if name == "" {
				continue // a regex on the name: nothing to compare with
			}
			start, end := looks(vs, q.Window, at)
			known, err := p.knownMetric(ctx, name, start, end, at.Sub(end))
			if err != nil {
				p.log.Debug("cannot tell whether a metric exists", "provider", p.name, "metric", name, "error", err)
				return nil
			}
			if !known {
				return p.absent(ctx, rq, vs, name, q.Window, start, end, at, hints)
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

// looks is where a selector reads: the window before the evaluation time,
// or before the time its @ pins, moved back by its offset.
func looks(vs *parser.VectorSelector, window time.Duration, at time.Time) (start, end time.Time) {
	end = at
	if vs.Timestamp != nil {
		end = time.UnixMilli(*vs.Timestamp).UTC()
	}
	end = end.Add(-vs.OriginalOffset)
	return end.Add(-window), end
}

// absent explains a metric without series where the query looks. When the
// query looks away from the evaluation time (offset, @) and the metric has
// series between there and the evaluation time, it exists: the query looks
// before it did (a metric younger than the offset), which is no data (with
// hints, a *NoMatchError that says so; without, nothing to add). Otherwise
// the name is unknown: a bad query.
func (p *Provider) absent(ctx context.Context, rq string, vs *parser.VectorSelector, name string, window time.Duration, start, end, at time.Time, hints bool) error {
	unknown := &providers.UnknownMetricError{Metric: name, Window: window}
	from, to := start, end
	if !end.Equal(at) {
		from, to = minTime(start, at.Add(-window)), maxTime(end, at)
		known, err := p.knownMetric(ctx, name, from, to, 0)
		if err != nil {
			p.log.Debug("cannot tell whether a metric exists", "provider", p.name, "metric", name, "error", err)
			return nil
		}
		if known {
			if !hints {
				return nil
			}
			return p.queryErr(rq, &providers.NoMatchError{Selector: vs.String(), Metric: name, Outside: fmt.Sprintf("%s to %s (%s)", stamp(start), stamp(end), shiftWord(vs))})
		}
		unknown.In = fmt.Sprintf("%s to %s (the query's window, %s, and on to the evaluation time)", stamp(from), stamp(to), shiftWord(vs))
	}
	unknown.Suggestions = p.closestNames(ctx, name, from, to)
	return p.queryErr(rq, unknown)
}

// shiftWord says how a selector moves its window: "offset 1d", "@ 1700000000".
func shiftWord(vs *parser.VectorSelector) string {
	var parts []string
	if vs.Timestamp != nil {
		parts = append(parts, fmt.Sprintf("@ %s", stamp(time.UnixMilli(*vs.Timestamp))))
	}
	if vs.OriginalOffset != 0 {
		parts = append(parts, "offset "+model.Duration(vs.OriginalOffset).String())
	}
	return strings.Join(parts, " ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
// names are remembered for the provider's life, by how far before the
// evaluation time the window ends (a metric seen now may not have existed
// a day ago, where an offset looks): a run asks about the same few
// metrics again and again.
func (p *Provider) knownMetric(ctx context.Context, name string, start, end time.Time, shift time.Duration) (bool, error) {
	key := knownKey{name, shift}
	p.mu.Lock()
	known := p.known[key]
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
	p.known[key] = true
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
