package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

// Set by the build: -ldflags "-X main.version=v1.2.3 -X main.commit=abc".
var (
	version = "dev"
	commit  = ""
)

// run is the whole program; main only exits with its result.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	dropBlankEnv()
	getenv := os.Getenv
	wd, _ := os.Getwd()
	argv, actionEnv, argErr := actionArgv(args, getenv, wd)
	if argv != nil { // the GitHub Action: inputs become flags (action.go)
		args, getenv = argv, actionEnv
	}
	d := app.New(stdout, stderr, getenv, time.Now)
	defer d.Close()
	if argErr != nil {
		return app.ExitCode(recordActionError(d, getenv, wd, argErr), d.Stderr())
	}
	cl := newApp(d)
	recordUsageErrors(cl, d, args)
	if err := cl.RunContext(ctx, args); err != nil {
		app.Annotate(d, err)
		return app.ExitCode(err, d.Stderr())
	}
	return app.ExitPass
}

// newApp is the command line: every command, flag and help text.
func newApp(d *app.App) *cli.App {
	app := &cli.App{
		Name:                  "sloguard",
		Usage:                 "guard releases with SLOs: gate on error budget, judge canaries, roll back",
		Version:               version,
		Writer:                d.Stdout(),
		ErrWriter:             d.Stderr(),
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
			d.SetLogLevel(c.String("log-level"))
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
func commandDefaults(c *cli.Command, d *app.App) {
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
			d.SetLogLevel(c.String("log-level"))
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
	err = flagValueError(c, err)
	if s := flagSuggestion(c, err); s != "" {
		return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("%w: did you mean %s? (see %s)", err, s, help)}
	}
	return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("%w (see %s)", err, help)}
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
	return logLevelFlagFrom("warn", "log detail on stderr: debug, info, warn, error")
}

// logLevelFlagFrom is --log-level with another default (serve logs each
// decision at info).
func logLevelFlagFrom(level, usage string) cli.Flag {
	return &cli.StringFlag{Name: "log-level", Value: level, Usage: usage, EnvVars: env("log-level")}
}

// logLevel is the --log-level a command runs at: its own when given (or
// from the environment), else the one given before the command name
// (`sloguard --log-level debug serve`), else its own default.
func logLevel(c *cli.Context) string {
	for _, cc := range c.Lineage() {
		if cc.IsSet("log-level") {
			return cc.String("log-level")
		}
	}
	return c.String("log-level")
}

// checkLogLevel makes a level the logger does not know a usage error rather
// than a silent fallback to warn.
func checkLogLevel(level string) error {
	if _, ok := app.ParseLevel(level); !ok {
		return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("--log-level %q: use debug, info, warn or error", level)}
	}
	return nil
}

// defaultConfig is the config file a command reads without --config.
const defaultConfig = "sloguard.yaml"

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: defaultConfig, Usage: "config file: sloguard, OpenSLO v1 or Sloth prometheus/v1 `FILE`", EnvVars: env("config")}
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

func versionCommand(d *app.App) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(*cli.Context) error {
			printVersion(d.Stdout())
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
