//go:build unix

package rollback

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gone says whether pid has exited: no such process, or a zombie waiting
// for its new parent (PID 1 in a container may never reap it).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z'
	}
	return false
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	var b []byte
	for range 100 { // the command writes it at once; allow a loaded machine
		if b, _ = os.ReadFile(path); len(bytes.TrimSpace(b)) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("no child pid in %s: %q", path, b)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// waitGone polls for the process to be gone: the kill is immediate, the
// bound only covers a slow machine.
func waitGone(pid int) bool {
	for range 200 {
		if gone(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestAHungCommandIsStoppedWithItsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	// The shell starts a child that would outlive it, then hangs.
	argv := []string{"sh", "-c", `sleep 300 & echo $! > "$0"; sleep 300`, pidFile}
	a := &Actions{Config: rollbackConfig(500*time.Millisecond, 0, Command(argv)), Out: io.Discard, Getenv: getenv(nil)}
	acts := a.Run(t.Context(), failing(), "", nil)
	if acts[0].Status != Failed || acts[0].Attempts != 1 || !strings.Contains(acts[0].Error, "no exit within 500ms: stopped it and every process it started") {
		t.Fatalf("got %+v, want one failed attempt that timed out", acts[0])
	}
	if child := readPID(t, pidFile); !waitGone(child) {
		t.Errorf("the command's child %d still runs after the timeout", child)
	}
}

func TestAChildIgnoringSIGTERMIsKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	argv := []string{"sh", "-c", `sh -c 'trap "" TERM; echo $$ > "$0"; while :; do sleep 1; done' "$0" & sleep 300`, pidFile}
	a := &Actions{Config: rollbackConfig(500*time.Millisecond, 0, Command(argv)), Out: io.Discard, Getenv: getenv(nil)}
	if acts := a.Run(t.Context(), failing(), "", nil); acts[0].Status != Failed {
		t.Fatalf("got %+v, want a failed attempt", acts[0])
	}
	if child := readPID(t, pidFile); !waitGone(child) {
		t.Errorf("the child %d that ignores SIGTERM still runs", child)
	}
}

// Success is the exit status: a command that exits 0 while a process it
// started in the background keeps its output open succeeded, once.
func TestExitZeroWithABackgroundChildHoldingOutputSucceedsOnce(t *testing.T) {
	dir := t.TempDir()
	runs, pidFile := filepath.Join(dir, "runs"), filepath.Join(dir, "child")
	argv := []string{"sh", "-c", `echo run >> "$0"; sleep 30 & echo $! > "$1"; echo rolled back; exit 0`, runs, pidFile}
	var out bytes.Buffer
	a := &Actions{Config: rollbackConfig(20*time.Second, 2, Command(argv)), Out: &out, Getenv: getenv(nil)}
	acts := a.Run(t.Context(), failing(), "", nil)
	readPID(t, pidFile)
	if acts[0].Status != Succeeded || acts[0].Attempts != 1 || acts[0].Error != "" {
		t.Errorf("got %+v, want one successful attempt", acts[0])
	}
	if b, _ := os.ReadFile(runs); string(b) != "run\n" {
		t.Errorf("the command ran %d times, want once", strings.Count(string(b), "run"))
	}
	if strings.Count(out.String(), "rollback: rolled back\n") != 1 {
		t.Errorf("output %q: want the line once", out.String())
	}
}

func TestAFinalLineOver64KiBWithoutNewlineIsKept(t *testing.T) {
	var out bytes.Buffer
	argv := []string{"sh", "-c", `echo first; head -c 100000 /dev/zero | tr '\0' x`}
	a := &Actions{Config: rollbackConfig(10*time.Second, 0, Command(argv)), Out: &out, Getenv: getenv(nil)}
	if acts := a.Run(t.Context(), failing(), "", nil); acts[0].Status != Succeeded {
		t.Fatalf("got %+v", acts[0])
	}
	want := "rollback: first\nrollback: " + strings.Repeat("x", 100000) + "\n"
	if out.String() != want {
		t.Errorf("output is %d bytes, want the two lines whole (%d bytes)", out.Len(), len(want))
	}
}

func TestAFailedCommandSaysItsLastOutputLine(t *testing.T) {
	argv := []string{"sh", "-c", `echo working; echo 'error: deployment "checkout" not found' >&2; exit 3`}
	a := &Actions{Config: rollbackConfig(10*time.Second, 0, Command(argv)), Out: io.Discard, Getenv: getenv(nil)}
	acts := a.Run(t.Context(), failing(), "", nil)
	if want := `sh: exit status 3 (last output: error: deployment "checkout" not found)`; acts[0].Error != want {
		t.Errorf("error %q, want %q", acts[0].Error, want)
	}
}
