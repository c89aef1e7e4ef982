package proctest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills the server when the test binary dies without
// running its cleanups (a panic, a -timeout), so no server outlives it.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
