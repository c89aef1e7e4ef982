//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sloguard/sloguard/app"
)

// TestFilesTheConfigNamesAreRefusedAtOnce: a FIFO named as a CA file used
// to hang check for good, deaf to SIGTERM, and /dev/zero as a secret file
// to die out of memory; validate called both valid. Every file a config
// names is now checked when the config loads: exit 2, naming the key at
// its line, before a byte is read.
func TestFilesTheConfigNamesAreRefusedAtOnce(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const prom = "providers:\n  - name: prom\n    type: prometheus\n    url: http://127.0.0.1:9\n"
	const slos = "slos:\n  - {name: web, objective: 99.9, window: 30d, provider: %s, sli: {good_query: 'sum(rate(ok[{{.window}}]))', total_query: 'sum(rate(all[{{.window}}]))'}}\n"
	const static = "slos:\n  - {name: web, objective: 99.9, window: 30d, provider: %s}\n"
	configs := map[string]struct{ yaml, key string }{
		"tls.ca_file":                    {prom + "    tls: {ca_file: %q}\n" + slos, "providers[0].tls.ca_file"},
		"tls.cert_file":                  {prom + "    tls: {cert_file: %q, key_file: key.pem}\n" + slos, "providers[0].tls.cert_file"},
		"basic_auth.password_file":       {prom + "    basic_auth: {username: sre, password_file: %q}\n" + slos, "providers[0].basic_auth.password_file"},
		"authorization.credentials_file": {prom + "    authorization: {credentials_file: %q}\n" + slos, "providers[0].authorization.credentials_file"},
		"oauth2.client_secret_file":      {prom + "    oauth2: {client_id: c, token_url: 'http://127.0.0.1:9/token', client_secret_file: %q}\n" + slos, "providers[0].oauth2.client_secret_file"},
		"static file":                    {"providers:\n  - name: prom\n    type: static\n    file: %q\n" + static, "providers[0].file"},
		"serve private_key_file":         {prom + slos + "serve:\n  github: {private_key_file: %q}\n", "serve.github.private_key_file"},
		"serve webhook_secret_file":      {prom + slos + "serve:\n  github: {webhook_secret_file: %q}\n", "serve.github.webhook_secret_file"},
	}
	for name, c := range configs {
		for what, path := range map[string]string{"a FIFO": fifo, "/dev/zero": "/dev/zero"} {
			t.Run(name+" is "+what, func(t *testing.T) {
				text := fmt.Sprintf(c.yaml, path, "prom")
				if strings.HasPrefix(name, "serve") {
					text = fmt.Sprintf(c.yaml, "prom", path)
				}
				cfg := filepath.Join(t.TempDir(), "sloguard.yaml")
				if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
				want := regexp.MustCompile(regexp.QuoteMeta(cfg) + `:\d+: ` + regexp.QuoteMeta(c.key) + `: ` + regexp.QuoteMeta(path) +
					`: not a regular file: it is a (named pipe \(FIFO\)|character device): name a regular file of at most `)
				argvs := [][]string{{"validate"}, {"validate", "--online"}, {"check"}, {"watch"}}
				if strings.HasPrefix(name, "serve") {
					argvs = [][]string{{"validate"}, {"serve", "--state", filepath.Join(t.TempDir(), "state.db")}}
				}
				for _, argv := range argvs {
					code, stderr := runGuarded(t, fifo, append(append([]string{"sloguard"}, argv...), "-c", cfg))
					if code != app.ExitUsage || !want.MatchString(stderr) {
						t.Errorf("%s: exit %d, stderr %q; want 2 and %s", strings.Join(argv, " "), code, stderr, want)
					}
				}
			})
		}
	}
}

// runGuarded runs the CLI, failing the test rather than hanging it should
// the run block on the FIFO.
func runGuarded(t *testing.T, fifo string, args []string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(t.Context(), args, &stdout, &stderr) }()
	select {
	case code := <-done:
		return code, stderr.String()
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("%s blocked", strings.Join(args, " "))
		return 0, ""
	}
}
