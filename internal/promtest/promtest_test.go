package promtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// end is a fixed evaluation time for the pure tests; the server test uses
// a recent one, as the CLI tests do.
var end = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixture(at time.Time) *History {
	return New(at,
		Service{Name: "steady", Rate: 5, ErrorRatio: 0.001},
		Service{Name: "recent", Rate: 20, Segments: []Segment{{From: 10 * time.Minute, ErrorRatio: 0.2}}},
		Service{Name: "badweek", Rate: 2, ErrorRatio: 0.0001, Segments: []Segment{{From: 21 * Day, To: 14 * Day, ErrorRatio: 0.01}}},
		Service{Name: "idle"},
	)
}

var server *Server

// TestMain starts one Prometheus for the package with Run, the variant
// without testing.TB that the benchmark uses too.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "promtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	server, err = Run(ctx, fixture(time.Now()), dir)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "promtest: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if err := server.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "promtest: stop: %v\n", err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestNoSampleSitsOnAWindowBoundary(t *testing.T) {
	h := fixture(end)
	for _, ts := range h.Times() {
		if ts.Second() == 0 {
			t.Fatalf("sample at %s sits on a whole minute", ts)
		}
	}
	if got, want := h.Times()[len(h.Times())-1], end.Add(-17*time.Second); !got.Equal(want) {
		t.Errorf("last sample at %s, want %s", got, want)
	}
	if first := h.Times()[0]; !first.Before(end.Add(-30 * Day)) {
		t.Errorf("first sample at %s does not reach before the 30-day window", first)
	}
}

func TestExpectedRatiosFollowTheSegments(t *testing.T) {
	h := fixture(end)
	tests := map[string]struct {
		service string
		window  time.Duration
		want    float64
		ok      bool
	}{
		"a steady service has its ratio in every window":    {"steady", time.Hour, 0.001, true},
		"errors of the last 10 minutes fill the 5m window":  {"recent", 5 * time.Minute, 0.2, true},
		"errors of the last 10 minutes are 10 of 29 steps":  {"recent", 30 * time.Minute, 0.2 * 10 / 29, true}, // 30 samples in the window
		"a bad week is a quarter of the month, near enough": {"badweek", 30 * Day, (0.01*7 + 0.0001*23) / 30, true},
		"no traffic has no ratio":                           {"idle", time.Hour, 0, false},
		"an unknown service has no ratio":                   {"ghost", time.Hour, 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := h.ErrorRatio(tc.service, end, tc.window)
			if ok != tc.ok || math.Abs(got-tc.want) > 0.002*math.Max(tc.want, 1e-3) {
				t.Errorf("ErrorRatio = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestOpenMetricsIsWhatPromtoolReads(t *testing.T) {
	h := New(end, Service{Name: "a", Rate: 1, ErrorRatio: 0.5})
	h.Span = 3 * time.Minute
	var b bytes.Buffer
	if err := h.WriteOpenMetrics(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP http_requests Requests served, by service and status code.
# TYPE http_requests counter
http_requests_total{service="a",code="200"} 1e+06 1772366263
http_requests_total{service="a",code="200"} 1.00003e+06 1772366323
http_requests_total{service="a",code="200"} 1.00006e+06 1772366383
http_requests_total{service="a",code="500"} 1e+06 1772366263
http_requests_total{service="a",code="500"} 1.00003e+06 1772366323
http_requests_total{service="a",code="500"} 1.00006e+06 1772366383
# EOF
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestValidateRejectsWhatWouldBreakTheExpectations(t *testing.T) {
	tests := map[string]struct {
		edit func(*History)
		want string
	}{
		"a step that is not a multiple of 10s": {func(h *History) { h.Step = 15 * time.Second }, "multiple of 10s"},
		"an end between minutes":               {func(h *History) { h.End = h.End.Add(time.Second) }, "whole minute"},
		"a repeated service":                   {func(h *History) { h.Services = append(h.Services, h.Services[0]) }, "repeated"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := fixture(end)
			tc.edit(h)
			if err := h.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestPrometheusAgreesWithTheExpectations is the package's promise: the
// ratio of two rate() queries equals ErrorRatio, for every window the
// gate reads, over the whole backfilled month.
func TestPrometheusAgreesWithTheExpectations(t *testing.T) {
	h := server.History
	windows := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour, 3 * Day, 30 * Day}
	for _, svc := range []string{"steady", "recent", "badweek"} {
		for _, w := range windows {
			t.Run(fmt.Sprintf("%s over %s", svc, model.Duration(w)), func(t *testing.T) {
				q := fmt.Sprintf(`sum(rate(%[1]s{service=%[2]q,code="500"}[%[3]s])) / sum(rate(%[1]s{service=%[2]q}[%[3]s]))`, Metric, svc, model.Duration(w))
				got, err := server.Query(t.Context(), q, h.End)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := h.ErrorRatio(svc, h.End, w)
				if math.Abs(got-want) > 1e-9 {
					t.Errorf("prometheus says %v, expected %v", got, want)
				}
			})
		}
	}
	t.Run("slices of the recent errors", func(t *testing.T) {
		for _, s := range h.Slices("recent", h.End, time.Hour, 5*time.Minute) {
			q := fmt.Sprintf(`sum(rate(%[1]s{service="recent",code="500"}[5m])) / sum(rate(%[1]s{service="recent"}[5m]))`, Metric)
			got, err := server.Query(t.Context(), q, s.End)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-s.ErrorRatio) > 1e-9 {
				t.Errorf("slice ending %s: prometheus says %v, expected %v", s.End.Format(time.TimeOnly), got, s.ErrorRatio)
			}
		}
	})
}
