package app

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/all"
	"github.com/sloguard/sloguard/rollback"
	"github.com/sloguard/sloguard/slo"
)

// Load loads the config file at path, with every registered backend and
// rollback action (promURL is the backend of files that name none), and
// tells the redaction layer every secret it makes sloguard read before
// anything else happens.
func (d *App) Load(path, promURL string) (*slo.Config, error) {
	cfg, err := slo.Load(path, d.loadOptions(promURL))
	if err != nil {
		return nil, err
	}
	addSecrets(d, cfg)
	return cfg, nil
}

// Job is what one run reads: its config, the SLOs it judges, and the
// providers they read, built once.
type Job struct {
	Config    *slo.Config
	SLOs      []slo.SLO
	Providers map[string]providers.Provider
}

// Select picks cfg's SLOs named (all without names), lets check refuse
// them before anything is built (nil: none), and builds one provider per
// config entry that a picked SLO reads, so that an unused backend's
// missing secret is not an error.
func (d *App) Select(ctx context.Context, cfg *slo.Config, names []string, check func([]slo.SLO) error) (*Job, error) {
	slos, err := gate.Select(cfg.SLOs, names)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(slos); err != nil {
			return nil, err
		}
	}
	need := map[string]bool{}
	for _, s := range slos {
		need[s.Provider] = true
	}
	env := providerEnv(d, cfg, d.log)
	job := &Job{Config: cfg, SLOs: slos, Providers: map[string]providers.Provider{}}
	for _, pc := range cfg.Providers {
		if !need[pc.Name] {
			continue
		}
		p, err := d.backends.New(ctx, pc, env)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		job.Providers[pc.Name] = p
	}
	return job, nil
}

// providerEnv is what building a backend may read besides its config.
func providerEnv(d *App, cfg *slo.Config, log *slog.Logger) providers.Env {
	return providers.Env{Getenv: d.getenv, ConfigDir: filepath.Dir(cfg.Source), Log: log, SLOs: cfg.SLOs, Large: d.large}
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
// basic auth pairs, URLs, credential headers), and each rollback action's.
func addSecrets(d *App, cfg *slo.Config) {
	r := d.redact
	rollback.Redact(r, cfg.Rollback, d.getenv)
	env := providerEnv(d, cfg, nil)
	for _, p := range cfg.Providers {
		if s, ok := p.Settings.(providers.Settings); ok {
			s.Redact(r, env)
		}
	}
}

// loadOptions are what loading needs: every backend's types and every
// rollback action's kind, and the backend of files that name none.
func (d *App) loadOptions(promURL string) slo.Options {
	return slo.Options{Types: d.backends.Types(), Actions: rollback.Types(), Default: all.Default(promURL)}
}

// LoadOptions are the options config loading takes in every command:
// every registered backend and rollback action, and promURL (the
// --prometheus-url) as the backend of files that name none. Tools and
// tests that load a config as sloguard does use them.
func LoadOptions(promURL string) slo.Options {
	return slo.Options{Types: all.Backends().Types(), Actions: rollback.Types(), Default: all.Default(promURL)}
}

// SecretEnvs lists the environment variables cfg reads a secret from,
// each once: the variables its providers' backends and its rollback
// actions ask the redaction layer for. A deployment sets each from a
// secret store.
func SecretEnvs(cfg *slo.Config) []string {
	var names []string
	seen := map[string]bool{}
	record := func(n string) string {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
		return ""
	}
	r := redact.New()
	env := providers.Env{Getenv: record, ConfigDir: filepath.Dir(cfg.Source)}
	for _, p := range cfg.Providers {
		if s, ok := p.Settings.(providers.Settings); ok {
			s.Redact(r, env)
		}
	}
	rollback.Redact(r, cfg.Rollback, record)
	return names
}
