package datadog

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

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// metadataServer answers as Datadog documents the metrics query API, the
// metric metadata endpoint (GET /api/v1/metrics/{metric_name}: 200 with
// the metadata, 404 {"errors": […]} for a metric it does not know) and the
// active metrics list (GET /api/v1/metrics?from=), and records the
// metadata requests.
type metadataServer struct {
	known    []string // metrics with metadata and points
	metaCode int      // when set, every metadata request answers this
	mu       sync.Mutex
	asked    []string // metadata paths and list queries, in order
	t        *testing.T
}

func (s *metadataServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("DD-API-KEY") != "api-secret" || r.Header.Get("DD-APPLICATION-KEY") != "app-secret" {
		s.t.Errorf("%s without the keys", r.URL)
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/query":
		q := r.URL.Query()
		from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
		to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
		var pts []string
		for _, m := range s.known {
			if strings.Contains(q.Get("query"), ":"+m+"{") && strings.Contains(q.Get("query"), "service:checkout") {
				pts = []string{fmt.Sprintf("[%d.0,100]", from*1000)}
			}
		}
		writeSeries(w, q.Get("query"), from, to, 60, pts)
	case r.URL.Path == "/api/v1/metrics":
		s.record("list from=" + r.URL.Query().Get("from"))
		fmt.Fprintf(w, `{"from":%q,"metrics":["%s","system.cpu.idle"]}`, r.URL.Query().Get("from"), strings.Join(s.known, `","`))
	case strings.HasPrefix(r.URL.Path, "/api/v1/metrics/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/metrics/")
		s.record(name)
		switch {
		case s.metaCode != 0:
			w.WriteHeader(s.metaCode)
			fmt.Fprintf(w, `{"errors":[%q]}`, http.StatusText(s.metaCode))
		case slicesContains(s.known, name):
			fmt.Fprint(w, `{"description":"Count of requests","integration":null,"per_unit":null,"short_name":"hits","statsd_interval":null,"type":"count","unit":"request"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":["Not Found"]}`)
		}
	default:
		s.t.Errorf("unexpected request %s", r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func (s *metadataServer) record(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, what)
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestExplainAsksTheMetadataEndpoint(t *testing.T) {
	at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	from := strconv.FormatInt(at.Add(-time.Hour).Unix(), 10)
	known := []string{"trace.http.request.hits", "trace.http.request.errors"}
	tests := map[string]struct {
		sli      slo.SLI
		scope    string
		metaCode int
		unknown  *providers.UnknownMetricError
		noData   bool
		asked    []string
	}{
		"a misspelt total metric is unknown, with the closest active metric": {
			sli:     slo.SLI{ErrorQuery: errorsQ, TotalQuery: `sum:trace.http.request.hitz{service:checkout}.as_count()`},
			unknown: &providers.UnknownMetricError{Metric: "trace.http.request.hitz", Window: time.Hour, Suggestions: []string{"trace.http.request.hits"}},
			asked:   []string{"trace.http.request.hitz", "list from=" + from},
		},
		"a misspelt error metric is unknown though the total has points": {
			sli:     slo.SLI{ErrorQuery: `sum:trace.http.request.eror{service:checkout}.as_count()`, TotalQuery: hitsQ},
			unknown: &providers.UnknownMetricError{Metric: "trace.http.request.eror", Window: time.Hour, Suggestions: []string{"trace.http.request.errors"}},
			asked:   []string{"trace.http.request.eror", "list from=" + from},
		},
		"known metrics whose scope matches nothing are no data": {
			sli:    slo.SLI{ErrorQuery: `sum:trace.http.request.errors{service:chekout}.as_count()`, TotalQuery: `sum:trace.http.request.hits{service:chekout}.as_count()`},
			noData: true, asked: []string{"trace.http.request.hits", "trace.http.request.errors"},
		},
		"without the metrics_read permission it cannot tell: no data stands": {
			sli:      slo.SLI{ErrorQuery: errorsQ, TotalQuery: `sum:trace.http.request.hitz{service:checkout}.as_count()`},
			metaCode: http.StatusForbidden, noData: true, asked: []string{"trace.http.request.hitz"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := &metadataServer{known: known, metaCode: tc.metaCode, t: t}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			p, _ := newTestProvider(t, hs.URL, nil, nil)
			q := providers.Query{SLO: "s", SLI: tc.sli, Scope: providers.Scope{Name: providers.ScopeService}, Window: time.Hour}
			c, err := p.Counts(t.Context(), q, at)
			got := providers.Explain(t.Context(), p, q, at, c, err)
			var unknown *providers.UnknownMetricError
			switch {
			case tc.unknown != nil:
				if !errors.As(got, &unknown) || !errors.Is(got, providers.ErrBadQuery) || !reflect.DeepEqual(unknown, tc.unknown) {
					t.Errorf("Explain = %v (%#v), want %#v", got, unknown, tc.unknown)
				}
			case tc.noData:
				if !errors.Is(got, providers.ErrNoData) || errors.Is(got, providers.ErrBadQuery) {
					t.Errorf("Explain = %v, want no data", got)
				}
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if !reflect.DeepEqual(srv.asked, tc.asked) {
				t.Errorf("asked %q, want %q", srv.asked, tc.asked)
			}
		})
	}
}

func TestMetricNames(t *testing.T) {
	for q, want := range map[string][]string{
		`sum:trace.http.request.hits{service:checkout}.as_count()`:                                {"trace.http.request.hits"},
		`sum:a.b{*} by {host}.as_count() / sum:c_d{env:prod}.as_count()`:                          {"a.b", "c_d"},
		`100 * sum:errors{service:x}.as_count() / (sum:errors{service:x}.as_count() + sum:ok{*})`: {"errors", "ok"},
		`nothing here`: nil,
	} {
		if got := metricNames(q); !reflect.DeepEqual(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", q, got, want)
		}
	}
}
