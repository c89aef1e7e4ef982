//go:build !linux

package vmtest

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}
