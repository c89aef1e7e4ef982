package datadog

import (
	"context"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Config is a datadog provider's block.
type Config struct {
	Name               string `yaml:"-"`   // the provider's name
	URL                string `yaml:"url"` // the API root; default https://api.<site>
	Site               string `yaml:"site"`
	APIKeyEnv          string `yaml:"api_key_env"`
	AppKeyEnv          string `yaml:"app_key_env"`
	httpconf.Transport `yaml:",inline"`
}

// Backend registers the datadog type: metrics queries, or an SLO
// object's error budget.
func Backend() providers.Backend {
	return providers.Backend{
		Type: "datadog", Config: &Config{},
		Decode:  decode,
		Queries: slo.QueryRules{SLOObject: true},
		Caps:    providers.Caps{ScopesByLabels: true},
		OpenSLO: &slo.OpenSLOSource{Type: "Datadog", Keys: [][2]string{{"site", "site"}}},
		// Datadog's own tools read the keys from these on their own.
		AmbientSecrets: []string{DefaultAPIKeyEnv, DefaultAppKeyEnv, "DD_APPLICATION_KEY"},
	}
}

func decode(b *slo.Block) providers.Settings {
	var c Config
	b.Decode(&c)
	c.Transport.Check(b)
	slo.CheckEnvName(b, "api_key_env", c.APIKeyEnv)
	slo.CheckEnvName(b, "app_key_env", c.AppKeyEnv)
	slo.CheckURL(b, "url", c.URL)
	c.defaults()
	return &c
}

func (c *Config) defaults() {
	if c.Site == "" {
		c.Site = "datadoghq.com"
	}
	if c.APIKeyEnv == "" {
		c.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.AppKeyEnv == "" {
		c.AppKeyEnv = DefaultAppKeyEnv
	}
}

// New implements providers.Settings.
func (c *Config) New(ctx context.Context, name string, env providers.Env) (providers.Provider, error) {
	cfg := *c
	cfg.Name = name
	return New(ctx, cfg, env)
}

// Redact implements providers.Settings.
func (c *Config) Redact(r *redact.Redactor, env providers.Env) {
	r.Add(env.Env(c.APIKeyEnv), env.Env(c.AppKeyEnv))
	r.AddURL(c.URL)
}
