package prometheus

import (
	"context"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Config is a prometheus provider's block.
type Config struct {
	Name            string `yaml:"-"` // the provider's name
	URL             string `yaml:"url"`
	PartialResponse *bool  `yaml:"partial_response"` // Thanos: partial_response parameter when set
	httpconf.HTTP   `yaml:",inline"`
}

// TokenEnv names the bearer token of every prometheus provider that names
// no credentials of its own: what a CI service connection (the Azure
// DevOps task's metricsConnection) supplies beside --prometheus-url.
const TokenEnv = "SLOGUARD_PROMETHEUS_TOKEN"

// Backend registers the prometheus type: PromQL over the Prometheus HTTP
// API, which Thanos, Mimir, Cortex and VictoriaMetrics serve too.
func Backend() providers.Backend {
	return providers.Backend{
		Type: "prometheus", Config: &Config{},
		Decode:  decode,
		Queries: slo.QueryRules{Windowed: true},
		Caps:    providers.Caps{ScopesByLabels: true},
		OpenSLO: &slo.OpenSLOSource{
			Type: "Prometheus", Keys: [][2]string{{"url", "url"}, {"address", "url"}},
			Required: map[string]string{"url": "required: connectionDetails.url of the Prometheus DataSource, e.g. http://127.0.0.1:9090 (or pass --prometheus-url)"},
		},
		AmbientSecrets: []string{TokenEnv, "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
	}
}

// Default is the provider of a config that names none: the URL of
// --prometheus-url.
func Default(url string) *slo.DefaultProvider {
	if url == "" {
		return nil
	}
	return &slo.DefaultProvider{Type: "prometheus", Keys: map[string]string{"url": url}, Flag: "--prometheus-url"}
}

func decode(b *slo.Block) providers.Settings {
	var c Config
	b.Decode(&c)
	c.Transport.Check(b)
	c.Auth.Check(b)
	if c.URL == "" {
		b.Problem("url", "required for a prometheus provider, e.g. http://127.0.0.1:9090")
	}
	slo.CheckURL(b, "url", c.URL)
	return &c
}

// New implements providers.Settings.
func (c *Config) New(ctx context.Context, name string, env providers.Env) (providers.Provider, error) {
	cfg := *c
	cfg.Name = name
	return New(ctx, cfg, env)
}

// Redact implements providers.Settings.
func (c *Config) Redact(r *redact.Redactor, env providers.Env) {
	c.Auth.Redact(r, env)
	r.AddURL(c.URL)
}

// withToken gives a provider that names no credentials the token of
// TokenEnv, when it is set.
func (c Config) withToken(env providers.Env) Config {
	a := c.Auth
	if a.BearerTokenEnv == "" && a.BasicAuth == nil && a.Authorization == nil && a.OAuth2 == nil && a.SigV4 == nil &&
		a.Headers["Authorization"] == "" && env.Env(TokenEnv) != "" {
		c.BearerTokenEnv = TokenEnv
	}
	return c
}
