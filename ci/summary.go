package ci

import (
	"fmt"
	"strings"
)

// Summarizer is a Platform that can publish what is not a decision (a
// backtest's record): named outputs and a markdown job summary.
type Summarizer interface {
	PublishSummary(outputs [][2]string, reportPath string, markdown []byte) error
}

// PublishSummary sends outputs and a markdown summary to the platform's
// channels; outside CI it does nothing.
func PublishSummary(p Platform, outputs [][2]string, reportPath string, markdown []byte) error {
	if s, ok := p.(Summarizer); ok {
		return s.PublishSummary(outputs, reportPath, markdown)
	}
	return nil
}

// PublishSummary implements Summarizer: step outputs (names as given,
// plus report) to $GITHUB_OUTPUT, the markdown to $GITHUB_STEP_SUMMARY.
func (g *GitHub) PublishSummary(outputs [][2]string, reportPath string, markdown []byte) error {
	outputs = append(outputs, [2]string{"report", reportPath})
	if path := g.Getenv("GITHUB_OUTPUT"); path != "" {
		if err := appendFile(path, githubOutputs(outputs)); err != nil {
			return fmt.Errorf("write $GITHUB_OUTPUT: %w", err)
		}
	}
	if path := g.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, append(append([]byte(nil), markdown...), '\n')); err != nil {
			return fmt.Errorf("write $GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}

// PublishSummary implements Summarizer: output variables (names in
// camelCase, as the task's others), and the markdown written beside the
// record and uploaded as the build summary.
func (a *Azure) PublishSummary(outputs [][2]string, reportPath string, markdown []byte) error {
	for _, kv := range outputs {
		a.setOutput(camel(kv[0]), kv[1])
	}
	a.setOutput("report", reportPath)
	return a.uploadSummary(reportPath, markdown)
}

// camel turns "false-rollbacks" into "falseRollbacks".
func camel(s string) string {
	parts := strings.Split(s, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
