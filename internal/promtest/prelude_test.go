package promtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPreludeErrorsArePoissonAtTheRatioAsked(t *testing.T) {
	p := &Prelude{End: end, Span: 6 * time.Hour, Step: 5 * time.Second, Seed: 3,
		Targets: []Target{{Labels: map[string]string{"track": "a"}, Rate: 40, ErrorRatio: 0.02}}}
	times, good, bad := p.Counters()
	if !times[len(times)-1].Equal(end) || end.Sub(times[0]) >= p.Span {
		t.Errorf("samples from %s to %s; want the last at End %s, all within the span", times[0], times[len(times)-1], end)
	}
	var errs, reqs []float64
	for i := 1; i < len(times); i++ {
		errs = append(errs, bad[0][i]-bad[0][i-1])
		reqs = append(reqs, bad[0][i]-bad[0][i-1]+good[0][i]-good[0][i-1])
	}
	mean, variance := meanVar(errs)
	reqMean, _ := meanVar(reqs)
	if math.Abs(reqMean-200)/200 > 0.01 || math.Abs(mean/reqMean-0.02)/0.02 > 0.05 || math.Abs(variance/mean-1) > 0.1 {
		t.Errorf("%.1f requests per 5 s step, error ratio %.4f, errors' variance/mean %.2f; want 200, 0.02, 1", reqMean, mean/reqMean, variance/mean)
	}
}

func TestPreludeWritesTheScrapedLabels(t *testing.T) {
	labels := ScrapeLabels("127.0.0.1:9")
	labels["track"] = "a"
	p := &Prelude{End: end, Span: 3 * time.Second, Step: time.Second, Targets: []Target{{Labels: labels, Rate: 10}}}
	var b bytes.Buffer
	if err := p.WriteOpenMetrics(&b); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`http_requests_total{code="200",instance="127.0.0.1:9",job="svc",track="a"} 1000000 %d.000`, end.Add(-2*time.Second).Unix())
	if !strings.Contains(b.String(), want+"\n") {
		t.Errorf("no line %q in\n%s", want, b.String())
	}
	if err := (&Prelude{End: end, Span: time.Minute, Step: time.Second, Targets: []Target{{Labels: map[string]string{"code": "500"}}}}).Validate(); err == nil {
		t.Error("a target with its own code label was accepted")
	}
}

// TestAPreludeContinuesIntoLiveScraping backfills ten minutes of a
// target's counters, then scrapes the target live; its counters start
// from zero where the history ends, as after a restart. Prometheus must hold one series per
// code (the history and the scrapes are the same series), see the seam as
// one counter reset, and count requests across it at the target's rate.
func TestAPreludeContinuesIntoLiveScraping(t *testing.T) {
	const rps, ratio = 100, 0.01
	seam := time.Now().Truncate(time.Second).Add(-500 * time.Millisecond)
	counting := seam // the target counts from the moment the history ends
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		total := rps * time.Since(counting).Seconds()
		fmt.Fprintf(w, "# TYPE http_requests_total counter\n")
		fmt.Fprintf(w, "http_requests_total{track=\"a\",code=\"200\"} %g\n", total*(1-ratio))
		fmt.Fprintf(w, "http_requests_total{track=\"a\",code=\"500\"} %g\n", total*ratio)
	}))
	defer target.Close()
	addr := strings.TrimPrefix(target.URL, "http://")
	labels := ScrapeLabels(addr)
	labels["track"] = "a"
	p := &Prelude{End: seam, Span: 10 * time.Minute, Step: time.Second, Seed: 5, Targets: []Target{{Labels: labels, Rate: rps, ErrorRatio: ratio}}}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s, err := RunScrapingAfter(ctx, t.TempDir(), []string{addr}, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	// Read once a few live scrapes are stored, over a window reaching 10 s
	// into the history: it holds the seam.
	scraped := func(after time.Time) time.Time {
		for {
			v, err := s.Query(ctx, `min(timestamp(http_requests_total))`, time.Now())
			if err == nil && v > float64(after.Unix()) {
				return time.Unix(int64(v), 0)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("no scrape after %s: %v; its log: %s", after, ctx.Err(), s.Log())
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	at := scraped(seam.Add(time.Second)).Add(3 * time.Second)
	scraped(at)
	window := fmt.Sprintf("%ds", int(at.Sub(seam).Seconds())+10)
	for _, c := range []struct {
		query    string
		min, max float64
	}{
		{`count(http_requests_total)`, 2, 2},
		{`sum(resets(http_requests_total[` + window + `]))`, 2, 2},
		{`sum(rate(http_requests_total[` + window + `]))`, 0.9 * rps, 1.1 * rps},
	} {
		got, err := s.Query(ctx, c.query, at)
		if err != nil {
			t.Fatal(err)
		}
		if got < c.min || got > c.max {
			t.Errorf("%s at %s = %v, want %v to %v", c.query, at.Format(time.RFC3339), got, c.min, c.max)
		}
	}
}
