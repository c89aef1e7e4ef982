package app

import (
	"fmt"
	"strings"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// setWhereTheyRun is what to do about a variable a rollback action needs.
const setWhereTheyRun = "set it where watch and rollback run"

// rollbackReady checks, before anything waits or runs, the environment
// the rollback actions need (a webhook's secret, the GitHub token): a
// breach must not be the moment a missing variable is found (exit 4 after
// a whole watch). Missing is exit 2, naming each variable, unless the
// actions are off (--no-rollback): then nothing will run, and each is a
// warning. validate reports them with the config's other problems.
func rollbackReady(d *App, cfg *slo.Config, off bool) error {
	err := rollback.Ready(cfg.Rollback, d.getenv)
	if err == nil {
		return nil
	}
	lines := strings.Split(err.Error(), "\n")
	if off {
		for _, l := range lines {
			ci.Warn(d.getenv, d.cmdErr, "sloguard", l+" (--no-rollback: the actions do not run)")
		}
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("the rollback actions could not run: %s: %s, or pass --no-rollback not to run the actions", strings.Join(lines, "; "), setWhereTheyRun)}
}
