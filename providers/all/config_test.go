package all

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers/appinsights"
	"github.com/sloguard/sloguard/providers/datadog"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/slo"
)

// oneProvider is a valid config around one provider's block (indented
// under "  - "), with an SLO that reads it.
func oneProvider(block string) string {
	return "version: 1\nproviders:\n  - " + strings.ReplaceAll(strings.TrimSpace(block), "\n", "\n    ") + `
slos:
  - name: checkout-availability
    objective: 99.9
    sli:
      error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total[{{.window}}]))
`
}

var located = regexp.MustCompile(`(?m)^sloguard\.yaml(:\d+)?: `)

// problems loads data with every backend and returns its problems as
// "path: message", in file order.
func problems(t *testing.T, data string) (*slo.Config, []string) {
	t.Helper()
	cfg, err := slo.Parse("sloguard.yaml", []byte(data), slo.Options{Types: Backends().Types()})
	if err == nil {
		return cfg, nil
	}
	return nil, strings.Split(located.ReplaceAllString(err.Error(), ""), "\n")
}

func TestProviderBlockProblems(t *testing.T) {
	const prom = "name: prom\ntype: prometheus\nurl: http://127.0.0.1:9090\n"
	for name, tc := range map[string]struct {
		block string
		want  []string
	}{
		"a provider without a name": {
			"type: prometheus\nurl: http://127.0.0.1:9090",
			[]string{"providers[0].name: required: the name SLOs refer to with provider:, e.g. prom"},
		},
		"a provider without a type": {
			"name: prom\nurl: http://127.0.0.1:9090",
			[]string{"providers[0].type: required: one of prometheus, datadog, appinsights, scrape, static"},
		},
		"an unknown provider type": {
			"name: prom\ntype: graphite\nurl: http://127.0.0.1:9090",
			[]string{`providers[0].type: unknown provider type "graphite": use one of prometheus, datadog, appinsights, scrape, static`},
		},
		"a prometheus provider without url": {
			"name: prom\ntype: prometheus",
			[]string{"providers[0].url: required for a prometheus provider, e.g. http://127.0.0.1:9090"},
		},
		"a url that is not http": {
			"name: prom\ntype: prometheus\nurl: ftp://prom.example/api?token=s3cret",
			[]string{`providers[0].url: "ftp://prom.example/api" is not an http(s) URL`},
		},
		"a url with credentials": {
			"name: prom\ntype: prometheus\nurl: https://admin:hunter2@prom.example",
			[]string{"providers[0].url: must not carry credentials: use basic_auth with username_env and password_env"},
		},
		"a timeout that is not a duration": {
			prom + `timeout: "10"`,
			[]string{`providers[0].timeout: "10" is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30d or 5m`},
		},
		"retries above 10": {
			prom + "retries: 11",
			[]string{"providers[0].retries: must be between 0 and 10, got 11"},
		},
		"no concurrency": {
			prom + "max_concurrency: 0",
			[]string{"providers[0].max_concurrency: must be between 1 and 100, got 0"},
		},
		"a response limit below a kilobyte": {
			prom + "max_response_bytes: 100",
			[]string{"providers[0].max_response_bytes: must be at least 1024 (bytes), got 100; the default is 52428800 (50 MiB)"},
		},
		"a response limit on a static provider": {
			"name: prom\ntype: static\nvalues: {}\nmax_response_bytes: 4096",
			[]string{"providers[0].max_response_bytes: not used by a static provider: remove it"},
		},
		"a bearer token instead of its variable": {
			prom + "bearer_token_env: glpat-Abc123.secret",
			[]string{"providers[0].bearer_token_env: must name an environment variable (letters, digits and _), not hold the secret itself"},
		},
		"basic auth with a username only": {
			prom + "basic_auth: {username_env: PROM_USER}",
			[]string{"providers[0].basic_auth: needs both username_env and password_env"},
		},
		"bearer token and basic auth together": {
			prom + "bearer_token_env: PROM_TOKEN\nbasic_auth: {username_env: PROM_USER, password_env: PROM_PASSWORD}",
			[]string{"providers[0].bearer_token_env: use either bearer_token_env or basic_auth, not both"},
		},
		"two secrets held in place of their variables are reported in file order": {
			prom + `basic_auth: {username_env: "a b", password_env: "c d"}`,
			[]string{"providers[0].basic_auth.username_env: must name an environment variable (letters, digits and _), not hold the secret itself",
				"providers[0].basic_auth.password_env: must name an environment variable (letters, digits and _), not hold the secret itself"},
		},
		"keys of other provider types": {
			prom + "file: values.yaml\nsite: datadoghq.eu\ntargets: {}",
			[]string{"providers[0].file: not used by a prometheus provider: remove it",
				"providers[0].site: not used by a prometheus provider: remove it",
				"providers[0].targets: not used by a prometheus provider: remove it"},
		},
		"appinsights with neither app_id nor workspace_id": {
			"name: prom\ntype: appinsights",
			[]string{"providers[0].app_id: set exactly one of app_id (Application Insights) or workspace_id (Log Analytics)"},
		},
		"appinsights with an unknown auth": {
			"name: prom\ntype: appinsights\napp_id: a\nauth: password",
			[]string{`providers[0].auth: unknown auth "password": use one of default, environment, workload_identity, managed_identity, azure_cli, api_key`},
		},
		"appinsights api_key auth without its variable": {
			"name: prom\ntype: appinsights\napp_id: a\nauth: api_key",
			[]string{"providers[0].api_key_env: required with auth: api_key"},
		},
		"scrape without targets": {
			"name: prom\ntype: scrape",
			[]string{"providers[0].targets: required: the /metrics URLs per scope, e.g. {canary: [http://10.0.0.5:8080/metrics]}"},
		},
		"scrape with an unknown scope and a bad URL": {
			"name: prom\ntype: scrape\ntargets:\n  canary: [\"10.0.0.6:8080\"]\n  stable: [http://10.0.0.5/metrics]",
			[]string{`providers[0].targets.canary: "10.0.0.6:8080" is not an http(s) URL`,
				`providers[0].targets.stable: unknown scope "stable": use service, canary or baseline`},
		},
		"static without values or file": {
			"name: prom\ntype: static",
			[]string{"providers[0]: a static provider needs values or file"},
		},
		"static with an HTTP key": {
			"name: prom\ntype: static\nfile: v.yaml\ntimeout: 5s",
			[]string{"providers[0].timeout: not used by a static provider: remove it"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, got := problems(t, oneProvider(tc.block))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tc.want)
			}
			for _, p := range got {
				for _, secret := range []string{"hunter2", "s3cret", "glpat-Abc123.secret"} {
					if strings.Contains(p, secret) {
						t.Errorf("a problem echoes the secret %q: %s", secret, p)
					}
				}
			}
		})
	}
}

func TestProviderDefaults(t *testing.T) {
	cfg, got := problems(t, `version: 1
providers:
  - {name: dd, type: datadog}
  - {name: ai, type: appinsights, workspace_id: w}
  - name: prom
    type: prometheus
    url: http://p:9090
    timeout: 5s
    retries: 0
    max_concurrency: 4
    max_response_bytes: 8388608
    basic_auth: {username_env: U, password_env: P}
    tls: {ca_file: ca.pem, insecure_skip_verify: true}
slos:
  - name: a
    provider: prom
    objective: 99.9
    sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}
`)
	if len(got) > 0 {
		t.Fatalf("problems: %q", got)
	}
	defaults := httpconf.Transport{Timeout: slo.Duration(30 * time.Second), Retries: 3, MaxConcurrency: 10}
	wantDD := &datadog.Config{Site: "datadoghq.com", APIKeyEnv: "DD_API_KEY", AppKeyEnv: "DD_APP_KEY", Transport: defaults}
	wantAI := &appinsights.Config{WorkspaceID: "w", Auth: "default", Transport: defaults}
	wantProm := &prometheus.Config{URL: "http://p:9090", HTTP: httpconf.HTTP{
		Auth: httpconf.Auth{BasicAuth: &httpconf.BasicAuth{UsernameEnv: "U", PasswordEnv: "P"}},
		Transport: httpconf.Transport{Timeout: slo.Duration(5 * time.Second), Retries: 0, MaxConcurrency: 4, MaxResponseBytes: 8 << 20,
			TLS: &httpconf.TLS{CAFile: "ca.pem", InsecureSkipVerify: true}},
	}}
	for i, want := range []any{wantDD, wantAI, wantProm} {
		if got := cfg.Providers[i].Settings; !reflect.DeepEqual(got, want) {
			t.Errorf("provider %s\n got %+v\nwant %+v", cfg.Providers[i].Name, got, want)
		}
	}
	if p, ok := cfg.ProviderByName("ai"); !ok || p.Settings.(*appinsights.Config).WorkspaceID != "w" {
		t.Errorf(`ProviderByName("ai") = %+v, %v`, p, ok)
	}
	if _, ok := cfg.ProviderByName("nope"); ok {
		t.Error(`ProviderByName("nope") found a provider`)
	}
}

func TestOffsetBaselinesNeedABackendWithHistory(t *testing.T) {
	for name, tc := range map[string]struct {
		block string
		want  string
	}{
		"an offset on a scrape backend, which keeps no history": {
			"name: pods\ntype: scrape\ntargets: {canary: [http://10.0.0.5:8080/metrics]}",
			`canary.baseline.offset: slo "checkout-availability" reads provider "pods" (scrape), which scrapes its targets now and keeps no history: it cannot read the same queries 1h earlier; use a live baseline (canary.baseline.labels, targets.baseline) or a backend with history (prometheus, datadog, appinsights)`,
		},
		"an offset on static values, which have no time": {
			"name: recorded\ntype: static\nfile: values.yaml",
			`canary.baseline.offset: slo "checkout-availability" reads provider "recorded" (static), which holds values per scope and window, with no time: it cannot read the same queries 1h earlier; use a live baseline (canary.baseline.labels, values under baseline) or a backend with history (prometheus, datadog, appinsights)`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, got := problems(t, oneProvider(tc.block)+"canary:\n  baseline: {offset: 1h}\n")
			if !reflect.DeepEqual(got, []string{tc.want}) {
				t.Errorf("problems:\n got %q\nwant %q", got, []string{tc.want})
			}
		})
	}
}

func TestABadPrometheusURLNamesTheFlag(t *testing.T) {
	data := "version: prometheus/v1\nservice: checkout\nslos:\n  - name: a\n    objective: 99.9\n    sli: {events: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}}\n"
	_, err := slo.Parse("sloth.yaml", []byte(data), slo.Options{Types: Backends().Types(), Default: Default("ftp://prom.example?token=s3cret")})
	if err == nil || err.Error() != `sloth.yaml: --prometheus-url: "ftp://prom.example" is not an http(s) URL` {
		t.Errorf("err = %v, want the flag named and the URL without its token", err)
	}
}
