package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/sloguard/sloguard/app"
)

// exitCodesHelp ends `sloguard --help` and each gating command's help: the
// exit codes are what a pipeline acts on.
const exitCodesHelp = `EXIT CODES:
   0  pass: gate open, canary healthy, or overridden; rollback: every action succeeded
   1  fail: gate closed, or canary breached its SLOs (rolled back, or --no-rollback)
   2  usage or config error: nothing was evaluated
   3  inconclusive: no data, too little traffic, or backend unreachable
   4  breach detected but a rollback action failed: a human must act now
`

// backtestExitCodesHelp ends backtest's help: it gates nothing, so its
// codes say whether it ran, not what the windows decided.
const backtestExitCodesHelp = `EXIT CODES:
   0  it ran, whatever the windows decided (the counts are in the output and the record)
   2  usage or config error: bad flags, a broken query, an unknown metric, a backend without history; nothing was replayed
   3  a backend could not be read (unreachable, timing out, refusing the credentials) or the run was interrupted; no record written
`

// flagCategories groups every flag in help. TestEveryFlagHasACategory
// keeps it complete.
func flagCategories() map[string]string {
	return map[string]string{
		"config": "Config", "prometheus-url": "Config", "slo": "Config",
		"output": "Output", "report": "Output", "log-level": "Output",
		"override": "Gate", "at": "Gate",
		"duration": "Canary", "interval": "Canary", "since": "Canary", "rollback-on-interrupt": "Canary",
		"no-rollback": "Rollback", "reason": "Rollback",
		"environment": "GitHub", "environment-url": "GitHub", "deployment-id": "GitHub",
		"check-run": "GitHub", "check-name": "GitHub", "comment": "GitHub",
		"online": "Validate", "fault": "Demo", "seed": "Demo", "no-split": "Demo",
		"from": "Backtest", "to": "Backtest", "every": "Backtest",
		"listen": "Serve", "state": "Serve",
	}
}

// polishHelp gives a command's flags their categories, keeps "(default:
// false)" off boolean flags (a switch is off unless given), and ends the
// help of gating commands and backtest with their exit codes.
func polishHelp(c *cli.Command) {
	cats := flagCategories()
	for _, f := range c.Flags {
		cat := cats[f.Names()[0]]
		switch f := f.(type) {
		case *cli.BoolFlag:
			f.Category, f.DisableDefaultText = cat, true
		case *cli.StringFlag:
			f.Category = cat
		case *cli.StringSliceFlag:
			f.Category = cat
		case *cli.GenericFlag:
			f.Category = cat
		case *cli.Int64Flag:
			f.Category = cat
		case *cli.IntFlag:
			f.Category = cat
		case *cli.Float64Flag:
			f.Category = cat
		case *cli.Uint64Flag:
			f.Category = cat
		case *cli.DurationFlag:
			f.Category = cat
		}
	}
	switch c.Name {
	case "check", "watch", "rollback", "validate":
		c.CustomHelpTemplate = cli.CommandHelpTemplate + exitCodesHelp
	case "backtest":
		c.CustomHelpTemplate = cli.CommandHelpTemplate + backtestExitCodesHelp
	}
}

// rootAction runs when no command is given: --version, an unknown command
// (with a suggestion), or the help.
func rootAction(d *app.App) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Bool("version") {
			printVersion(d.Stdout())
			return nil
		}
		if c.Args().Present() {
			name := c.Args().First()
			msg := fmt.Sprintf("unknown command %q", name)
			if s := suggest(name, commandNames(c.App)); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			}
			return &app.ExitError{Code: app.ExitUsage, Err: fmt.Errorf("%s (see sloguard --help)", msg)}
		}
		return cli.ShowAppHelp(c)
	}
}

func commandNames(app *cli.App) []string {
	var out []string
	for _, c := range app.Commands {
		if !c.Hidden {
			out = append(out, c.Names()...)
		}
	}
	return out
}

// flagSuggestion says which flag an unknown one was probably meant to be.
// The flag package reports an unknown flag only in its message, so this is
// the one place that reads it.
func flagSuggestion(c *cli.Context, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	name = strings.TrimLeft(name, "-")
	var names []string
	for _, f := range contextFlags(c) {
		names = append(names, f.Names()...)
	}
	s := suggest(name, names)
	if s == "" {
		return ""
	}
	if len(s) == 1 {
		return "-" + s
	}
	return "--" + s
}

// contextFlags are the flags of the command a usage error is about (the
// app's own before any command).
func contextFlags(c *cli.Context) []cli.Flag {
	switch {
	case c == nil:
		return nil
	case c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name:
		return c.Command.Flags
	}
	return c.App.Flags
}

// badValue is how the flag package rejects a value it cannot parse: the
// flag is named, but "parse error" says nothing of what it takes.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([\w-]+): parse error$`)

// flagValueError says what a flag takes when the flag package could only
// say "parse error": `--seed "-5": want a whole number, 0 or more`.
// Other errors (a duration's own message) are returned as they are.
func flagValueError(c *cli.Context, err error) error {
	m := badValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	want := ""
	for _, f := range contextFlags(c) {
		if !slices.Contains(f.Names(), m[2]) {
			continue
		}
		switch f.(type) {
		case *cli.Uint64Flag, *cli.UintFlag:
			want = "want a whole number, 0 or more"
		case *cli.IntFlag, *cli.Int64Flag:
			want = "want a whole number"
		case *cli.Float64Flag:
			want = "want a number"
		case *cli.BoolFlag:
			want = "want true or false (or the flag alone for true)"
		}
	}
	if want == "" {
		return err
	}
	return fmt.Errorf("--%s %q: %s", m[2], m[1], want)
}

// suggest returns the candidate closest to word, when it is close enough
// to be a typo (two edits, or a third of its letters for long names) or
// word is a prefix of it; "" otherwise. One-letter names (-c, h) are never
// suggested: every short typo would be near them.
func suggest(word string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if len(c) < 2 {
			continue
		}
		if len(word) >= 2 && strings.HasPrefix(c, word) {
			return c
		}
		d := smetrics.WagnerFischer(word, c, 1, 1, 1)
		if d <= max(2, len(c)/3) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
