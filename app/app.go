// Package app is sloguard's one run, whatever the command: it loads the
// config (every registered backend and rollback action reading its own
// block), selects the SLOs, builds their providers, runs the job (check,
// watch, rollback, backtest, validate, demo, serve), writes every output
// through the one redaction layer, and maps the outcome to an exit code.
// The commands (cmd/sloguard) only parse flags into its options, and the
// benchmarks run the same code.
package app

import (
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sloguard/sloguard/ci"
	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/all"
)

// App is what every command shares: the process's streams, environment
// and clock, the registered backends and rollback actions, and the one
// redaction layer, built once in main's run and handed to every command:
// no globals. The commands (cmd/sloguard) only parse flags into options;
// App loads the config, selects the SLOs, builds the providers, runs the
// job and writes every output.
//
// Every stream passes the one redaction layer: stdout and stderr carry
// sloguard's text, logs and untrusted text (backend bodies, rollback
// output), redacted and, in CI, neutralised so that no line becomes a
// workflow command; cmdOut and cmdErr carry the workflow commands sloguard
// itself writes, redacted; rawOut and rawErr only the mask commands, which
// must show the runner the secrets they hide.
type App struct {
	stdout, stderr io.Writer
	cmdOut, cmdErr io.Writer
	rawOut, rawErr io.Writer
	redact         *redact.Redactor
	getenv         func(string) string
	now            func() time.Time
	log            *slog.Logger
	flush          []*redact.Writer
	backends       providers.Backends
	// large bounds the large answers of every backend together, so that
	// memory stays bounded whatever the number of queries in flight.
	large *httpclient.Large
}

// New wraps the process's streams in the redaction layer. It knows the
// ambient CI credentials (and those every backend may read on its own)
// from the start; a command adds the config's secrets once it has loaded
// it (output.secure).
func New(stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) *App {
	r := redact.New()
	d := &App{rawOut: stdout, rawErr: stderr, redact: r, getenv: getenv, now: now, backends: all.Backends(), large: httpclient.NewLarge()}
	for _, n := range ambientSecrets(d.backends) {
		r.Add(getenv(n))
	}
	neutralize := ci.Neutralizer(getenv)
	out, errw := r.Writer(stdout, neutralize), r.Writer(stderr, neutralize)
	cmdOut, cmdErr := r.Writer(stdout, nil), r.Writer(stderr, nil)
	d.stdout, d.stderr, d.cmdOut, d.cmdErr = out, errw, cmdOut, cmdErr
	d.flush = []*redact.Writer{cmdOut, out, cmdErr, errw}
	d.log = newLogger(d.stderr, "warn")
	return d
}

// Close passes on what the writers hold back (a last line without a
// newline).
func (d *App) Close() {
	for _, w := range d.flush {
		_ = w.Flush()
	}
}

// Stdout is the redacted standard output: the product.
func (d *App) Stdout() io.Writer { return d.stdout }

// Stderr is the redacted standard error: logs, progress, messages.
func (d *App) Stderr() io.Writer { return d.stderr }

// Getenv reads the environment the run was given.
func (d *App) Getenv(name string) string { return d.getenv(name) }

// SetLogLevel logs at level on stderr from now on (warn for a level
// ParseLevel refuses).
func (d *App) SetLogLevel(level string) { d.log = newLogger(d.stderr, level) }

// ParseLevel reads the values --log-level takes.
func ParseLevel(level string) (slog.Level, bool) {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelWarn, false
}

// newLogger logs at level on w (warn for a level ParseLevel refuses).
func newLogger(w io.Writer, level string) *slog.Logger {
	l, _ := ParseLevel(level)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// Now is the run's clock.
func (d *App) Now() time.Time { return d.now() }
