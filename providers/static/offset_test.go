package static

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

func TestAnOffsetIsABadQueryThatSaysWhy(t *testing.T) {
	p, err := New(cfg(t, good), "")
	if err != nil {
		t.Fatal(err)
	}
	q := providers.Query{SLO: "checkout", SLI: events, Scope: providers.Scope{Name: providers.ScopeBaseline, Offset: time.Hour}, Window: 5 * time.Minute}
	_, err = p.Counts(t.Context(), q, at)
	if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), "static values are recorded per scope and window, with no time: they cannot be read 1h earlier") {
		t.Errorf("error %v, want a bad query saying static values have no time", err)
	}
}
