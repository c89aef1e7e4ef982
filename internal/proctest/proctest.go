// Package proctest runs the real servers the tests talk to (Prometheus,
// VictoriaMetrics) as child processes: started with their output in a log
// file, stopped gracefully (SIGTERM, then SIGKILL), never outliving the
// test binary on Linux, and polled until ready with their log in every
// error.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is one running server.
type Process struct {
	Name string // for messages: prometheus, victoria-metrics

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	log    string
}

// Start runs bin with args, its output appended to logPath.
func Start(name, logPath, bin string, args ...string) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, exited: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// WaitFor polls cond every 50 ms until it holds, the process exits, or a
// minute passes: these servers give no other signal. The error says which,
// with cond's last error and the log.
func (p *Process) WaitFor(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		select {
		case <-p.exited:
			return &ExitError{Name: p.Name, What: what, Err: err, Log: p.Log()}
		case <-ctx.Done():
			return fmt.Errorf("%s not %s: %w (%v); its log: %s", p.Name, what, ctx.Err(), err, p.Log())
		case <-tick.C:
		}
	}
}

// ExitError is a process that exited before it was what WaitFor awaited.
type ExitError struct {
	Name, What string
	Err        error // cond's last error
	Log        string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s exited before %s: %v; its log: %s", e.Name, e.What, e.Err, e.Log)
}

// Stop ends the process: SIGTERM, then SIGKILL after 10 s.
func (p *Process) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return err
		}
		<-p.exited
		return fmt.Errorf("%s ignored SIGTERM for 10s and was killed", p.Name)
	}
}

// Kill ends the process at once (SIGKILL), as a crash would.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

// Log returns the end of the process's log, for messages.
func (p *Process) Log() string { return LogTail(p.log) }

// LogTail returns the end of a log file, for messages.
func LogTail(path string) string {
	b, _ := os.ReadFile(path)
	return Tail(b)
}

// Tail returns the end of a command's output, for messages.
func Tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = append([]byte("…"), b[len(b)-2000:]...)
	}
	return string(b)
}

// Get fetches url and returns the body (at most 1 MiB) and the status.
func Get(ctx context.Context, url string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), resp.StatusCode, err
}
