package datadog

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// at is a whole minute, so that the window's edges fall on buckets.
var at = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

// server answers every request with fn and records what it saw.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newServer(t *testing.T, fn func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(r.Context()))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fn(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// points answers a query with the given values in 60 s buckets from the
// start of the requested range, one bucket before it and one at its end.
func points(before, after string, values ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		f := r.URL.Query()
		var from, to int64
		fmt.Sscan(f.Get("from"), &from)
		fmt.Sscan(f.Get("to"), &to)
		pts := []string{fmt.Sprintf("[%d,%s]", (from-60)*1000, before)}
		for i, v := range values {
			pts = append(pts, fmt.Sprintf("[%d,%s]", (from+int64(i)*60)*1000, v))
		}
		pts = append(pts, fmt.Sprintf("[%d,%s]", to*1000, after))
		writeSeries(w, f.Get("query"), from, to, 60, pts)
	}
}

func TestCountsRequests(t *testing.T) {
	srv := newServer(t, points("1000", "1000", "10", "20", "30", "null", "40"))
	p, logs := newTestProvider(t, srv.URL, nil, nil)
	q := providers.Query{SLO: "checkout", SLI: eventsSLI(), Window: 5 * time.Minute,
		Scope: providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"version": "canary"}}}
	c, err := p.Counts(t.Context(), q, at)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	// The buckets before and at the window's end lie outside it; the null
	// bucket holds nothing.
	if c.Total != 100 || c.Good != 0 {
		t.Errorf("counts = %v good of %v, want 0 of 100 (the same series answers both queries)", c.Good, c.Total)
	}
	want := []string{
		`sum:trace.http.request.errors{service:checkout,version:canary}.as_count().rollup(sum, 60)`,
		`sum:trace.http.request.hits{service:checkout,version:canary}.as_count().rollup(sum, 60)`,
	}
	if strings.Join(c.Resolved, "\n") != strings.Join(want, "\n") {
		t.Errorf("Resolved = %q, want %q", c.Resolved, want)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		f := r.URL.Query()
		seen[f.Get("query")] = true
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/query" {
			t.Errorf("request %s %s, want GET /api/v1/query", r.Method, r.URL.Path)
		}
		if f.Get("from") != fmt.Sprint(at.Add(-5*time.Minute).Unix()) || f.Get("to") != fmt.Sprint(at.Unix()) {
			t.Errorf("from=%s to=%s, want the window's edges in epoch seconds", f.Get("from"), f.Get("to"))
		}
		if r.Header.Get("DD-API-KEY") != "api-secret" || r.Header.Get("DD-APPLICATION-KEY") != "app-secret" {
			t.Errorf("keys not sent: DD-API-KEY=%q DD-APPLICATION-KEY=%q", r.Header.Get("DD-API-KEY"), r.Header.Get("DD-APPLICATION-KEY"))
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("query %q never sent", w)
		}
	}
	if strings.Contains(logs.String(), "api-secret") || strings.Contains(logs.String(), "app-secret") {
		t.Errorf("a key reached the log:\n%s", logs)
	}
}

func TestCountsErrors(t *testing.T) {
	tests := map[string]struct {
		sli     slo.SLI
		answer  func(w http.ResponseWriter, r *http.Request)
		wantErr error // nil means an outage
		msg     string
	}{
		"a 400 is a bad query carrying Datadog's message": {
			sli: eventsSLI(),
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, `{"errors":["Error parsing query: \n unable to parse sum:trace.http.request.hits{: Rule 'scope_expr' didn't match"]}`)
			},
			wantErr: providers.ErrBadQuery, msg: "Error parsing query",
		},
		"a 403 names the key variables, never the keys": {
			sli: eventsSLI(),
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(403)
				io.WriteString(w, `{"errors":["Forbidden"]}`)
			},
			msg: "authentication failed (403 Forbidden): check the API key in $DD_API_KEY (api_key_env) and the application key in $DD_APP_KEY (app_key_env)",
		},
		"a status error in a 200 is an error": {
			sli: eventsSLI(),
			answer: func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, `{"status":"error","res_type":"time_series","series":[],"error":"query timed out"}`)
			},
			msg: `Datadog answered status "error": query timed out`,
		},
		"an HTML page is not Datadog's answer": {
			sli: eventsSLI(),
			answer: func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, `<html>login</html>`)
			},
			msg: "is url the API root",
		},
		"several series are a bad query naming them": {
			sli: eventsSLI(),
			answer: func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query().Get("query")
				fmt.Fprintf(w, `{"status":"ok","res_type":"time_series","query":%q,"series":[{"metric":"m","scope":"host:a","tag_set":["host:a"],"interval":60,"pointlist":[[1,1]]},{"metric":"m","scope":"host:b","tag_set":["host:b"],"interval":60,"pointlist":[[1,1]]}]}`, q)
			},
			wantErr: providers.ErrBadQuery, msg: "returned 2 series (m{host:a}, m{host:b}): remove by {…}",
		},
		"negative counts are a bad query": {
			sli:     eventsSLI(),
			answer:  points("null", "null", "-5"),
			wantErr: providers.ErrBadQuery, msg: "event counts cannot be negative",
		},
		"an error ratio query is refused": {
			sli:     slo.SLI{ErrorRatioQuery: `sum:errors{*}.as_count() / sum:hits{*}.as_count()`},
			answer:  func(w http.ResponseWriter, _ *http.Request) { t.Errorf("a request was sent") },
			wantErr: providers.ErrBadQuery, msg: "write error_query (or good_query) and total_query",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tc.answer)
			p, _ := newTestProvider(t, srv.URL, func(c *Config) { c.Retries = 0 }, nil)
			_, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: tc.sli, Window: 5 * time.Minute}, at)
			if err == nil {
				t.Fatalf("Counts succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (errors.Is(err, providers.ErrBadQuery) || errors.Is(err, providers.ErrNoData)) {
				t.Errorf("err = %v, want an outage", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v\nwant it to say %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "api-secret") || strings.Contains(err.Error(), "app-secret") {
				t.Errorf("a key reached the error: %v", err)
			}
		})
	}
}

func TestThresholdIsTheMeanOfThePoints(t *testing.T) {
	srv := newServer(t, points("9", "9", "0.2", "null", "0.4"))
	p, _ := newTestProvider(t, srv.URL, nil, nil)
	q := providers.Query{SLO: "lat", SLI: slo.SLI{Query: `p99:trace.http.request{service:checkout}`, Op: "<", Value: 0.5}, Window: 5 * time.Minute}
	c, err := p.Counts(t.Context(), q, at)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if c.Value < 0.2999 || c.Value > 0.3001 || c.Total != 1 {
		t.Errorf("value %v (total %v), want 0.3 of 1", c.Value, c.Total)
	}
	if got := c.Resolved[0]; got != `p99:trace.http.request{service:checkout}.rollup(avg, 60)` {
		t.Errorf("resolved %q", got)
	}
}

func TestMissingKeysNameTheirVariables(t *testing.T) {
	_, err := New(t.Context(), Config{Name: "dd"}, providers.Env{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "DD_API_KEY (api_key_env) and DD_APP_KEY (app_key_env) is empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestRateLimitResetBecomesRetryAfter(t *testing.T) {
	n := 0
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n++; n == 1 {
			w.Header().Set("X-RateLimit-Reset", "0")
			w.WriteHeader(429)
			io.WriteString(w, `{"errors":["Rate limit of 100 requests in 60 seconds reached."]}`)
			return
		}
		points("0", "0", "7")(w, r)
	})
	p, _ := newTestProvider(t, srv.URL, nil, nil)
	q := providers.Query{SLO: "s", SLI: slo.SLI{Query: `avg:x{*}`, Op: "<", Value: 1}, Window: time.Minute}
	if c, err := p.Counts(t.Context(), q, at); err != nil || c.Value != 7 {
		t.Fatalf("Counts = %+v, %v; want 7 after one retry", c, err)
	}
	if n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestSlices(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		f := r.URL.Query()
		var from, to int64
		fmt.Sscan(f.Get("from"), &from)
		fmt.Sscan(f.Get("to"), &to)
		// Buckets of 60 s starting at from: one per slice, the second empty.
		v := []string{"100", "null", "300"}
		if strings.Contains(f.Get("query"), "errors") {
			v = []string{"1", "null", "30"}
		}
		pts := make([]string, len(v))
		for i := range v {
			pts[i] = fmt.Sprintf("[%d,%s]", (from+int64(i)*60)*1000, v[i])
		}
		writeSeries(w, f.Get("query"), from, to, 60, pts)
	})
	p, _ := newTestProvider(t, srv.URL, nil, nil)
	got, err := p.Slices(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI()}, providers.Range{Start: at.Add(-3 * time.Minute), End: at, Step: time.Minute})
	if err != nil {
		t.Fatalf("Slices: %v", err)
	}
	want := [][2]float64{{99, 100}, {0, 0}, {270, 300}}
	for i, c := range got {
		if c.Good != want[i][0] || c.Total != want[i][1] || !c.End.Equal(at.Add(time.Duration(i-2)*time.Minute)) {
			t.Errorf("slice %d = %v of %v ending %s, want %v", i, c.Good, c.Total, c.End, want[i])
		}
	}
	if r := srv.requests()[0]; !strings.HasSuffix(r.URL.Query().Get("query"), ".rollup(sum, 60)") {
		t.Errorf("slices not asked in step-long buckets: %s", r.URL.Query().Get("query"))
	}
}

func TestSLOObject(t *testing.T) {
	sli := slo.SLI{DatadogSLOID: "e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6"}
	tests := map[string]struct {
		window   time.Duration
		scope    providers.Scope
		body     string
		status   int
		budget   float64 // the gate's budget remaining at objective 99.9
		wantErr  error
		msg      string
		resolved string
	}{
		"the window's budget is read as Datadog reports it": {
			window: 30 * 24 * time.Hour, body: historyJSON(99.95, map[string]float64{"7d": 80, "30d": 50}), budget: 50,
			resolved: "slo e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6 error_budget_remaining[30d] = 50% against target 99.9%",
		},
		"an overspent budget stays negative": {
			window: 7 * 24 * time.Hour, body: historyJSON(99.75, map[string]float64{"7d": -150, "30d": 20}), budget: -150,
		},
		"a burn-rate window reads the SLI over exactly that range": {
			window: time.Hour, body: historyJSON(99.8, map[string]float64{"7d": 80, "30d": 50}), budget: -100,
			resolved: "slo e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6 sli_value over 1h0m0s = 99.8%",
		},
		"no SLI value is no data": {
			window: time.Hour, body: historyJSON(nan(), nil), wantErr: providers.ErrNoData, msg: "no SLI value",
		},
		"history errors are an error": {
			window: time.Hour, body: `{"data":{"overall":{"errors":[{"error_message":"metric query failed","error_type":"query"}]}},"errors":null}`,
			msg: "query: metric query failed",
		},
		"an unknown SLO is a 404 with Datadog's message": {
			window: time.Hour, status: 404, body: `{"errors":["SLO not found"]}`, msg: "not found (404): SLO not found",
		},
		"a canary scope is a bad query": {
			window: time.Hour, scope: providers.Scope{Name: "canary", Labels: map[string]string{"version": "canary"}},
			wantErr: providers.ErrBadQuery, msg: "cannot be narrowed to the canary",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.body == "" {
					t.Errorf("unexpected request %s", r.URL)
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, tc.body)
			})
			p, _ := newTestProvider(t, srv.URL, nil, nil)
			c, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: sli, Window: tc.window, Scope: tc.scope}, at)
			if tc.msg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.msg) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v saying %q", err, tc.wantErr, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Counts: %v", err)
			}
			ratio, _ := slo.ErrorRatio(c.Bad(), c.Total)
			if got := slo.BudgetRemaining(ratio, 99.9); got < tc.budget-1e-6 || got > tc.budget+1e-6 {
				t.Errorf("budget remaining = %v, want %v", got, tc.budget)
			}
			if tc.resolved != "" && c.Resolved[0] != tc.resolved {
				t.Errorf("Resolved = %q, want %q", c.Resolved[0], tc.resolved)
			}
			r := srv.requests()[0]
			wantQ := url.Values{"from_ts": {fmt.Sprint(at.Add(-tc.window).Unix())}, "to_ts": {fmt.Sprint(at.Unix())}}
			if r.URL.Path != "/api/v1/slo/e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6/history" || r.URL.RawQuery != wantQ.Encode() {
				t.Errorf("request %s?%s, want /api/v1/slo/{id}/history?%s", r.URL.Path, r.URL.RawQuery, wantQ.Encode())
			}
			if r.Header.Get("DD-API-KEY") != "api-secret" || r.Header.Get("DD-APPLICATION-KEY") != "app-secret" {
				t.Errorf("keys not sent")
			}
		})
	}
}
