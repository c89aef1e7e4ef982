package datadog

import (
	"fmt"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// TestAnOffsetShiftsFromAndTo: a baseline from the past is the same
// metrics query over from and to moved back by the offset.
func TestAnOffsetShiftsFromAndTo(t *testing.T) {
	srv := newServer(t, points("1000", "1000", "10", "20", "30", "null", "40"))
	p, _ := newTestProvider(t, srv.URL, nil, nil)
	const offset = 24 * time.Hour
	q := providers.Query{SLO: "checkout", SLI: eventsSLI(), Window: 5 * time.Minute, Scope: providers.Scope{Name: providers.ScopeBaseline, Offset: offset}}
	c, err := p.Counts(t.Context(), q, at)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if c.Total != 100 {
		t.Errorf("total %v, want the 100 inside the shifted window", c.Total)
	}
	if want := at.Add(-offset); !c.End.Equal(want) || !c.Start.Equal(want.Add(-5*time.Minute)) {
		t.Errorf("the reading covers (%s, %s], want the 5m ending %s", c.Start, c.End, want)
	}
	wantQ := map[string]bool{
		`sum:trace.http.request.errors{service:checkout}.as_count().rollup(sum, 60)`: true,
		`sum:trace.http.request.hits{service:checkout}.as_count().rollup(sum, 60)`:   true,
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		f := r.URL.Query()
		if !wantQ[f.Get("query")] {
			t.Errorf("query %q, want the SLI's query unchanged", f.Get("query"))
		}
		if f.Get("from") != fmt.Sprint(at.Add(-offset-5*time.Minute).Unix()) || f.Get("to") != fmt.Sprint(at.Add(-offset).Unix()) {
			t.Errorf("from=%s to=%s, want the window %s earlier", f.Get("from"), f.Get("to"), offset)
		}
	}
}
