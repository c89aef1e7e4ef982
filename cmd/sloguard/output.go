package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

var outputFormats = []string{"text", "json", "markdown"}

func checkOutput(format string) error {
	for _, f := range outputFormats {
		if f == format {
			return nil
		}
	}
	return &exitError{Code: exitUsage, Err: fmt.Errorf("--output %q: use text, json or markdown", format)}
}

// output sends a decision everywhere it must go: stdout in the chosen
// format, the JSON record to a file, and the CI platform's channels.
type output struct {
	d          *deps
	format     string
	reportFlag string
	platform   ci.Platform
	path       string // where the record was written, once it was
	// published, when set, gets the decision and its Markdown summary once
	// they are out: the GitHub check run and pull request comment.
	published func(dec *report.Decision, markdown []byte)
}

// newOutput picks the CI platform. Its commands go to stdout, except with
// --output json, where stdout carries the record alone; both runners read
// commands from stderr too.
func newOutput(d *deps, format, reportFlag string) *output {
	cmdOut := d.stdout
	if format == "json" {
		cmdOut = d.stderr
	}
	return &output{d: d, format: format, reportFlag: reportFlag, platform: ci.Detect(d.getenv, cmdOut)}
}

func renderer(format string) report.Renderer {
	return map[string]report.Renderer{"text": report.Text{}, "json": report.JSON{}, "markdown": report.Markdown{}}[format]
}

// emit renders everything into buffers first, writes files, and prints
// stdout once, so that a failure leaves nothing half-written.
func (o *output) emit(dec *report.Decision) error {
	dec.Run = o.platform.Run()
	var record, md, stdout bytes.Buffer
	if err := (report.JSON{}).Render(&record, dec); err != nil {
		return err
	}
	if err := (report.Markdown{}).Render(&md, dec); err != nil {
		return err
	}
	if err := renderer(o.format).Render(&stdout, dec); err != nil {
		return err
	}
	path := o.path
	if path == "" && (o.reportFlag != "" || o.platform.Name() != "local") {
		path = ci.ReportPath(o.reportFlag, o.d.getenv)
	}
	if path != "" {
		if err := ci.WriteFile(path, record.Bytes()); err != nil {
			return &exitError{Code: exitUsage, Err: fmt.Errorf("write report: %w", err)}
		}
	}
	if _, err := io.Copy(o.d.stdout, &stdout); err != nil {
		return err
	}
	err := o.platform.Publish(dec, path, md.Bytes())
	if o.published != nil {
		o.published(dec, md.Bytes())
	}
	return err
}

// rollback runs the rollback actions on a breach. The record is written
// first, so that a command action can read it through SLOGUARD_REPORT, and
// again by emit with the actions' outcomes.
func (o *output) rollback(ctx context.Context, dec *report.Decision, rb slo.Rollback, dryRun bool, gh rollout.GitHubReporter) error {
	if o.path == "" {
		o.path = ci.ReportPath(o.reportFlag, o.d.getenv)
	}
	var record bytes.Buffer
	if err := (report.JSON{}).Render(&record, dec); err != nil {
		return err
	}
	if err := ci.WriteFile(o.path, record.Bytes()); err != nil {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("write report: %w", err)}
	}
	a := &rollout.Actions{Config: rb, DryRun: dryRun, Getenv: o.d.getenv, Out: o.d.stderr, Log: o.d.log, GitHub: gh}
	if rb.GitHub != nil && gh == nil && !dryRun {
		dec.Actions = append(dec.Actions, report.Action{Type: "github", Target: "rollback.github", Status: rollout.Failed, Error: "no GitHub token or repository in the environment"})
	}
	dec.Actions = append(a.Run(ctx, dec, o.path, record.Bytes()), dec.Actions...)
	if len(dec.Actions) == 0 {
		o.d.log.Warn("the canary breached but no rollback action is configured (rollback: command, webhook, github)")
	}
	return nil
}
