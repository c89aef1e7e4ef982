// Package ci speaks the languages of the pipelines sloguard runs in: GitHub
// Actions workflow commands and files, and Azure Pipelines logging
// commands. Outside CI it does nothing.
package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sloguard/sloguard/report"
)

// Platform is where sloguard runs.
type Platform interface {
	// Name is "github", "azure" or "local".
	Name() string
	// Mask tells the runner to hide these values in every log line. It is
	// called before anything else is printed.
	Mask(values []string)
	// Publish reports a decision: outputs, summary, annotations, result.
	// report is the path of the JSON record; markdown its rendering.
	Publish(d *report.Decision, reportPath string, markdown []byte) error
	// Run describes the run for the decision record (nil outside CI).
	Run() *report.RunInfo
	// Group and EndGroup fold log lines.
	Group(title string)
	EndGroup()
}

// Detect picks the platform from the environment the runner sets.
func Detect(getenv func(string) string, out io.Writer) Platform {
	return New(getenv, out, nil)
}

// New is Detect with the mask commands sent to masks (nil: out): they
// carry the secrets, so they bypass the redaction that out may apply.
func New(getenv func(string) string, out, masks io.Writer) Platform {
	switch PlatformName(getenv) {
	case "github":
		return &GitHub{Out: out, Getenv: getenv, Masks: masks}
	case "azure":
		return &Azure{Out: out, Getenv: getenv, Masks: masks}
	}
	return Local{}
}

// Local is a terminal or any other CI: nothing to publish beyond stdout.
type Local struct{}

// Name implements Platform.
func (Local) Name() string { return "local" }

// Mask implements Platform.
func (Local) Mask([]string) {}

// Publish implements Platform.
func (Local) Publish(*report.Decision, string, []byte) error { return nil }

// Run implements Platform.
func (Local) Run() *report.RunInfo { return nil }

// Group implements Platform.
func (Local) Group(string) {}

// EndGroup implements Platform.
func (Local) EndGroup() {}

// ReportPath is where the JSON record goes: --report if given, else the
// runner's temp dir, else the system's.
func ReportPath(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	dir := getenv("RUNNER_TEMP")
	if dir == "" {
		dir = getenv("AGENT_TEMPDIRECTORY")
	}
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, fmt.Sprintf("sloguard-%s.json", randomHex(6)))
}

// WriteFile writes data atomically: a temp file in the same directory,
// then a rename, so that a reader never sees half a record. Missing parent
// directories are created. The file is world-readable (0644): the GitHub
// Docker action runs as root, and later steps, which run as the runner's
// user, must be able to read the record.
//
// An existing target that is not a regular file (a directory, a device
// such as /dev/null, a FIFO) is refused: renaming over it as root would
// replace it.
func WriteFile(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("%s is a %s, not a regular file: give a file path", path, fileKind(fi.Mode()))
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".sloguard-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone already after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
