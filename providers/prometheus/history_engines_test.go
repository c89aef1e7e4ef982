package prometheus

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/promtest"
	"github.com/sloguard/sloguard/internal/vmtest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// TestRangeReadsAreCountsOnRealEngines is the promise backtest rests on:
// on a real Prometheus, CountsRange's reading at each time is exactly what
// Counts reads at that time (same floats, same no-data), for windows that
// grow as a watch's do and for a scoped query. A real VictoriaMetrics reads
// the same too (vmtest runs it with -search.disableCache; with its cache on,
// it moves a range's times to multiples of the step, and CountsRange says
// ErrNoRangeReads instead, as TestCountsRange shows): never something else.
// Also for a baseline from the past (Scope.Offset). And a long slice
// read's slices are each shorter read's, which lets
// backtest share one among windows.
func TestRangeReadsAreCountsOnRealEngines(t *testing.T) {
	if _, err := vmtest.Binary(); err != nil {
		t.Fatal(err)
	}
	h := promtest.New(time.Now().Truncate(time.Hour),
		promtest.Service{Name: "shop", Rate: 20, ErrorRatio: 0.001, Segments: []promtest.Segment{{From: 90 * time.Minute, To: 60 * time.Minute, ErrorRatio: 0.05}}},
		promtest.Service{Name: "idle"},
	)
	h.Span, h.Step = 3*time.Hour, 10*time.Second
	engines := map[string]string{"prometheus": promtest.Start(t, h).URL, "victoria-metrics": vmtest.Start(t, h).URL}
	sli := slo.SLI{
		ErrorQuery: `sum(rate(http_requests_total{code="500"}[{{.window}}]))`,
		TotalQuery: `sum(rate(http_requests_total[{{.window}}]))`,
	}
	// 60 windows a minute apart in the last two hours, read at a few of a
	// watch's offsets (07 s: off the scrape grid too).
	first := h.End.Add(-2 * time.Hour)
	for engine, url := range engines {
		p, _ := newProvider(t, testConfig(engine, url, time.Minute, 1, 4), nil)
		for _, svc := range []string{"shop", "idle"} {
			for k, off := range []time.Duration{30 * time.Second, 7 * time.Minute, 10*time.Minute + 7*time.Second} {
				name := fmt.Sprintf("%s: %s at +%s", engine, svc, off)
				scope := providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"service": svc}}
				if k == 2 { // a baseline from the past: the same query half an hour earlier
					scope = providers.Scope{Name: providers.ScopeBaseline, Labels: scope.Labels, Offset: 30 * time.Minute}
				}
				q := providers.Query{SLO: svc, SLI: sli, Scope: scope, Window: off}
				times := providers.Times{Start: first.Add(off), Step: time.Minute, N: 60}
				got, err := p.CountsRange(t.Context(), q, times)
				if engine == "victoria-metrics" && errors.Is(err, providers.ErrNoRangeReads) {
					t.Logf("%s: %v", name, err)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				traffic := 0
				for i, r := range got {
					c, err := p.Counts(t.Context(), q, times.At(i))
					if errors.Is(err, providers.ErrNoData) != errors.Is(r.Err, providers.ErrNoData) || (err == nil) != (r.Err == nil) {
						t.Fatalf("%s, time %d: range read error %v, instant read error %v", name, i, r.Err, err)
					}
					if r.Counts.Good != c.Good || r.Counts.Total != c.Total || fmt.Sprint(r.Counts.Resolved) != fmt.Sprint(c.Resolved) || !r.Counts.Start.Equal(c.Start) || !r.Counts.End.Equal(c.End) {
						t.Fatalf("%s, time %d: range read %v of %v in (%s, %s] (%q), instant read %v of %v in (%s, %s] (%q)", name, i, r.Counts.Good, r.Counts.Total, r.Counts.Start, r.Counts.End, r.Counts.Resolved, c.Good, c.Total, c.Start, c.End, c.Resolved)
					}
					if c.Total > 0 {
						traffic++
					}
				}
				if want := map[string]int{"shop": 60, "idle": 0}[svc]; traffic != want {
					t.Errorf("%s: %d readings with traffic, want %d", name, traffic, want)
				}
			}
			// backtest shares one long slice read among windows: its slices
			// must be each window's own (an hour of 2-minute slices before
			// each of 10 windows 10 minutes apart).
			q := providers.Query{SLO: svc, SLI: sli, Scope: providers.Scope{Name: providers.ScopeBaseline, Labels: map[string]string{"service": svc}}, Window: 2 * time.Minute}
			long, err := p.Slices(t.Context(), q, providers.Range{Start: first.Add(-time.Hour), End: first.Add(90 * time.Minute), Step: 2 * time.Minute})
			if err != nil {
				t.Fatalf("%s: %s: long slice read: %v", engine, svc, err)
			}
			for w := range 10 {
				end := first.Add(time.Duration(w) * 10 * time.Minute)
				own, err := p.Slices(t.Context(), q, providers.Range{Start: end.Add(-time.Hour), End: end, Step: 2 * time.Minute})
				if err != nil {
					t.Fatalf("%s: %s: window %d: %v", engine, svc, w, err)
				}
				for i, c := range own {
					if l := long[5*w+i]; l.Good != c.Good || l.Total != c.Total || !l.End.Equal(c.End) {
						t.Fatalf("%s: %s: window %d slice %d: long read %v of %v at %s, own %v of %v at %s", engine, svc, w, i, l.Good, l.Total, l.End, c.Good, c.Total, c.End)
					}
				}
			}
		}
	}
}
