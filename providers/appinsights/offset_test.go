package appinsights

import (
	"slices"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
)

// TestAnOffsetShiftsTheTimespan: a baseline from the past is the same KQL
// over a timespan of the same length, that much earlier; with labels, the
// same filter as a live baseline.
func TestAnOffsetShiftsTheTimespan(t *testing.T) {
	for name, tc := range map[string]struct {
		scope        providers.Scope
		wantTimespan string
		wantQueries  []string
	}{
		"no split: the whole service half an hour before": {
			scope:        providers.Scope{Name: providers.ScopeBaseline, Offset: 30 * time.Minute},
			wantTimespan: "2026-11-23T16:20:00Z/2026-11-23T16:30:00Z",
			wantQueries:  []string{failedQ, allQ},
		},
		"a role a week before": {
			scope:        providers.Scope{Name: providers.ScopeBaseline, Labels: map[string]string{"cloud_RoleName": "checkout"}, Offset: 7 * 24 * time.Hour},
			wantTimespan: "2026-11-16T16:50:00Z/2026-11-16T17:00:00Z",
			wantQueries: []string{
				`requests | where cloud_RoleName == "checkout" | where success == false | summarize sum(itemCount)`,
				`requests | where cloud_RoleName == "checkout" | summarize sum(itemCount)`,
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, counts("6000", "6"))
			p := newTestProvider(t, appConfig(srv.URL), &fakeCredential{token: "tok"})
			c, err := p.Counts(t.Context(), providers.Query{SLO: "checkout", SLI: eventsSLI(), Scope: tc.scope, Window: 10 * time.Minute}, at)
			if err != nil {
				t.Fatalf("Counts: %v", err)
			}
			if c.Good != 5994 || c.Total != 6000 {
				t.Errorf("counts %v of %v, want 5994 of 6000", c.Good, c.Total)
			}
			if want := at.Add(-tc.scope.Offset); !c.End.Equal(want) || !c.Start.Equal(want.Add(-10*time.Minute)) {
				t.Errorf("the reading covers (%s, %s], want the 10m ending %s", c.Start, c.End, want)
			}
			var got []string
			for _, r := range srv.requests() {
				got = append(got, r.body.Query)
				if r.body.Timespan != tc.wantTimespan {
					t.Errorf("timespan %q, want %q", r.body.Timespan, tc.wantTimespan)
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.wantQueries))
			if !slices.Equal(got, want) || !slices.Equal(c.Resolved, tc.wantQueries) {
				t.Errorf("queries sent %q, resolved %q; want %q", got, c.Resolved, tc.wantQueries)
			}
		})
	}
}
