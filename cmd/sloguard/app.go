package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/all"
)

// Set by the build: -ldflags "-X main.version=v1.2.3 -X main.commit=abc".
var (
	version = "dev"
	commit  = ""
)

// deps are the process's streams, environment and clock, built once in run
// and handed to every command: no globals.
//
// Every stream passes the one redaction layer: stdout and stderr carry
// sloguard's text, logs and untrusted text (backend bodies, rollback
// output), redacted and, in CI, neutralised so that no line becomes a
// workflow command; cmdOut and cmdErr carry the workflow commands sloguard
// itself writes, redacted; rawOut and rawErr only the mask commands, which
// must show the runner the secrets they hide.
type deps struct {
	stdout, stderr io.Writer
	cmdOut, cmdErr io.Writer
	rawOut, rawErr io.Writer
	redact         *redact.Redactor
	getenv         func(string) string
	now            func() time.Time
	log            *slog.Logger
	flush          []*redact.Writer
	backends       providers.Backends
}

// newDeps wraps the process's streams in the redaction layer. It knows the
// ambient CI credentials from the start; a command adds the config's
// secrets once it has loaded it (output.secure).
func newDeps(stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) *deps {
	r := redact.New()
	d := &deps{rawOut: stdout, rawErr: stderr, redact: r, getenv: getenv, now: now, backends: all.Backends()}
	for _, n := range ambientSecrets(d.backends) {
		r.Add(getenv(n))
	}
	neutralize := ci.Neutralizer(getenv)
	out, errw := r.Writer(stdout, neutralize), r.Writer(stderr, neutralize)
	cmdOut, cmdErr := r.Writer(stdout, nil), r.Writer(stderr, nil)
	d.stdout, d.stderr, d.cmdOut, d.cmdErr = out, errw, cmdOut, cmdErr
	d.flush = []*redact.Writer{cmdOut, out, cmdErr, errw}
	d.log = newLogger(d.stderr, "warn")
	return d
}

// close passes on what the writers hold back (a last line without a
// newline).
func (d *deps) close() {
	for _, w := range d.flush {
		_ = w.Flush()
	}
}

// run is the whole program; main only exits with its result.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dropBlankEnv()
	getenv := os.Getenv
	wd, _ := os.Getwd()
	argv, actionEnv, argErr := actionArgv(args, getenv, wd)
	if argv != nil { // the GitHub Action: inputs become flags (action.go)
		args, getenv = argv, actionEnv
	}
	d := newDeps(stdout, stderr, getenv, time.Now)
	defer d.close()
	if argErr != nil {
		return exitCode(argErr, d.stderr)
	}
	if err := newApp(d).RunContext(ctx, args); err != nil {
		annotateError(d, err)
		return exitCode(err, d.stderr)
	}
	return exitPass
}

// newApp is the command line: every command, flag and help text.
func newApp(d *deps) *cli.App {
	app := &cli.App{
		Name:                  "sloguard",
		Usage:                 "guard releases with SLOs: gate on error budget, judge canaries, roll back",
		Version:               version,
		Writer:                d.stdout,
		ErrWriter:             d.stderr,
		HideVersion:           true,                         // --version is ours (rootAction): urfave's would take -v, through a global
		EnableBashCompletion:  true,                         // --generate-bash-completion, for `sloguard completion`
		ExitErrHandler:        func(*cli.Context, error) {}, // exit codes are mapped in one place below
		CustomAppHelpTemplate: cli.AppHelpTemplate + exitCodesHelp,
		Flags: []cli.Flag{
			logLevelFlag(),
			&cli.BoolFlag{Name: "version", Usage: "print the version", DisableDefaultText: true},
		},
		Action: rootAction(d),
		Before: func(c *cli.Context) error {
			if err := checkLogLevel(c.String("log-level")); err != nil {
				return err
			}
			d.log = newLogger(d.stderr, c.String("log-level"))
			return nil
		},
		Commands: []*cli.Command{
			checkCommand(d),
			watchCommand(d),
			backtestCommand(d),
			rollbackCommand(d),
			validateCommand(d),
			serveCommand(d),
			demoCommand(d),
			versionCommand(d),
			completionCommand(d),
		},
		OnUsageError: usageError,
	}
	for _, c := range app.Commands {
		commandDefaults(c, d)
		polishHelp(c)
	}
	for _, f := range app.Flags {
		if sf, ok := f.(*cli.StringFlag); ok {
			sf.Category = flagCategories()[sf.Name]
		}
	}
	return app
}

// commandDefaults gives every command what the app has: usage errors on
// stderr with exit code 2 (without a handler, urfave/cli prints "Incorrect
// Usage" and the help on stdout, which belongs to the product alone), and
// --log-level after the command name too (`check --log-level debug`).
func commandDefaults(c *cli.Command, d *deps) {
	if c.OnUsageError == nil {
		c.OnUsageError = usageError
	}
	for _, f := range c.Flags {
		for _, n := range f.Names() {
			if n == "log-level" {
				return
			}
		}
	}
	c.Flags = append(c.Flags, logLevelFlag())
	before := c.Before
	c.Before = func(c *cli.Context) error {
		if c.IsSet("log-level") {
			if err := checkLogLevel(c.String("log-level")); err != nil {
				return err
			}
			d.log = newLogger(d.stderr, c.String("log-level"))
		}
		if before != nil {
			return before(c)
		}
		return nil
	}
}

func usageError(c *cli.Context, err error, _ bool) error {
	help := "sloguard --help"
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		help = "sloguard " + c.Command.Name + " --help"
	}
	if s := flagSuggestion(c, err); s != "" {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("%w: did you mean %s? (see %s)", err, s, help)}
	}
	return &exitError{Code: exitUsage, Err: fmt.Errorf("%w (see %s)", err, help)}
}

// dropBlankEnv unsets SLOGUARD_* variables set to "": urfave/cli treats
// them as set, and a blank GitHub Action input would wipe a flag's default.
func dropBlankEnv() {
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SLOGUARD_") && v == "" {
			os.Unsetenv(k)
		}
	}
}

// env names the environment variable that backs a flag.
func env(flag string) []string {
	return []string{"SLOGUARD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

func logLevelFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-level", Value: "warn", Usage: "log detail on stderr: debug, info, warn, error", EnvVars: env("log-level")}
}

// parseLevel reads the values --log-level takes.
func parseLevel(level string) (slog.Level, bool) {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelWarn, false
}

// checkLogLevel makes a level newLogger does not know a usage error rather
// than a silent fallback to warn.
func checkLogLevel(level string) error {
	if _, ok := parseLevel(level); !ok {
		return &exitError{Code: exitUsage, Err: fmt.Errorf("--log-level %q: use debug, info, warn or error", level)}
	}
	return nil
}

// newLogger logs at level on w (warn for a level checkLogLevel refuses).
func newLogger(w io.Writer, level string) *slog.Logger {
	l, _ := parseLevel(level)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "sloguard.yaml", Usage: "config file: sloguard, OpenSLO v1 or Sloth prometheus/v1 `FILE`", EnvVars: env("config")}
}

func prometheusURLFlag() cli.Flag {
	return &cli.StringFlag{Name: "prometheus-url", Usage: "Prometheus `URL` for config files that name no backend (Sloth, OpenSLO without a DataSource url)", EnvVars: env("prometheus-url")}
}

func sloFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "slo", Usage: "evaluate only this SLO `NAME` (repeatable)", EnvVars: env("slo")}
}

func outputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "stdout format: text, json (the decision record, nothing else) or markdown", EnvVars: env("output")}
}

func reportFlag() cli.Flag {
	return &cli.StringFlag{Name: "report", Usage: "also write the JSON decision record to `FILE`", EnvVars: env("report")}
}

func versionCommand(d *deps) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(*cli.Context) error {
			printVersion(d.stdout)
			return nil
		},
	}
}

// printVersion answers `sloguard version` and `sloguard --version`.
func printVersion(w io.Writer) {
	c := commit
	if c == "" {
		c = "unknown commit"
	}
	fmt.Fprintf(w, "sloguard %s (%s, %s %s/%s)\n", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
