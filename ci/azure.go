package ci

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sloguard/sloguard/report"
)

// Azure speaks Azure Pipelines logging commands on Out.
type Azure struct {
	Out    io.Writer
	Getenv func(string) string
	// Masks receives the ##vso[task.setsecret] commands, which carry the
	// secrets themselves and so must bypass any redaction of Out; nil
	// means Out.
	Masks io.Writer
}

// Name implements Platform.
func (a *Azure) Name() string { return "azure" }

// Mask implements Platform.
func (a *Azure) Mask(values []string) {
	// The agent masks log lines one at a time: a multi-line secret is
	// registered line by line, or no line would ever match it.
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(orOut(a.Masks, a.Out), "##vso[task.setsecret]%s\n", escapeAzureMask(line))
			}
		}
	}
}

// Group implements Platform.
func (a *Azure) Group(title string) { fmt.Fprintf(a.Out, "##[group]%s\n", escapeAzureData(title)) }

// EndGroup implements Platform.
func (a *Azure) EndGroup() { fmt.Fprintln(a.Out, "##[endgroup]") }

// Run implements Platform.
func (a *Azure) Run() *report.RunInfo {
	ri := &report.RunInfo{Platform: "azure", Commit: a.Getenv("BUILD_SOURCEVERSION")}
	if coll, proj, id := a.Getenv("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"), a.Getenv("SYSTEM_TEAMPROJECT"), a.Getenv("BUILD_BUILDID"); coll != "" && proj != "" && id != "" {
		ri.URL = fmt.Sprintf("%s%s/_build/results?buildId=%s", ensureSlash(coll), proj, id)
	}
	return ri
}

// Publish implements Platform. The markdown summary is written next to the
// JSON record and uploaded by absolute path.
func (a *Azure) Publish(d *report.Decision, reportPath string, markdown []byte) error {
	low, ok := d.LowestBudget()
	budget := ""
	if ok {
		budget = strconv.FormatFloat(low, 'f', 2, 64)
	}
	a.setOutput("decision", d.Decision)
	a.setOutput("budgetRemaining", budget)
	a.setOutput("report", reportPath)
	if d.Command == "watch" || d.Command == "rollback" {
		a.setOutput("rolledBack", strconv.FormatBool(rolledBack(d)))
	}
	printDetails(a, a.Out, d)
	failed := failedActions(d)
	for _, act := range failed {
		fmt.Fprintf(a.Out, "##vso[task.logissue type=error]%s\n", escapeAzureData("rollback action failed: "+actionLine(act)))
	}
	for _, s := range d.Failing() {
		fmt.Fprintf(a.Out, "##vso[task.logissue type=error]%s\n", escapeAzureData("SLO "+s.Name+": "+strings.Join(s.Reasons, "; ")))
	}
	for _, s := range d.Unsure() {
		fmt.Fprintf(a.Out, "##vso[task.logissue type=warning]%s\n", escapeAzureData("SLO "+s.Name+": "+strings.Join(s.Reasons, "; ")))
	}
	// The result below is set even when the summary cannot be written.
	err := a.uploadSummary(reportPath, markdown)
	switch {
	case len(failed) > 0:
		fmt.Fprintf(a.Out, "##vso[task.complete result=Failed;]%s\n", escapeAzureData(fmt.Sprintf("%d rollback action(s) failed: a human must act now. %s", len(failed), d.Reason)))
	case d.Decision == report.Error:
		fmt.Fprintf(a.Out, "##vso[task.complete result=Failed;]%s\n", escapeAzureData(d.Reason))
	case d.Command == "rollback":
		// every action succeeded: the task did what it was asked
	case d.Decision == report.Fail:
		fmt.Fprintf(a.Out, "##vso[task.complete result=Failed;]%s\n", escapeAzureData(d.Reason))
	case d.Decision == report.Inconclusive, d.Decision == report.Overridden:
		fmt.Fprintf(a.Out, "##vso[task.complete result=SucceededWithIssues;]%s\n", escapeAzureData(d.Reason))
	}
	return err
}

// uploadSummary writes the markdown beside the record and uploads it by
// absolute path.
func (a *Azure) uploadSummary(reportPath string, markdown []byte) error {
	if reportPath == "" {
		reportPath = ReportPath("", a.Getenv)
	}
	abs, err := filepath.Abs(strings.TrimSuffix(reportPath, ".json") + ".md")
	if err != nil {
		return err
	}
	if err := WriteFile(abs, markdown); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	fmt.Fprintf(a.Out, "##vso[task.uploadsummary]%s\n", escapeAzureData(abs))
	return nil
}

func (a *Azure) setOutput(name, value string) {
	fmt.Fprintf(a.Out, "##vso[task.setvariable variable=%s;isoutput=true]%s\n", escapeAzureProperty(name), escapeAzureData(value))
}

// escapeAzureData escapes a logging command's data and breaks any
// "##vso[" or "##[" in it, which the agent would find anywhere in a line.
func escapeAzureData(s string) string {
	return breakHashes(escapeAzureMask(s))
}

// escapeAzureMask escapes a value for task.setsecret as is.
func escapeAzureMask(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeAzureProperty(s string) string {
	return breakHashes(strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", "]", "%5D", ";", "%3B").Replace(s))
}

func ensureSlash(s string) string {
	if strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}
