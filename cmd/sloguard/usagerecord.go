package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

// recordUsageErrors makes a flag that cannot be parsed (`--duration 30x`,
// an unknown flag, `--log-level loud`, a GitHub Action input turned into a
// bad flag) behave as every other exit 2 of these commands (and of
// backtest, with its own record): in CI the record, the outputs and the
// summary say why. urfave/cli stops before the command runs, so the flags
// that say where the record goes are read from the raw arguments.
func recordUsageErrors(cl *cli.App, d *app.App, args []string) {
	recorded := func(name string) bool {
		switch name {
		case "check", "watch", "rollback", "backtest": // the commands whose exit 2 writes a record
			return true
		}
		return false
	}
	// --log-level before the command name (or SLOGUARD_LOG_LEVEL) is
	// checked before the command is known: by its name in args.
	if before := cl.Before; before != nil {
		cl.Before = func(c *cli.Context) error {
			err := before(c)
			if name := c.Args().First(); err != nil && recorded(name) {
				return flagError(d, name, args, err)
			}
			return err
		}
	}
	for _, c := range cl.Commands {
		if !recorded(c.Name) {
			continue
		}
		name, usage, before := c.Name, c.OnUsageError, c.Before
		c.OnUsageError = func(cc *cli.Context, err error, sub bool) error {
			return flagError(d, name, args, usage(cc, err, sub))
		}
		if before != nil { // --log-level after the command name
			c.Before = func(cc *cli.Context) error {
				if err := before(cc); err != nil {
					return flagError(d, name, args, err)
				}
				return nil
			}
		}
	}
}

// flagError records err for command name, reading where the record goes
// from the raw arguments and the environment, as the flags would.
func flagError(d *app.App, name string, args []string, err error) error {
	format := argValue(args, "output", "o")
	if format == "" {
		format = d.Getenv("SLOGUARD_OUTPUT")
	}
	if format == "" {
		format = "text"
	}
	report := argValue(args, "report", "")
	if report == "" {
		report = d.Getenv("SLOGUARD_REPORT")
	}
	config := argValue(args, "config", "c")
	if config == "" {
		config = d.Getenv("SLOGUARD_CONFIG")
	}
	if config == "" {
		config = defaultConfig
	}
	if name == "backtest" {
		return app.BacktestError(d, app.BacktestOptions{Config: config, Output: format, Report: report}, err)
	}
	return app.FlagError(d, name, format, report, config, err)
}

// argValue returns the value of --name (or -alias) in args, "" when unset:
// `--name v`, `--name=v`, `-name v`. The last occurrence wins, as in the
// flag package.
func argValue(args []string, name, alias string) string {
	var v string
	for i, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		key, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if key != name && (alias == "" || key != alias) {
			continue
		}
		switch {
		case hasVal:
			v = val
		case i+1 < len(args):
			v = args[i+1]
		}
	}
	return v
}
