package scrape

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sloguard/sloguard/providers"
)

// snap builds a snapshot at second t from code -> value pairs of
// http_requests_total; a missing code is a missing series.
func snap(t int, vals map[string]float64) snapshot {
	s := snapshot{at: time.Unix(int64(t), 0), series: map[string]sample{}}
	for code, v := range vals {
		ls := labels.FromStrings(labels.MetricName, "http_requests_total", "code", code)
		s.series[ls.String()] = sample{labels: ls, v: v}
	}
	return s
}

func TestIncrease(t *testing.T) {
	all := func(labels.Labels) bool { return true }
	errs := func(ls labels.Labels) bool { return ls.Get("code") == "500" }
	tests := map[string]struct {
		snaps    []snapshot
		match    func(labels.Labels) bool
		from, to int
		want     float64
		matched  int
		covered  bool
	}{
		"a rising counter counts its rise since the base": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 100}), snap(10, map[string]float64{"200": 150}), snap(20, map[string]float64{"200": 180})},
			match: all, from: 0, to: 20, want: 80, matched: 1, covered: true,
		},
		"the window starts at the latest snapshot at or before it": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 100}), snap(10, map[string]float64{"200": 150}), snap(20, map[string]float64{"200": 180})},
			match: all, from: 15, to: 20, want: 30, matched: 1, covered: true,
		},
		"a reset counts the new value from zero": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 100}), snap(10, map[string]float64{"200": 150}), snap(20, map[string]float64{"200": 20}), snap(30, map[string]float64{"200": 45})},
			match: all, from: 0, to: 30, want: 50 + 20 + 25, matched: 1, covered: true,
		},
		"a series that appears counts in full": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 100}), snap(10, map[string]float64{"200": 110, "500": 4})},
			match: errs, from: 0, to: 10, want: 4, matched: 1, covered: true,
		},
		"a series that vanishes with a restart and comes back counts again": {
			snaps: []snapshot{snap(0, map[string]float64{"500": 10}), snap(10, map[string]float64{"500": 12}), snap(20, map[string]float64{}), snap(30, map[string]float64{"500": 3})},
			match: errs, from: 0, to: 30, want: 2 + 3, matched: 1, covered: true,
		},
		"without a snapshot before the window the first inside is the base": {
			snaps: []snapshot{snap(10, map[string]float64{"200": 100}), snap(20, map[string]float64{"200": 130})},
			match: all, from: 0, to: 20, want: 30, matched: 1, covered: true,
		},
		"one snapshot covers nothing, but says what matches": {
			snaps: []snapshot{snap(10, map[string]float64{"200": 100})},
			match: all, from: 0, to: 20, matched: 1, covered: false,
		},
		"snapshots after the window are left out": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 1}), snap(10, map[string]float64{"200": 2}), snap(20, map[string]float64{"200": 50})},
			match: all, from: 0, to: 10, want: 1, matched: 1, covered: true,
		},
		"no matching series is zero series matched": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 1}), snap(10, map[string]float64{"200": 2})},
			match: errs, from: 0, to: 10, want: 0, matched: 0, covered: true,
		},
		"a NaN sample makes the increase NaN": {
			snaps: []snapshot{snap(0, map[string]float64{"200": 1}), snap(10, map[string]float64{"200": math.NaN()})},
			match: all, from: 0, to: 10, want: math.NaN(), matched: 1, covered: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &history{snaps: tc.snaps}
			got, matched, covered := h.increase(tc.match, time.Unix(int64(tc.from), 0), time.Unix(int64(tc.to), 0))
			if covered != tc.covered || matched != tc.matched || !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("increase = %v (%d series, covered %v), want %v (%d, %v)", got, matched, covered, tc.want, tc.matched, tc.covered)
			}
		})
	}
}

func TestHistoryForgetsWhatNoWindowNeeds(t *testing.T) {
	h := &history{}
	for i := 0; i <= 10; i++ {
		h.add(snap(i*60, nil), 3*time.Minute)
	}
	if len(h.snaps) != 4 || h.snaps[0].at.Unix() != 420 {
		t.Errorf("kept %d snapshots from %d, want 4 from 420 (the base of the 3m window ending at 600)", len(h.snaps), h.snaps[0].at.Unix())
	}
}

func TestParse(t *testing.T) {
	page := `# TYPE http_requests_total counter
http_requests_total{code="200"} 10
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.3"} 7
http_request_duration_seconds_bucket{le="1.0"} 9
http_request_duration_seconds_bucket{le="+Inf"} 10
http_request_duration_seconds_sum 4.5
http_request_duration_seconds_count 10
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.99"} 0.2
rpc_seconds_sum 3
rpc_seconds_count 30
up 1
`
	got, err := parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]float64{
		`{__name__="http_requests_total", code="200"}`:                 10,
		`{__name__="http_request_duration_seconds_bucket", le="0.3"}`:  7,
		`{__name__="http_request_duration_seconds_bucket", le="1"}`:    9,
		`{__name__="http_request_duration_seconds_bucket", le="+Inf"}`: 10,
		`{__name__="http_request_duration_seconds_count"}`:             10,
		`{__name__="rpc_seconds", quantile="0.99"}`:                    0.2,
		`{__name__="rpc_seconds_count"}`:                               30,
		`{__name__="up"}`:                                              1,
	} {
		if s, ok := got[key]; !ok || s.v != want {
			t.Errorf("%s = %v (present %v), want %v", key, s.v, ok, want)
		}
	}
	if _, err := parse(strings.NewReader("<html>")); err == nil {
		t.Errorf("HTML parsed as metrics")
	}
}

func TestCompile(t *testing.T) {
	tests := map[string]struct {
		query     string
		counter   bool
		perSecond bool
		bad       string
	}{
		"a sum of rates is per second":         {query: `sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`, perSecond: true},
		"a sum of increases is a count":        {query: `sum(increase(http_requests_total[{{.window}}]))`},
		"sums may be added":                    {query: `sum(increase(a_total[5m])) + sum(increase(b_total[5m]))`},
		"a ratio of sums is evaluated":         {query: `sum(rate(e_total[5m])) / sum(rate(r_total[5m]))`, perSecond: true},
		"a bare counter is read with counter":  {query: `sum(http_requests_total)`, counter: true},
		"a bare rate needs a sum":              {query: `rate(http_requests_total[5m])`, bad: "rate() returns one series per target and label set: wrap it in sum(...)"},
		"sum by returns several series":        {query: `sum by (code) (rate(http_requests_total[5m]))`, bad: "sum by/without returns several series"},
		"histogram_quantile is not evaluated":  {query: `histogram_quantile(0.99, sum(rate(b_bucket[5m])))`, bad: "function histogram_quantile() is not evaluated"},
		"irate is not evaluated":               {query: `sum(irate(http_requests_total[5m]))`, bad: "function irate() is not evaluated"},
		"max is not evaluated":                 {query: `max(rate(http_requests_total[5m]))`, bad: "max is not evaluated"},
		"offset is not evaluated":              {query: `sum(rate(http_requests_total[5m] offset 1h))`, bad: "offset and @ are not evaluated"},
		"a bare selector without counter":      {query: `sum(http_requests_total)`, bad: "must be read with rate() or increase()"},
		"a comparison is not evaluated":        {query: `sum(rate(a[5m])) > 1`, bad: "operator > is not evaluated"},
		"a syntax error is the parser's":       {query: `sum(rate(a[5m])`, bad: "unclosed left parenthesis"},
		"arithmetic inside sum is not allowed": {query: `sum(rate(a[5m]) * 2)`, bad: "arithmetic inside sum()"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, perSecond, err := compile(tc.query, 5*time.Minute, tc.counter)
			if tc.bad != "" {
				if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want ErrBadQuery saying %q", err, tc.bad)
				}
				return
			}
			if err != nil || perSecond != tc.perSecond {
				t.Errorf("compile = perSecond %v, %v; want %v", perSecond, err, tc.perSecond)
			}
		})
	}
}
