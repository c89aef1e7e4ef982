package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// VerdictOptions are the flags of the GitHub check run and pull request
// comment that carry a check's or a watch's verdict.
type VerdictOptions struct {
	CheckRun    bool
	CheckName   string
	Comment     bool
	SLOs        []string // --slo: part of the check run's name
	RunAsked    bool     // --check-run was given: say so when it cannot be done
	CommentSet  bool
	CommandName string
}

// checkName is the check run's name: the command, and the SLO set when
// --slo narrows it, so that each gate of a workflow is its own check.
func (o VerdictOptions) checkName() string {
	if o.CheckName != "" {
		return o.CheckName
	}
	name := "sloguard " + o.CommandName
	if len(o.SLOs) > 0 {
		name += " (" + strings.Join(o.SLOs, ", ") + ")"
	}
	return name
}

// verdict publishes a decision to GitHub as a check run and a pull request
// comment. Outside GitHub Actions, or when neither was asked for, it does
// nothing; an integration that cannot act (no token, a missing
// permission) warns once and never changes the exit code.
type verdict struct {
	d      *App
	opts   VerdictOptions
	api    *ci.GitHubAPI
	event  ci.Event
	locate ci.Locate
	runID  int64 // the check run created in_progress by start
	off    bool  // the check run cannot be created: do not try again
}

func newVerdict(d *App, p ci.Platform, opts VerdictOptions, cfg *slo.Config) *verdict {
	v := &verdict{d: d, opts: opts}
	if p.Name() != "github" || (!opts.CheckRun && !opts.Comment) {
		return v
	}
	v.event = ci.ReadEvent(d.getenv)
	v.locate = sloLocator(cfg, d.getenv)
	api, err := ci.NewGitHubAPI(d.getenv("GITHUB_TOKEN"), d.getenv, d.log)
	switch {
	case errors.Is(err, ci.ErrNoToken) && !opts.RunAsked && !opts.CommentSet:
		return v // asked for by no one: nothing to say
	case err != nil:
		v.warn("cannot publish the verdict to GitHub (check run, comment): %v", err)
		return v
	}
	v.api = api
	return v
}

func (v *verdict) warn(format string, args ...any) {
	ci.Warn(v.d.getenv, v.d.cmdErr, "sloguard", strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// start creates the check run in_progress (watch), so that a required
// check shows the watch going on.
func (v *verdict) start(ctx context.Context) {
	if v.api == nil || !v.opts.CheckRun {
		return
	}
	cr := ci.CheckRun{Name: v.opts.checkName(), HeadSHA: v.event.HeadSHA, Status: "in_progress", StartedAt: v.d.now().UTC(),
		Title: "watching the canary", Summary: "sloguard is watching the canary: the verdict follows when the watch ends."}
	id, err := v.api.CreateCheckRun(ctx, cr)
	if err != nil {
		v.off = true
		v.checkRunWarn(err)
		return
	}
	v.runID = id
}

// finish publishes the decision: the check run (completed) and the
// comment. markdown is the decision's summary, as written to the job
// summary.
func (v *verdict) finish(ctx context.Context, dec *report.Decision, markdown []byte) {
	if v.api == nil {
		return
	}
	if v.opts.CheckRun && !v.off {
		cr := ci.VerdictCheckRun(v.opts.checkName(), v.event.HeadSHA, dec, markdown, v.locate)
		var err error
		if v.runID != 0 {
			err = v.api.CompleteCheckRun(ctx, v.runID, cr)
			v.runID = 0
		} else {
			_, err = v.api.CreateCheckRun(ctx, cr)
		}
		if err != nil {
			v.checkRunWarn(err)
		}
	}
	if v.opts.Comment {
		v.comment(ctx, markdown)
	}
}

// checkRunWarn says a check run could not be made, and how to stop asking
// when the permission is missing on purpose.
func (v *verdict) checkRunWarn(err error) {
	var pe *ci.PermissionError
	if errors.As(err, &pe) {
		v.warn("%v; or set the input check-run: false (--check-run=false)", err)
		return
	}
	v.warn("%v", err)
}

// errNoVerdict completes a check run that a watch left in progress.
var errNoVerdict = errors.New("the watch ended without a verdict: see the run's log")

// abort completes a check run left in_progress when the watch ends in an
// error, so that a required check never waits forever. Once the check run
// is completed it does nothing.
func (v *verdict) abort(ctx context.Context, cause error) {
	if v.api == nil || v.runID == 0 {
		return
	}
	defer func() { v.runID = 0 }()
	msg := v.d.redact.String(cause.Error()) // it leaves for GitHub: the one redaction layer
	cr := ci.CheckRun{Name: v.opts.checkName(), Status: "completed", Conclusion: "failure", CompletedAt: v.d.now().UTC(),
		Title: "error: " + truncateLine(msg, 200), Summary: "sloguard stopped without a verdict:\n\n```\n" + msg + "\n```\n"}
	if err := v.api.CompleteCheckRun(ctx, v.runID, cr); err != nil {
		v.warn("%v", err)
	}
}

func (v *verdict) comment(ctx context.Context, markdown []byte) {
	switch {
	case v.event.EventErr != nil:
		v.warn("cannot comment on the pull request: %v", v.event.EventErr)
		return
	case v.event.PR == 0:
		if v.opts.CommentSet {
			v.d.log.Info("comment: not a pull_request event, no comment", "event", v.event.Name)
		}
		return
	}
	url, err := v.api.UpsertComment(ctx, v.event.PR, ci.CommentMarker(v.opts.checkName()), string(markdown))
	if err != nil {
		v.warn("%v", err)
		return
	}
	v.d.log.Info("verdict commented on the pull request", "url", url)
}

// sloLocator finds each SLO's line in the config file, for annotations:
// the line of its name (slos[].name in sloguard and Sloth files, an
// OpenSLO SLO document's metadata.name). An SLO whose name is not in the
// file points at the first line.
func sloLocator(cfg *slo.Config, getenv func(string) string) ci.Locate {
	path := ci.RepoPath(cfg.Source, getenv)
	lines := map[string]int{}
	if data, err := os.ReadFile(cfg.Source); err == nil {
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var doc yaml.Node
			if dec.Decode(&doc) != nil {
				break
			}
			sloNameLines(&doc, lines)
		}
	}
	return func(name string) (string, int, bool) {
		if path == "" {
			return "", 0, false
		}
		if l, ok := lines[name]; ok {
			return path, l, true
		}
		return path, 1, true
	}
}

// sloNameLines records the line of each SLO's name in a YAML document.
func sloNameLines(doc *yaml.Node, lines map[string]int) {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	top := mapping(doc.Content[0])
	if s := top["slos"]; s != nil && s.Kind == yaml.SequenceNode {
		for _, item := range s.Content {
			recordName(mapping(item), lines)
		}
	}
	if kind := top["kind"]; kind != nil && kind.Value == "SLO" {
		recordName(mapping(top["metadata"]), lines)
	}
}

func mapping(n *yaml.Node) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i+1]
	}
	return m
}

func recordName(m map[string]*yaml.Node, lines map[string]int) {
	if v := m["name"]; v != nil && v.Kind == yaml.ScalarNode {
		if _, seen := lines[v.Value]; !seen {
			lines[v.Value] = v.Line
		}
	}
}

func truncateLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
