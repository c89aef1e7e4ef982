package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sloguard/sloguard/app"
)

func testApp(stdout io.Writer) *cli.App {
	return newApp(app.New(stdout, io.Discard, func(string) string { return "" }, time.Now))
}

func TestEveryFlagHasACategory(t *testing.T) {
	cats := flagCategories()
	for _, c := range testApp(io.Discard).Commands {
		for _, f := range c.Flags {
			if cats[f.Names()[0]] == "" {
				t.Errorf("sloguard %s --%s has no category: add it to flagCategories", c.Name, f.Names()[0])
			}
		}
	}
}

// TestHelpSaysEachDefaultOnce renders every command's help: a default is
// said by DefaultText or the value, never in the usage text as well, and a
// switch shows none.
func TestHelpSaysEachDefaultOnce(t *testing.T) {
	app := testApp(io.Discard)
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	for _, name := range names {
		var out bytes.Buffer
		if err := testApp(&out).Run([]string{"sloguard", name, "--help"}); err != nil {
			t.Fatalf("%s --help: %v", name, err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Count(line, "default:") > 1 || strings.Contains(line, "(default: false)") || strings.Contains(line, "(default: 0)") {
				t.Errorf("sloguard %s --help: %s", name, strings.TrimSpace(line))
			}
		}
		gating := name == "check" || name == "watch" || name == "rollback" || name == "validate"
		if gating != strings.Contains(out.String(), "EXIT CODES:\n   0  pass") {
			t.Errorf("sloguard %s --help: the gate's exit codes listed %v, want %v:\n%s", name, !gating, gating, out.String())
		}
		if ran := name == "backtest"; ran != strings.Contains(out.String(), "EXIT CODES:\n   0  it ran") {
			t.Errorf("sloguard %s --help: backtest's exit codes listed %v, want %v:\n%s", name, !ran, ran, out.String())
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"check", "watch", "rollback", "validate", "demo", "version", "completion", "help", "h"}
	tests := map[string]string{
		"chek": "check", "wacth": "watch", "rolback": "rollback", "valid": "validate", "comp": "completion",
		"deploy": "", "x": "", "frobnicate": "", "": "",
	}
	for word, want := range tests {
		if got := suggest(word, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

// serve logs each decision at info: its own default, unless a level is
// given after the command, before it, or in the environment.
func TestServeLogLevel(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  string
		want string
	}{
		"the default":          {[]string{"sloguard", "serve"}, "", "info"},
		"after the command":    {[]string{"sloguard", "serve", "--log-level", "debug"}, "", "debug"},
		"before the command":   {[]string{"sloguard", "--log-level", "error", "serve"}, "", "error"},
		"the command's wins":   {[]string{"sloguard", "--log-level", "error", "serve", "--log-level", "debug"}, "", "debug"},
		"from the environment": {[]string{"sloguard", "serve"}, "warn", "warn"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SLOGUARD_LOG_LEVEL", tc.env)
			if tc.env == "" {
				os.Unsetenv("SLOGUARD_LOG_LEVEL")
			}
			var got string
			a := &cli.App{
				Flags: []cli.Flag{logLevelFlag()},
				Commands: []*cli.Command{{
					Name:   "serve",
					Flags:  []cli.Flag{logLevelFlagFrom("info", "")},
					Action: func(c *cli.Context) error { got = logLevel(c); return nil },
				}},
			}
			if err := a.Run(tc.args); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("level %q, want %q", got, tc.want)
			}
		})
	}
}
