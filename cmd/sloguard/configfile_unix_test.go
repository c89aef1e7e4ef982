//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sloguard/sloguard/app"
)

// TestConfigThatIsNoFileIsRefusedAtOnce: a FIFO as the config used to
// block forever in open(2), deaf to SIGTERM; a huge file (or /dev/zero)
// used to be read whole. Both are refused before a byte is read.
func TestConfigThatIsNoFileIsRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 11<<20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	tests := map[string]struct {
		path, want string
	}{
		"a FIFO":             {fifo, fifo + ": cannot read the file: not a regular file: it is a named pipe (FIFO): pass the path of a config file"},
		"a file over 10 MiB": {big, big + ": cannot read the file: file too large: 11 MiB, more than 10 MiB: a config is a few KiB; is this the right path?"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, argv := range [][]string{{"check"}, {"validate"}, {"watch"}, {"rollback", "--reason", "r"}} {
				cmd := argv[0]
				var stdout, stderr bytes.Buffer
				done := make(chan int, 1)
				go func() {
					done <- run(t.Context(), append(append([]string{"sloguard"}, argv...), "-c", tc.path), &stdout, &stderr)
				}()
				select {
				case code := <-done:
					if code != app.ExitUsage || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.want) {
						t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and %q", cmd, code, stdout.String(), stderr.String(), tc.want)
					}
				case <-time.After(time.Minute): // a hang guard, not a timing assertion
					if f, err := os.OpenFile(tc.path, os.O_WRONLY, 0); err == nil {
						f.Close() // releases a reader blocked on the FIFO
					}
					t.Fatalf("%s -c %s blocked", cmd, name)
				}
			}
		})
	}
}
