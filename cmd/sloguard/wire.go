package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/slo"
)

// loadConfig loads a config file with every backend's types; promURL is
// the backend of files that name none.
func loadConfig(d *deps, path, promURL string) (*slo.Config, error) {
	return slo.Load(path, slo.Options{Types: d.backends.Types(), Default: prometheus.Default(promURL)})
}

// newProviders builds one provider per config entry that an SLO in use
// names, so an unused backend's missing secret is not an error.
func newProviders(ctx context.Context, d *deps, cfg *slo.Config, used []slo.SLO, log *slog.Logger) (map[string]providers.Provider, error) {
	need := map[string]bool{}
	for _, s := range used {
		need[s.Provider] = true
	}
	env := providerEnv(d, cfg, log)
	out := map[string]providers.Provider{}
	for _, pc := range cfg.Providers {
		if !need[pc.Name] {
			continue
		}
		p, err := d.backends.New(ctx, pc, env)
		if err != nil {
			return nil, &exitError{Code: exitUsage, Err: err}
		}
		out[pc.Name] = p
	}
	return out, nil
}

// providerEnv is what building a backend may read besides its config.
func providerEnv(d *deps, cfg *slo.Config, log *slog.Logger) providers.Env {
	return providers.Env{Getenv: d.getenv, ConfigDir: filepath.Dir(cfg.Source), Log: log, SLOs: cfg.SLOs}
}

// ambientSecrets are credentials that CI systems and SDKs read from the
// environment on their own: redacted and masked too, whether the config
// names them or not. Each backend names its own.
func ambientSecrets(bs providers.Backends) []string {
	return append([]string{
		"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "SYSTEM_ACCESSTOKEN", "ACTIONS_RUNTIME_TOKEN",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_OIDCREQUESTURI",
	}, bs.AmbientSecrets()...)
}

// addSecrets tells the redactor every secret the config makes sloguard
// read: each provider's, as its backend knows them (variables, files,
// basic auth pairs, URLs, credential headers), and the rollback actions'.
func addSecrets(d *deps, cfg *slo.Config) {
	r := d.redact
	for _, n := range cfg.SecretEnvs() {
		r.Add(d.getenv(n))
	}
	env := providerEnv(d, cfg, nil)
	for _, p := range cfg.Providers {
		if s, ok := p.Settings.(providers.Settings); ok {
			s.Redact(r, env)
		}
	}
	if w := cfg.Rollback.Webhook; w != nil {
		r.AddURL(w.URL)
		for k, v := range w.Headers {
			if redact.SensitiveHeader(k) {
				r.Add(v)
			}
		}
	}
}
