//go:build !linux

package promtest

import "os/exec"

// setParentDeathSignal has no portable equivalent outside Linux; Stop and
// the tests' cleanups end Prometheus there.
func setParentDeathSignal(*exec.Cmd) {}
