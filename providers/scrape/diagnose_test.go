package scrape

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// TestExplainFindsMetricsAbsentFromEveryScrape scrapes a canary that has
// served nothing yet (its counter vector has no children, so the text
// format holds no http_requests_total at all) and a baseline that has.
func TestExplainFindsMetricsAbsentFromEveryScrape(t *testing.T) {
	target := func(body string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			fmt.Fprint(w, body)
		}))
		t.Cleanup(s.Close)
		return s.URL + "/metrics"
	}
	canary := target("# HELP process_start_time_seconds Start time.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1.7e9\n")
	baseline := target("# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1000\nhttp_requests_total{code=\"500\"} 3\n")
	at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	events := func(errQ, totalQ string) slo.SLI { return slo.SLI{ErrorQuery: errQ, TotalQuery: totalQ} }
	tests := map[string]struct {
		sli     slo.SLI
		scope   string
		unknown *providers.UnknownMetricError
	}{
		"a misspelt total metric is unknown": {
			sli:   events(`sum(rate(http_requests_total{code="500"}[{{.window}}]))`, `sum(rate(http_request_total[{{.window}}]))`),
			scope: providers.ScopeBaseline,
			unknown: &providers.UnknownMetricError{Metric: "http_request_total", Window: time.Hour, In: "the scrapes of every target of provider pods",
				Suggestions: []string{"http_requests_total"}},
		},
		"a misspelt error metric is unknown, not zero errors": {
			sli:   events(`sum(rate(http_request_total{code="500"}[{{.window}}]))`, `sum(rate(http_requests_total[{{.window}}]))`),
			scope: providers.ScopeBaseline,
			unknown: &providers.UnknownMetricError{Metric: "http_request_total", Window: time.Hour, In: "the scrapes of every target of provider pods",
				Suggestions: []string{"http_requests_total"}},
		},
		"a canary that has served nothing yet is no data: its baseline has the metric": {
			sli:   events(`sum(rate(http_requests_total{code="500"}[{{.window}}]))`, `sum(rate(http_requests_total[{{.window}}]))`),
			scope: providers.ScopeCanary,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := New(t.Context(), Config{Name: "pods", Targets: map[string][]string{"canary": {canary}, "baseline": {baseline}},
				HTTP: httpconf.HTTP{Transport: httpconf.Transport{Timeout: slo.Duration(5 * time.Second), MaxConcurrency: 4}}}, providers.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Prime(t.Context(), at); err != nil {
				t.Fatal(err)
			}
			q := providers.Query{SLO: "s", SLI: tc.sli, Scope: providers.Scope{Name: tc.scope}, Window: time.Hour}
			c, err := p.Counts(t.Context(), q, at.Add(time.Minute))
			got := providers.Explain(t.Context(), p, q, at.Add(time.Minute), c, err)
			var unknown *providers.UnknownMetricError
			if tc.unknown == nil {
				if !errors.Is(got, providers.ErrNoData) || errors.Is(got, providers.ErrBadQuery) {
					t.Errorf("Explain = %v, want no data", got)
				}
				return
			}
			if !errors.As(got, &unknown) || !errors.Is(got, providers.ErrBadQuery) || !reflect.DeepEqual(unknown, tc.unknown) {
				t.Errorf("Explain = %v (%#v), want %#v", got, unknown, tc.unknown)
			}
		})
	}
}
