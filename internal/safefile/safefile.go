// Package safefile reads the small files a user points sloguard at (the
// config, a static provider's values, the TLS and secret files a config
// names) without the traps of os.ReadFile: a FIFO that blocks forever, a
// device such as /dev/zero that never ends.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular means the path is a FIFO, a device, a socket or a
// directory: nothing sloguard can read to its end.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means the file is larger than the caller's limit.
var ErrTooLarge = errors.New("file too large")

// MaxCredential bounds a file that holds a secret, a key, a certificate
// or a CA bundle: a system's whole bundle of public CAs is about 200 KiB.
const MaxCredential = 1 << 20

// Read reads a regular file of at most limit bytes. Anything else fails
// before a byte is read, so that a FIFO never blocks (opening one waits
// for a writer, and nothing interrupts that wait) and /dev/zero never
// fills memory.
func Read(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(fi, limit); err != nil {
		return nil, err
	}
	f, err := open(path) // never blocks, should a FIFO have been swapped in since
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil { // replaced since the Stat above?
		return nil, err
	}
	if err := regular(fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit { // it grew while we read
		return nil, fmt.Errorf("%w: more than %s", ErrTooLarge, Size(limit))
	}
	return data, nil
}

// Check says whether Read would read path, without opening it: a
// missing file is an error wrapping fs.ErrNotExist, which callers that
// check a path before the file is due (a secret mounted where sloguard
// runs, not where the config is validated) may let pass.
func Check(path string, limit int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return regular(fi, limit)
}

// Refused is the problem a config reports for a file it names that Read
// would refuse (no regular file, or over limit), saying what to do; nil
// for a file Read would read and for a missing one, which may exist only
// where sloguard runs (a mounted secret): reading it says so then.
func Refused(path string, limit int64) error {
	err := Check(path, limit)
	if errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("%s: %w: name a regular file of at most %s", path, err, Size(limit))
	}
	return nil
}

func regular(fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: it is %s", ErrNotRegular, kind(fi.Mode()))
	}
	if fi.Size() > limit {
		return fmt.Errorf("%w: %s, more than %s", ErrTooLarge, Size(fi.Size()), Size(limit))
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Size writes a byte count as people read it: 10 MiB, 1.5 KiB, 12 bytes.
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, u := float64(n), ""
	for _, name := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, u = v/unit, name
	}
	return fmt.Sprintf("%.3g %s", v, u)
}
