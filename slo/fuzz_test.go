package slo_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// FuzzParse feeds Parse arbitrary bytes: it never panics, fails only with a
// *ConfigError whose problems all say something, and whatever it accepts
// is a usable config. The seed corpus is in testdata/fuzz/FuzzParse, and
// every example and test file is added too.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"../examples/*/*.yaml", "testdata/*/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, files...)
	}
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		types := all.Backends().Types()
		for _, opts := range []slo.Options{{Types: types, Actions: rollback.Types()}, {Types: types, Actions: rollback.Types(), Default: prometheus.Default("http://127.0.0.1:9090")}} {
			cfg, err := slo.Parse("fuzz.yaml", data, opts)
			if err != nil {
				checkRefused(t, err)
				continue
			}
			checkAccepted(t, cfg)
		}
	})
}

// checkRefused checks that a refusal is a *ConfigError whose problems all
// say something about this file.
func checkRefused(t *testing.T, err error) {
	t.Helper()
	ce, ok := err.(*slo.ConfigError)
	if !ok {
		t.Fatalf("error %q is a %T, not a *ConfigError", err, err)
	}
	if len(ce.Problems) == 0 {
		t.Fatal("a ConfigError without problems")
	}
	for _, p := range ce.Problems {
		if p.Msg == "" {
			t.Fatalf("a problem without a message: %+v", p)
		}
		if p.File != "fuzz.yaml" {
			t.Fatalf("a problem of another file: %+v", p)
		}
	}
}

// checkAccepted checks that an accepted config is usable: every SLO with
// a budget, a window and a provider that exists, every burn alert sane.
func checkAccepted(t *testing.T, cfg *slo.Config) {
	t.Helper()
	if cfg == nil || len(cfg.SLOs) == 0 {
		t.Fatalf("accepted a config without SLOs: %+v", cfg)
	}
	for _, s := range cfg.SLOs {
		if math.IsNaN(s.Objective) || s.Objective <= 0 || s.Objective >= 100 {
			t.Fatalf("accepted SLO %q with objective %v", s.Name, s.Objective)
		}
		if s.Window <= 0 {
			t.Fatalf("accepted SLO %q with window %v", s.Name, s.Window)
		}
		if s.Name == "" || s.Provider == "" {
			t.Fatalf("accepted an SLO without name or provider: %+v", s)
		}
		if _, ok := cfg.ProviderByName(s.Provider); !ok {
			t.Fatalf("accepted SLO %q of an undefined provider %q", s.Name, s.Provider)
		}
		if s.Budgeting == slo.Timeslices && (s.Timeslice.Window <= 0 || s.Window%s.Timeslice.Window != 0) {
			t.Fatalf("accepted SLO %q with time slices of %v in %v", s.Name, s.Timeslice.Window, s.Window)
		}
		if b := s.Budget(); !(b > 0 && b < 1) {
			t.Fatalf("accepted SLO %q with a budget of %v", s.Name, b)
		}
	}
	for _, a := range cfg.Gate.BurnAlerts {
		if a.Short <= 0 || a.Short >= a.Long || !(a.Factor > 0) {
			t.Fatalf("accepted burn alert %+v", a)
		}
	}
}
