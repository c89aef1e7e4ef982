package prometheus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/providers"
)

func TestResolve(t *testing.T) {
	canary := providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"track": "canary"}}
	tests := map[string]struct {
		query     string
		window    time.Duration
		counter   bool
		scope     providers.Scope
		want      string
		perSecond bool
		wantErr   string // the error's text after "bad query: "
	}{
		"the window is expanded": {
			query: `sum(rate(http_requests_total[{{.window}}]))`, window: 30 * 24 * time.Hour,
			want: `sum(rate(http_requests_total[30d]))`, perSecond: true,
		},
		"the window may be written with spaces": {
			query: `sum(increase(http_requests_total[{{ .window }}]))`, window: 90 * time.Minute,
			want: `sum(increase(http_requests_total[1h30m]))`,
		},
		"a query without anything to change is sent as written": {
			query: `sum( rate(http_requests_total[5m]) )`, window: time.Hour,
			want: `sum( rate(http_requests_total[5m]) )`, perSecond: true,
		},
		"irate is per second": {
			query: `sum(irate(x[{{.window}}]))`, window: time.Minute, want: `sum(irate(x[1m]))`, perSecond: true,
		},
		"a rate in a binary expression is per second": {
			query: `sum(rate(x[{{.window}}])) - sum(rate(y[{{.window}}]))`, window: time.Minute,
			want: `sum(rate(x[1m])) - sum(rate(y[1m]))`, perSecond: true,
		},
		"increase and count_over_time are counts": {
			query: `sum(increase(x[{{.window}}])) + sum(count_over_time(y[{{.window}}]))`, window: time.Minute,
			want: `sum(increase(x[1m])) + sum(count_over_time(y[1m]))`,
		},
		"the scope's labels are added to every selector": {
			query: `sum(rate(a[{{.window}}])) / sum(rate(b{job="x"}[{{.window}}]))`, window: 5 * time.Minute, scope: canary,
			want: `sum(rate(a{track="canary"}[5m])) / sum(rate(b{job="x",track="canary"}[5m]))`, perSecond: true,
		},
		"several labels are added in name order": {
			query: `sum(a)`, scope: providers.Scope{Name: "canary", Labels: map[string]string{"track": "canary", "app": "checkout"}},
			want: `sum(a{app="checkout",track="canary"})`,
		},
		"label values with quotes and backslashes are escaped": {
			query: `sum(a)`, scope: providers.Scope{Name: "canary", Labels: map[string]string{"track": `can"ary\1`}},
			want: `sum(a{track="can\"ary\\1"})`,
		},
		"labels reach selectors inside subqueries": {
			query: `max_over_time(sum(rate(a[1m]))[{{.window}}:1m])`, window: time.Hour, scope: canary,
			want: `max_over_time(sum(rate(a{track="canary"}[1m]))[1h:1m])`, perSecond: true,
		},
		"a selector that already sets the scope's label is a bad query naming it": {
			query: `sum(rate(a{track="stable"}[5m]))`, scope: canary,
			wantErr: `selector a{track="stable"} already has label "track", which sloguard sets to select the canary: remove it from the query`,
		},
		"a regex on the scope's label clashes too": {
			query: `sum(a) / sum(b{track=~"c.*"})`, scope: canary,
			wantErr: `selector b{track=~"c.*"} already has label "track"`,
		},
		"raw counters are wrapped in increase over the window": {
			query: `sum(http_requests_total{code="500"})`, window: 5 * time.Minute, counter: true,
			want: `sum(increase(http_requests_total{code="500"}[5m]))`,
		},
		"both sides of a binary expression are wrapped": {
			query: `sum(a) / sum(b)`, window: time.Hour, counter: true,
			want: `sum(increase(a[1h])) / sum(increase(b[1h]))`,
		},
		"a bare selector is wrapped": {
			query: `a`, window: time.Hour, counter: true, want: `increase(a[1h])`,
		},
		"an offset stays with its selector": {
			query: `sum(a offset 1d)`, window: time.Hour, counter: true, want: `sum(increase(a[1h] offset 1d))`,
		},
		"a selector already under a range function is left alone": {
			query: `sum(rate(a[5m]))`, window: time.Hour, counter: true, want: `sum(rate(a[5m]))`, perSecond: true,
		},
		"counters and scope together": {
			query: `sum by (code) (a)`, window: 5 * time.Minute, counter: true, scope: canary,
			want: `sum by (code) (increase(a{track="canary"}[5m]))`,
		},
		"a syntax error is a bad query": {
			query: `sum(rate(a[{{.window}}])`, window: 5 * time.Minute,
			wantErr: `parse error: unclosed left parenthesis`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, perSecond, err := resolve(tc.query, tc.window, tc.counter, tc.scope)
			if tc.wantErr != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a bad query containing %q", err, tc.wantErr)
				}
				if strings.Contains(got, "{{") {
					t.Errorf("resolve returned %q on error, want the query with the window expanded", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || perSecond != tc.perSecond {
				t.Errorf("resolve = %s (per second %v), want %s (per second %v)", got, perSecond, tc.want, tc.perSecond)
			}
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(got); err != nil {
				t.Errorf("the resolved query does not parse: %v", err)
			}
		})
	}
}

// TestResolveEscapingRoundTrips checks that a hostile label value reaches
// the server as exactly that value, whatever it holds.
func TestResolveEscapingRoundTrips(t *testing.T) {
	for _, v := range []string{`"`, `\`, `\"`, "a\nb", `"}) or vector(1) #`, "ü", "`"} {
		got, _, err := resolve(`sum(a)`, time.Minute, false, providers.Scope{Name: "canary", Labels: map[string]string{"track": v}})
		if err != nil {
			t.Fatal(err)
		}
		e, err := parser.NewParser(parser.Options{}).ParseExpr(got)
		if err != nil {
			t.Fatalf("%q: %s does not parse: %v", v, got, err)
		}
		vs := e.(*parser.AggregateExpr).Expr.(*parser.VectorSelector)
		found := false
		for _, m := range vs.LabelMatchers {
			if m.Name == "track" {
				found = true
				if m.Value != v {
					t.Errorf("%q: the server would see track=%q", v, m.Value)
				}
			}
		}
		if !found {
			t.Errorf("%q: no track matcher in %s", v, got)
		}
	}
}
