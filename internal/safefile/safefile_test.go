//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRefusesWhatIsNotARegularFileOfBoundedSize(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path    string
		want    error
		message string
	}{
		"a small regular file is read":       {small, nil, ""},
		"a FIFO is refused without blocking": {fifo, ErrNotRegular, "a named pipe (FIFO)"},
		"a device is refused":                {"/dev/zero", ErrNotRegular, "a character device"},
		"a directory is refused":             {dir, ErrNotRegular, "a directory"},
		"a file over the limit is refused":   {big, ErrTooLarge, "2 KiB, more than 1 KiB"},
		"a missing file is fs.ErrNotExist":   {filepath.Join(dir, "nope"), os.ErrNotExist, "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := Read(tc.path, 1024)
			if tc.want == nil {
				if err != nil || string(data) != "version: 1\n" {
					t.Fatalf("Read = %q, %v; want the file", data, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Read error %v; want %v naming %q", err, tc.want, tc.message)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{12: "12 bytes", 1536: "1.5 KiB", 10 << 20: "10 MiB", 3 << 30: "3 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// A FIFO swapped in between Read's Stat and its open must not block: the
// open itself never waits for a writer, and the Stat of the open file
// refuses it.
func TestOpenNeverWaitsForAWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := open(fifo) // os.Open would block here until a writer came
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := regular(fi, 1024); !errors.Is(err, ErrNotRegular) {
		t.Errorf("regular = %v, want ErrNotRegular", err)
	}
}

func TestCheckSaysWhatReadWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ok, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]error{ok: nil, "/dev/zero": ErrNotRegular, dir: ErrNotRegular, filepath.Join(dir, "nope"): os.ErrNotExist} {
		if err := Check(path, MaxCredential); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Errorf("Check(%s) = %v, want %v", path, err, want)
		}
	}
}
