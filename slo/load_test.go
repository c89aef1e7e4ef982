package slo

import (
	"errors"
	"reflect"
	"testing"
)

func TestLoadFileProblems(t *testing.T) {
	for name, tc := range map[string]struct{ path, want string }{
		"a file that does not exist": {"testdata/missing.yaml", "testdata/missing.yaml: no such file: create it (see README, Config) or pass -c PATH"},
		"a directory":                {"testdata", "testdata: cannot read the file: not a regular file: it is a directory: pass the path of a config file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.path, withTypes(Options{}))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is a %T, not a *ConfigError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestLoadExample(t *testing.T) {
	cfg, err := Load("../examples/static/sloguard.yaml", withTypes(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Format != FormatNative || cfg.Source != "../examples/static/sloguard.yaml" {
		t.Errorf("format %q, source %q", cfg.Format, cfg.Source)
	}
	var names []string
	for _, s := range cfg.SLOs {
		names = append(names, s.Name)
		if s.Provider != "recorded" || s.Window != 30*day {
			t.Errorf("%s: provider %q, window %v", s.Name, s.Provider, s.Window)
		}
	}
	if want := []string{"checkout-availability", "checkout-latency", "search-availability"}; !reflect.DeepEqual(names, want) {
		t.Errorf("SLOs %q, want %q", names, want)
	}
	if cfg.Gate.MinBudgetRemaining != 10 {
		t.Errorf("min_budget_remaining %v, want 10", cfg.Gate.MinBudgetRemaining)
	}
}

func TestParseDetectsTheFormat(t *testing.T) {
	for name, tc := range map[string]struct{ data, want string }{
		"a sloguard file by its version": {"version: 1\nslos: []\n", "f.yaml:2: slos: no SLOs: add at least one under slos"},
		"a sloguard file by its slos alone": {"slos:\n  - name: a\n", "f.yaml: providers: no provider to query: add one under providers (or pass --prometheus-url)\n" +
			"f.yaml:2: slos[0].objective: required: the target in percent, e.g. 99.9\n" +
			"f.yaml:2: slos[0].sli: required: error_query or good_query with total_query, error_ratio_query, or query with op and value"},
		"a Sloth file of another version":    {"service: x\nversion: prometheus/v2\n", `f.yaml:2: version: "prometheus/v2" is not supported: sloguard reads Sloth's prometheus/v1`},
		"an OpenSLO file of another version": {"apiVersion: openslo/v2alpha\n", `f.yaml:1: apiVersion: "openslo/v2alpha" is not supported: sloguard reads openslo/v1`},
		"a Kubernetes manifest":              {"apiVersion: apps/v1\nkind: Deployment\n", `f.yaml:1: apiVersion: unknown format: expected a sloguard file (version: 1), an OpenSLO file (apiVersion: openslo/v1) or a Sloth file (version: prometheus/v1), got apiVersion "apps/v1"`},
		"a single value":                     {"sloguard\n", "f.yaml:1: unknown format: expected a sloguard file (version: 1), an OpenSLO file (apiVersion: openslo/v1) or a Sloth file (version: prometheus/v1); the top level of this file is a single value, not a mapping of keys"},
		"a null document":                    {"~\n", "f.yaml: the file is empty: it needs version: 1 and a list of slos"},
		"a version that is a string":         {"version: \"2\"\nslos: []\n", "f.yaml:1: version: \"2\" is not supported: use version: 1\nf.yaml:2: slos: no SLOs: add at least one under slos"},
		"a version that is a list":           {"version: [1]\nslos: []\n", "f.yaml:1: version: must be 1, the version of sloguard's format\nf.yaml:2: slos: no SLOs: add at least one under slos"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.data), withTypes(Options{}))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestYAMLFeaturesLoad(t *testing.T) {
	data := `version: 1
providers:
  - name: prom
    type: prometheus
    url: http://127.0.0.1:9090
slos:
  - &availability
    name: checkout-availability
    objective: 99.9
    sli:
      error_query: 'sum(rate(errors_total[{{.window}}]))'
      total_query: "sum(rate(requests_total[{{ .window }}]))"
  - <<: *availability
    name: search-availability
    objective: 99.5
---
`
	cfg, err := Parse("f.yaml", []byte(data), withTypes(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SLOs) != 2 || cfg.SLOs[1].Objective != 99.5 || cfg.SLOs[1].SLI != cfg.SLOs[0].SLI {
		t.Errorf("anchors and merge keys: %+v", cfg.SLOs)
	}
}

func TestUnknownKeySuggestions(t *testing.T) {
	for name, tc := range map[string]struct{ key, typ, want string }{
		"one letter missing":        {"eror_query", "slo.rawSLI", `unknown key "eror_query": did you mean error_query?`},
		"two letters swapped":       {"objetcive", "slo.rawSLO", `unknown key "objetcive": did you mean objective?`},
		"camel case of a snake key": {"errorQuery", "slo.rawSLI", `unknown key "errorQuery": did you mean error_query?`},
		"a short key far from any":  {"id", "slo.rawTimeslice", `unknown key "id": use one of window, target`},
		"an upper-case key":         {"Window", "slo.rawSLO", `unknown key "Window": did you mean window?`},
		"a type without a key list": {"x", "map[string]string", `unknown key "x"`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := unknownKeyMsg(tc.key, tc.typ); got != tc.want {
				t.Errorf("unknownKeyMsg(%q, %q)\n got %s\nwant %s", tc.key, tc.typ, got, tc.want)
			}
		})
	}
}

// A native file whose values are wrong still yields what could be built
// of it, with the flawed parts marked, so that validate checks the rest in
// the same run; a file of another format does not.
func TestPartialConfigMarksItsFlawedParts(t *testing.T) {
	native := "version: 1\nproviders:\n  - {name: prom, type: prometheus, url: \"http://x\"}\n" +
		"slos:\n  - name: a\n    objective: 99\n    window: 3x\n    sli:\n      error_query: 'e[{{.window}}]'\n      total_query: 't[{{.window}}]'\n" +
		"canary:\n  canary: {labels: {track: canary}}\n  baseline: {labels: {track: \"\"}}\n"
	_, err := Parse("f.yaml", []byte(native), withTypes(Options{}))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Partial == nil {
		t.Fatalf("error %v: no partial config", err)
	}
	p := ce.Partial
	if p.Source != "f.yaml" || p.Format != FormatNative || len(p.SLOs) != 1 || p.SLOs[0].SLI.TotalQuery != "t[{{.window}}]" {
		t.Errorf("partial config: source %q, format %q, SLOs %+v", p.Source, p.Format, p.SLOs)
	}
	for path, want := range map[string]bool{
		"slos[0].window":                   true,
		"slos[0]":                          true, // a problem under it
		"canary.baseline":                  true,
		"canary.baseline.labels.track":     true,
		"canary.canary":                    false,
		"slos[0].sli.error_query":          false,
		"providers[0]":                     false,
		"canary.baseline_labels_elsewhere": false,
	} {
		if got := p.Flawed(path); got != want {
			t.Errorf("Flawed(%q) = %v, want %v", path, got, want)
		}
	}

	openslo := "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec: {}\n"
	if _, err := Parse("o.yaml", []byte(openslo), withTypes(Options{})); !errors.As(err, &ce) || ce.Partial != nil {
		t.Errorf("OpenSLO file: error %v, partial %v: want a *ConfigError without a partial config", err, ce != nil && ce.Partial != nil)
	}
}
