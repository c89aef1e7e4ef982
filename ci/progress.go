package ci

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Progress shows a watch's state: a block of lines redrawn in place on a
// terminal, one line per interval in CI logs (which are not worth
// redrawing).
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	drawn int // lines of the block on screen
}

// NewProgress writes to w; the live block is used only when w is a
// terminal and local is true.
func NewProgress(w io.Writer, local bool) *Progress {
	return &Progress{w: w, tty: local && IsTerminal(w)}
}

// IsTerminal reports whether w is a character device, or a writer that
// filters one (it says so with Underlying, as the redaction layer does).
func IsTerminal(w io.Writer) bool {
	for {
		u, ok := w.(interface{ Underlying() io.Writer })
		if !ok {
			break
		}
		w = u.Underlying()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Show prints the current state: lines[0] is a header, the rest details.
func (p *Progress) Show(lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		parts := make([]string, len(lines))
		for i, l := range lines {
			parts[i] = strings.TrimSpace(l)
		}
		fmt.Fprintln(p.w, strings.Join(parts, " | "))
		return
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn) // back to the top of the block
	}
	for _, l := range lines {
		b.WriteString("\x1b[2K") // clear the line, then draw it
		b.WriteString(l)
		b.WriteString("\n")
	}
	p.drawn = len(lines)
	io.WriteString(p.w, b.String())
}

// Done leaves the last block on screen.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawn = 0
}
