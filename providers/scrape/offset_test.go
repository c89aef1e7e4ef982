package scrape

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// TestAnOffsetIsABadQueryThatSaysWhy: nothing is scraped for a reading
// that asks for the past, since no scrape can answer it.
func TestAnOffsetIsABadQueryThatSaysWhy(t *testing.T) {
	p, err := New(t.Context(), Config{Name: "s", Targets: map[string][]string{"baseline": {"http://127.0.0.1:1/metrics"}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	q := providers.Query{SLO: "s", SLI: eventsSLI(), Scope: providers.Scope{Name: providers.ScopeBaseline, Offset: 10 * time.Minute}, Window: time.Minute}
	_, err = p.Counts(t.Context(), q, time.Unix(1000, 0))
	if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), "the scrape backend reads its targets now and keeps no history: it cannot read the baseline 10m earlier") {
		t.Errorf("error %v, want a bad query saying scrape keeps no history", err)
	}
}
