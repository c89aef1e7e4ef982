package providers

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo"
)

// TestGoodEventsWithinTheTolerance: a part that exceeds its total by
// rate() extrapolation noise (0.1 % plus one event) is clipped to the
// total; beyond it the queries count different requests, which is a bad
// query naming the total query and both counts, for good_query and
// error_query alike.
func TestGoodEventsWithinTheTolerance(t *testing.T) {
	for _, tc := range []struct {
		name        string
		part, total float64
		good        bool
		want        float64
		err         string
	}{
		{name: "good below the total", part: 990, total: 1000, good: true, want: 990},
		{name: "good at the tolerance", part: 1002, total: 1000, good: true, want: 1000},
		{name: "one event over on a quiet window", part: 1, total: 0, good: true, want: 0},
		{name: "good past the tolerance", part: 1002.5, total: 1000, good: true,
			err: `bad query: good_query counts more events than total_query "total" (1002.5 > 1000): do they select the same series?`},
		{name: "every service's good events", part: 20000, total: 10000, good: true,
			err: `bad query: good_query counts more events than total_query "total" (20000 > 10000): do they select the same series?`},
		{name: "errors below the total", part: 10, total: 1000, want: 990},
		{name: "errors at the tolerance", part: 1001, total: 1000, want: 0},
		{name: "errors past the tolerance", part: 3000, total: 1000,
			err: `bad query: error_query counts more events than total_query "total" (3000 > 1000): do they select the same series?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := GoodEvents(tc.part, tc.total, tc.good, "total")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, ErrBadQuery) {
					t.Fatalf("err %v, want ErrBadQuery %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestReadSLIRefusesAGoodQueryBeyondTheTotal: the error of a reading names
// the provider, the good query and, in its text, the total query.
func TestReadSLIRefusesAGoodQueryBeyondTheTotal(t *testing.T) {
	counts := map[string]float64{"good": 7200, "total": 3600}
	q := Query{SLI: slo.SLI{GoodQuery: "good", TotalQuery: "total"}}
	_, err := ReadSLI(context.Background(), q, Counts{}, Reader{
		Provider: "prom",
		Resolve:  func(s string) (string, error) { return s, nil },
		Count:    func(_ context.Context, rq string) (float64, error) { return counts[rq], nil },
	})
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Provider != "prom" || qe.Query != "good" || !errors.Is(err, ErrBadQuery) ||
		!strings.Contains(err.Error(), `total_query "total" (7200 > 3600)`) {
		t.Fatalf("err %v, want a bad query on the good query naming the total", err)
	}
}
