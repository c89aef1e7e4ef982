package rollback

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrefixWriterShowsLinesWholeUpToTheCap(t *testing.T) {
	var out bytes.Buffer
	p := &prefixWriter{w: &out, prefix: "> ", limit: 20}
	for _, chunk := range []string{"abc\nde", "f\n", strings.Repeat("y", 30), "\nlost\n", "tail"} {
		if n, err := p.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	p.Flush()
	want := "> abc\n> def\n> yyyyyyyyyyy\n> … 30 more bytes of output not shown (the first 20 are)\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out.String(), want)
	}
	if p.LastLine() != "tail" {
		t.Errorf("last line %q, want tail", p.LastLine())
	}
}
