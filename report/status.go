package report

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// StatusLines describe a watch's state: a header with the time and, per
// SLO, the canary's and baseline's error ratios and how far the evidence
// has gone towards a rollback (100 % rolls back) and towards clearing the
// canary (100 % rules out a breach).
func StatusLines(elapsed, remaining time.Duration, slos []CanarySLO, errText string) []string {
	head := fmt.Sprintf("watching: %s elapsed, %s left", elapsed.Round(time.Second), remaining.Round(time.Second))
	if errText != "" {
		head += " (this read failed: " + firstLine(errText, 100) + ")"
	}
	lines := []string{head}
	for _, s := range slos {
		var b strings.Builder
		fmt.Fprintf(&b, "  %s:", s.Name)
		if s.Kind == "threshold" {
			if s.Value != nil {
				fmt.Fprintf(&b, " %g (good: %s)", *s.Value, s.Threshold)
			} else {
				b.WriteString(" no value")
			}
			if s.Intervals != nil {
				fmt.Fprintf(&b, ", %d bad of %d intervals", s.Intervals.Bad, s.Intervals.Total)
			}
			rollback, _ := progress(s)
			fmt.Fprintf(&b, " | rollback %.0f%%", rollback*100)
		} else {
			fmt.Fprintf(&b, " canary %s", ratioText(s.CanaryRatio, s.Canary))
			if s.Baseline != nil {
				fmt.Fprintf(&b, ", baseline %s", ratioText(s.BaselineRatio, s.Baseline))
			}
			rollback, clear := progress(s)
			fmt.Fprintf(&b, " | rollback %.0f%%, clear %.0f%%", rollback*100, clear*100)
		}
		if s.Decision == Fail {
			b.WriteString(" | BREACH")
		}
		if s.Error != "" {
			b.WriteString(" | read failed: " + firstLine(s.Error, 80))
		}
		lines = append(lines, b.String())
	}
	return lines
}

func ratioText(r *float64, e *Events) string {
	if r == nil || e == nil {
		return "no traffic"
	}
	return fmt.Sprintf("%.3f%% of %s", *r*100, humanCount(e.Total))
}

// progress is how far the evidence is towards each boundary, 0 to 1: the
// test nearest its rollback boundary, and the slowest test's effect
// statistic towards the clearing one.
func progress(s CanarySLO) (rollback, clear float64) {
	if len(s.Tests) == 0 {
		return 0, 0
	}
	for _, t := range s.Tests {
		if t.Reject > 0 {
			rollback = math.Max(rollback, t.Statistic/t.Reject)
		}
	}
	clear = 1
	for _, t := range s.Tests {
		if t.Accept < 0 {
			clear = math.Min(clear, t.EffectStatistic/t.Accept)
		}
	}
	if s.Kind == "threshold" {
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
