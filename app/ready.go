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
	nrs := rollback.NotReadies(err)
	if off {
		for _, nr := range nrs {
			ci.Warn(d.getenv, d.cmdErr, "sloguard", nr.Error()+" (--no-rollback: the actions do not run)")
		}
		return nil
	}
	var lines []string
	vars := false // a variable is missing: one "set it" for them all
	for _, nr := range nrs {
		if nr.Fix != "" {
			lines = append(lines, nr.Error()+": "+nr.Fix)
			continue
		}
		vars = true
		lines = append(lines, nr.Error())
	}
	msg := strings.Join(lines, "; ")
	if vars {
		msg += ": " + setWhereTheyRun
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("the rollback actions could not run: %s, or pass --no-rollback not to run the actions", msg)}
}

// fixFor is what to do about one missing prerequisite.
func fixFor(nr *rollback.NotReady) string {
	if nr.Fix != "" {
		return nr.Fix
	}
	return setWhereTheyRun
}
