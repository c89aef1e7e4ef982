package providers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/slo"
)

// Backend is one metrics backend type as its package describes itself:
// the type name the config uses, how to read its block, what it can do,
// and the secrets it may read on its own. providers/all lists every
// backend once; nothing else names one.
type Backend struct {
	Type string
	// Config is the backend's block type, for its keys (a pointer to a
	// zero value).
	Config any
	// Decode reads the provider's block (every key but name and type)
	// into the backend's settings, defaults applied, reporting every
	// problem on b with its line.
	Decode func(b *slo.Block) Settings
	// Queries says what the SLIs it reads must hold.
	Queries slo.QueryRules
	Caps    Caps
	// OpenSLO maps an OpenSLO DataSource onto it; nil: none does.
	OpenSLO *slo.OpenSLOSource
	// AmbientSecrets are environment variables it (or an SDK it uses)
	// reads on its own, whatever the config names: the redaction layer
	// knows their values from the start.
	AmbientSecrets []string
}

// Caps are what a backend can do, for the checks made before anything
// is read (validate, the start of a watch) and for the record's words.
type Caps struct {
	// ScopesByLabels: the canary and the baseline are label filters on
	// the same queries, so a canary without labels is the whole service.
	// Without it, each scope is a list of its own (scrape targets,
	// recorded values).
	ScopesByLabels bool
	// NoHistory says why it cannot read the past ("" when it can: a
	// baseline offset, and range reads for backtest), and LiveBaseline
	// where a live baseline goes instead, e.g. ", targets.baseline".
	NoHistory, LiveBaseline string
	// NeedsPriming: it must see its counters when a watch starts
	// (providers implementing Prime).
	NeedsPriming bool
}

// Settings are a provider's decoded block: what its backend is built
// from, and what can be told without building it.
type Settings interface {
	// New builds the backend. It does no I/O beyond reading files the
	// config names: a backend that is unreachable fails on its first
	// query. Errors name the provider and say what to set.
	New(ctx context.Context, name string, env Env) (Provider, error)
	// ResolveQuery returns query as the backend sends it for q (window
	// filled in, q.Scope applied) without sending anything or reading a
	// secret, or the error the backend would stop on.
	ResolveQuery(query string, q Query) (string, error)
	// Redact tells r every secret the provider reads (environment
	// variables, files, credential headers, URLs with credentials).
	Redact(r *redact.Redactor, env Env)
}

// Scoped is Settings whose backend reads only some of the scopes a watch
// asks for (scrape: the scopes it lists targets for); the others read
// every scope.
type Scoped interface {
	Scopes(watch []Scope) []Scope
}

// Recorded is Settings whose values are recorded in the config rather
// than queried: validate reads them as check does, and places what is
// wrong with them at Key (values, or the file they come from).
type Recorded interface {
	Key() string
}

// Env is what building a backend may read besides its config.
type Env struct {
	// Getenv reads the environment variables the config names for its
	// secrets; nil reads nothing.
	Getenv func(string) string
	// ConfigDir is the config file's directory, against which relative
	// paths (a static provider's file, a CA file) are resolved.
	ConfigDir string
	// Log receives the backends' warnings and debug logs; nil discards.
	Log *slog.Logger
	// Large bounds the large answers of every backend of the run together
	// (httpclient.Large); nil: each client bounds its own.
	Large *httpclient.Large
	// SLOs are the config's SLOs. When set, a static provider's values
	// recorded for a name that none of its SLOs has are an error: a
	// misspelt key would read as no data and pass under on_no_data: pass.
	SLOs []slo.SLO
}

// Env returns the variable's value ("" without Getenv).
func (e Env) Env(name string) string {
	if e.Getenv == nil || name == "" {
		return ""
	}
	return e.Getenv(name)
}

// Logger returns the log, or one that discards.
func (e Env) Logger() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// Backends is every registered backend, in the order the config
// reference lists them.
type Backends []Backend

// Lookup finds a backend by type.
func (bs Backends) Lookup(typ string) (Backend, bool) {
	for _, b := range bs {
		if b.Type == typ {
			return b, true
		}
	}
	return Backend{}, false
}

// Types are the backends as config loading needs them.
func (bs Backends) Types() []slo.ProviderType {
	out := make([]slo.ProviderType, len(bs))
	for i, b := range bs {
		decode := b.Decode
		out[i] = slo.ProviderType{
			Name: b.Type, Keys: slo.Keys(b.Config), Queries: b.Queries,
			NoHistory: b.Caps.NoHistory, LiveBaseline: b.Caps.LiveBaseline, OpenSLO: b.OpenSLO,
			Decode: func(bl *slo.Block) any { return decode(bl) },
		}
	}
	return out
}

// AmbientSecrets lists the variables every backend may read on its own.
func (bs Backends) AmbientSecrets() []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.AmbientSecrets...)
	}
	return out
}

// Caps returns the capabilities of a provider's backend.
func (bs Backends) Caps(p slo.Provider) Caps {
	b, _ := bs.Lookup(p.Type)
	return b.Caps
}

// New builds the backend of p; see Settings.New.
func (bs Backends) New(ctx context.Context, p slo.Provider, env Env) (Provider, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := bs.settings(p)
	if err != nil {
		return nil, err
	}
	return s.New(ctx, p.Name, env)
}

// ResolveQuery resolves query as p's backend sends it for q; see
// Settings.ResolveQuery.
func (bs Backends) ResolveQuery(p slo.Provider, query string, q Query) (string, error) {
	s, err := bs.settings(p)
	if err != nil {
		return "", err
	}
	return s.ResolveQuery(query, q)
}

func (bs Backends) settings(p slo.Provider) (Settings, error) {
	if _, ok := bs.Lookup(p.Type); !ok {
		names := make([]string, len(bs))
		for i, b := range bs {
			names[i] = b.Type
		}
		if p.Type == "" {
			return nil, fmt.Errorf("provider %q: type is empty: use one of %s", p.Name, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("provider %q: unknown type %q: use one of %s", p.Name, p.Type, strings.Join(names, ", "))
	}
	s, ok := p.Settings.(Settings)
	if !ok {
		return nil, fmt.Errorf("provider %q: its block was not decoded by the %s backend: load the config with every backend's types", p.Name, p.Type)
	}
	return s, nil
}
