package report

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
)

// watchText is the table of a watch: per SLO the canary's and baseline's
// error ratios against the allowed one, and how far the evidence went.
func watchText(b *strings.Builder, d *Decision) error {
	c := d.Canary
	fmt.Fprintf(b, "watched %s of %s, every %s", c.Elapsed, c.Duration, c.Interval)
	if c.DecidedAt != nil {
		fmt.Fprintf(b, "; decided at %s", c.DecidedAt.Sub(c.Since))
	}
	if line := scopeLine(c); line != "" {
		b.WriteString("\n" + oneLine(line))
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tCANARY\tBASELINE\tALLOWED\tROLLBACK\tCLEAR\tVERDICT\tWHY")
	for _, s := range c.SLOs {
		canary, base, allowed := canaryFigures(s)
		rollback, clear := progress(s)
		rb, cl := fmt.Sprintf("%.0f%%", rollback*100), fmt.Sprintf("%.0f%%", clear*100)
		if s.Kind == "threshold" {
			rb, cl = thresholdProgress(s, rollback, "%"), "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(s.Name), canary, base, allowed, rb, cl, s.Decision, oneLine(s.Reason))
	}
	return tw.Flush()
}

// thresholdProgress shows a threshold SLI's bad intervals and how far its
// evidence went; records without interval counts show the run of bad ones.
func thresholdProgress(s CanarySLO, rollback float64, pct string) string {
	if s.Intervals == nil {
		return fmt.Sprintf("%d bad in a row", s.BadIntervals)
	}
	return fmt.Sprintf("%.0f%s (%d of %d bad)", rollback*100, pct, s.Intervals.Bad, s.Intervals.Total)
}

// scopeLine says what was judged and against what, when the record says.
func scopeLine(c *Canary) string {
	line := ""
	if c.Judged != "" {
		line = "judged: " + c.Judged
	}
	if c.BaselineDescription != "" {
		if line != "" {
			line += "; "
		}
		line += "baseline: " + c.BaselineDescription
	}
	return line
}

// canaryFigures formats one SLO's canary, baseline and allowed values.
func canaryFigures(s CanarySLO) (canary, base, allowed string) {
	if s.Kind == "threshold" {
		return value(s.Value), value(s.BaselineValue), s.Threshold
	}
	base = "-"
	if s.Baseline != nil {
		base = ratioText(s.BaselineRatio, s.Baseline)
	}
	allowed = "-" // a record without the figure
	if s.AllowedRatio > 0 {
		allowed = fmt.Sprintf("≤ %.3f%%", s.AllowedRatio*100)
	}
	return ratioText(s.CanaryRatio, s.Canary), base, allowed
}

func value(v *float64) string {
	if v == nil {
		return "no value"
	}
	return fmt.Sprintf("%g", *v)
}

func actionsText(b *strings.Builder, acts []Action) {
	if len(acts) == 0 {
		return
	}
	b.WriteString("\nrollback actions:\n")
	for _, a := range acts {
		fmt.Fprintf(b, "  %-8s %-9s %s", a.Type, a.Status, oneLine(a.Target))
		if a.Attempts > 1 {
			fmt.Fprintf(b, " (%d attempts)", a.Attempts)
		}
		if a.Error != "" {
			fmt.Fprintf(b, ": %s", oneLine(a.Error))
		}
		b.WriteString("\n")
	}
}

func watchMarkdown(b *strings.Builder, d *Decision) {
	c := d.Canary
	fmt.Fprintf(b, "Watched %s of %s, every %s", c.Elapsed, c.Duration, c.Interval)
	if c.DecidedAt != nil {
		fmt.Fprintf(b, "; decided at %s", c.DecidedAt.Sub(c.Since))
	}
	b.WriteString(".\n\n")
	if line := scopeLine(c); line != "" {
		b.WriteString(EscapeMarkdown(line) + ".\n\n")
	}
	b.WriteString("| SLO | Canary | Baseline | Allowed | Evidence to roll back | Evidence to clear | Verdict | Why |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, s := range c.SLOs {
		canary, base, allowed := canaryFigures(s)
		rollback, clear := progress(s)
		rb, cl := fmt.Sprintf("%.0f %%", rollback*100), fmt.Sprintf("%.0f %%", clear*100)
		if s.Kind == "threshold" {
			rb, cl = thresholdProgress(s, rollback, " %"), "–"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s %s | %s |\n", s.Name, EscapeMarkdown(canary), EscapeMarkdown(base), EscapeMarkdown(allowed), rb, cl, icons[s.Decision], s.Decision, EscapeMarkdown(s.Reason))
	}
	for _, s := range c.SLOs {
		if s.Kind == "events" {
			chart(b, s, c.Timeline)
		}
	}
}

// maxPoints keeps charts readable and summaries small.
const maxPoints = 60

// chart draws the canary's and baseline's cumulative error ratio against
// the allowed one, per interval, as a Mermaid xychart.
func chart(b *strings.Builder, s CanarySLO, timeline []Tick) {
	step := max(1, (len(timeline)+maxPoints-1)/maxPoints)
	var xs, canary, base, allowed []string
	top := s.AllowedRatio * 100
	hasBase := false
	for i := 0; i < len(timeline); i += step {
		t := timeline[i]
		ts, ok := t.SLOs[s.Name]
		if !ok {
			continue
		}
		xs = append(xs, fmt.Sprintf("%q", t.Elapsed))
		c, bl := pctPoint(ts.CanaryRatio), pctPoint(ts.BaselineRatio)
		top = math.Max(top, math.Max(c, bl))
		canary = append(canary, fmt.Sprintf("%.4g", c))
		base = append(base, fmt.Sprintf("%.4g", bl))
		allowed = append(allowed, fmt.Sprintf("%.4g", s.AllowedRatio*100))
		hasBase = hasBase || ts.BaselineRatio != nil
	}
	if len(xs) < 2 {
		return
	}
	fmt.Fprintf(b, "\n```mermaid\nxychart-beta\n    title \"%s: error ratio (%%) since the start\"\n", strings.ReplaceAll(s.Name, `"`, "'"))
	fmt.Fprintf(b, "    x-axis [%s]\n    y-axis \"error ratio (%%)\" 0 --> %.4g\n", strings.Join(xs, ", "), top*1.2)
	fmt.Fprintf(b, "    line [%s]\n", strings.Join(canary, ", "))
	legend := "first line: canary"
	if hasBase {
		fmt.Fprintf(b, "    line [%s]\n", strings.Join(base, ", "))
		legend += ", second: baseline"
	}
	fmt.Fprintf(b, "    line [%s]\n```\n", strings.Join(allowed, ", "))
	fmt.Fprintf(b, "<sub>%s, last: the ratio the SLO allows.</sub>\n", legend)
}

func pctPoint(r *float64) float64 {
	if r == nil {
		return 0
	}
	return *r * 100
}

func actionsMarkdown(b *strings.Builder, acts []Action) {
	if len(acts) == 0 {
		return
	}
	b.WriteString("\n**Rollback actions**\n\n| Action | Target | Status | Attempts | Error |\n|---|---|---|---|---|\n")
	for _, a := range acts {
		icon := map[string]string{"succeeded": "✅", "failed": "❌", "dry-run": "📝"}[a.Status]
		fmt.Fprintf(b, "| %s | %s | %s %s | %d | %s |\n", a.Type, EscapeMarkdown(a.Target), icon, a.Status, a.Attempts, EscapeMarkdown(a.Error))
	}
}
