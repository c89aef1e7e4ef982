package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/providers/static"
	"github.com/sloguard/sloguard/slo"
)

// newProviders builds one provider per config entry that an SLO in use
// names, so an unused backend's missing secret is not an error.
func newProviders(cfg *slo.Config, used []slo.SLO, getenv func(string) string, log *slog.Logger) (map[string]providers.Provider, error) {
	need := map[string]bool{}
	for _, s := range used {
		need[s.Provider] = true
	}
	out := map[string]providers.Provider{}
	for _, pc := range cfg.Providers {
		if !need[pc.Name] {
			continue
		}
		var (
			p   providers.Provider
			err error
		)
		switch pc.Type {
		case "prometheus":
			p, err = prometheus.New(pc, getenv, log)
		case "static":
			p, err = static.New(pc, filepath.Dir(cfg.Source))
		default:
			err = fmt.Errorf("provider %q: type %s is not available in this build", pc.Name, pc.Type)
		}
		if err != nil {
			return nil, &exitError{Code: exitUsage, Err: err}
		}
		out[pc.Name] = p
	}
	return out, nil
}

// secrets reads the values of every secret the config names, plus the
// tokens CI systems hand us, so that they can be masked before printing.
func secrets(cfg *slo.Config, getenv func(string) string) []string {
	names := append(cfg.SecretEnvs(), "GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "SYSTEM_ACCESSTOKEN")
	var vals []string
	seen := map[string]bool{}
	for _, n := range names {
		if v := getenv(n); v != "" && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	return vals
}
