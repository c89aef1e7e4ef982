package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

var outputFormats = []string{"text", "json", "markdown"}

func CheckOutput(format string) error {
	for _, f := range outputFormats {
		if f == format {
			return nil
		}
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--output %q: use text, json or markdown", format)}
}

// validFormat is format, or text when format is not one: the record of a
// run stopped by a bad --output is still written (stdout stays empty).
func validFormat(format string) string {
	if CheckOutput(format) != nil {
		return "text"
	}
	return format
}

// startOutput is the output of a command that writes a decision record,
// and the --output problem, if any: recorded (by abort) like every other
// exit 2.
func startOutput(d *App, command, format, reportFlag, config string) (*output, error) {
	out := newOutput(d, command, validFormat(format), reportFlag)
	out.config = config
	return out, CheckOutput(format)
}

// output sends a decision everywhere it must go: stdout in the chosen
// format, the JSON record to a file, and the CI platform's channels. Once a
// decision exists nothing here can fail the run: an I/O error is a
// warning, and the exit code stays the decision's.
type output struct {
	d          *App
	command    string
	format     string
	reportFlag string
	config     string // the config file, once known
	platform   ci.Platform
	path       string // where the record was last written
	failed     string // a path the record could not be written to
	emitted    bool   // a decision (or an error record) went out
	// published, when set, gets the decision and its Markdown summary once
	// they are out: the GitHub check run and pull request comment.
	published func(dec *report.Decision, markdown []byte)
}

// newOutput picks the CI platform. Its commands go to stdout, except with
// --output json, where stdout carries the record alone; both runners read
// commands from stderr too.
func newOutput(d *App, command, format, reportFlag string) *output {
	cmdOut, masks := d.cmdOut, d.rawOut
	if format == "json" {
		cmdOut, masks = d.cmdErr, d.rawErr
	}
	return &output{d: d, command: command, format: format, reportFlag: reportFlag, platform: ci.New(d.getenv, cmdOut, masks)}
}

// secure registers the config's secrets with the redaction layer (Load
// did already; a config built otherwise gets them here) and has the
// runner mask them, with their derived forms, before anything else is
// printed.
func (o *output) secure(cfg *slo.Config) {
	o.config = cfg.Source
	addSecrets(o.d, cfg)
	o.platform.Mask(o.d.redact.Masks())
}

func renderer(format string) report.Renderer {
	return map[string]report.Renderer{"text": report.Text{}, "json": report.JSON{}, "markdown": report.Markdown{}}[format]
}

// emit renders everything into buffers first, writes the record, prints
// stdout once, and publishes to the CI platform. Each step is attempted
// whatever happened to the one before; failures are warnings.
func (o *output) emit(dec *report.Decision) {
	o.emitted = true
	dec.Run = o.platform.Run()
	o.d.redact.Scrub(dec)
	record, md := o.render(report.JSON{}, dec), o.render(report.Markdown{}, dec)
	path := o.writeRecord(record)
	if out := o.render(renderer(o.format), dec); len(out) > 0 {
		if o.format == "json" && o.platform.Name() != "local" {
			// "##" occurs only inside strings: as #\u0023 the value is the
			// same, and no runner finds a command in it.
			out = bytes.ReplaceAll(out, []byte("##"), []byte(`#\u0023`))
		}
		if _, err := o.d.stdout.Write(out); err != nil {
			o.d.log.Warn("cannot write the decision to stdout", "error", err)
		}
	}
	if err := o.platform.Publish(dec, path, md); err != nil {
		o.d.log.Warn("cannot publish everything to the CI platform; the exit code still says the decision", "error", err)
	}
	if o.published != nil {
		o.published(dec, md)
	}
}

// render renders dec, redacted once more as bytes, or warns.
func (o *output) render(r report.Renderer, dec *report.Decision) []byte {
	var b bytes.Buffer
	if err := r.Render(&b, dec); err != nil {
		o.d.log.Warn("cannot render the decision", "format", fmt.Sprintf("%T", r), "error", err)
		return nil
	}
	return o.d.redact.Bytes(b.Bytes())
}

// wantsRecord says whether this run writes a record file: with --report,
// and always in CI.
func (o *output) wantsRecord() bool {
	return o.reportFlag != "" || o.platform.Name() != "local"
}

// writeRecord writes the record to --report (in CI, else to the runner's
// temp dir). When that fails (a directory, a read-only or full disk) the
// record goes to a file in a temp dir, with a warning, and a stale record
// at the requested path is removed so that nobody reads an old decision
// there. It returns where the record is, "" when nowhere.
func (o *output) writeRecord(data []byte) string {
	if data == nil {
		return ""
	}
	want := o.reportFlag
	if want == "" {
		want = o.path
	}
	if want == "" {
		if !o.wantsRecord() {
			return ""
		}
		want = ci.ReportPath("", o.d.getenv)
	}
	if want == o.failed && o.path != "" {
		want = o.path // the requested path failed before: warned once
	}
	err := ci.WriteFile(want, data)
	if err == nil {
		o.path = want
		return reportOutput(o.d.getenv, want)
	}
	o.failed = want
	if fi, serr := os.Lstat(want); serr == nil && fi.Mode().IsRegular() {
		if rerr := os.Remove(want); rerr == nil {
			o.d.log.Warn("removed the stale record at the requested path", "path", want)
		}
	}
	for _, alt := range o.fallbacks(want) {
		if ci.WriteFile(alt, data) == nil {
			o.d.log.Warn("cannot write the decision record where asked: wrote it elsewhere", "path", want, "error", err, "written_to", alt)
			o.path = alt
			return reportOutput(o.d.getenv, alt)
		}
	}
	o.d.log.Warn("cannot write the decision record anywhere; the exit code still says the decision", "path", want, "error", err)
	return ""
}

// reportOutput is the record's path as the report output says it:
// absolute, so that a later step finds it wherever it runs. The one
// exception is a container action on GitHub (the image used with
// docker://: the runner's temp dir is not mounted, and the container's
// paths are not the host's): there a relative path stays relative to the
// workspace, where sloguard runs and later steps run too.
func reportOutput(getenv func(string) string, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	if getenv("GITHUB_ACTIONS") == "true" && inWorkspace(getenv) {
		if fi, err := os.Stat(getenv("RUNNER_TEMP")); err != nil || !fi.IsDir() {
			return path
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// inWorkspace says whether the working directory is $GITHUB_WORKSPACE.
func inWorkspace(getenv func(string) string) bool {
	ws, err := filepath.EvalSymlinks(getenv("GITHUB_WORKSPACE"))
	if err != nil || getenv("GITHUB_WORKSPACE") == "" {
		return false
	}
	wd, err := os.Getwd()
	if err != nil {
		return false
	}
	wd, err = filepath.EvalSymlinks(wd)
	return err == nil && wd == ws
}

// fallbacks are the places a record goes when its own path fails: the
// one already used, else the runners' temp dirs and the system's.
func (o *output) fallbacks(failed string) []string {
	if o.path != "" && o.path != failed {
		return []string{o.path}
	}
	name := fmt.Sprintf("sloguard-%s-%d.json", o.command, time.Now().UnixNano())
	var out []string
	seen := map[string]bool{filepath.Dir(failed): true}
	for _, dir := range []string{o.d.getenv("RUNNER_TEMP"), o.d.getenv("AGENT_TEMPDIRECTORY"), os.TempDir()} {
		if dir != "" && !seen[dir] {
			seen[dir] = true
			out = append(out, filepath.Join(dir, name))
		}
	}
	return out
}

// abort handles a run that ends before any decision (exit 2: a config or
// usage error, a query that is itself wrong). In CI, and with --report, it
// writes a record with decision "error" and the reason, and publishes the
// outputs and the summary, so that the pipeline learns why and a stale
// record is replaced. stdout stays empty.
func (o *output) abort(err error, started time.Time) {
	var ee *ExitError
	if o == nil || o.emitted || err == nil || (errors.As(err, &ee) && ee.Err == nil) || !o.wantsRecord() {
		return
	}
	o.emitted = true
	dec := &report.Decision{
		Schema: report.Schema, Command: o.command, Decision: report.Error, Reason: reasonFor(err),
		Config: o.config, SLOs: []report.SLO{}, StartedAt: started, FinishedAt: o.d.now().UTC(),
		Run: o.platform.Run(),
	}
	o.d.redact.Scrub(dec)
	var ce *slo.ConfigError
	if !errors.As(err, &ce) { // config problems are annotated on their lines (annotateError)
		ci.AnnotateProblems(o.d.getenv, o.d.cmdErr, "sloguard "+o.command, []ci.Problem{{Msg: dec.Reason}})
	}
	path := o.writeRecord(o.render(report.JSON{}, dec))
	if err := o.platform.Publish(dec, path, o.render(report.Markdown{}, dec)); err != nil {
		o.d.log.Warn("cannot publish everything to the CI platform", "error", err)
	}
}

// flagError records a flag value a command rejects before it starts, as
// abort does for errors that come later, and returns err.
func FlagError(d *App, command, format, reportFlag, config string, err error) error {
	out := newOutput(d, command, validFormat(format), reportFlag)
	out.config = config
	out.abort(err, d.now().UTC())
	return err
}

// rollback runs the rollback actions on a breach, whatever happens to the
// record: it is written first, so that a command can read it through
// SLOGUARD_REPORT (or to a fallback path, or not at all, with a warning),
// and again by emit with the actions' outcomes.
func (o *output) rollback(ctx context.Context, dec *report.Decision, rb slo.Rollback, dryRun bool, gh rollback.GitHubReporter) {
	if dec.RollbackID == "" {
		dec.RollbackID = rollback.NewDeliveryID()
	}
	o.d.redact.Scrub(dec)
	record := o.render(report.JSON{}, dec)
	if o.path == "" && !o.wantsRecord() {
		o.path = ci.ReportPath("", o.d.getenv) // the actions read it: write one even by hand
	}
	path := o.writeRecord(record)
	a := &rollback.Actions{Config: rb, DryRun: dryRun, Getenv: o.d.getenv, Out: o.d.stderr, Log: o.d.log, GitHub: gh}
	dec.Actions = append(a.Run(ctx, dec, path, record), dec.Actions...)
	if len(dec.Actions) == 0 {
		o.d.log.Warn("the canary breached but no rollback action is configured (rollback: command, webhook, github)")
	}
}
