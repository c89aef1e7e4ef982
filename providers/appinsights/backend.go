package appinsights

import (
	"context"
	"strings"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Config is an appinsights provider's block.
type Config struct {
	Name               string `yaml:"-"`            // the provider's name
	URL                string `yaml:"url"`          // the API root; default the public cloud's
	AppID              string `yaml:"app_id"`       // Application Insights
	WorkspaceID        string `yaml:"workspace_id"` // or Log Analytics
	Auth               string `yaml:"auth"`         // Entra ID credential, or api_key
	ClientID           string `yaml:"client_id"`    // user-assigned managed identity
	APIKeyEnv          string `yaml:"api_key_env"`
	httpconf.Transport `yaml:",inline"`
}

var auths = []string{"default", "environment", "workload_identity", "managed_identity", "azure_cli", "api_key"}

// Backend registers the appinsights type: KQL over the Application
// Insights or Log Analytics query API.
func Backend() providers.Backend {
	return providers.Backend{
		Type: "appinsights", Config: &Config{},
		Decode: decode,
		Caps:   providers.Caps{ScopesByLabels: true},
		// azidentity reads these on its own (auth: environment, default).
		AmbientSecrets: []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD"},
	}
}

func decode(b *slo.Block) providers.Settings {
	var c Config
	b.Decode(&c)
	c.Transport.Check(b)
	slo.CheckEnvName(b, "api_key_env", c.APIKeyEnv)
	slo.CheckURL(b, "url", c.URL)
	if (c.AppID == "") == (c.WorkspaceID == "") {
		b.Problem("app_id", "set exactly one of app_id (Application Insights) or workspace_id (Log Analytics)")
	}
	if c.Auth == "" {
		c.Auth = "default"
	}
	if !slo.Contains(auths, c.Auth) {
		b.Problem("auth", "unknown auth %q: use one of %s", c.Auth, strings.Join(auths, ", "))
	}
	if c.Auth == "api_key" && c.APIKeyEnv == "" {
		b.Problem("api_key_env", "required with auth: api_key")
	}
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
	r.Add(env.Env(c.APIKeyEnv))
	r.AddURL(c.URL)
}
