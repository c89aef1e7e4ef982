package prometheus

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// fiveTimes are five evaluation times 30 s apart, starting at `at`.
var fiveTimes = providers.Times{Start: at, Step: 30 * time.Second, N: 5}

// byIndex answers with values[i] at fiveTimes' i-th time ("" leaves the
// point out), def elsewhere.
func byIndex(values map[int]string, def string) func(time.Time) string {
	return func(t time.Time) string {
		if v, ok := values[int(t.Sub(fiveTimes.Start)/fiveTimes.Step)]; ok {
			return v
		}
		return def
	}
}

// series answers a range query with one series per function, each labelled
// by its position.
func series(values ...func(time.Time) string) reply {
	return reply{build: func(form url.Values) string {
		start, end := parseUnix(form.Get("start")), parseUnix(form.Get("end"))
		step, _ := strconv.ParseFloat(form.Get("step"), 64)
		var parts []string
		for n, value := range values {
			var pts []string
			for t := start; !t.After(end); t = t.Add(time.Duration(step * float64(time.Second))) {
				if v := value(t); v != "" {
					pts = append(pts, fmt.Sprintf("[%s,%q]", strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64), v))
				}
			}
			parts = append(parts, fmt.Sprintf(`{"metric":{"pod":"p%d"},"values":[%s]}`, n, strings.Join(pts, ",")))
		}
		return `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Join(parts, ",") + `]}}`
	}}
}

// reading is what a test expects at one time: counts, or an error class.
type reading struct {
	good, total, value float64
	err                error
}

func TestCountsRange(t *testing.T) {
	ok := reading{good: 3000, total: 3000}
	tests := map[string]struct {
		sli     slo.SLI
		times   providers.Times
		script  map[string][]reply
		want    map[int]reading // by index; the others are def
		def     reading
		wantErr error // for the whole call
		reqs    int
	}{
		"each reading is a rate over the query's window, not the step": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {series(byIndex(nil, "10"))}, errQ: {series(byIndex(map[int]string{3: "0.1"}, "0"))}},
			def:    ok, want: map[int]reading{3: {good: 2970, total: 3000}}, reqs: 2,
		},
		"a time without a total sample is no data then, and only then": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {series(byIndex(map[int]string{2: ""}, "10"))}, errQ: {series(byIndex(nil, "0"))}},
			def:    ok, want: map[int]reading{2: {err: providers.ErrNoData}}, reqs: 2,
		},
		"a time without an error sample counts no errors": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {series(byIndex(nil, "10"))}, errQ: {series(byIndex(map[int]string{1: ""}, "0.1"))}},
			def:    reading{good: 2970, total: 3000}, want: map[int]reading{1: ok}, reqs: 2,
		},
		"no error series at all counts no errors": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {series(byIndex(nil, "10"))}, errQ: {emptyMatrix()}},
			def:    ok, reqs: 2,
		},
		"no total series at all is no data at every time": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {emptyMatrix()}, errQ: {emptyMatrix()}},
			def:    reading{err: providers.ErrNoData}, reqs: 2,
		},
		"NaN or a negative count is a bad query at that time": {
			sli:    eventsSLI(),
			script: map[string][]reply{totalQ: {series(byIndex(map[int]string{0: "NaN"}, "10"))}, errQ: {series(byIndex(map[int]string{4: "-1"}, "0"))}},
			def:    ok, want: map[int]reading{0: {err: providers.ErrBadQuery}, 4: {err: providers.ErrBadQuery}}, reqs: 2,
		},
		"two series at one time are a bad query then; series that follow each other are not": {
			sli: eventsSLI(),
			script: map[string][]reply{
				totalQ: {series(byIndex(map[int]string{3: "", 4: ""}, "10"), byIndex(map[int]string{0: "", 1: "", 2: ""}, "10"))},
				errQ:   {series(byIndex(nil, "0"), byIndex(map[int]string{0: "", 1: "", 2: "", 3: ""}, "0"))},
			},
			def: ok, want: map[int]reading{4: {err: providers.ErrBadQuery}}, reqs: 2,
		},
		"a threshold's NaN is no data at that time": {
			sli:    thresholdSLI(),
			script: map[string][]reply{latencyQ: {series(byIndex(map[int]string{1: "NaN", 2: ""}, "0.25"))}},
			def:    reading{value: 0.25, total: 1}, want: map[int]reading{1: {err: providers.ErrNoData}, 2: {err: providers.ErrNoData}}, reqs: 1,
		},
		"an error ratio outside [0, 1] is a bad query at that time": {
			sli:    slo.SLI{ErrorRatioQuery: `sum(rate(errors[{{.window}}])) / sum(rate(requests[{{.window}}]))`},
			script: map[string][]reply{`sum(rate(errors[5m])) / sum(rate(requests[5m]))`: {series(byIndex(map[int]string{2: "1.5"}, "0.25"))}},
			def:    reading{good: 0.75, total: 1}, want: map[int]reading{2: {err: providers.ErrBadQuery}}, reqs: 1,
		},
		"a point at a time not asked: the server aligns ranges, no range reads": {
			sli: thresholdSLI(),
			script: map[string][]reply{latencyQ: {{build: func(url.Values) string {
				return `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1714564800,"0.2"]]}]}}`
			}}}},
			wantErr: providers.ErrNoRangeReads, reqs: 1,
		},
		"a query the server rejects is a bad query for the whole call": {
			sli:     thresholdSLI(),
			script:  map[string][]reply{latencyQ: {apiError(http.StatusBadRequest, "bad_data", "parse error")}},
			wantErr: providers.ErrBadQuery, reqs: 1,
		},
		"times finer than a millisecond are no range reads, and nothing is sent": {
			sli: thresholdSLI(), times: providers.Times{Start: at.Add(time.Microsecond), Step: time.Minute, N: 3},
			wantErr: providers.ErrNoRangeReads,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFakeProm(t, false)
			for q, rs := range tc.script {
				f.on(q, rs...)
			}
			p, _ := newProvider(t, f.providerConfig(), nil)
			times := tc.times
			if times.N == 0 {
				times = fiveTimes
			}
			got, err := p.CountsRange(t.Context(), providers.Query{SLO: "checkout", SLI: tc.sli, Window: 5 * time.Minute}, times)
			reqs := f.requests()
			if len(reqs) != tc.reqs {
				t.Errorf("server saw %d requests, want %d", len(reqs), tc.reqs)
			}
			for _, r := range reqs {
				checkRangeRequest(t, r, times.Start, times.At(times.N-1), times.Step)
				if s, e := parseUnix(r.Form.Get("start")), parseUnix(r.Form.Get("end")); !s.Equal(times.Start) || !e.Equal(times.At(times.N-1)) {
					t.Errorf("range [%v, %v], want [%v, %v]", s, e, times.Start, times.At(times.N-1))
				}
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("got %v, %v; want no readings and %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || len(got) != times.N {
				t.Fatalf("got %d readings, %v; want %d", len(got), err, times.N)
			}
			for i, r := range got {
				want, ok := tc.want[i]
				if !ok {
					want = tc.def
				}
				c := r.Counts
				if !c.End.Equal(times.At(i)) || !c.Start.Equal(times.At(i).Add(-5*time.Minute)) || len(c.Resolved) == 0 {
					t.Errorf("reading %d covers (%v, %v] with queries %q, want (%v, %v]", i, c.Start, c.End, c.Resolved, times.At(i).Add(-5*time.Minute), times.At(i))
				}
				switch {
				case want.err != nil:
					if !errors.Is(r.Err, want.err) {
						t.Errorf("reading %d: error %v, want %v", i, r.Err, want.err)
					}
				case r.Err != nil:
					t.Errorf("reading %d: unexpected error %v", i, r.Err)
				case c.Good != want.good || c.Total != want.total || c.Value != want.value:
					t.Errorf("reading %d: good %v total %v value %v, want %v %v %v", i, c.Good, c.Total, c.Value, want.good, want.total, want.value)
				}
			}
		})
	}
}

// TestCountsRangeChunking reads 25,000 times: more points than a range query
// may return, so three requests of at most 10,000, one after the other.
func TestCountsRangeChunking(t *testing.T) {
	f := newFakeProm(t, false)
	value := func(t time.Time) string { return strconv.FormatInt(t.Unix()%1000, 10) }
	for range 3 {
		f.on(latencyQ, series(value))
	}
	p, _ := newProvider(t, f.providerConfig(), nil)
	times := providers.Times{Start: at, Step: time.Minute, N: 25000}
	got, err := p.CountsRange(t.Context(), providers.Query{SLO: "s", SLI: thresholdSLI(), Window: 5 * time.Minute}, times)
	if err != nil || len(got) != 25000 {
		t.Fatalf("got %d readings, %v", len(got), err)
	}
	for i, r := range got {
		if want, _ := strconv.ParseFloat(value(times.At(i)), 64); r.Err != nil || r.Counts.Value != want {
			t.Fatalf("reading %d = %v (%v), want %v", i, r.Counts.Value, r.Err, want)
		}
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		s, e := parseUnix(r.Form.Get("start")), parseUnix(r.Form.Get("end"))
		if ws, we := times.At(i*maxPoints), times.At(min((i+1)*maxPoints, times.N)-1); !s.Equal(ws) || !e.Equal(we) {
			t.Errorf("request %d covers [%v, %v], want [%v, %v]", i, s, e, ws, we)
		}
	}
}
