package prometheus

import (
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// ResolveQuery implements providers.Settings: query as Counts sends it for q (window filled in,
// counters wrapped, q.Scope's labels added to every selector) without
// sending anything: validate checks every query and scope with it, so that
// what it accepts is exactly what check and watch will send.
func (c *Config) ResolveQuery(query string, q providers.Query) (string, error) {
	rq, _, err := resolve(query, q.Window, q.SLI.Counter, q.Scope)
	return rq, err
}

// resolve turns an SLI query into the PromQL sent to the server: the window
// filled in, raw counters wrapped in increase() when asked, the scope's
// labels added as matchers to every selector, and its offset to every
// selector's offset. It edits the parsed syntax
// tree, never the string, so label values are always escaped.
func resolve(query string, window time.Duration, counter bool, scope providers.Scope) (expr string, perSecond bool, err error) {
	q := slo.ExpandWindow(query, window)
	// Parse even when nothing changes: a syntax error is clearer here than
	// from the server.
	e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return q, false, providers.BadQuery("%v", err)
	}
	if counter {
		e = wrapCounters(e, window)
	}
	if err := injectLabels(e, scope); err != nil {
		return q, false, err
	}
	if scope.Offset != 0 {
		if err := shiftOffset(e, scope.Offset, scope.Name); err != nil {
			return q, false, err
		}
	}
	if counter || len(scope.Labels) > 0 || scope.Offset != 0 {
		q = e.String()
	}
	return q, isPerSecond(e), nil
}

// isPerSecond reports whether the query yields a per-second rate (rate,
// irate), so that counts are rate × window; increase() and the like yield
// counts already.
func isPerSecond(e parser.Expr) bool {
	rate := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && (c.Func.Name == "rate" || c.Func.Name == "irate") {
			rate = true
		}
		return nil
	})
	return rate
}

// injectLabels adds scope's labels to every vector selector. A selector that
// already constrains one of these labels would fight the scope: that is an
// error, not something to guess about.
func injectLabels(e parser.Expr, scope providers.Scope) error {
	if len(scope.Labels) == 0 {
		return nil
	}
	names := make([]string, 0, len(scope.Labels))
	for k := range scope.Labels {
		if !model.LegacyValidation.IsValidLabelName(k) || strings.HasPrefix(k, "__") {
			return &providers.ScopeError{Scope: scope.Name, Label: k, Msg: "not a Prometheus label name: use letters, digits and _, not starting with a digit or __"}
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var err error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok || err != nil {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if _, clash := scope.Labels[m.Name]; clash {
				err = providers.BadQuery("selector %s already has label %q, which sloguard sets to select the %s: remove it from the query", vs.String(), m.Name, scope.Name)
				return nil
			}
		}
		for _, k := range names {
			m, mErr := labels.NewMatcher(labels.MatchEqual, k, scope.Labels[k])
			if mErr != nil {
				err = providers.BadQuery("label %s: %v", k, mErr)
				return nil
			}
			vs.LabelMatchers = append(vs.LabelMatchers, m)
		}
		return nil
	})
	return err
}

// wrapCounters replaces each bare vector selector v with increase(v[w]):
// OpenSLO's counter: true queries select raw counters.
func wrapCounters(e parser.Expr, w time.Duration) parser.Expr {
	wrap := func(x parser.Expr) parser.Expr { return wrapCounters(x, w) }
	switch n := e.(type) {
	case *parser.VectorSelector:
		return &parser.Call{Func: parser.Functions["increase"], Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: n, Range: w}}}
	case *parser.AggregateExpr:
		n.Expr = wrap(n.Expr)
	case *parser.BinaryExpr:
		n.LHS, n.RHS = wrap(n.LHS), wrap(n.RHS)
	case *parser.ParenExpr:
		n.Expr = wrap(n.Expr)
	case *parser.UnaryExpr:
		n.Expr = wrap(n.Expr)
	case *parser.Call:
		for i, a := range n.Args {
			if _, ok := a.(*parser.MatrixSelector); !ok {
				n.Args[i] = wrap(a)
			}
		}
	}
	return e
}
