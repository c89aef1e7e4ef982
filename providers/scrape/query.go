package scrape

import (
	"math"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// supported says which PromQL sloguard evaluates itself, for messages.
const supported = "sum(rate(m{…}[{{.window}}])) or sum(increase(m{…}[{{.window}}])), numbers, and + - * / between them"

// compile parses an SLI query with the official PromQL parser and checks
// that it stays inside the subset scrape evaluates. It returns the
// expression with the window filled in and whether it yields a per-second
// rate (which the caller scales by the window, as for Prometheus).
func compile(query string, window time.Duration, counter bool) (parser.Expr, string, bool, error) {
	q := slo.ExpandWindow(query, window)
	e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return nil, q, false, providers.BadQuery("%v", err)
	}
	perSecond := false
	if err := check(e, counter, false, &perSecond); err != nil {
		return nil, q, false, err
	}
	return e, q, perSecond, nil
}

// check walks the expression; inSum is true below a sum().
func check(e parser.Expr, counter, inSum bool, perSecond *bool) error {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return nil
	case *parser.ParenExpr:
		return check(n.Expr, counter, inSum, perSecond)
	case *parser.BinaryExpr:
		switch n.Op {
		case parser.ADD, parser.SUB, parser.MUL, parser.DIV:
		default:
			return providers.BadQuery("operator %s is not evaluated by the scrape provider: it reads %s", n.Op, supported)
		}
		if inSum {
			return providers.BadQuery("arithmetic inside sum() is not evaluated by the scrape provider: sum each part, e.g. sum(rate(a[5m])) + sum(rate(b[5m]))")
		}
		if err := check(n.LHS, counter, inSum, perSecond); err != nil {
			return err
		}
		return check(n.RHS, counter, inSum, perSecond)
	case *parser.AggregateExpr:
		if n.Op != parser.SUM || inSum {
			return providers.BadQuery("%s is not evaluated by the scrape provider: it reads %s", n.Op, supported)
		}
		if len(n.Grouping) > 0 || n.Without {
			return providers.BadQuery("sum by/without returns several series: the scrape provider needs one number, sum(...) with no grouping")
		}
		return check(n.Expr, counter, true, perSecond)
	case *parser.Call:
		name := n.Func.Name
		if name != "rate" && name != "increase" {
			return providers.BadQuery("function %s() is not evaluated by the scrape provider: it reads %s", name, supported)
		}
		if !inSum {
			return providers.BadQuery("%s() returns one series per target and label set: wrap it in sum(...)", name)
		}
		ms, ok := n.Args[0].(*parser.MatrixSelector)
		if !ok {
			return providers.BadQuery("%s() must read a selector with a range, e.g. %s(http_requests_total[{{.window}}])", name, name)
		}
		if name == "rate" {
			*perSecond = true
		}
		return checkSelector(ms.VectorSelector.(*parser.VectorSelector))
	case *parser.VectorSelector:
		if !counter || !inSum {
			return providers.BadQuery("selector %s must be read with rate() or increase() over a range, inside sum(...)", n)
		}
		return checkSelector(n)
	}
	return providers.BadQuery("%s is not evaluated by the scrape provider: it reads %s", e.Type(), supported)
}

func checkSelector(vs *parser.VectorSelector) error {
	if vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return providers.BadQuery("selector %s: offset and @ are not evaluated by the scrape provider, which only knows what it scraped", vs)
	}
	return nil
}

// incFunc is the increase of the series a selector matches over the range
// ending at the evaluation time, summed over the scope's targets.
type incFunc func(matchers []*labels.Matcher, rng time.Duration) (float64, error)

// eval evaluates a checked expression the way PromQL would, but with exact
// increases: rate() is the increase over its range divided by the range in
// seconds, with no extrapolation to the range's edges.
func eval(e parser.Expr, window time.Duration, inc incFunc) (float64, error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, nil
	case *parser.ParenExpr:
		return eval(n.Expr, window, inc)
	case *parser.BinaryExpr:
		l, err := eval(n.LHS, window, inc)
		if err != nil {
			return 0, err
		}
		r, err := eval(n.RHS, window, inc)
		if err != nil {
			return 0, err
		}
		switch n.Op {
		case parser.ADD:
			return l + r, nil
		case parser.SUB:
			return l - r, nil
		case parser.MUL:
			return l * r, nil
		default:
			if r == 0 {
				if l == 0 {
					return math.NaN(), nil
				}
				return math.Inf(int(math.Copysign(1, l))), nil
			}
			return l / r, nil
		}
	case *parser.AggregateExpr:
		return eval(n.Expr, window, inc)
	case *parser.Call:
		ms := n.Args[0].(*parser.MatrixSelector)
		v, err := inc(ms.VectorSelector.(*parser.VectorSelector).LabelMatchers, ms.Range)
		if err != nil {
			return 0, err
		}
		if n.Func.Name == "rate" {
			v /= ms.Range.Seconds()
		}
		return v, nil
	case *parser.VectorSelector: // counter: true
		return inc(n.LabelMatchers, window)
	}
	return 0, providers.BadQuery("%s is not evaluated by the scrape provider", e.Type())
}

// matcher reports whether a series matches every matcher. le and quantile
// equality compares numbers, so that le="1" matches a bucket written 1.0.
func matcher(ms []*labels.Matcher) func(labels.Labels) bool {
	return func(ls labels.Labels) bool {
		for _, m := range ms {
			v := ls.Get(m.Name)
			if m.Type == labels.MatchEqual && (m.Name == "le" || m.Name == "quantile") {
				a, errA := strconv.ParseFloat(v, 64)
				b, errB := strconv.ParseFloat(m.Value, 64)
				if errA == nil && errB == nil {
					if a != b {
						return false
					}
					continue
				}
			}
			if !m.Matches(v) {
				return false
			}
		}
		return true
	}
}
