package static

import (
	"context"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Config is a static provider's block: values inline, from a file, or
// both (inline values win, SLO by SLO).
type Config struct {
	Name   string            `yaml:"-"` // the provider's name
	File   string            `yaml:"file"`
	Values map[string]Series `yaml:"values"`
}

// Series holds recorded readings of one SLO, keyed by scope ("service",
// "canary", "baseline") and then by window.
type Series map[string]map[string]Value

// Value is one recorded reading: events, or a value for threshold SLIs.
type Value struct {
	Good   *float64 `yaml:"good" json:"good,omitempty"`
	Bad    *float64 `yaml:"bad" json:"bad,omitempty"`
	Total  *float64 `yaml:"total" json:"total,omitempty"`
	Value  *float64 `yaml:"value" json:"value,omitempty"`
	Slices []bool   `yaml:"slices" json:"slices,omitempty"` // timeslices: true = good slice, oldest first
}

// Backend registers the static type: values recorded in the config or a
// file, for demos, tests, and SLIs computed elsewhere.
func Backend() providers.Backend {
	return providers.Backend{
		Type: "static", Config: &Config{},
		Decode:  decode,
		Queries: slo.QueryRules{Recorded: true},
		Caps:    providers.Caps{NoHistory: "holds values per scope and window, with no time", LiveBaseline: ", values under baseline"},
	}
}

func decode(b *slo.Block) providers.Settings {
	var c Config
	b.Decode(&c)
	if c.File == "" && c.Values == nil {
		b.Problem("", "a static provider needs values or file")
	}
	providers.CheckFile(b, "file", &c.File, slo.MaxConfigSize)
	return &c
}

// New implements providers.Settings. With env.SLOs, values recorded for
// a name that none of the provider's SLOs has are an error.
func (c *Config) New(_ context.Context, name string, env providers.Env) (providers.Provider, error) {
	cfg := *c
	cfg.Name = name
	p, err := New(cfg, env.ConfigDir)
	if err != nil || env.SLOs == nil {
		return p, err
	}
	var names []string
	for _, s := range env.SLOs {
		if s.Provider == name {
			names = append(names, s.Name)
		}
	}
	if err := p.CheckNames(names); err != nil {
		return nil, err
	}
	return p, nil
}

// ResolveQuery implements providers.Settings: static values have no
// queries.
func (c *Config) ResolveQuery(query string, _ providers.Query) (string, error) { return query, nil }

// Scopes implements providers.Scoped: values are recorded per scope, not
// queried, so no scope has a query to check.
func (c *Config) Scopes([]providers.Scope) []providers.Scope { return nil }

// Key implements providers.Recorded: where problems with the values go.
func (c *Config) Key() string {
	if c.Values == nil && c.File != "" {
		return "file"
	}
	return "values"
}

// Redact implements providers.Settings: static values hold no secret.
func (c *Config) Redact(*redact.Redactor, providers.Env) {}
