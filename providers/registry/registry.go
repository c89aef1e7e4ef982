// Package registry builds any metrics backend from its config with one
// call, so that the CLI never switches on provider types itself.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/appinsights"
	"github.com/sloguard/sloguard/providers/datadog"
	"github.com/sloguard/sloguard/providers/prometheus"
	"github.com/sloguard/sloguard/providers/scrape"
	"github.com/sloguard/sloguard/providers/static"
	"github.com/sloguard/sloguard/slo"
)

// Env is what building a backend may read besides its config.
type Env struct {
	// Getenv reads the environment variables the config names for its
	// secrets; nil reads the process environment.
	Getenv func(string) string
	// ConfigDir is the config file's directory, against which relative
	// paths (a static provider's file) are resolved.
	ConfigDir string
	// Log receives the backends' warnings and debug logs; nil discards.
	Log *slog.Logger
	// SLOs are the config's SLOs. When set, a static provider's values
	// recorded for a name that none of its SLOs has are an error: a
	// misspelt key would read as no data and pass under on_no_data: pass.
	SLOs []slo.SLO
}

// Types lists the provider types New builds.
var Types = []string{"prometheus", "datadog", "appinsights", "scrape", "static"}

// New builds the backend cfg describes. It does no I/O beyond reading a
// static provider's file: a backend that is unreachable fails on its first
// query, not here. Errors name the provider and say what to set.
func New(ctx context.Context, cfg slo.Provider, env Env) (providers.Provider, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Type {
	case "prometheus":
		return prometheus.New(cfg, getenv, log)
	case "datadog":
		return datadog.New(cfg, getenv, log)
	case "appinsights":
		return appinsights.New(cfg, getenv, log)
	case "scrape":
		return scrape.New(cfg, getenv, log)
	case "static":
		p, err := static.New(cfg, env.ConfigDir)
		if err != nil || env.SLOs == nil {
			return p, err
		}
		var names []string
		for _, s := range env.SLOs {
			if s.Provider == cfg.Name {
				names = append(names, s.Name)
			}
		}
		if err := p.CheckNames(names); err != nil {
			return nil, err
		}
		return p, nil
	case "":
		return nil, fmt.Errorf("provider %q: type is empty: use one of prometheus, datadog, appinsights, scrape, static", cfg.Name)
	}
	return nil, fmt.Errorf("provider %q: unknown type %q: use one of prometheus, datadog, appinsights, scrape, static", cfg.Name, cfg.Type)
}

// ResolveQuery returns query as the backend cfg describes sends it for q
// (window filled in, q.Scope's labels applied) without sending anything or
// reading a secret, or the error the backend would stop on: validate
// checks every query for every scope with it, so that what validate
// accepts is what check and watch send. A static provider has no queries.
func ResolveQuery(cfg slo.Provider, query string, q providers.Query) (string, error) {
	switch cfg.Type {
	case "prometheus":
		return prometheus.ResolveQuery(query, q)
	case "datadog":
		return datadog.ResolveQuery(query, q)
	case "appinsights":
		return appinsights.ResolveQuery(query, q)
	case "scrape":
		return scrape.ResolveQuery(cfg.Targets, query, q)
	}
	return query, nil
}
