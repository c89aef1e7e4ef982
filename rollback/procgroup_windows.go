//go:build windows

package rollback

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// ownGroup starts the command in a process group of its own
// (CREATE_NEW_PROCESS_GROUP), so that a console interrupt meant for
// sloguard does not reach it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// signalGroup stops the command and every process it started: Windows has
// no group signals, so taskkill /T walks the process tree; when taskkill
// cannot run, the command itself is killed.
func signalGroup(p *os.Process, _ bool) error {
	if p == nil {
		return nil
	}
	if err := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(p.Pid)).Run(); err != nil {
		return p.Kill()
	}
	return nil
}
