package prometheus

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/vmtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

func TestResolveShiftsEverySelectorByTheBaselineOffset(t *testing.T) {
	past := func(d time.Duration) providers.Scope {
		return providers.Scope{Name: providers.ScopeBaseline, Offset: d}
	}
	tests := map[string]struct {
		query   string
		window  time.Duration
		counter bool
		scope   providers.Scope
		want    string
		wantErr string
	}{
		"every selector gets the offset": {
			query: `sum(rate(a{code=~"5.."}[{{.window}}])) / sum(rate(a[{{.window}}]))`, window: 5 * time.Minute, scope: past(time.Hour),
			want: `sum(rate(a{code=~"5.."}[5m] offset 1h)) / sum(rate(a[5m] offset 1h))`,
		},
		"an instant selector too": {
			query: `sum(a)`, scope: past(7 * 24 * time.Hour), want: `sum(a offset 1w)`,
		},
		"an offset in the query is added to": {
			query: `sum(increase(a[{{.window}}] offset 1d))`, window: time.Minute, scope: past(time.Hour),
			want: `sum(increase(a[1m] offset 1d1h))`,
		},
		"a negative offset is added to": {
			query: `sum(a offset -10m)`, scope: past(time.Hour), want: `sum(a offset 50m)`,
		},
		"labels and offset together": {
			query: `sum(rate(a[{{.window}}]))`, window: 30 * time.Second,
			scope: providers.Scope{Name: providers.ScopeBaseline, Labels: map[string]string{"color": "blue"}, Offset: 10 * time.Minute},
			want:  `sum(rate(a{color="blue"}[30s] offset 10m))`,
		},
		"a subquery moves as a whole, its selectors relative to its steps": {
			query: `max_over_time(sum(rate(a[1m] offset 5m))[{{.window}}:1m])`, window: time.Hour, scope: past(30 * time.Minute),
			want: `max_over_time(sum(rate(a[1m] offset 5m))[1h:1m] offset 30m)`,
		},
		"raw counters are wrapped, then shifted": {
			query: `sum(a{code="500"})`, window: 5 * time.Minute, counter: true, scope: past(time.Hour),
			want: `sum(increase(a{code="500"}[5m] offset 1h))`,
		},
		"an @ modifier cannot be shifted": {
			query: `sum(rate(a[5m] @ 1700000000))`, scope: past(time.Hour),
			wantErr: `selector a @ 1700000000.000 has an @ modifier, which pins it to a fixed time: sloguard cannot read it 1h earlier for the baseline; remove @ from the query`,
		},
		"@ end() neither": {
			query: `sum(a @ end())`, scope: past(time.Hour),
			wantErr: `has an @ modifier`,
		},
		"an @ inside a subquery neither": {
			query: `max_over_time(a @ start()[1h:1m])`, scope: past(time.Hour),
			wantErr: `has an @ modifier`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, _, err := resolve(tc.query, tc.window, tc.counter, tc.scope)
			if tc.wantErr != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want a bad query containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("resolve = %s, want %s", got, tc.want)
			}
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(got); err != nil {
				t.Errorf("the resolved query does not parse: %v", err)
			}
		})
	}
}

// TestAnOffsetReadsWhatTheQueryReadThatLongBefore backfills a real
// Prometheus and a real VictoriaMetrics with a service whose error ratio
// jumped 20 minutes before the end, and reads the last 10 minutes with an
// offset of 30 minutes: both engines must answer what the history held
// then (the old ratio), with the offset written in the query, and the
// reading's Start and End must say which period it was.
func TestAnOffsetReadsWhatTheQueryReadThatLongBefore(t *testing.T) {
	if _, err := vmtest.Binary(); err != nil {
		t.Fatal(err)
	}
	h := promtest.New(time.Now().Truncate(time.Hour),
		promtest.Service{Name: "checkout", Rate: 20, ErrorRatio: 0.001, Segments: []promtest.Segment{{From: 20 * time.Minute, ErrorRatio: 0.005}}})
	h.Span = 3 * time.Hour
	sli := slo.SLI{
		ErrorQuery: `sum(rate(http_requests_total{service="checkout",code="500"}[{{.window}}]))`,
		TotalQuery: `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`,
	}
	const window, offset = 10 * time.Minute, 30 * time.Minute
	for engine, url := range map[string]string{"prometheus": promtest.Start(t, h).URL, "victoria-metrics": vmtest.Start(t, h).URL} {
		p, _ := newProvider(t, testConfig(engine, url, time.Minute, 1, 4), nil)
		read := func(scope providers.Scope, at time.Time) providers.Counts {
			c, err := p.Counts(t.Context(), providers.Query{SLO: "checkout", SLI: sli, Scope: scope, Window: window}, at)
			if err != nil {
				t.Fatalf("%s: %v", engine, err)
			}
			return c
		}
		now := read(providers.Scope{Name: providers.ScopeService}, h.End)
		past := read(providers.Scope{Name: providers.ScopeBaseline, Offset: offset}, h.End)
		then := read(providers.Scope{Name: providers.ScopeService}, h.End.Add(-offset))
		ratio := func(c providers.Counts) float64 { return c.Bad() / c.Total }
		if math.Abs(ratio(past)-ratio(then)) > 1e-12 || math.Abs(past.Total-then.Total) > 1e-6 {
			t.Errorf("%s: with offset %s: %v bad of %v; evaluated %s earlier: %v of %v", engine, offset, past.Bad(), past.Total, offset, then.Bad(), then.Total)
		}
		if want, _ := h.ErrorRatio("checkout", h.End.Add(-offset), window); engine == "prometheus" && math.Abs(ratio(past)-want) > 1e-9 {
			t.Errorf("%s: error ratio %v %s earlier, the history says %v", engine, ratio(past), offset, want)
		}
		if math.Abs(ratio(past)-0.001) > 1e-4 || math.Abs(ratio(now)-0.005) > 1e-4 {
			t.Errorf("%s: now %v, %s earlier %v; want 0.005 and 0.001", engine, ratio(now), offset, ratio(past))
		}
		wantQ := `sum(rate(http_requests_total{code="500",service="checkout"}[10m] offset 30m))`
		if len(past.Resolved) != 2 || past.Resolved[0] != wantQ {
			t.Errorf("%s: resolved %q, want the error query %s first", engine, past.Resolved, wantQ)
		}
		if !past.End.Equal(h.End.Add(-offset)) || !past.Start.Equal(h.End.Add(-offset-window)) {
			t.Errorf("%s: the reading covers (%s, %s], want (%s, %s]", engine, past.Start, past.End, h.End.Add(-offset-window), h.End.Add(-offset))
		}
	}
}
