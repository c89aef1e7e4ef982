package app

import (
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// rollbackReady checks, before anything waits or runs, the environment
// the rollback actions need (a webhook's secret, the GitHub token): a
// breach must not be the moment a missing variable is found (exit 4 after
// a whole watch). Missing is exit 2, naming each variable. flag is the
// switch that turns the actions off ("" for validate, which has none);
// when off, nothing will run, so each is a warning.
func rollbackReady(d *App, cfg *slo.Config, flag string, off bool) error {
	err := rollback.Ready(cfg.Rollback, d.getenv)
	if err == nil {
		return nil
	}
	lines := strings.Split(err.Error(), "\n")
	if off {
		for _, l := range lines {
			ci.Warn(d.getenv, d.cmdErr, "sloguard", l+" ("+flag+": the actions do not run)")
		}
		return nil
	}
	how := "set it where watch and rollback run"
	if flag != "" {
		how += ", or pass " + flag + " not to run the actions"
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("the rollback actions could not run: %s: %s", strings.Join(lines, "; "), how)}
}
