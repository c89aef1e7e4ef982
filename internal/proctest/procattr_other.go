//go:build !linux

package proctest

import "os/exec"

// setParentDeathSignal has no portable equivalent outside Linux; Stop and
// the tests' cleanups end the server there.
func setParentDeathSignal(*exec.Cmd) {}
