package prometheus

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
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
		p, _ := newProvider(t, testConfig(engine, url, time.Minute, 1, 4), nil)
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

// labelAPI answers the label values and series endpoints as Prometheus
// documents them, from a fixed set of series, and records the requests.
func labelAPI(t *testing.T, series []map[string]string, status int) (url string, asked func() []string) {
	var (
		mu   sync.Mutex
		reqs []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		reqs = append(reqs, r.URL.Path+" "+strings.Join(r.Form["match[]"], ","))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, `{"status":"error","errorType":"internal","error":"store down"}`)
			return
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/label/"):
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/label/"), "/values")
			seen := map[string]bool{}
			var vals []string
			for _, s := range series {
				if v, ok := s[name]; ok && !seen[v] && (len(r.Form["match[]"]) == 0 || strings.Contains(r.Form["match[]"][0], s["__name__"])) {
					seen[v] = true
					vals = append(vals, strconv.Quote(v))
				}
			}
			fmt.Fprintf(w, `{"status":"success","data":[%s]}`, strings.Join(vals, ","))
		case r.URL.Path == "/api/v1/series":
			fmt.Fprint(w, `{"status":"success","data":[]}`)
		default:
			t.Errorf("unexpected request %s", r.URL)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), reqs...)
	}
}

func TestDiagnoseNamesTheCombinationOrNothing(t *testing.T) {
	series := []map[string]string{{"__name__": "m", "a": "1", "b": "x"}, {"__name__": "m", "a": "2", "b": "y"}}
	at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	q := providers.Query{SLO: "s", SLI: slo.SLI{Query: `m{a="1",b="y"}`}, Window: time.Hour}
	t.Run("each matcher alone is met, together none: the combination is named", func(t *testing.T) {
		url, asked := labelAPI(t, series, 0)
		p, _ := newProvider(t, testConfig("p", url, 0, 0, 0), nil)
		err := p.Diagnose(t.Context(), q, at, []string{`m{a="1",b="y"}`}, true)
		var nm *providers.NoMatchError
		if !errors.As(err, &nm) || nm.Matcher != "" || nm.Selector != `m{a="1",b="y"}` ||
			!strings.Contains(err.Error(), `m{a="1",b="y"} matches no series, though each of its matchers matches some series of m`) {
			t.Errorf("Diagnose = %v, want the combination named", err)
		}
		want := []string{`/api/v1/label/__name__/values {__name__="m"}`, `/api/v1/label/a/values {__name__="m"}`, `/api/v1/label/b/values {__name__="m"}`, `/api/v1/series m{a="1",b="y"}`}
		if got := asked(); !reflect.DeepEqual(got, want) {
			t.Errorf("asked %q\nwant %q", got, want)
		}
	})
	t.Run("a server that cannot answer leaves the reading as it was", func(t *testing.T) {
		url, _ := labelAPI(t, series, http.StatusServiceUnavailable)
		p, _ := newProvider(t, testConfig("p", url, 0, 0, 0), nil)
		if err := p.Diagnose(t.Context(), q, at, []string{`m{a="1",b="y"}`}, true); err != nil {
			t.Errorf("Diagnose = %v, want nil: it cannot tell", err)
		}
	})
	t.Run("a known name is asked about once per run", func(t *testing.T) {
		url, asked := labelAPI(t, series, 0)
		p, _ := newProvider(t, testConfig("p", url, 0, 0, 0), nil)
		for range 3 {
			if err := p.Diagnose(t.Context(), q, at, []string{`m{a="1",b="y"}`}, false); err != nil {
				t.Fatal(err)
			}
		}
		if got := asked(); len(got) != 1 {
			t.Errorf("asked %q, want the name once", got)
		}
	})
}

// TestDiagnoseLooksWhereTheQueryLooks reads queries that move their window
// back (offset, @) from a real Prometheus and a real VictoriaMetrics
// holding two hours of http_requests_total: a metric younger than the
// offset exists, so the empty reading is no data that says why, never an
// unknown metric; a misspelt name is still unknown, named with where it
// was looked for.
func TestDiagnoseLooksWhereTheQueryLooks(t *testing.T) {
	if _, err := vmtest.Binary(); err != nil {
		t.Fatal(err)
	}
	h := promtest.New(time.Now().Truncate(time.Hour), promtest.Service{Name: "checkout", Rate: 5, ErrorRatio: 0.01})
	h.Span = 2 * time.Hour
	engines := map[string]string{"prometheus": promtest.Start(t, h).URL, "victoria-metrics": vmtest.Start(t, h).URL}
	back := h.End.Add(-3 * promtest.Day)
	window := h.End.Add(-3*promtest.Day-time.Hour).Format(time.RFC3339) + " to " + back.Format(time.RFC3339)
	pinned := fmt.Sprintf("@ %d", back.Unix())
	events := func(errQ, totalQ string) slo.SLI { return slo.SLI{ErrorQuery: errQ, TotalQuery: totalQ} }
	tests := map[string]struct {
		sli  slo.SLI
		want string // the explained error; "" when the reading stands
		bad  bool   // a bad query (unknown metric) rather than no data
	}{
		"an offset before the metric existed is no data, said so": {
			sli:  events(`sum(rate(http_requests_total{code="500"}[{{.window}}] offset 3d))`, `sum(rate(http_requests_total{service="checkout"}[{{.window}}] offset 3d))`),
			want: "no data: http_requests_total has no series from " + window + " (offset 3d), where the query looks, though it has series nearer the evaluation time: the query looks before the metric existed",
		},
		"an @ before the metric existed is no data, said so": {
			sli:  events(`sum(rate(http_requests_total{code="500"}[{{.window}}] `+pinned+`))`, `sum(rate(http_requests_total{service="checkout"}[{{.window}}] `+pinned+`))`),
			want: "no data: http_requests_total has no series from " + window + " (@ " + back.Format(time.RFC3339) + "), where the query looks, though it has series nearer the evaluation time: the query looks before the metric existed",
		},
		"an error query that looks before the metric existed reads zero errors": {
			sli: events(`sum(rate(http_requests_total{code="500"}[{{.window}}] offset 3d))`, `sum(rate(http_requests_total{service="checkout"}[{{.window}}]))`),
		},
		"a misspelt metric with an offset is still unknown, with where it was looked for": {
			sli: events(`sum(rate(http_requests_total{code="500"}[{{.window}}] offset 3d))`, `sum(rate(http_request_total{service="checkout"}[{{.window}}] offset 3d))`),
			want: "unknown metric http_request_total: no series at all in " + h.End.Add(-3*promtest.Day-time.Hour).Format(time.RFC3339) + " to " + h.End.Format(time.RFC3339) +
				" (the query's window, offset 3d, and on to the evaluation time): did you mean http_requests_total?",
			bad: true,
		},
	}
	for engine, url := range engines {
		p, _ := newProvider(t, testConfig(engine, url, time.Minute, 1, 4), nil)
		for name, tc := range tests {
			t.Run(engine+"/"+name, func(t *testing.T) {
				q := providers.Query{SLO: "s", SLI: tc.sli, Scope: providers.Scope{Name: providers.ScopeService}, Window: time.Hour}
				c, err := p.Counts(t.Context(), q, h.End)
				got := providers.Explain(t.Context(), p, q, h.End, c, err)
				if tc.want == "" {
					if got != nil || c.Total <= 0 {
						t.Fatalf("Explain = %v, counts %+v; want the reading to stand", got, c)
					}
					return
				}
				var qe *providers.QueryError
				if !errors.As(got, &qe) || qe.Err.Error() != tc.want {
					t.Fatalf("Explain = %v\nwant        %s", got, tc.want)
				}
				if errors.Is(got, providers.ErrBadQuery) != tc.bad || errors.Is(got, providers.ErrNoData) == tc.bad {
					t.Errorf("Explain = %v: bad query %v, want %v", got, errors.Is(got, providers.ErrBadQuery), tc.bad)
				}
			})
		}
	}
}
