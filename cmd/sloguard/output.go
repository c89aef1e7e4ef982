package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
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
	path := ""
	if o.reportFlag != "" || o.platform.Name() != "local" {
		path = ci.ReportPath(o.reportFlag, o.d.getenv)
		if err := ci.WriteFile(path, record.Bytes()); err != nil {
			return &exitError{Code: exitUsage, Err: fmt.Errorf("write report: %w", err)}
		}
	}
	if _, err := io.Copy(o.d.stdout, &stdout); err != nil {
		return err
	}
	return o.platform.Publish(dec, path, md.Bytes())
}
