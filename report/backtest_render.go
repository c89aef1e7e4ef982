package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// RenderBacktest writes the backtest record exactly, indented,
// newline-terminated, with lists that are never null.
func (JSON) RenderBacktest(w io.Writer, b *Backtest) error {
	c := *b
	c.SLOs = nonNil(b.SLOs)
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	c.Runs = make([]BacktestRun, len(b.Runs))
	for i, r := range b.Runs {
		r.SLOs = nonNil(r.SLOs)
		c.Runs[i] = r
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// RenderBacktest writes the summary and a table of the windows that did
// not pass (the JSON record lists every window).
func (Text) RenderBacktest(w io.Writer, b *Backtest) error {
	var s strings.Builder
	fmt.Fprintf(&s, "sloguard backtest: %s\n", backtestHeadline(b))
	fmt.Fprintf(&s, "%s\n", backtestTally(b, " "))
	fmt.Fprintf(&s, "%s\n", backtestScope(b, func(x string) string { return x }))
	fmt.Fprintf(&s, "no action was run: each window is decided as `sloguard watch --since SINCE` would have decided it\n")
	for _, w := range b.Warnings {
		fmt.Fprintf(&s, "warning: %s\n", oneLine(w))
	}
	listed := append(b.FailedRuns(), b.UnsureRuns()...)
	sortRuns(listed)
	if len(listed) > 0 {
		s.WriteString("\n")
		tw := tabwriter.NewWriter(&s, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SINCE\tDECISION\tAFTER\tWHY")
		for _, r := range listed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Since.UTC().Format(time.RFC3339), r.Decision, r.DecidedAfter, oneLine(r.Reason))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if rest := b.Windows - len(listed); rest > 0 {
		fmt.Fprintf(&s, "\n%d passing window(s) not listed: -o json lists every window\n", rest)
	}
	_, err := io.WriteString(w, s.String())
	return err
}

// maxBacktestRows keeps a job summary well under GitHub's 1 MiB per step.
const maxBacktestRows = 200

// RenderBacktest writes the summary, a chart of the decisions over time
// and a table of the windows that did not pass.
func (Markdown) RenderBacktest(w io.Writer, b *Backtest) error {
	var s strings.Builder
	if b.Error != "" {
		fmt.Fprintf(&s, "### %s sloguard backtest: error\n\nThe backtest did not run: %s\n", icons[Error], escapeMD(b.Error))
		_, err := io.WriteString(w, s.String())
		return err
	}
	icon := icons[Pass]
	if b.Decisions.Fail > 0 {
		icon = icons[Fail]
	}
	fmt.Fprintf(&s, "### %s sloguard backtest: %d of %d windows would have rolled back\n\n", icon, b.Decisions.Fail, b.Windows)
	s.WriteString("| Windows | ❌ Fail (rollback) | ✅ Pass | ⚠️ Inconclusive | Median time to roll back |\n|---|---|---|---|---|\n")
	median := "–"
	if m, ok := b.MedianTimeToFail(); ok {
		median = shortDuration(m)
	}
	fmt.Fprintf(&s, "| %d | %s | %s | %s | %s |\n\n", b.Windows, share(b.Decisions.Fail, b.Windows, " "), share(b.Decisions.Pass, b.Windows, " "), share(b.Decisions.Inconclusive, b.Windows, " "), median)
	scope := backtestScope(b, func(x string) string { return "`" + strings.ReplaceAll(x, "`", "'") + "`" })
	fmt.Fprintf(&s, "%s. C%s. No action was run: each window is decided as `sloguard watch --since SINCE` would have decided it.\n", escapeMD(backtestHeadline(b)), scope[1:])
	for _, w := range b.Warnings {
		fmt.Fprintf(&s, "\n> **Warning:** %s\n", escapeMD(w))
	}
	backtestChart(&s, b)
	listed := append(b.FailedRuns(), b.UnsureRuns()...)
	sortRuns(listed)
	if len(listed) > 0 {
		s.WriteString("\n| Since | Verdict | After | Why |\n|---|---|---|---|\n")
		for i, r := range listed {
			if i == maxBacktestRows {
				fmt.Fprintf(&s, "\n%d more window(s) not shown: the JSON record lists every window.\n", len(listed)-i)
				break
			}
			fmt.Fprintf(&s, "| %s | %s %s | %s | %s |\n", r.Since.UTC().Format(time.RFC3339), icons[r.Decision], r.Decision, r.DecidedAfter, escapeMD(r.Reason))
		}
	}
	if rest := b.Windows - len(listed); rest > 0 {
		fmt.Fprintf(&s, "\n<sub>%d passing window(s) not listed; the JSON record lists every window.</sub>\n", rest)
	}
	_, err := io.WriteString(w, s.String())
	return err
}

func backtestHeadline(b *Backtest) string {
	return fmt.Sprintf("%d windows of %s every %s, read every %s, from %s to %s", b.Windows, b.Duration, b.Every, b.Interval,
		b.From.UTC().Format(time.RFC3339), b.To.UTC().Format(time.RFC3339))
}

func backtestTally(b *Backtest, sep string) string {
	line := fmt.Sprintf("would roll back %s, pass %s, inconclusive %s", share(b.Decisions.Fail, b.Windows, sep), share(b.Decisions.Pass, b.Windows, sep), share(b.Decisions.Inconclusive, b.Windows, sep))
	if m, ok := b.MedianTimeToFail(); ok {
		line += "; median time to roll back " + shortDuration(m)
	}
	return line
}

// backtestScope names the tracks and SLOs; code quotes a value.
func backtestScope(b *Backtest, code func(string) string) string {
	s := "canary " + code(labelList(b.Labels))
	if b.BaselineLabels != nil {
		s += ", baseline " + code(labelList(b.BaselineLabels))
	} else {
		s += ", no baseline"
	}
	names := make([]string, len(b.SLOs))
	for i, n := range b.SLOs {
		names[i] = code(n)
	}
	return s + "; SLOs " + strings.Join(names, ", ")
}

func labelList(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func share(n, of int, sep string) string {
	if of == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f%s%%)", n, 100*float64(n)/float64(of), sep)
}

func sortRuns(rs []BacktestRun) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Since.Before(rs[j].Since) })
}

// backtestChart draws rollbacks (bars) and inconclusive windows (line) per
// bucket of consecutive windows, at most maxPoints buckets, as a Mermaid
// xychart: where in time the rollbacks cluster (an incident?) shows at a
// glance.
func backtestChart(s *strings.Builder, b *Backtest) {
	if len(b.Runs) < 2 {
		return
	}
	runs := append([]BacktestRun(nil), b.Runs...)
	sortRuns(runs)
	per := (len(runs) + maxPoints - 1) / maxPoints
	var xs, fails, unsure []string
	top := 1
	for lo := 0; lo < len(runs); lo += per {
		f, u := 0, 0
		for _, r := range runs[lo:min(lo+per, len(runs))] {
			switch r.Decision {
			case Fail:
				f++
			case Inconclusive:
				u++
			}
		}
		top = max(top, f, u)
		xs = append(xs, fmt.Sprintf("%q", runs[lo].Since.UTC().Format("01-02 15:04")))
		fails = append(fails, fmt.Sprint(f))
		unsure = append(unsure, fmt.Sprint(u))
	}
	unit := "window"
	if per > 1 {
		unit = fmt.Sprintf("%d windows", per)
	}
	fmt.Fprintf(s, "\n```mermaid\nxychart-beta\n    title \"Decisions per %s (UTC start)\"\n", unit)
	fmt.Fprintf(s, "    x-axis [%s]\n    y-axis \"windows\" 0 --> %d\n", strings.Join(xs, ", "), top)
	fmt.Fprintf(s, "    bar [%s]\n    line [%s]\n```\n", strings.Join(fails, ", "), strings.Join(unsure, ", "))
	s.WriteString("<sub>Bars: windows that would have rolled back; line: inconclusive windows.</sub>\n")
}

// shortDuration drops a duration's zero tails: 2m, not 2m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
