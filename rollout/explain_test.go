package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
)

func TestExplainStatesWhatAWatchCannotTell(t *testing.T) {
	for name, tc := range map[string]struct {
		pol       slo.CanaryPolicy
		want      []string
		wantLines int
	}{
		"a split with a live baseline needs no caveat": {
			pol:       policy(true),
			want:      []string{"watch judges the canary: track=canary, against live: track=stable."},
			wantLines: 1,
		},
		"no split, no baseline: only the absolute question": {
			pol:       noSplitPolicy(nil),
			want:      []string{"watch judges the whole service (no split: every query unscoped).", "a regression that stays under the budget", "Add canary.baseline.offset"},
			wantLines: 3,
		},
		"a past baseline does not cancel incidents that start at the deploy": {
			pol: noSplitPolicy(&slo.Scope{Offset: 30 * time.Minute}),
			want: []string{"against the same queries 30m earlier (offset 30m).", "worse than the same series 30m earlier by more than 1.5×",
				"An incident that starts at the deploy for another reason", "a live baseline would suffer it too and cancel it, a past one cannot", "since 30m ago"},
			wantLines: 4,
		},
	} {
		t.Run(name, func(t *testing.T) {
			lines := Explain(tc.pol)
			text := strings.Join(lines, "\n")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("explanation lacks %q:\n%s", w, text)
				}
			}
			if len(lines) != tc.wantLines {
				t.Errorf("%d lines, want %d:\n%s", len(lines), tc.wantLines, text)
			}
		})
	}
}
