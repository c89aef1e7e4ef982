package preflight

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/slo"
)

func parse(t *testing.T, name, data string) *slo.Config {
	t.Helper()
	cfg, err := slo.Parse(name, []byte(data), slo.Options{Types: all.Backends().Types(), Default: prometheus.Default("http://127.0.0.1:9090")})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func problems(err error) []string {
	var ce *slo.ConfigError
	if !errors.As(err, &ce) {
		return nil
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.Error())
	}
	return out
}

// The other formats place a problem in their own terms: Sloth's events,
// OpenSLO's documents.
func TestOfflinePlacesProblemsInEveryFormat(t *testing.T) {
	tests := map[string]struct {
		name, data string
		want       []string
	}{
		"a Sloth events query": {"sloth.yaml", `version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}])
`, []string{"sloth.yaml:9: slos[0].sli.events.total_query: 1:35: parse error: unclosed left parenthesis"}},
		"an OpenSLO ratio metric": {"openslo.yaml", `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{target: 0.999}]
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: false
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) by
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[{{.window}}]))
`, []string{`openslo.yaml:19: spec.indicator.spec.ratioMetric.bad.metricSource.spec.query: 1:52: parse error: unexpected end of input in grouping opts, expected "("`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := parse(t, tc.name, tc.data)
			got := problems(Offline(context.Background(), cfg, cfg.SLOs, all.Backends(), providers.Env{}))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestOfflineScopesOnlyWhatWatchReads(t *testing.T) {
	cfg := parse(t, "sloguard.yaml", `version: 1
providers:
  - {name: prom, type: prometheus, url: "http://127.0.0.1:9090"}
  - {name: pods, type: scrape, targets: {canary: ["http://10.0.0.5/metrics"]}}
slos:
  - name: ratio
    provider: prom
    objective: 99.9
    sli:
      # a raw ratio is check's alone: watch refuses it at its start, so its
      # selector may name the track
      error_ratio_query: sum(rate(errors{track="stable"}[{{.window}}])) / sum(rate(requests{track="stable"}[{{.window}}]))
  - name: scraped
    provider: pods
    objective: 99.9
    sli:
      query: max(up)
      op: ">"
      value: 0
canary:
  canary: {labels: {track: canary}}
`)
	got := problems(Offline(context.Background(), cfg, cfg.SLOs, all.Backends(), providers.Env{}))
	want := []string{"sloguard.yaml:17: slos[1].sli.query: the scrape provider reads event SLIs (error_query or good_query, with total_query) and error ratios: thresholds such as latency quantiles need a Prometheus"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
}

// fakeBackend answers Counts per scope and explains its empty readings.
type fakeBackend struct {
	counts    map[string]providers.Counts
	errs      map[string]error
	diagnosis error

	mu        sync.Mutex
	windows   map[string]time.Duration // the window each scope was read over
	explained map[string]time.Duration // the window each scope's empty reading was explained over
}

func (f *fakeBackend) Counts(_ context.Context, q providers.Query, _ time.Time) (providers.Counts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows[q.Scope.Name] = q.Window
	return f.counts[q.Scope.Name], f.errs[q.Scope.Name]
}

func (f *fakeBackend) Slices(context.Context, providers.Query, providers.Range) ([]providers.Counts, error) {
	return nil, errors.New("not used")
}

func (f *fakeBackend) Diagnose(_ context.Context, q providers.Query, _ time.Time, _ []string, hints bool) error {
	f.mu.Lock()
	if f.explained != nil {
		f.explained[q.Scope.Name] = q.Window
	}
	f.mu.Unlock()
	if q.Scope.Name == providers.ScopeCanary && hints {
		return f.diagnosis
	}
	return nil
}

func TestOnlineReadsEveryScopeAndExplainsTheEmptyOnes(t *testing.T) {
	cfg := parse(t, "sloguard.yaml", `version: 1
providers:
  - {name: prom, type: prometheus, url: "http://127.0.0.1:9090"}
slos:
  - name: checkout
    objective: 99.9
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total[{{.window}}]))
canary:
  duration: 15m
  canary: {labels: {track: canary}}
  baseline: {labels: {track: stable}}
`)
	hint := &providers.NoMatchError{Selector: `x{track="canary"}`, Metric: "x", Matcher: `track="canary"`, Label: "track", Values: []string{"stable"}}
	fb := &fakeBackend{
		counts: map[string]providers.Counts{
			providers.ScopeService: {Good: 99, Total: 100},
			providers.ScopeCanary:  {Unmatched: []string{"total"}},
		},
		errs: map[string]error{
			providers.ScopeCanary:   providers.ErrNoData,
			providers.ScopeBaseline: errors.New("connection refused"),
		},
		diagnosis: hint, windows: map[string]time.Duration{},
	}
	got := Online(context.Background(), cfg, all.Backends(), cfg.SLOs, map[string]providers.Provider{"default": fb, "prom": fb}, Options{At: time.Now(), Service: true})
	var summary []string
	for _, r := range got {
		summary = append(summary, r.Scope+" "+r.Status()+" "+r.Hint())
	}
	want := []string{"service ok ", `canary empty x{track="canary"} matches no series (track="canary": track has "stable")`, "baseline down "}
	if !reflect.DeepEqual(summary, want) {
		t.Errorf("readings %q\nwant %q", summary, want)
	}
	if w := fb.windows; w[providers.ScopeService] != 30*24*time.Hour || w[providers.ScopeCanary] != 15*time.Minute || w[providers.ScopeBaseline] != 15*time.Minute {
		t.Errorf("windows read %v: want the SLO window for the service, the watch duration for the tracks", w)
	}
	if tracks := Online(context.Background(), cfg, all.Backends(), cfg.SLOs, map[string]providers.Provider{"prom": fb}, Options{At: time.Now()}); len(tracks) != 2 || tracks[0].Scope != providers.ScopeCanary {
		t.Errorf("without the service: %d readings, first %q; want the canary and the baseline", len(tracks), tracks[0].Scope)
	}
	// backtest: every scope read and explained over --from to --to.
	fb.windows, fb.explained = map[string]time.Duration{}, map[string]time.Duration{}
	span := 7 * 24 * time.Hour
	Online(context.Background(), cfg, all.Backends(), cfg.SLOs, map[string]providers.Provider{"prom": fb}, Options{At: time.Now(), Span: span})
	if w, e := fb.windows, fb.explained; len(w) != 2 || w[providers.ScopeCanary] != span || w[providers.ScopeBaseline] != span || e[providers.ScopeCanary] != span {
		t.Errorf("with a span: read over %v, explained over %v; want the span for both tracks", w, e)
	}
	if !strings.Contains(got[1].Err.Error(), "no data") {
		t.Errorf("the canary's error %v lost its no data", got[1].Err)
	}
}
