package app

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/rollout"
)

func TestDemoTellsTheWholeStory(t *testing.T) {
	tests := map[string]struct {
		fault   float64
		noSplit bool
		want    []string
	}{
		"a tenfold fault is caught and rolled back in a dry run": {fault: 10, want: []string{
			"sloguard check: PASS", "sloguard watch: FAIL", "would run command kubectl rollout undo deployment/checkout", "sloguard watch would exit 1",
		}},
		"a healthy canary passes after the full minute": {fault: 1, want: []string{
			"sloguard check: PASS", "sloguard watch: PASS", "watched 1m of 1m", "sloguard watch would exit 0",
		}},
		"without a split a threefold fault is caught against the minute before, and the limits are told": {fault: 3, noSplit: true, want: []string{
			"sloguard check: PASS", "canary.canary left out, canary.baseline: {offset: 1m}", "sloguard watch: FAIL",
			"judged: the whole service (no split: every query unscoped); baseline: the same queries 1m earlier (offset 1m)",
			"the release breached: checkout-latency: the service's error ratio after the deploy", "the 0.150% of the same queries 1m earlier", "sloguard watch would exit 1",
			"An incident that starts at the deploy for another reason", "a live baseline would suffer it too and cancel it, a past one cannot",
		}},
		"without a split a clean release passes": {fault: 1, noSplit: true, want: []string{
			"sloguard watch: PASS", "watched 1m of 1m", "sloguard watch would exit 0",
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			d := New(&out, io.Discard, func(string) string { return "" }, time.Now)
			err := Demo(t.Context(), d, DemoOptions{Fault: tc.fault, Seed: 1, NoSplit: tc.noSplit}, rollout.NewJumpClock(time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)))
			d.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("demo output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// The README quotes the demo's decision time: a seeded story must tell it
// the same whatever fraction of a second the demo starts at.
func TestDemoDecidesAtTheSameTimeWhateverTheStartingInstant(t *testing.T) {
	for _, frac := range []time.Duration{0, 300 * time.Millisecond, 999 * time.Millisecond} {
		var out bytes.Buffer
		d := New(&out, io.Discard, func(string) string { return "" }, time.Now)
		start := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC).Add(frac)
		err := Demo(t.Context(), d, DemoOptions{Fault: 10, Seed: 1}, rollout.NewJumpClock(start))
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "watched 34s of 1m, every 2s; decided at 34s"; !strings.Contains(out.String(), want) {
			t.Errorf("started %s after the second: output lacks %q:\n%s", frac, want, out.String())
		}
	}
}
