package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// StatusLine is one line on a watch's state: time, and per SLO the
// canary's and baseline's error ratios and how far the evidence has gone
// towards a rollback (100 % rolls back) and towards clearing the canary
// (100 % rules out a breach).
func StatusLine(elapsed, remaining time.Duration, slos []CanarySLO, errText string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s elapsed, %s left]", elapsed.Round(time.Second), remaining.Round(time.Second))
	for _, s := range slos {
		fmt.Fprintf(&b, " %s:", s.Name)
		if s.Kind == "threshold" {
			if s.Value != nil {
				fmt.Fprintf(&b, " %g (%s)", *s.Value, s.Threshold)
			} else {
				b.WriteString(" no value")
			}
			if s.BadIntervals > 0 {
				fmt.Fprintf(&b, " bad ×%d", s.BadIntervals)
			}
			continue
		}
		fmt.Fprintf(&b, " canary %s", ratioText(s.CanaryRatio, s.Canary))
		if s.Baseline != nil {
			fmt.Fprintf(&b, " base %s", ratioText(s.BaselineRatio, s.Baseline))
		}
		rollback, clear := progress(s.Tests)
		fmt.Fprintf(&b, " rollback %3.0f%% clear %3.0f%%", rollback*100, clear*100)
		if s.Decision == Fail {
			b.WriteString(" BREACH")
		}
	}
	if errText != "" {
		fmt.Fprintf(&b, " (read failed: %s)", firstLine(errText, 80))
	}
	return b.String()
}

func ratioText(r *float64, e *Events) string {
	if r == nil || e == nil {
		return "no traffic"
	}
	return fmt.Sprintf("%.3f%% of %s", *r*100, humanCount(e.Total))
}

// progress is how far the evidence is towards each boundary, 0 to 1.
func progress(tests []Test) (rollback, clear float64) {
	clear = 1
	for _, t := range tests {
		if t.Reject > 0 {
			rollback = math.Max(rollback, t.Statistic/t.Reject)
		}
		if t.Accept < 0 {
			clear = math.Min(clear, t.EffectStatistic/t.Accept)
		}
	}
	if len(tests) == 0 {
		clear = 0
	}
	return clamp01(rollback), clamp01(clear)
}

func clamp01(v float64) float64 { return math.Min(math.Max(v, 0), 1) }

func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
