//go:build unix

// Package peakrss reads the peak resident set of an exited process, for
// the benchmark programs that print what sloguard costs.
package peakrss

import (
	"os"
	"runtime"
	"syscall"
)

// Of is the peak resident set of an exited process, in bytes. Linux
// reports rusage's ru_maxrss in KiB, macOS in bytes.
func Of(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss
	}
	return ru.Maxrss * 1024
}
