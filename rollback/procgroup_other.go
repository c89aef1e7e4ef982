//go:build !unix && !windows

package rollback

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where process groups are unknown.
func ownGroup(*exec.Cmd) {}

// signalGroup kills the command itself.
func signalGroup(p *os.Process, _ bool) error {
	if p == nil {
		return nil
	}
	return p.Kill()
}
