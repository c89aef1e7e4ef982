package prometheus

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// at is the evaluation time every test passes in; the server must see it.
var at = time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, time.UTC)

const atParam = "1714564800.5"

// The SLI fixtures and the queries they resolve to over 5m.
const (
	errRate   = `sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`
	totalRate = `sum(rate(http_requests_total[{{.window}}]))`
	errQ      = `sum(rate(http_requests_total{code=~"5.."}[5m]))`
	totalQ    = `sum(rate(http_requests_total[5m]))`
	latency   = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{.window}}])))`
	latencyQ  = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))`
)

func eventsSLI() slo.SLI    { return slo.SLI{ErrorQuery: errRate, TotalQuery: totalRate} }
func thresholdSLI() slo.SLI { return slo.SLI{Query: latency, Op: "<", Value: 0.3} }

// errNeither marks a failure that is neither ErrBadQuery nor ErrNoData:
// an outage, which the gate's on_error policy handles.
var errNeither = errors.New("neither bad query nor no data")

type countsCase struct {
	sli    slo.SLI
	scope  providers.Scope
	cfg    func(*Config)
	script map[string][]reply

	want     providers.Counts // Good, Total, Value when no error
	wantErr  error            // nil, providers.ErrBadQuery, providers.ErrNoData or errNeither
	wantMsg  []string         // substrings of the error
	quotes   string           // the resolved query the error must quote
	requests int
	atLeast  time.Duration // the call took at least this long (it waited)
	atMost   time.Duration // and at most this long (it did not wait for nothing)
}

func TestCounts(t *testing.T) {
	html := reply{header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>Login</body></html>"}
	tests := map[string]countsCase{
		"rate queries are scaled to counts over the window": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {vector("10")}, errQ: {vector("0.1")}},
			want:   providers.Counts{Good: 2970, Total: 3000}, requests: 2,
		},
		"increase queries are counts already": {
			sli:    slo.SLI{ErrorQuery: `sum(increase(errors_total[{{.window}}]))`, TotalQuery: `sum(increase(requests_total[{{.window}}]))`},
			script: map[string][]reply{`sum(increase(requests_total[5m]))`: {vector("1000")}, `sum(increase(errors_total[5m]))`: {vector("10")}},
			want:   providers.Counts{Good: 990, Total: 1000}, requests: 2,
		},
		"a good query counts good events": {
			sli:    slo.SLI{GoodQuery: `sum(increase(ok_total[{{.window}}]))`, TotalQuery: `sum(increase(requests_total[{{.window}}]))`},
			script: map[string][]reply{`sum(increase(requests_total[5m]))`: {vector("1000")}, `sum(increase(ok_total[5m]))`: {vector("997")}},
			want:   providers.Counts{Good: 997, Total: 1000}, requests: 2,
		},
		"errors past the total within rate() noise leave no good events": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {vector("1")}, errQ: {vector("1.002")}},
			want:   providers.Counts{Good: 0, Total: 300}, requests: 2,
		},
		"more errors than requests are a broken query pair": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {vector("1")}, errQ: {vector("2")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"error_query counts more events than total_query " + strconv.Quote(totalQ) + " (600 > 300): do they select the same series?"},
			quotes: errQ, requests: 2,
		},
		"an error ratio query reads as good out of one": {
			sli:    slo.SLI{ErrorRatioQuery: `slo:sli_error:ratio_rate{{.window}}`},
			script: map[string][]reply{`slo:sli_error:ratio_rate5m`: {vector("0.25")}},
			want:   providers.Counts{Good: 0.75, Total: 1}, requests: 1,
		},
		"an error ratio above one is a bad query": {
			sli:     slo.SLI{ErrorRatioQuery: `slo:sli_error:ratio_rate{{.window}}`},
			script:  map[string][]reply{`slo:sli_error:ratio_rate5m`: {vector("1.5")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"error ratio 1.5 is outside [0, 1]"}, quotes: `slo:sli_error:ratio_rate5m`, requests: 1,
		},
		"a threshold query returns its value": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {vector("0.25")}},
			want:   providers.Counts{Value: 0.25, Total: 1}, requests: 1,
		},
		"a scalar result is one number": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {scalar("0.5")}},
			want:   providers.Counts{Value: 0.5, Total: 1}, requests: 1,
		},
		"a 500 then a 200 is retried and succeeds": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {{status: 500, body: "boom"}, vector("0.2")}},
			want:   providers.Counts{Value: 0.2, Total: 1}, requests: 2,
		},
		"a 500 on every attempt fails with the server's own message": {
			sli:     thresholdSLI(),
			cfg:     func(c *Config) { c.Retries = 1 },
			script:  map[string][]reply{latencyQ: {{status: 500, body: "store gateway down"}, {status: 500, body: "store gateway down"}}},
			wantErr: errNeither, wantMsg: []string{"server error: 500", "store gateway down"}, quotes: latencyQ, requests: 2,
		},
		"a 429 with Retry-After 1 waits a second and succeeds": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {{status: 429, header: map[string]string{"Retry-After": "1"}}, vector("0.2")}},
			want:   providers.Counts{Value: 0.2, Total: 1}, requests: 2, atLeast: 900 * time.Millisecond, atMost: 4 * time.Second,
		},
		"a 429 asking for longer than the timeout fails fast": {
			sli:     thresholdSLI(),
			cfg:     func(c *Config) { c.Timeout = slo.Duration(2 * time.Second) },
			script:  map[string][]reply{latencyQ: {{status: 429, header: map[string]string{"Retry-After": "30"}}}},
			wantErr: errNeither, wantMsg: []string{"server answered 429 and asked to retry after 30s", "left of the deadline"}, quotes: latencyQ,
			requests: 1, atMost: time.Second,
		},
		"a server that never answers fails after the timeout": {
			sli:     thresholdSLI(),
			cfg:     func(c *Config) { c.Timeout = slo.Duration(300 * time.Millisecond) },
			script:  map[string][]reply{latencyQ: {{hang: true}}},
			wantErr: errNeither, wantMsg: []string{"no answer within the 300ms timeout"}, quotes: latencyQ,
			requests: 1, atLeast: 250 * time.Millisecond, atMost: 5 * time.Second,
		},
		"garbage JSON with a 200 is not a Prometheus API response": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{body: `{"status":"succ`}}},
			wantErr: errNeither, wantMsg: []string{"not a Prometheus API response"}, quotes: latencyQ, requests: 1,
		},
		"an HTML page with a 200 is not a Prometheus API response": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {html}},
			wantErr: errNeither, wantMsg: []string{"not a Prometheus API response", "is url the Prometheus API root?"}, quotes: latencyQ, requests: 1,
		},
		"JSON without the API's envelope is not a Prometheus API response": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{body: `{"hello":"world"}`}}},
			wantErr: errNeither, wantMsg: []string{"not a Prometheus API response"}, quotes: latencyQ, requests: 1,
		},
		"a 404 suggests the url is not the API root": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{status: 404, body: "404 page not found"}}},
			wantErr: errNeither, wantMsg: []string{"client error: 404", "is url the Prometheus API root?"}, quotes: latencyQ, requests: 1,
		},
		"a matrix for an instant query is a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {matrix(func(time.Time) string { return "1" })}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"range vector (matrix)"}, quotes: latencyQ, requests: 1,
		},
		"NaN is a bad query": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {vector("NaN")}, errQ: {vector("0")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"returned NaN"}, quotes: totalQ, requests: 2,
		},
		"+Inf is a bad query": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {vector("1")}, errQ: {vector("+Inf")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"returned +Inf"}, quotes: errQ, requests: 2,
		},
		"NaN for a threshold query is no data, not a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {vector("NaN")}},
			wantErr: providers.ErrNoData, wantMsg: []string{"NaN"}, quotes: latencyQ, requests: 1,
		},
		"two series are a bad query naming them": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {vector("1", "2")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"returned 2 series", `{instance="i0"}, {instance="i1"}`, "sum(...)"}, quotes: latencyQ, requests: 1,
		},
		"a native histogram is a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1714564800.5,{"count":"2","sum":"3","buckets":[[0,"0","1","2"]]}]}]}}`}}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"native histogram"}, quotes: latencyQ, requests: 1,
		},
		"a 400 bad_data error is a bad query carrying the server's message": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {apiError(400, "bad_data", `1:5: parse error: unexpected "}"`)}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{`parse error: unexpected "}"`}, quotes: latencyQ, requests: 1,
		},
		"a 422 execution error is a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {apiError(422, "execution", "query processing would load too many samples into memory")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"too many samples"}, quotes: latencyQ, requests: 1,
		},
		"status error with a 200 is an error": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {apiError(200, "internal", "rule manager exploded")}},
			wantErr: errNeither, wantMsg: []string{"rule manager exploded"}, quotes: latencyQ, requests: 1,
		},
		"status error with a 200 and no message still says what happened": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{body: `{"status":"error"}`}}},
			wantErr: errNeither, wantMsg: []string{"status error without a message"}, quotes: latencyQ, requests: 1,
		},
		"an empty vector for the total is no data": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {vector()}, errQ: {vector()}},
			wantErr: providers.ErrNoData, wantMsg: []string{"no data: no series matched"}, quotes: totalQ, requests: 2,
		},
		"an empty vector for the errors with traffic is zero errors": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {vector("2")}, errQ: {vector()}},
			want:   providers.Counts{Good: 600, Total: 600}, requests: 2,
		},
		"a total of zero reads as zero events": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {vector("0")}, errQ: {vector("0")}},
			want:   providers.Counts{}, requests: 2,
		},
		"a negative total is a bad query": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {vector("-1")}, errQ: {vector("0")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"negative"}, quotes: totalQ, requests: 2,
		},
		"no total and a failing error query is the failure, not no data": {
			sli:     eventsSLI(),
			cfg:     func(c *Config) { c.Retries = 0 },
			script:  map[string][]reply{totalQ: {vector()}, errQ: {{status: 503, body: "unavailable"}}},
			wantErr: errNeither, wantMsg: []string{"server error: 503"}, quotes: errQ, requests: 2,
		},
		"the canary's labels are injected into every selector": {
			sli:   eventsSLI(),
			scope: providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"track": "canary"}},
			script: map[string][]reply{
				`sum(rate(http_requests_total{track="canary"}[5m]))`:             {vector("1")},
				`sum(rate(http_requests_total{code=~"5..",track="canary"}[5m]))`: {vector("0")},
			},
			want: providers.Counts{Good: 300, Total: 300}, requests: 2,
		},
		"raw counters are wrapped in increase": {
			sli: slo.SLI{ErrorQuery: `sum(http_requests_total{code="500"})`, TotalQuery: `sum(http_requests_total)`, Counter: true},
			script: map[string][]reply{
				`sum(increase(http_requests_total[5m]))`:             {vector("100")},
				`sum(increase(http_requests_total{code="500"}[5m]))`: {vector("1")},
			},
			want: providers.Counts{Good: 99, Total: 100}, requests: 2,
		},
		"a selector that already sets the scope's label is a bad query before any request": {
			sli:     eventsSLI(),
			scope:   providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"code": "x"}},
			script:  map[string][]reply{},
			wantErr: providers.ErrBadQuery, wantMsg: []string{`already has label "code"`}, quotes: errQ, requests: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runCounts(t, tc)
		})
	}
}

func runCounts(t *testing.T, tc countsCase) {
	f := newFakeProm(t, false)
	for q, rs := range tc.script {
		f.on(q, rs...)
	}
	cfg := f.providerConfig()
	if tc.cfg != nil {
		tc.cfg(&cfg)
	}
	p, _ := newProvider(t, cfg, nil)
	q := providers.Query{SLO: "checkout", SLI: tc.sli, Scope: tc.scope, Window: 5 * time.Minute}
	start := time.Now()
	got, err := p.Counts(context.Background(), q, at)
	took := time.Since(start)
	if err != nil {
		t.Logf("error: %v", err)
	}

	checkErr(t, err, tc.wantErr, tc.wantMsg, tc.quotes)
	if err == nil {
		if got.Good != tc.want.Good || got.Total != tc.want.Total || got.Value != tc.want.Value {
			t.Errorf("Counts = good %v total %v value %v, want good %v total %v value %v", got.Good, got.Total, got.Value, tc.want.Good, tc.want.Total, tc.want.Value)
		}
		if !got.Start.Equal(at.Add(-5*time.Minute)) || !got.End.Equal(at) {
			t.Errorf("Counts covers (%v, %v], want (%v, %v]", got.Start, got.End, at.Add(-5*time.Minute), at)
		}
		for _, rq := range got.Resolved {
			if _, ok := tc.script[rq]; !ok {
				t.Errorf("Resolved holds %q, which is not a query the server saw", rq)
			}
		}
	}
	reqs := f.requests()
	if len(reqs) != tc.requests {
		t.Errorf("server saw %d requests, want %d", len(reqs), tc.requests)
	}
	for _, r := range reqs {
		checkInstantRequest(t, r)
	}
	if tc.atLeast > 0 && took < tc.atLeast {
		t.Errorf("returned after %v, want it to wait at least %v", took, tc.atLeast)
	}
	if tc.atMost > 0 && took > tc.atMost {
		t.Errorf("returned after %v, want at most %v", took, tc.atMost)
	}
}

// checkErr asserts the error's class, its text and that it quotes the
// resolved query.
func checkErr(t *testing.T, err, want error, msgs []string, quotes string) {
	t.Helper()
	switch {
	case want == nil:
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	case err == nil:
		t.Fatalf("no error, want %v", want)
	case want == errNeither:
		if errors.Is(err, providers.ErrBadQuery) || errors.Is(err, providers.ErrNoData) {
			t.Errorf("error %q is a bad query or no data, want neither", err)
		}
	case !errors.Is(err, want):
		t.Errorf("error %q is not %v", err, want)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not contain %q", err, m)
		}
	}
	if quotes == "" {
		t.Errorf("test case names no query for the error to quote")
	} else if !strings.Contains(err.Error(), strconv.Quote(quotes)) {
		t.Errorf("error %q does not quote the resolved query %q", err, quotes)
	}
	var qe *providers.QueryError
	if !errors.As(err, &qe) || qe.Provider != "prom" {
		t.Errorf("error %q is not a QueryError of provider prom", err)
	}
}

func checkInstantRequest(t *testing.T, r request) {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/api/v1/query" {
		t.Errorf("request %s %s, want POST /api/v1/query", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q, want a form", ct)
	}
	if got := r.Form.Get("time"); got != atParam {
		t.Errorf("time = %q, want the evaluation time %s", got, atParam)
	}
}

func TestCountsRetryAfterIsARetryAfterError(t *testing.T) {
	f := newFakeProm(t, false)
	f.on(latencyQ, reply{status: 503, header: map[string]string{"Retry-After": "60"}})
	cfg := f.providerConfig()
	cfg.Timeout = slo.Duration(time.Second)
	p, _ := newProvider(t, cfg, nil)
	_, err := p.Counts(context.Background(), providers.Query{SLO: "s", SLI: thresholdSLI(), Window: 5 * time.Minute}, at)
	var ra *httpclient.RetryAfterError
	if !errors.As(err, &ra) || ra.Wait != time.Minute || ra.Status != 503 {
		t.Fatalf("error %v, want a RetryAfterError for 503 and 1m", err)
	}
}

func TestCountsCallerDeadlineIsNotTheProviderTimeout(t *testing.T) {
	f := newFakeProm(t, false)
	f.on(latencyQ, reply{hang: true})
	p, _ := newProvider(t, f.providerConfig(), nil) // 5s timeout
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: thresholdSLI(), Window: 5 * time.Minute}, at)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the caller's deadline", err)
	}
	if strings.Contains(err.Error(), "5s timeout") {
		t.Errorf("error %q blames the provider's timeout for the caller's deadline", err)
	}
}
