package all

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/appinsights"
	"github.com/sloguard/sloguard/providers/datadog"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/providers/scrape"
	"github.com/sloguard/sloguard/providers/static"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// config has one provider of every type, as the README's Backends section shows them.
const config = `version: 1
providers:
  - name: prom
    type: prometheus
    url: http://127.0.0.1:9090
    headers: {X-Scope-OrgID: team-a}
    partial_response: false
  - name: dd
    type: datadog
    site: datadoghq.eu
  - name: ai
    type: appinsights
    app_id: 6f1b2c3d-aaaa-bbbb-cccc-0123456789ab
    auth: api_key
    api_key_env: AI_API_KEY
  - name: la
    type: appinsights
    workspace_id: 0a1b2c3d-4e5f-6789-abcd-ef0123456789
    auth: managed_identity
    client_id: 00000000-1111-2222-3333-444444444444
  - name: pods
    type: scrape
    targets:
      canary: [http://10.0.0.5:8080/metrics]
      baseline: [http://10.0.0.6:8080/metrics, http://10.0.0.7:8080/metrics]
  - name: recorded
    type: static
    file: values.yaml
slos:
  - name: prom-availability
    provider: prom
    objective: 99.9
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total[{{.window}}]))
  - name: dd-availability
    provider: dd
    objective: 99.9
    sli:
      error_query: sum:trace.http.request.errors{service:checkout}.as_count()
      total_query: sum:trace.http.request.hits{service:checkout}.as_count()
  - name: dd-slo-object
    provider: dd
    objective: 99.9
    sli: {datadog_slo_id: e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6}
  - name: ai-availability
    provider: ai
    objective: 99.5
    sli:
      error_query: requests | where success == false | summarize sum(itemCount)
      total_query: requests | summarize sum(itemCount)
  - name: la-availability
    provider: la
    objective: 99.5
    sli:
      error_query: AppRequests | where Success == false | summarize sum(ItemCount)
      total_query: AppRequests | summarize sum(ItemCount)
  - name: pods-availability
    provider: pods
    objective: 99
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total[{{.window}}]))
  - name: recorded-availability
    provider: recorded
    objective: 99.9
`

func TestNewBuildsEveryType(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("recorded-availability:\n  service:\n    30d: {total: 1000, bad: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := slo.Parse(filepath.Join(dir, "sloguard.yaml"), []byte(config), slo.Options{Types: Backends().Types()})
	if err != nil {
		t.Fatalf("the documented config does not load: %v", err)
	}
	env := providers.Env{
		Getenv: func(k string) string {
			return map[string]string{"DD_API_KEY": "a", "DD_APP_KEY": "b", "AI_API_KEY": "c"}[k]
		},
		ConfigDir: dir,
	}
	want := map[string]string{
		"prom": "*prometheus.Provider", "dd": "*datadog.Provider", "ai": "*appinsights.Provider", "la": "*appinsights.Provider",
		"pods": "*scrape.Provider", "recorded": "*static.Provider",
	}
	for _, pc := range cfg.Providers {
		p, err := Backends().New(t.Context(), pc, env)
		if err != nil {
			t.Errorf("provider %s: %v", pc.Name, err)
			continue
		}
		var got string
		switch p.(type) {
		case *prometheus.Provider:
			got = "*prometheus.Provider"
		case *datadog.Provider:
			got = "*datadog.Provider"
		case *appinsights.Provider:
			got = "*appinsights.Provider"
		case *scrape.Provider:
			got = "*scrape.Provider"
		case *static.Provider:
			got = "*static.Provider"
		}
		if got != want[pc.Name] {
			t.Errorf("provider %s built a %s, want %s", pc.Name, got, want[pc.Name])
		}
		checkCaps(t, pc.Type, p)
	}
	for _, s := range cfg.SLOs {
		if s.Name == "dd-slo-object" && s.SLI.DatadogSLOID != "e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6" {
			t.Errorf("datadog_slo_id not loaded: %+v", s.SLI)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := map[string]struct {
		block string
		typ   string // a type no backend has, in place of the block's
		ctx   func() context.Context
		msg   string
	}{
		"an unknown type names the types there are": {
			typ: "graphite", msg: `provider "x": unknown type "graphite": use one of prometheus, datadog, appinsights, scrape, static`,
		},
		"a missing Datadog key names its variable": {
			block: "name: dd\ntype: datadog", msg: `provider "dd": environment variable DD_API_KEY (api_key_env) and DD_APP_KEY (app_key_env) is empty`,
		},
		"a missing static file says which": {
			block: "name: st\ntype: static\nfile: nope.yaml", msg: "nope.yaml: no such file",
		},
		"scrape without targets says what to list": {
			typ: "scrape", msg: "targets is empty",
		},
		"a cancelled context builds nothing": {
			block: "name: p\ntype: prometheus\nurl: http://127.0.0.1:9090",
			ctx:   func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx },
			msg:   "context canceled",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			pc := slo.Provider{Name: "x", Type: tc.typ}
			if tc.typ == "scrape" { // validation refuses it; New must too
				pc = slo.Provider{Name: "sc", Type: "scrape", Settings: &scrape.Config{}}
			}
			if tc.block != "" {
				cfg, err := slo.Parse("sloguard.yaml", []byte(oneProvider(tc.block)), slo.Options{Types: Backends().Types()})
				if err != nil {
					t.Fatal(err)
				}
				pc = cfg.Providers[0]
			}
			_, err := Backends().New(ctx, pc, providers.Env{Getenv: func(string) string { return "" }, ConfigDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want it to say %q", err, tc.msg)
			}
		})
	}
}

// TestDocumentedExamples loads every config example of the README's
// Backends section and builds its providers, and parses every complete
// config the README shows: the README must not show a config that fails.
func TestDocumentedExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo-values.yaml"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, b := range strings.Split(string(readme), "```yaml\n")[1:] {
		yaml := strings.SplitN(b, "```", 2)[0]
		if !strings.HasPrefix(yaml, "version: 1\n") && !strings.HasPrefix(yaml, "# sloguard.yaml\nversion: 1\n") {
			continue
		}
		if _, err := slo.Parse(filepath.Join(dir, "sloguard.yaml"), []byte(yaml), slo.Options{Types: Backends().Types(), Actions: rollback.Types()}); err != nil {
			t.Errorf("README yaml block %d does not load: %v\n%s", i+1, err, yaml)
		}
	}
	_, section, ok := strings.Cut(string(readme), "\n## Backends\n")
	if !ok {
		t.Fatal("the README has no Backends section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := strings.Split(section, "```yaml\n")[1:]
	if len(blocks) != 5 {
		t.Fatalf("%d yaml examples, want one per backend (5)", len(blocks))
	}
	env := providers.Env{Getenv: func(string) string { return "set" }, ConfigDir: dir}
	for i, b := range blocks {
		yaml := "version: 1\n" + strings.SplitN(b, "```", 2)[0]
		cfg, err := slo.Parse(filepath.Join(dir, "sloguard.yaml"), []byte(yaml), slo.Options{Types: Backends().Types(), Actions: rollback.Types()})
		if err != nil {
			t.Errorf("example %d does not load: %v\n%s", i+1, err, yaml)
			continue
		}
		for _, pc := range cfg.Providers {
			if _, err := Backends().New(t.Context(), pc, env); err != nil {
				t.Errorf("example %d: provider %s: %v", i+1, pc.Name, err)
			}
		}
	}
}

// checkCaps checks that what a backend declares it can do is what its
// provider does: the checks made before anything is read trust the
// declaration, the engine the provider.
func checkCaps(t *testing.T, typ string, p providers.Provider) {
	t.Helper()
	b, _ := Backends().Lookup(typ)
	_, primes := p.(interface {
		Prime(ctx context.Context, at time.Time) error
	})
	if primes != b.Caps.NeedsPriming {
		t.Errorf("%s: NeedsPriming %v, but Prime implemented: %v", typ, b.Caps.NeedsPriming, primes)
	}
	_, presentOnly := p.(providers.PresentOnly)
	if presentOnly != (b.Caps.NoHistory != "") {
		t.Errorf("%s: NoHistory %q, but PresentOnly implemented: %v", typ, b.Caps.NoHistory, presentOnly)
	}
	_, inFlight := p.(providers.InFlight)
	if inFlight == (typ == "static") {
		t.Errorf("%s: bounds its queries in flight: %v", typ, inFlight)
	}
}

// TestHTTPClientExamplesLoad loads the README's HTTP client examples: the
// keys it documents are the keys the backends take.
func TestHTTPClientExamplesLoad(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## HTTP client: authentication, TLS, proxy\n")
	if !ok {
		t.Fatal("the README has no HTTP client section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := strings.Split(section, "```yaml\n")[1:]
	if len(blocks) != 1 {
		t.Fatalf("%d yaml examples, want 1", len(blocks))
	}
	data := "version: 1\n" + strings.SplitN(blocks[0], "```", 2)[0] +
		"slos:\n  - {name: a, provider: mimir, objective: 99, sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}}\n"
	cfg, err := slo.Parse("sloguard.yaml", []byte(data), slo.Options{Types: Backends().Types()})
	if err != nil {
		t.Fatalf("the HTTP client examples do not load: %v", err)
	}
	if len(cfg.Providers) != 4 {
		t.Errorf("%d providers, want the 4 of the examples", len(cfg.Providers))
	}
}
