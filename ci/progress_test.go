package ci

import (
	"bytes"
	"io"
	"os"
	"testing"
)

type filter struct{ w io.Writer }

func (f filter) Write(b []byte) (int, error) { return f.w.Write(b) }
func (f filter) Underlying() io.Writer       { return f.w }

// The redaction layer wraps stderr: the live block must still know a
// terminal (any character device, /dev/null here) through it.
func TestIsTerminalLooksThroughFilters(t *testing.T) {
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if !IsTerminal(filter{filter{dev}}) {
		t.Error("a character device behind two filters is not seen")
	}
	if IsTerminal(filter{&bytes.Buffer{}}) || IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is taken for a terminal")
	}
}
