//go:build unix

package safefile

import (
	"os"
	"syscall"
)

// open opens path for reading without blocking: opening a FIFO waits for
// a writer, and nothing (no context, no signal) interrupts that wait.
// O_NONBLOCK changes nothing for a regular file.
func open(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
