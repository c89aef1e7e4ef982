package prometheus

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// lastHour is twelve 5-minute slices ending at the evaluation time.
var lastHour = providers.Range{Start: at.Add(-time.Hour), End: at, Step: 5 * time.Minute}

// every answers the same value at every step; except(v, i...) leaves out or
// changes the values at slice indexes i (counted from lastHour's first).
func every(v string) func(time.Time) string { return func(time.Time) string { return v } }

func at5m(values map[int]string, def string) func(time.Time) string {
	return func(t time.Time) string {
		i := int(t.Sub(lastHour.Start.Add(lastHour.Step)) / lastHour.Step)
		if v, ok := values[i]; ok {
			return v
		}
		return def
	}
}

type slice struct{ good, total, value float64 }

func TestSlices(t *testing.T) {
	const bad = "NaN"
	tests := map[string]struct {
		sli      slo.SLI
		r        providers.Range
		script   map[string][]reply
		want     map[int]slice // by index; others are {good: 300, total: 300} for events, {} otherwise
		def      slice
		wantErr  error
		wantMsg  []string
		quotes   string
		requests int
	}{
		"rates are scaled to counts per slice": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {matrix(every("1"))}, errQ: {matrix(at5m(map[int]string{11: "0.1"}, "0"))}},
			def:    slice{good: 300, total: 300}, want: map[int]slice{11: {good: 270, total: 300}}, requests: 2,
		},
		"a good query counts good events per slice, raw counters over the step": {
			sli: slo.SLI{GoodQuery: `sum(ok_total)`, TotalQuery: `sum(requests_total)`, Counter: true},
			script: map[string][]reply{
				`sum(increase(requests_total[5m]))`: {matrix(every("100"))},
				`sum(increase(ok_total[5m]))`:       {matrix(at5m(map[int]string{0: "90", 1: "101"}, "100"))},
			},
			def: slice{good: 100, total: 100}, want: map[int]slice{0: {good: 90, total: 100}, 1: {good: 100, total: 100}}, requests: 2,
		},
		"a slice with more good events than requests is a broken query pair": {
			sli: slo.SLI{GoodQuery: `sum(ok_total)`, TotalQuery: `sum(requests_total)`, Counter: true},
			script: map[string][]reply{
				`sum(increase(requests_total[5m]))`: {matrix(every("100"))},
				`sum(increase(ok_total[5m]))`:       {matrix(at5m(map[int]string{1: "120"}, "100"))},
			},
			wantErr: providers.ErrBadQuery, wantMsg: []string{`good_query counts more events than total_query "sum(increase(requests_total[5m]))" (120 > 100)`},
			quotes: `sum(increase(ok_total[5m]))`, requests: 2,
		},
		"a missing total point is a slice without traffic": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {matrix(at5m(map[int]string{3: ""}, "1"))}, errQ: {matrix(every("0"))}},
			def:    slice{good: 300, total: 300}, want: map[int]slice{3: {}}, requests: 2,
		},
		"no error series at all is no errors": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {matrix(every("1"))}, errQ: {emptyMatrix()}},
			def:    slice{good: 300, total: 300}, requests: 2,
		},
		"no total series at all is no data": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {emptyMatrix()}, errQ: {emptyMatrix()}},
			wantErr: providers.ErrNoData, quotes: totalQ, requests: 2,
		},
		"an infinite total is a bad query": {
			sli:     eventsSLI(),
			script:  map[string][]reply{totalQ: {matrix(at5m(map[int]string{2: "+Inf"}, "1"))}, errQ: {matrix(every("0"))}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"+Inf"}, quotes: totalQ, requests: 2,
		},
		"threshold values are read per slice and NaN points have no value": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {matrix(at5m(map[int]string{0: "0.5", 4: bad, 5: ""}, "0.1"))}},
			def:    slice{value: 0.1, total: 1}, want: map[int]slice{0: {value: 0.5, total: 1}, 4: {}, 5: {}}, requests: 1,
		},
		"error ratios read as good out of one": {
			sli:    slo.SLI{ErrorRatioQuery: `slo:sli_error:ratio_rate{{.window}}`},
			script: map[string][]reply{`slo:sli_error:ratio_rate5m`: {matrix(at5m(map[int]string{1: "1", 2: bad}, "0.25"))}},
			def:    slice{good: 0.75, total: 1}, want: map[int]slice{1: {good: 0, total: 1}, 2: {}}, requests: 1,
		},
		"an error ratio above one is a bad query": {
			sli:     slo.SLI{ErrorRatioQuery: `slo:sli_error:ratio_rate{{.window}}`},
			script:  map[string][]reply{`slo:sli_error:ratio_rate5m`: {matrix(every("2"))}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"outside [0, 1]"}, quotes: `slo:sli_error:ratio_rate5m`, requests: 1,
		},
		"two series are a bad query naming them": {
			sli: thresholdSLI(),
			script: map[string][]reply{latencyQ: {{body: `{"status":"success","data":{"resultType":"matrix","result":[` +
				`{"metric":{"pod":"a"},"values":[[1714564800.5,"1"]]},{"metric":{"pod":"b"},"values":[[1714564800.5,"1"]]}]}}`}}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"returned 2 series", `{pod="a"}, {pod="b"}`}, quotes: latencyQ, requests: 1,
		},
		"a vector from a range query is a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {vector("1")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"range query returned a vector"}, quotes: latencyQ, requests: 1,
		},
		"JSON without the API's envelope is not a Prometheus API response": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {{body: `{}`}}},
			wantErr: errNeither, wantMsg: []string{"not a Prometheus API response"}, quotes: latencyQ, requests: 1,
		},
		"a bad_data error is a bad query": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {apiError(400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries")}},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"11,000 points"}, quotes: latencyQ, requests: 1,
		},
		"sub-millisecond evaluation times still match the server's points": {
			sli:    thresholdSLI(),
			r:      providers.Range{Start: lastHour.Start.Add(700 * time.Microsecond), End: lastHour.End.Add(700 * time.Microsecond), Step: lastHour.Step},
			script: map[string][]reply{latencyQ: {matrix(every("0.1"))}},
			def:    slice{value: 0.1, total: 1}, requests: 1,
		},
		"a zero step is a bad query, not a panic": {
			sli:     thresholdSLI(),
			r:       providers.Range{Start: lastHour.Start, End: lastHour.End},
			wantErr: providers.ErrBadQuery, wantMsg: []string{"step must be longer than zero"}, quotes: latency, requests: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeProm(t, false)
			for q, rs := range tc.script {
				f.on(q, rs...)
			}
			p, _ := newProvider(t, f.providerConfig(), nil)
			r := lastHour
			if !tc.r.End.IsZero() {
				r = tc.r
			}
			got, err := p.Slices(context.Background(), providers.Query{SLO: "checkout", SLI: tc.sli, Window: time.Hour}, r)
			checkErr(t, err, tc.wantErr, tc.wantMsg, tc.quotes)
			reqs := f.requests()
			if len(reqs) != tc.requests {
				t.Errorf("server saw %d requests, want %d", len(reqs), tc.requests)
			}
			for _, rq := range reqs {
				checkRangeRequest(t, rq, r.Start.Add(r.Step), r.End, r.Step)
			}
			if err != nil {
				return
			}
			if len(got) != 12 {
				t.Fatalf("%d slices, want 12", len(got))
			}
			for i, c := range got {
				want, ok := tc.want[i]
				if !ok {
					want = tc.def
				}
				if c.Good != want.good || c.Total != want.total || c.Value != want.value {
					t.Errorf("slice %d = good %v total %v value %v, want %+v", i, c.Good, c.Total, c.Value, want)
				}
				end := r.End.Add(-time.Duration(11-i) * r.Step)
				if !c.End.Equal(end) || !c.Start.Equal(end.Add(-r.Step)) {
					t.Errorf("slice %d covers (%v, %v], want it to end at %v", i, c.Start, c.End, end)
				}
				if len(c.Resolved) == 0 {
					t.Errorf("slice %d has no resolved queries", i)
				}
			}
		})
	}
}

func checkRangeRequest(t *testing.T, r request, start, end time.Time, step time.Duration) {
	t.Helper()
	if r.Method != http.MethodPost || r.Path != "/api/v1/query_range" {
		t.Errorf("request %s %s, want POST /api/v1/query_range", r.Method, r.Path)
	}
	if got := r.Form.Get("step"); got != strconv.FormatFloat(step.Seconds(), 'f', -1, 64) {
		t.Errorf("step = %q, want %v", got, step.Seconds())
	}
	s, e := parseUnix(r.Form.Get("start")), parseUnix(r.Form.Get("end"))
	if s.Before(start.Add(-time.Millisecond)) || e.After(end.Add(time.Millisecond)) {
		t.Errorf("range [%v, %v] reaches outside [%v, %v]", s, e, start, end)
	}
}

// TestSlicesChunking reads 30 days of 1-minute slices: 43,200 points, more
// than a range query may return, so five requests of at most 10,000.
func TestSlicesChunking(t *testing.T) {
	f := newFakeProm(t, false)
	const q1m = `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))`
	value := func(t time.Time) string { return strconv.FormatInt(t.Unix()%1000, 10) }
	for range 5 {
		f.on(q1m, matrix(value))
	}
	p, _ := newProvider(t, f.providerConfig(), nil)
	r := providers.Range{Start: at.Add(-30 * 24 * time.Hour), End: at, Step: time.Minute}
	got, err := p.Slices(context.Background(), providers.Query{SLO: "s", SLI: thresholdSLI(), Window: 30 * 24 * time.Hour}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 43200 {
		t.Fatalf("%d slices, want 43200", len(got))
	}
	for i, c := range got {
		if want, _ := strconv.ParseFloat(value(c.End), 64); c.Value != want || c.Total != 1 {
			t.Fatalf("slice %d ending %v = %v (total %v), want %v", i, c.End, c.Value, c.Total, want)
		}
	}
	reqs := f.requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want 5", len(reqs))
	}
	next := r.Start.Add(time.Minute)
	for i, rq := range reqs { // sent one after the other, oldest first
		checkRangeRequest(t, rq, r.Start.Add(time.Minute), r.End, time.Minute)
		s, e := parseUnix(rq.Form.Get("start")), parseUnix(rq.Form.Get("end"))
		if !s.Equal(next) {
			t.Errorf("request %d starts at %v, want %v", i, s, next)
		}
		if n := int(e.Sub(s)/time.Minute) + 1; n > maxPoints {
			t.Errorf("request %d asks for %d points", i, n)
		}
		next = e.Add(time.Minute)
	}
	if !next.Add(-time.Minute).Equal(at) {
		t.Errorf("the last request ends at %v, want %v", next.Add(-time.Minute), at)
	}
}
