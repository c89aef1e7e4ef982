package scrape

import (
	"context"
	"maps"
	"net/url"
	"slices"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Config is a scrape provider's block.
type Config struct {
	Name          string              `yaml:"-"` // the provider's name
	Targets       map[string][]string `yaml:"targets"`
	httpconf.HTTP `yaml:",inline"`
}

// Backend registers the scrape type: no metrics server, sloguard scrapes
// the targets' /metrics itself.
func Backend() providers.Backend {
	return providers.Backend{
		Type: "scrape", Config: &Config{},
		Decode:  decode,
		Queries: slo.QueryRules{Windowed: true},
		Caps: providers.Caps{NoHistory: "scrapes its targets now and keeps no history", LiveBaseline: ", targets.baseline",
			NeedsPriming: true},
	}
}

var scopeNames = []string{providers.ScopeService, providers.ScopeCanary, providers.ScopeBaseline}

func decode(b *slo.Block) providers.Settings {
	var c Config
	b.Decode(&c)
	c.Transport.Check(b)
	c.Auth.Check(b)
	if len(c.Targets) == 0 {
		b.Problem("targets", "required: the /metrics URLs per scope, e.g. {canary: [http://10.0.0.5:8080/metrics]}")
	}
	for _, scope := range slices.Sorted(maps.Keys(c.Targets)) {
		if !slo.Contains(scopeNames, scope) {
			b.Problem("targets."+scope, "unknown scope %q: use service, canary or baseline", scope)
		}
		for _, t := range c.Targets[scope] {
			if u, err := url.Parse(t); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				b.Problem("targets."+scope, "%q is not an http(s) URL", slo.RedactURL(t))
			}
		}
	}
	return &c
}

// New implements providers.Settings.
func (c *Config) New(ctx context.Context, name string, env providers.Env) (providers.Provider, error) {
	cfg := *c
	cfg.Name = name
	return New(ctx, cfg, env)
}

// Scopes implements providers.Scoped: the scopes it lists targets for (a
// config for check alone needs none).
func (c *Config) Scopes(watch []providers.Scope) []providers.Scope {
	var out []providers.Scope
	for _, sc := range watch {
		if _, listed := c.Targets[sc.Name]; listed {
			out = append(out, sc)
		}
	}
	return out
}

// Redact implements providers.Settings.
func (c *Config) Redact(r *redact.Redactor, env providers.Env) {
	c.Auth.Redact(r, env)
	for _, ts := range c.Targets {
		for _, t := range ts {
			r.AddURL(t)
		}
	}
}
