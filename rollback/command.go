package rollback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/report"
)

// MaxCommandOutput bounds how much of a rollback command's output is shown:
// every line up to it is shown whole (a final line without a newline too),
// the rest is counted.
const MaxCommandOutput = 1 << 20

// stopGrace is how long a timed-out command's process group has between
// SIGTERM and SIGKILL, and how long its output is awaited once the command
// itself has exited.
const stopGrace = 2 * time.Second

// command runs argv without a shell, in a process group of its own, with
// the decision in its environment, streaming its output line by line with
// a prefix. Success is its exit status: 0 is success even when a process it
// left in the background still holds its output open. At the timeout the
// whole group is stopped (SIGTERM, then SIGKILL), children included.
func (c Command) run(ctx context.Context, r *Run) error {
	argv, d, reportPath := []string(c), r.Decision, r.ReportPath
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	ownGroup(cmd)
	cmd.Cancel = func() error { return signalGroup(cmd.Process, false) }
	cmd.WaitDelay = stopGrace
	var failing []string
	for _, s := range d.SLOs {
		if s.Decision == report.Fail {
			failing = append(failing, s.Name)
		}
	}
	cmd.Env = append(os.Environ(),
		"SLOGUARD_DECISION="+d.Decision,
		"SLOGUARD_SLO="+strings.Join(failing, ","),
		"SLOGUARD_REASON="+d.Reason,
		"SLOGUARD_REPORT="+reportPath,
		"SLOGUARD_ROLLBACK_ID="+d.RollbackID,
	)
	pw := &prefixWriter{w: r.Out, prefix: "rollback: ", limit: MaxCommandOutput}
	cmd.Stdout, cmd.Stderr = pw, pw
	err := cmd.Run()
	pw.Flush()
	if st := cmd.ProcessState; st != nil && st.Success() {
		if errors.Is(err, exec.ErrWaitDelay) {
			r.Log.Warn("the rollback command exited 0, but a process it left running still holds its output: later output is not shown", "command", argv[0])
		}
		return nil
	}
	if ctx.Err() != nil {
		// SIGTERM went to the group at the deadline; whatever ignored it
		// goes now.
		_ = signalGroup(cmd.Process, true)
		return fmt.Errorf("%s: no exit within %s: stopped it and every process it started", argv[0], r.Timeout)
	}
	if last := pw.LastLine(); last != "" {
		return fmt.Errorf("%s: %w (last output: %s)", argv[0], err, last)
	}
	return fmt.Errorf("%s: %w", argv[0], err)
}

// prefixWriter prefixes every line written through it, up to limit bytes
// of output in all; it remembers the last non-blank line for the error.
type prefixWriter struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  string
	limit   int
	shown   int
	dropped int
	buf     bytes.Buffer
	last    string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		i := bytes.IndexByte(p.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := p.buf.Next(i + 1)
		p.emit(line[:len(line)-1])
	}
	if p.buf.Len() > 0 && p.buf.Len() >= p.limit-p.shown {
		// A line longer than what may still be shown: show what fits now
		// rather than hold it all.
		p.emit(p.buf.Next(p.buf.Len()))
	}
	return len(b), nil
}

// emit writes one line, whole while the limit allows, cut at it.
func (p *prefixWriter) emit(line []byte) {
	if s := bytes.TrimSpace(line); len(s) > 0 {
		p.last = string(s[:min(len(s), 4096)])
	}
	room := p.limit - p.shown - 1
	if room <= 0 {
		p.dropped += len(line) + 1
		return
	}
	if len(line) > room {
		p.dropped += len(line) - room
		line = line[:room]
	}
	p.shown += len(line) + 1
	fmt.Fprintf(p.w, "%s%s\n", p.prefix, line)
}

// Flush writes a final line without a newline, whole, and says how much
// output was left out.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len() > 0 {
		p.emit(p.buf.Next(p.buf.Len()))
	}
	if p.dropped > 0 {
		fmt.Fprintf(p.w, "%s… %d more bytes of output not shown (the first %d are)\n", p.prefix, p.dropped, p.limit)
		p.dropped = 0
	}
}

// LastLine is the last non-blank line of output, quoted for an error.
func (p *prefixWriter) LastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return redact.Excerpt([]byte(p.last))
}
