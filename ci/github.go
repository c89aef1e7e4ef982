package ci

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sloguard/sloguard/report"
)

// maxAnnotations is how many error (and, separately, warning) annotations
// GitHub shows per step; the rest go to the job summary.
const maxAnnotations = 10

// GitHub speaks GitHub Actions: workflow commands on Out, outputs to
// $GITHUB_OUTPUT, the summary to $GITHUB_STEP_SUMMARY.
type GitHub struct {
	Out    io.Writer
	Getenv func(string) string
	// Masks receives the ::add-mask:: commands, which carry the secrets
	// themselves and so must bypass any redaction of Out; nil means Out.
	Masks io.Writer
}

// Name implements Platform.
func (g *GitHub) Name() string { return "github" }

// Mask implements Platform.
func (g *GitHub) Mask(values []string) {
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(orOut(g.Masks, g.Out), "::add-mask::%s\n", escapeMask(line))
			}
		}
	}
}

// Group implements Platform.
func (g *GitHub) Group(title string) { fmt.Fprintf(g.Out, "::group::%s\n", escapeData(title)) }

// EndGroup implements Platform.
func (g *GitHub) EndGroup() { fmt.Fprintln(g.Out, "::endgroup::") }

// Run implements Platform.
func (g *GitHub) Run() *report.RunInfo {
	ri := &report.RunInfo{Platform: "github", Commit: g.Getenv("GITHUB_SHA")}
	if srv, repo, id := g.Getenv("GITHUB_SERVER_URL"), g.Getenv("GITHUB_REPOSITORY"), g.Getenv("GITHUB_RUN_ID"); srv != "" && repo != "" && id != "" {
		ri.URL = fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimRight(srv, "/"), repo, id)
	}
	return ri
}

// Publish implements Platform.
func (g *GitHub) Publish(d *report.Decision, reportPath string, markdown []byte) error {
	outputs := [][2]string{{"decision", d.Decision}, {"report", reportPath}}
	if low, ok := d.LowestBudget(); ok {
		outputs = append(outputs, [2]string{"budget-remaining", strconv.FormatFloat(low, 'f', 2, 64)})
	} else {
		outputs = append(outputs, [2]string{"budget-remaining", ""})
	}
	if d.Command == "watch" || d.Command == "rollback" {
		outputs = append(outputs, [2]string{"rolled-back", strconv.FormatBool(rolledBack(d))})
	}
	// Every channel is attempted even when one fails: a full disk must
	// not cost the annotations, nor a missing summary the outputs.
	var errs []error
	if path := g.Getenv("GITHUB_OUTPUT"); path != "" {
		if err := appendFile(path, githubOutputs(outputs)); err != nil {
			errs = append(errs, fmt.Errorf("write $GITHUB_OUTPUT: %w", err))
		}
	}
	printDetails(g, g.Out, d)
	var rest bytes.Buffer
	failed := failedActions(d)
	for _, a := range failed {
		fmt.Fprintf(g.Out, "::error title=%s::%s\n", escapeProperty("Rollback action failed"), escapeData(actionLine(a)))
	}
	g.annotate("error", d.Failing(), max(maxAnnotations-len(failed), 0), &rest)
	g.annotate("warning", d.Unsure(), maxAnnotations, &rest)
	if path := g.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		var b bytes.Buffer
		b.Write(markdown)
		if rest.Len() > 0 {
			b.WriteString("\n")
			b.Write(rest.Bytes())
		}
		b.WriteString("\n")
		if err := appendFile(path, b.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("write $GITHUB_STEP_SUMMARY: %w", err))
		}
	}
	return errors.Join(errs...)
}

// annotate prints one ::error or ::warning per SLO, up to n (GitHub shows
// ten of each per step), and lists the rest in markdown for the summary.
func (g *GitHub) annotate(level string, slos []report.SLO, n int, rest *bytes.Buffer) {
	for i, s := range slos {
		if i == n {
			what := map[string]string{"error": "failing", "warning": "inconclusive"}[level]
			fmt.Fprintf(rest, "%d more %s SLO(s), not annotated (GitHub shows %d %ss per step):\n\n", len(slos)-i, what, maxAnnotations, level)
			for _, s := range slos[i:] {
				fmt.Fprintf(rest, "- `%s`: %s\n", s.Name, mdLine(strings.Join(s.Reasons, "; ")))
			}
			rest.WriteString("\n")
			return
		}
		fmt.Fprintf(g.Out, "::%s title=%s::%s\n", level, escapeProperty("SLO "+s.Name), escapeData(strings.Join(s.Reasons, "; ")))
	}
}

// mdLine keeps text on one markdown list line, shown as text.
func mdLine(s string) string {
	return report.EscapeMarkdown(s)
}

// githubOutputs writes name=value lines, and name<<DELIM blocks for values
// with newlines, with a delimiter that cannot occur in the value.
func githubOutputs(kv [][2]string) []byte {
	var b bytes.Buffer
	for _, p := range kv {
		if !strings.ContainsAny(p[1], "\r\n") {
			fmt.Fprintf(&b, "%s=%s\n", p[0], p[1])
			continue
		}
		delim := "ghadelimiter_" + randomHex(8)
		for strings.Contains(p[1], delim) {
			delim = "ghadelimiter_" + randomHex(8)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", p[0], delim, p[1], delim)
	}
	return b.Bytes()
}

// escapeData escapes a command's data and breaks any "##[" in it, which
// the runner's older command syntax would find anywhere in the line.
func escapeData(s string) string {
	return breakHashes(escapeMask(s))
}

// escapeMask escapes a value for ::add-mask:: as is: the runner must see
// the secret unchanged to mask it.
func escapeMask(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return breakHashes(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s))
}

func orOut(w, out io.Writer) io.Writer {
	if w == nil {
		return out
	}
	return w
}

// failedActions lists the rollback actions that failed: a human must act.
func failedActions(d *report.Decision) []report.Action {
	var out []report.Action
	for _, a := range d.Actions {
		if a.Status == "failed" {
			out = append(out, a)
		}
	}
	return out
}

func actionLine(a report.Action) string {
	return fmt.Sprintf("%s %s: %s", a.Type, a.Target, a.Error)
}

func rolledBack(d *report.Decision) bool {
	for _, a := range d.Actions {
		if a.Status == "succeeded" {
			return true
		}
	}
	return false
}
