package app

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Exit codes, as DESIGN.md and the README promise.
const (
	ExitPass         = 0
	ExitFail         = 1
	ExitUsage        = 2
	ExitInconclusive = 3
	ExitActionFailed = 4
)

// ExitError carries an exit code out of a command. A nil Err means the
// command printed what it had to say already.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitCode is the one place that maps outcomes to exit codes.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitPass
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "sloguard: %v\n", ee.Err)
		}
		return ee.Code
	}
	var ce *slo.ConfigError
	var unknown *gate.UnknownSLOError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "sloguard: the config has %d problem(s):\n%v\n", len(ce.Problems), err)
		return ExitUsage
	case errors.As(err, &unknown), errors.Is(err, providers.ErrBadQuery):
		fmt.Fprintf(stderr, "sloguard: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "sloguard: %v\n", err)
	return ExitUsage
}

// reasonFor says in one sentence why a run ended before a decision, for
// the record's reason: what exitCode prints, without the prefix.
func reasonFor(err error) string {
	var ce *slo.ConfigError
	if errors.As(err, &ce) {
		msgs := make([]string, len(ce.Problems))
		for i, p := range ce.Problems {
			msgs[i] = p.Error()
		}
		return fmt.Sprintf("the config has %d problem(s): %s", len(ce.Problems), strings.Join(msgs, "; "))
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// decisionCode maps a decision to its exit code. A rollback action that
// failed wins over everything: a human must act now.
func decisionCode(d *report.Decision) int {
	for _, a := range d.Actions {
		if a.Status == "failed" {
			return ExitActionFailed
		}
	}
	switch d.Decision {
	case report.Pass, report.Overridden:
		return ExitPass
	case report.Fail:
		return ExitFail
	}
	return ExitInconclusive
}
