package prometheus

import (
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// shiftOffset moves the whole query d into the past by setting `offset` on
// every selector: evaluated at t, it reads what it would have read at
// t − d. An offset already in the query is added to (it keeps meaning
// "this much before the query's time"). A subquery is shifted as a whole,
// the selectors inside it left relative to its steps, as an evaluation d
// earlier would. An @ modifier pins data to a fixed time, which no offset
// should silently move or leave behind: it is an error.
func shiftOffset(e parser.Expr, d time.Duration, scope string) error {
	var err error
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		if err != nil {
			return nil
		}
		switch x := n.(type) {
		case *parser.VectorSelector:
			if x.Timestamp != nil || x.StartOrEnd != 0 {
				err = providers.BadQuery("selector %s has an @ modifier, which pins it to a fixed time: sloguard cannot read it %s earlier for the %s; remove @ from the query", x.String(), slo.FormatDuration(d), scope)
				return nil
			}
			if x.OriginalOffsetExpr != nil {
				err = providers.BadQuery("selector %s has an offset expression: write a plain duration so that sloguard can add %s to it", x.String(), slo.FormatDuration(d))
				return nil
			}
			if !insideSubquery(path) {
				x.OriginalOffset += d
			}
		case *parser.SubqueryExpr:
			if x.Timestamp != nil || x.StartOrEnd != 0 {
				err = providers.BadQuery("subquery %s has an @ modifier, which pins it to a fixed time: sloguard cannot read it %s earlier for the %s; remove @ from the query", x.String(), slo.FormatDuration(d), scope)
				return nil
			}
			if x.OriginalOffsetExpr != nil {
				err = providers.BadQuery("subquery %s has an offset expression: write a plain duration so that sloguard can add %s to it", x.String(), slo.FormatDuration(d))
				return nil
			}
			if !insideSubquery(path) {
				x.OriginalOffset += d
			}
		}
		return nil
	})
	return err
}

func insideSubquery(path []parser.Node) bool {
	for _, p := range path {
		if _, ok := p.(*parser.SubqueryExpr); ok {
			return true
		}
	}
	return false
}
