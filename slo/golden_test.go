package slo_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestErrorsGolden loads every testdata/errors/<case>.yaml and compares the
// error's text with <case>.golden. Run with -update to rewrite them.
func TestErrorsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases in testdata/errors")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			// Sloth and OpenSLO files may name no backend: they get one
			// unless the case is about that.
			opts := slo.Options{Types: all.Backends().Types(), Actions: rollback.Types()}
			if strings.HasPrefix(name, "sloth_") || strings.HasPrefix(name, "openslo_") {
				if !strings.Contains(name, "no_backend") {
					opts.Default = prometheus.Default("http://127.0.0.1:9090")
				}
			}
			cfg, err := slo.Load(filepath.ToSlash(file), opts)
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			var ce *slo.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error is a %T, not a *ConfigError: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./slo/ -run TestErrorsGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("error text differs from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
