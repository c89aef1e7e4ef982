package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

// recordUsageErrors makes a flag that cannot be parsed (`--duration 30x`,
// an unknown flag, a GitHub Action input turned into a bad flag) behave as
// every other exit 2 of these commands: in CI the record, the outputs and
// the summary say why. urfave/cli stops before the command runs, so the
// flags that say where the record goes are read from the raw arguments.
func recordUsageErrors(cl *cli.App, d *app.App, args []string) {
	for _, c := range cl.Commands {
		switch c.Name {
		case "check", "watch", "rollback": // the commands whose exit 2 writes a decision record
		default:
			continue
		}
		name, usage := c.Name, c.OnUsageError
		c.OnUsageError = func(cc *cli.Context, err error, sub bool) error {
			err = usage(cc, err, sub)
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
			return app.FlagError(d, name, format, report, config, err)
		}
	}
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
