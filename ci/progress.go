package ci

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Progress shows a watch's state: one line rewritten in place on a
// terminal, one line per interval in CI logs.
type Progress struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	last int // width of the line on screen
}

// NewProgress writes to w; the live line is used only when w is a
// terminal and local is true (CI logs are not terminals worth redrawing).
func NewProgress(w io.Writer, local bool) *Progress {
	return &Progress{w: w, tty: local && IsTerminal(w)}
}

// IsTerminal reports whether w is a character device.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Show prints the current state.
func (p *Progress) Show(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := ""
	if n := len([]rune(line)); n < p.last {
		pad = strings.Repeat(" ", p.last-n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.last = len([]rune(line))
}

// Done ends the live line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.last > 0 {
		fmt.Fprintln(p.w)
		p.last = 0
	}
}
