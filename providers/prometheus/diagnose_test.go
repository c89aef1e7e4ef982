package prometheus

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/vmtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// TestExplainTellsATypoFromAQuietService reads misspelt metrics and label
// values from a real Prometheus and a real VictoriaMetrics, each holding
// two hours of http_requests_total{service, code} for two services, and
// checks what Explain makes of the empty results.
func TestExplainTellsATypoFromAQuietService(t *testing.T) {
	if _, err := vmtest.Binary(); err != nil {
		t.Fatal(err)
	}
	h := promtest.New(time.Now().Truncate(time.Hour), promtest.Service{Name: "checkout", Rate: 5, ErrorRatio: 0.01}, promtest.Service{Name: "search", Rate: 5})
	h.Span = 2 * time.Hour
	engines := map[string]string{"prometheus": promtest.Start(t, h).URL, "victoria-metrics": vmtest.Start(t, h).URL}
	events := func(errQ, totalQ string) slo.SLI { return slo.SLI{ErrorQuery: errQ, TotalQuery: totalQ} }
	tests := map[string]struct {
		sli   slo.SLI
		scope providers.Scope
		// want: nil (the reading stands), an *UnknownMetricError or a *NoMatchError
		unknown     *providers.UnknownMetricError
		noMatch     *providers.NoMatchError
		wantNoData  bool // the reading is no data, explained or not
		wantSuccess bool
	}{
		"a misspelt metric in the total query is an unknown metric": {
			sli:     events(`sum(rate(http_requests_total{code="500"}[{{.window}}]))`, `sum(rate(http_request_total{service="checkout"}[{{.window}}]))`),
			unknown: &providers.UnknownMetricError{Metric: "http_request_total", Window: time.Hour, Suggestions: []string{"http_requests_total"}},
		},
		"a misspelt metric in the error query is an unknown metric, not zero errors": {
			sli:     events(`sum(rate(http_request_total{code="500"}[{{.window}}]))`, `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`),
			unknown: &providers.UnknownMetricError{Metric: "http_request_total", Window: time.Hour, Suggestions: []string{"http_requests_total"}},
		},
		"a misspelt label value is no data with the closest value": {
			sli:        events(`sum(rate(http_requests_total{service="chekout",code="500"}[{{.window}}]))`, `sum(rate(http_requests_total{service="chekout"}[{{.window}}]))`),
			wantNoData: true,
			noMatch: &providers.NoMatchError{Selector: `http_requests_total{service="chekout"}`, Metric: "http_requests_total",
				Matcher: `service="chekout"`, Label: "service", Suggestions: []string{"checkout"}},
		},
		"a canary label no series has says so": {
			sli:        events(`sum(rate(http_requests_total{service="checkout",code="500"}[{{.window}}]))`, `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`),
			scope:      providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"track": "canary"}},
			wantNoData: true,
			noMatch: &providers.NoMatchError{Selector: `http_requests_total{service="checkout",track="canary"}`, Metric: "http_requests_total",
				Matcher: `track="canary"`, Label: "track"},
		},
		"a value far from every other lists the values there are": {
			sli:        events(`sum(rate(http_requests_total{code="503"}[{{.window}}]))`, `sum(rate(http_requests_total{code="404"}[{{.window}}]))`),
			wantNoData: true,
			noMatch: &providers.NoMatchError{Selector: `http_requests_total{code="404"}`, Metric: "http_requests_total",
				Matcher: `code="404"`, Label: "code", Values: []string{"200", "500"}},
		},
		"an error query matching no series of a known metric is zero errors": {
			sli:         events(`sum(rate(http_requests_total{service="search",code="503"}[{{.window}}]))`, `sum(rate(http_requests_total{service="search"}[{{.window}}]))`),
			wantSuccess: true,
		},
	}
	for engine, url := range engines {
		p, _ := newProvider(t, slo.Provider{Name: engine, Type: "prometheus", URL: url, Timeout: time.Minute, Retries: 1, MaxConcurrency: 4}, nil)
		for name, tc := range tests {
			t.Run(engine+"/"+name, func(t *testing.T) {
				scope := tc.scope
				if scope.Name == "" {
					scope.Name = providers.ScopeService
				}
				q := providers.Query{SLO: "s", SLI: tc.sli, Scope: scope, Window: time.Hour}
				c, err := p.Counts(t.Context(), q, h.End)
				got := providers.Explain(t.Context(), p, q, h.End, c, err)
				var (
					unknown *providers.UnknownMetricError
					noMatch *providers.NoMatchError
				)
				switch {
				case tc.unknown != nil:
					if !errors.As(got, &unknown) || !errors.Is(got, providers.ErrBadQuery) || !reflect.DeepEqual(unknown, tc.unknown) {
						t.Fatalf("Explain = %v (%#v); want a bad query %#v", got, unknown, tc.unknown)
					}
					if !strings.Contains(got.Error(), "did you mean http_requests_total?") {
						t.Errorf("message %q lacks the suggestion", got)
					}
				case tc.noMatch != nil:
					if !errors.As(got, &noMatch) || !errors.Is(got, providers.ErrNoData) || !reflect.DeepEqual(noMatch, tc.noMatch) {
						t.Fatalf("Explain = %v (%#v); want no data %#v", got, noMatch, tc.noMatch)
					}
				case tc.wantSuccess:
					if got != nil || c.Total <= 0 || len(c.Unmatched) != 1 {
						t.Fatalf("Explain = %v, counts %+v; want the reading to stand, with the error query unmatched", got, c)
					}
				}
			})
		}
	}
}
