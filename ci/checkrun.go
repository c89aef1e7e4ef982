package ci

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/report"
)

// GitHub's limits on a check run (REST API, "Create a check run").
const (
	maxCheckAnnotations = 50    // per request; more go in further updates
	maxCheckText        = 65535 // characters of output.summary and output.text
	maxCheckTitle       = 255
)

// CheckRun is a check run as sloguard reports it: a verdict on a commit,
// which a ruleset can require.
type CheckRun struct {
	Name        string
	HeadSHA     string
	Status      string // in_progress or completed
	Conclusion  string // with completed: success, neutral, failure, action_required
	StartedAt   time.Time
	CompletedAt time.Time
	Title       string
	Summary     string // Markdown
	Annotations []Annotation
}

// Annotation points at a line of a file of the repository.
type Annotation struct {
	Path    string // relative to the repository's root, with /
	Line    int
	Level   string // notice, warning or failure
	Title   string
	Message string
}

// Conclusion is the check run's conclusion for a decision: a failed
// rollback action or a breach fail it, inconclusive asks a human
// (action_required blocks a required check, as exit 3 fails the step), an
// override passes as neutral (it satisfies a required check, and shows
// that it was not a plain pass).
func Conclusion(d *report.Decision) string {
	if len(failedActions(d)) > 0 {
		return "failure"
	}
	switch d.Decision {
	case report.Pass:
		return "success"
	case report.Overridden:
		return "neutral"
	case report.Fail:
		return "failure"
	}
	return "action_required"
}

// Locate finds where an SLO is defined: the config file relative to the
// repository root, and the line. ok is false when it is not in the
// repository (an annotation needs both).
type Locate func(slo string) (path string, line int, ok bool)

// VerdictCheckRun is the completed check run for a decision: its verdict
// as the conclusion and title, the Markdown summary as the output, and an
// annotation on the config line of each failing (failure) or inconclusive
// (warning) SLO.
func VerdictCheckRun(name, headSHA string, d *report.Decision, markdown []byte, locate Locate) CheckRun {
	cr := CheckRun{
		Name: name, HeadSHA: headSHA, Status: "completed", Conclusion: Conclusion(d),
		StartedAt: d.StartedAt, CompletedAt: d.FinishedAt,
		Title:   d.Decision + ": " + oneLine(d.Reason),
		Summary: string(markdown),
	}
	if n := len(failedActions(d)); n > 0 {
		cr.Title = fmt.Sprintf("%d rollback action(s) failed: a human must act now", n)
	}
	add := func(level string, slos []report.SLO) {
		for _, s := range slos {
			path, line, ok := locate(s.Name)
			if !ok {
				continue
			}
			cr.Annotations = append(cr.Annotations, Annotation{
				Path: path, Line: max(line, 1), Level: level,
				Title: "SLO " + s.Name + ": " + s.Decision, Message: strings.Join(s.Reasons, "\n"),
			})
		}
	}
	add("failure", d.Failing())
	add("warning", d.Unsure())
	return cr
}

// CreateCheckRun creates the check run on the commit and returns its ID.
// Annotations past the first 50 are added by further updates, 50 at a
// time, as GitHub asks.
func (g *GitHubAPI) CreateCheckRun(ctx context.Context, cr CheckRun) (int64, error) {
	first, rest := splitAnnotations(cr.Annotations)
	opts := github.CreateCheckRunOptions{
		Name: truncate(cr.Name, maxCheckTitle), HeadSHA: cr.HeadSHA, Status: github.String(cr.Status),
		Output: checkOutput(cr, first),
	}
	if g.runURL != "" {
		opts.DetailsURL = github.String(g.runURL)
	}
	if cr.Conclusion != "" && cr.Status == "completed" {
		opts.Conclusion = github.String(cr.Conclusion)
	}
	if !cr.StartedAt.IsZero() {
		opts.StartedAt = &github.Timestamp{Time: cr.StartedAt}
	}
	if !cr.CompletedAt.IsZero() && cr.Status == "completed" {
		opts.CompletedAt = &github.Timestamp{Time: cr.CompletedAt}
	}
	run, _, err := g.client.Checks.CreateCheckRun(ctx, g.owner, g.repo, opts)
	if err != nil {
		return 0, g.checkError(err, fmt.Sprintf("create check run %q", cr.Name))
	}
	return run.GetID(), g.moreAnnotations(ctx, run.GetID(), cr, rest)
}

// CompleteCheckRun completes a check run created in_progress.
func (g *GitHubAPI) CompleteCheckRun(ctx context.Context, id int64, cr CheckRun) error {
	first, rest := splitAnnotations(cr.Annotations)
	opts := github.UpdateCheckRunOptions{
		Name: truncate(cr.Name, maxCheckTitle), Status: github.String("completed"),
		Conclusion: github.String(cr.Conclusion), Output: checkOutput(cr, first),
	}
	if !cr.CompletedAt.IsZero() {
		opts.CompletedAt = &github.Timestamp{Time: cr.CompletedAt}
	}
	if _, _, err := g.client.Checks.UpdateCheckRun(ctx, g.owner, g.repo, id, opts); err != nil {
		return g.checkError(err, fmt.Sprintf("complete check run %q", cr.Name))
	}
	return g.moreAnnotations(ctx, id, cr, rest)
}

func (g *GitHubAPI) moreAnnotations(ctx context.Context, id int64, cr CheckRun, rest []Annotation) error {
	for len(rest) > 0 {
		var batch []Annotation
		batch, rest = splitAnnotations(rest)
		opts := github.UpdateCheckRunOptions{Name: truncate(cr.Name, maxCheckTitle), Output: checkOutput(cr, batch)}
		if _, _, err := g.client.Checks.UpdateCheckRun(ctx, g.owner, g.repo, id, opts); err != nil {
			return g.checkError(err, fmt.Sprintf("annotate check run %q", cr.Name))
		}
	}
	return nil
}

func (g *GitHubAPI) checkError(err error, op string) error {
	if pe := permissionError(err, op, "checks: write"); pe != nil {
		return pe
	}
	return fmt.Errorf("%s: %w", op, explain(err))
}

func splitAnnotations(a []Annotation) (first, rest []Annotation) {
	if len(a) <= maxCheckAnnotations {
		return a, nil
	}
	return a[:maxCheckAnnotations], a[maxCheckAnnotations:]
}

func checkOutput(cr CheckRun, annotations []Annotation) *github.CheckRunOutput {
	out := &github.CheckRunOutput{
		Title:   github.String(truncate(cr.Title, maxCheckTitle)),
		Summary: github.String(truncateMarkdown(cr.Summary, maxCheckText)),
	}
	for _, a := range annotations {
		out.Annotations = append(out.Annotations, &github.CheckRunAnnotation{
			Path: github.String(a.Path), StartLine: github.Int(a.Line), EndLine: github.Int(a.Line),
			AnnotationLevel: github.String(a.Level), Title: github.String(truncate(a.Title, maxCheckTitle)),
			Message: github.String(truncate(a.Message, maxCheckText)),
		})
	}
	return out
}

// truncateMarkdown cuts s to n characters at a line break, and says where
// the rest is.
func truncateMarkdown(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	const note = "\n\n… cut to GitHub's size limit: the whole summary is in the run's job summary and the JSON record.\n"
	cut := string(r[:n-len([]rune(note))])
	if i := strings.LastIndex(cut, "\n"); i > 0 {
		cut = cut[:i]
	}
	return cut + note
}
