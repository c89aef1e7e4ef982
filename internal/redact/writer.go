package redact

import (
	"bytes"
	"io"
	"reflect"
	"sync"
)

// maxPending bounds a line held back for its end: past it the line is
// passed on in pieces, each redacted on its own.
const maxPending = 64 << 10

// Writer redacts what passes through it a line at a time, so that a secret
// that reaches it in two writes is still caught, then applies a filter to
// each line (the CI neutralisation of untrusted text, or nil). It is safe
// for concurrent use. Flush passes on a final line without a newline.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	r      *Redactor
	filter func(line string) string
	buf    []byte
}

// Writer wraps w. filter, when not nil, rewrites each redacted line
// (without its newline).
func (r *Redactor) Writer(w io.Writer, filter func(line string) string) *Writer {
	return &Writer{w: w, r: r, filter: filter}
}

// Write implements io.Writer. It reports len(p) written when the complete
// lines in p reached the underlying writer.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	var out bytes.Buffer
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		out.WriteString(w.line(w.buf[:i]))
		out.WriteByte('\n')
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxPending {
		out.WriteString(w.line(w.buf))
		w.buf = w.buf[:0]
	}
	w.buf = append([]byte(nil), w.buf...) // let go of what was written
	if out.Len() > 0 {
		if _, err := w.w.Write(out.Bytes()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Underlying is the writer w writes to: a terminal check looks through w.
func (w *Writer) Underlying() io.Writer { return w.w }

// Flush writes a pending final line, redacted, without adding a newline.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	s := w.line(w.buf)
	w.buf = nil
	_, err := io.WriteString(w.w, s)
	return err
}

func (w *Writer) line(b []byte) string {
	s := w.r.String(string(b))
	if w.filter != nil {
		s = w.filter(s)
	}
	return s
}

// Scrub redacts, in place, every string reachable from v (a pointer):
// struct fields, slices, map values. The decision record is scrubbed once,
// before any rendering, so that its JSON, markdown, job summary, CI
// outputs, webhook body and GitHub payloads all carry the same clean text.
func (r *Redactor) Scrub(v any) {
	r.scrub(reflect.ValueOf(v))
}

func (r *Redactor) scrub(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			r.scrub(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				r.scrub(f)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw bytes: not text this record holds
		}
		for i := range v.Len() {
			r.scrub(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			cp := reflect.New(v.Type().Elem()).Elem()
			cp.Set(v.MapIndex(k))
			r.scrub(cp)
			v.SetMapIndex(k, cp)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(r.String(v.String()))
		}
	}
}
