package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/registry"
	"github.com/sloguard/sloguard/slo"
)

// newProviders builds one provider per config entry that an SLO in use
// names, so an unused backend's missing secret is not an error.
func newProviders(ctx context.Context, cfg *slo.Config, used []slo.SLO, getenv func(string) string, log *slog.Logger) (map[string]providers.Provider, error) {
	need := map[string]bool{}
	for _, s := range used {
		need[s.Provider] = true
	}
	env := providerEnv(cfg, getenv, log)
	out := map[string]providers.Provider{}
	for _, pc := range cfg.Providers {
		if !need[pc.Name] {
			continue
		}
		pc = withPrometheusToken(pc, getenv)
		p, err := registry.New(ctx, pc, env)
		if err != nil {
			return nil, &exitError{Code: exitUsage, Err: err}
		}
		out[pc.Name] = p
	}
	return out, nil
}

// prometheusTokenEnv names the bearer token of every prometheus provider
// that names no credentials of its own: what a CI service connection (the
// Azure DevOps task's metricsConnection) supplies beside --prometheus-url.
const prometheusTokenEnv = "SLOGUARD_PROMETHEUS_TOKEN"

func withPrometheusToken(pc slo.Provider, getenv func(string) string) slo.Provider {
	if pc.Type == "prometheus" && pc.BearerTokenEnv == "" && pc.BasicAuthUserEnv == "" && pc.BasicAuthPasswordEnv == "" &&
		pc.Headers["Authorization"] == "" && getenv(prometheusTokenEnv) != "" {
		pc.BearerTokenEnv = prometheusTokenEnv
	}
	return pc
}

// providerEnv is what building a backend may read besides its config.
func providerEnv(cfg *slo.Config, getenv func(string) string, log *slog.Logger) registry.Env {
	return registry.Env{Getenv: getenv, ConfigDir: filepath.Dir(cfg.Source), Log: log, SLOs: cfg.SLOs}
}

// ambientSecrets are credentials that CI systems and SDKs read from the
// environment on their own: redacted and masked too, whether the config
// names them or not.
func ambientSecrets() []string {
	return []string{
		"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "SYSTEM_ACCESSTOKEN", "ACTIONS_RUNTIME_TOKEN", prometheusTokenEnv,
		"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_OIDCREQUESTURI",
		"DD_API_KEY", "DD_APP_KEY", "DD_APPLICATION_KEY",
	}
}

// addSecrets tells the redactor every secret the config makes sloguard
// read, with the pairs and URLs whose derived forms leak too: basic auth's
// base64 user:password, URL userinfo and token query parameters, and the
// values of credential headers written into the config.
func addSecrets(r *redact.Redactor, cfg *slo.Config, getenv func(string) string) {
	for _, n := range cfg.SecretEnvs() {
		r.Add(getenv(n))
	}
	headers := func(h map[string]string) {
		for k, v := range h {
			if redact.SensitiveHeader(k) {
				r.Add(v)
			}
		}
	}
	for _, p := range cfg.Providers {
		if p.BasicAuthUserEnv != "" || p.BasicAuthPasswordEnv != "" {
			r.AddBasicAuth(getenv(p.BasicAuthUserEnv), getenv(p.BasicAuthPasswordEnv))
		}
		r.AddURL(p.URL)
		for _, ts := range p.Targets {
			for _, t := range ts {
				r.AddURL(t)
			}
		}
		headers(p.Headers)
	}
	if w := cfg.Rollback.Webhook; w != nil {
		r.AddURL(w.URL)
		headers(w.Headers)
	}
}
