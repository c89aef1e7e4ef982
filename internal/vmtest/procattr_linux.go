package vmtest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills VictoriaMetrics when the test binary dies
// without running its cleanups, so that no server outlives it.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
