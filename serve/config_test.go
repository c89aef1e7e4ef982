package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/slo"
)

const configHead = `version: 1
providers:
  - {name: prom, type: prometheus, url: http://127.0.0.1:9090}
slos:
  - name: checkout
    objective: 99.9
    sli:
      error_query: sum(rate(e[{{.window}}]))
      total_query: sum(rate(t[{{.window}}]))
  - name: search
    objective: 99
    sli:
      error_ratio_query: sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))
`

func parseServe(t *testing.T, block string) (*Config, error) {
	t.Helper()
	cfg, err := slo.Parse("sloguard.yaml", []byte(configHead+block), slo.Options{Types: all.Backends().Types()})
	if err != nil {
		t.Fatalf("the rest of the config must load: %v", err)
	}
	return ParseConfig(cfg)
}

func TestTheServeBlockIsValidatedWithFileAndLine(t *testing.T) {
	cases := map[string]struct{ block, want string }{
		"a misspelt key": {`serve:
  enviroments: []
`, `sloguard.yaml:15: serve.enviroments: unknown key "enviroments": did you mean environments?`},
		"an unknown SLO": {`serve:
  github: {}
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [checkout, chekout]
`, `sloguard.yaml:18: serve.environments[0].slos[1]: no SLO named "chekout" in the config; it has checkout, search`},
		"a ratio SLO under a watch": {`serve:
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [search]
      policy: check_then_watch
`, `sloguard.yaml:17: serve.environments[0].slos[0]: slo "search" has a ratio SLI, which a watch cannot judge: write it as error_query (or good_query) with total_query, or use policy: check`},
		"an unknown policy": {`serve:
  environments:
    - github: {repository: acme/shop, environment: production}
      policy: watch
`, `sloguard.yaml:17: serve.environments[0].policy: "watch": use check (the error budget gate) or check_then_watch (the gate, then a watch of the canary)`},
		"a watch longer than max_watch": {`serve:
  max_watch: 30m
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [checkout]
      policy: check_then_watch
      watch: 1h
`, `sloguard.yaml:20: serve.environments[0].watch: 1h is longer than serve.max_watch (30m)`},
		"a watch longer than the baseline's offset": {`canary:
  duration: 5m
  baseline: {offset: 5m}
serve:
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [checkout]
      policy: check_then_watch
      watch: 10m
`, `sloguard.yaml:22: serve.environments[0].watch: 10m is longer than canary.baseline.offset (5m): the baseline would overlap the period after the deploy`},
		"a watch under policy check": {`serve:
  environments:
    - github: {repository: acme/shop, environment: production}
      watch: 10m
`, `sloguard.yaml:17: serve.environments[0].watch: a watch window needs policy: check_then_watch`},
		"an entry naming no platform": {`serve:
  environments:
    - slos: [checkout]
`, `sloguard.yaml:16: serve.environments[0]: name a github: {repository, environment} and/or an azure: {project, environment}`},
		"a repository that is not owner/repo": {`serve:
  environments:
    - github: {repository: shop, environment: production}
`, `sloguard.yaml:16: serve.environments[0].github.repository: "shop": want owner/repo, e.g. acme/shop or acme/*`},
		"azure without allowed_orgs": {`serve:
  environments:
    - azure: {project: shop, environment: production}
`, `sloguard.yaml:16: serve.environments[0].azure: Azure DevOps environments need serve.azure.allowed_orgs: the organisations sloguard may call back`},
		"an allowed org that is not a URL": {`serve:
  azure:
    allowed_orgs: [acme]
`, `sloguard.yaml:16: serve.azure.allowed_orgs[0]: "acme": not an organisation URL such as https://dev.azure.com/acme`},
		"a secret in place of a variable name": {`serve:
  github:
    webhook_secret_env: "s3cr3t-value!"
`, `sloguard.yaml:16: serve.github.webhook_secret_env: "s3cr3t-value!" is not an environment variable name: name the variable that holds the secret, never the secret itself`},
		"both the key variable and the key file": {`serve:
  github:
    private_key_env: KEY
    private_key_file: /etc/sloguard/key.pem
`, `sloguard.yaml:17: serve.github.private_key_file: set private_key_env or private_key_file, not both`},
		"default is neither": {`serve:
  default: deny
`, `sloguard.yaml:15: serve.default: "deny": use approve (deployments sloguard has no SLOs for go through, with a comment saying so) or reject`},
		"an api_url that is not a URL": {`serve:
  github:
    api_url: api.github.com
`, `sloguard.yaml:16: serve.github.api_url: "api.github.com" is not an API root such as https://api.github.com or https://ghe.example/api/v3`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseServe(t, tc.block)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func TestEveryProblemOfTheBlockIsReportedAtOnce(t *testing.T) {
	_, err := parseServe(t, `serve:
  default: deny
  max_watch: soon
  environments:
    - github: {repository: acme/shop, environment: production}
      slos: [nope]
`)
	ce, ok := err.(*slo.ConfigError)
	if !ok || len(ce.Problems) != 3 {
		t.Fatalf("error %v, want a ConfigError with 3 problems", err)
	}
}

func TestDefaultsAndMatching(t *testing.T) {
	c, err := parseServe(t, `serve:
  azure:
    allowed_orgs: [https://DEV.azure.com/Acme/]
  environments:
    - github: {repository: acme/*, environment: prod*}
      slos: [checkout]
      policy: check_then_watch
    - azure: {project: shop, environment: production}
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Default != DefaultApprove || c.MaxWatch != time.Hour || c.GitHub == nil || c.GitHub.APIURL != "https://api.github.com" || c.GitHub.WebhookSecretEnv != "GITHUB_WEBHOOK_SECRET" {
		t.Errorf("defaults = %+v / %+v, want approve, 1h, and the GitHub App on with its default variables", c, c.GitHub)
	}
	if c.Azure.AllowedOrgs[0] != "https://dev.azure.com/acme" || c.Azure.UsernameEnv != "SLOGUARD_AZURE_USERNAME" {
		t.Errorf("azure = %+v, want the org normalised (lower case, no trailing slash)", c.Azure)
	}
	if e, ok := c.MatchGitHub("Acme/Shop", "Production"); !ok || e.Watch != 10*time.Minute || e.Policy != PolicyCheckThenWatch {
		t.Errorf("MatchGitHub = %+v %v, want the glob entry, any case, with canary.duration as the window", e, ok)
	}
	if _, ok := c.MatchGitHub("acme/shop/x", "production"); ok {
		t.Error("a glob must not match across a slash")
	}
	if e, ok := c.MatchAzure("SHOP", "production"); !ok || e.Policy != PolicyCheck || len(e.SLOs) != 0 {
		t.Errorf("MatchAzure = %+v %v, want check over every SLO", e, ok)
	}
	if _, ok := c.MatchAzure("shop", "staging"); ok {
		t.Error("staging must not match")
	}
}

func TestAConfigWithoutTheBlockServesTheDefaults(t *testing.T) {
	c, err := parseServe(t, "")
	if err != nil || c.GitHub != nil || c.Azure != nil || len(c.Environments) != 0 || c.Default != DefaultApprove {
		t.Fatalf("config %+v err %v, want nothing configured", c, err)
	}
}

func TestThePayloadNamesTheWatch(t *testing.T) {
	cases := map[string]struct {
		payload string
		want    request
		err     string
	}{
		"an object":             {`{"sloguard": {"watch": "10m", "since": "2026-11-23T17:00:00Z"}}`, request{Watch: "10m", Since: "2026-11-23T17:00:00Z"}, ""},
		"a string holding one":  {`"{\"sloguard\": {\"watch\": \"5m\"}}"`, request{Watch: "5m"}, ""},
		"someone else's":        {`{"deploy": {"region": "eu"}}`, request{}, ""},
		"empty":                 {`""`, request{}, ""},
		"nothing":               {``, request{}, ""},
		"a typo in sloguard's":  {`{"sloguard": {"wacth": "5m"}}`, request{}, `unknown field "wacth"`},
		"a number for a window": {`{"sloguard": {"watch": 600}}`, request{}, "cannot unmarshal number"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := fromPayload([]byte(tc.payload))
			if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("fromPayload = %+v, %v; want %+v, %q", got, err, tc.want, tc.err)
			}
		})
	}
}
