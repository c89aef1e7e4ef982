// Package preflight checks a config against what the backends will do
// with it, before anything is evaluated. `validate` runs it, and `watch`
// runs it before it waits for the canary, so that a broken query or a
// misspelt metric stops a release at once, not after the canary is
// deployed and the watch's first interval has passed.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sloguard/sloguard/gate"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/rollout"
	"github.com/sloguard/sloguard/slo"
)

// field is one query of an SLI and its key under sli.
type field struct{ key, query string }

// fields lists an SLI's queries in the order a config writes them.
func fields(s slo.SLI) []field {
	var out []field
	for _, f := range []field{
		{"error_query", s.ErrorQuery}, {"good_query", s.GoodQuery}, {"total_query", s.TotalQuery},
		{"error_ratio_query", s.ErrorRatioQuery}, {"query", s.Query},
	} {
		if f.query != "" {
			out = append(out, f)
		}
	}
	return out
}

// Scopes lists the scopes watch reads s in, as rollout.Scopes builds them:
// the canary (the whole service without canary labels) and, when
// configured, the baseline (live, or from the past with an offset). None
// for an SLO watch cannot judge (a raw error ratio, a Datadog SLO object);
// a backend that reads only some scopes (providers.Scoped: scrape's target
// lists, static's recorded values) says which.
func Scopes(cfg *slo.Config, s slo.SLO) []providers.Scope {
	p, ok := cfg.ProviderByName(s.Provider)
	if !ok || s.SLI.Kind() == slo.KindRatio {
		return nil
	}
	all := rollout.Scopes(cfg.Canary)
	if sc, ok := p.Settings.(providers.Scoped); ok {
		return sc.Scopes(all)
	}
	return all
}

// Offline checks every query of slos as check and watch send it: parsed
// and windowed for the service, and scoped to the canary and the baseline
// with the very functions the backends scope with (a query that already
// selects a scope label is an error there, not after the canary is
// deployed). It reads static providers' values as check reads them. It
// sends nothing and reads no secret. Every problem comes back at once in a
// *slo.ConfigError, each with its file, line and field. cfg may be a
// partial config (slo.ConfigError.Partial): its flawed parts are left
// alone, the rest is checked.
func Offline(ctx context.Context, cfg *slo.Config, slos []slo.SLO, bs providers.Backends, env providers.Env) error {
	var ps []slo.Problem
	seen := map[slo.Problem]bool{}
	add := func(p slo.Problem) {
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	for _, s := range slos {
		pc, ok := cfg.ProviderByName(s.Provider)
		if !ok {
			continue // Load reported it
		}
		base := sliPath(cfg, s)
		at := strings.TrimSuffix(base, ".sli")
		if cfg.Flawed(at+".window") || cfg.Flawed(at+".provider") || cfg.Flawed(providerPath(cfg, pc.Name)) {
			continue
		}
		for _, f := range fields(s.SLI) {
			if cfg.Flawed(base + "." + f.key) {
				continue
			}
			for _, sc := range append([]providers.Scope{{Name: providers.ScopeService}}, Scopes(cfg, s)...) {
				if sc.Name != providers.ScopeService && (cfg.Flawed("canary."+sc.Name) || cfg.Flawed("canary.duration")) {
					continue
				}
				window := s.Window
				if sc.Name != providers.ScopeService {
					window = cfg.Canary.Duration
				}
				q := providers.Query{SLO: s.Name, SLI: s.SLI, Scope: sc, Window: window}
				_, err := bs.ResolveQuery(pc, f.query, q)
				var se *providers.ScopeError
				switch {
				case err == nil:
					continue
				case errors.As(err, &se):
					add(cfg.Problem(fmt.Sprintf("canary.%s.labels.%s", se.Scope, se.Label), "%s (provider %q, type %s)", se.Msg, pc.Name, pc.Type))
					continue
				case sc.Name == providers.ScopeService:
					add(cfg.Problem(base+"."+f.key, "%s", reason(err)))
				default:
					add(cfg.Problem(base+"."+f.key, "scoped to the %s as watch reads it: %s", sc.Name, reason(err)))
				}
				break // one problem per query: the others would repeat it
			}
		}
	}
	ps = append(ps, recordedValues(ctx, cfg, slos, bs, env)...)
	return cfg.Errors(ps)
}

// recordedValues builds the providers slos use whose values are recorded
// in the config (static: no secrets, only their values) and reads each
// SLO through check, so that validate rejects what check rejects: values
// for an SLO that does not exist, a value where events are expected,
// slices of the wrong count.
func recordedValues(ctx context.Context, cfg *slo.Config, slos []slo.SLO, bs providers.Backends, env providers.Env) []slo.Problem {
	env.SLOs = nil // names are checked below, with the values' shapes
	var ps []slo.Problem
	provs := map[string]providers.Provider{}
	where := map[string]string{} // provider name -> path of its values
	for j, pc := range cfg.Providers {
		rec, ok := pc.Settings.(providers.Recorded)
		if !ok || len(names(slos, pc.Name)) == 0 || cfg.Flawed(fmt.Sprintf("providers[%d]", j)) {
			continue
		}
		where[pc.Name] = fmt.Sprintf("providers[%d].%s", j, rec.Key())
		prefix := fmt.Sprintf("provider %q: ", pc.Name)
		p, err := bs.New(ctx, pc, env)
		if err == nil {
			provs[pc.Name] = p
			if nc, ok := p.(interface{ CheckNames([]string) error }); ok {
				err = nc.CheckNames(names(cfg.SLOs, pc.Name))
			}
		}
		if err != nil {
			for _, e := range split(err) {
				ps = append(ps, staticProblem(cfg, where[pc.Name], strings.TrimPrefix(e.Error(), prefix)))
			}
		}
	}
	for _, s := range slos {
		if provs[s.Provider] == nil || cfg.Flawed(strings.TrimSuffix(sliPath(cfg, s), ".sli")) || cfg.Flawed("gate") {
			continue
		}
		_, err := gate.Check(ctx, cfg, provs, gate.Options{SLOs: []string{s.Name}, At: time.Unix(0, 0).UTC()})
		var qe *providers.QueryError
		if errors.As(err, &qe) {
			ps = append(ps, staticProblem(cfg, where[s.Provider], qe.Query+": "+reason(qe.Err)))
		} else if err != nil {
			ps = append(ps, cfg.Problem(sliPath(cfg, s), "%s", reason(err)))
		}
	}
	return ps
}

// staticProblem places a static provider's problem "values.web.service.30d:
// …" at that value when the values are inline, else at the file.
func staticProblem(cfg *slo.Config, where, msg string) slo.Problem {
	if key, rest, ok := strings.Cut(msg, ": "); ok && strings.HasSuffix(where, ".values") && strings.HasPrefix(key, "values.") {
		return cfg.Problem(where+strings.TrimPrefix(key, "values"), "%s", rest)
	}
	return cfg.Problem(where, "%s", msg)
}

// names lists the SLOs that read provider.
func names(slos []slo.SLO, provider string) []string {
	var out []string
	for _, s := range slos {
		if s.Provider == provider {
			out = append(out, s.Name)
		}
	}
	return out
}

// split lists the errors an errors.Join holds, or err alone.
func split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// providerPath is where a provider sits in the config, as a native path.
func providerPath(cfg *slo.Config, name string) string {
	for j, p := range cfg.Providers {
		if p.Name == name {
			return fmt.Sprintf("providers[%d]", j)
		}
	}
	return "providers"
}

// sliPath is where an SLO's SLI sits in the config, as a native path.
func sliPath(cfg *slo.Config, s slo.SLO) string {
	for i, c := range cfg.SLOs {
		if c.Name == s.Name {
			return fmt.Sprintf("slos[%d].sli", i)
		}
	}
	return "slos"
}

// reason is an error's message without the "bad query: " every backend
// puts first: in a list of config problems, that goes without saying.
func reason(err error) string {
	msg := err.Error()
	var qe *providers.QueryError
	if errors.As(err, &qe) {
		msg = qe.Err.Error()
	}
	return strings.TrimPrefix(msg, providers.ErrBadQuery.Error()+": ")
}
