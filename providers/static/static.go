// Package static answers SLI queries from recorded values: for demos,
// tests, and teams whose SLIs are computed elsewhere.
package static

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/internal/suggest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Provider serves values keyed by SLO name, scope and window.
type Provider struct {
	name   string
	values map[string]Series
}

// New builds a provider from inline values and/or a YAML or JSON file
// (relative to the config file's directory); inline values win, SLO by
// SLO. Window keys are durations (30d, 720h: the same window); every
// problem is reported, sorted.
func New(cfg Config, configDir string) (*Provider, error) {
	raw := map[string]Series{}
	if cfg.File != "" {
		path := cfg.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(configDir, path)
		}
		data, err := safefile.Read(path, slo.MaxConfigSize)
		if err != nil {
			return nil, fmt.Errorf("provider %q: file %s: %w", cfg.Name, path, unwrapPath(err))
		}
		dec := yaml.NewDecoder(bytes.NewReader(data)) // YAML is a superset of JSON
		dec.KnownFields(true)
		if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("provider %q: file %s: %v", cfg.Name, path, err)
		}
	}
	for k, v := range cfg.Values {
		raw[k] = v
	}
	values := make(map[string]Series, len(raw))
	var problems []string
	for name, series := range raw {
		values[name] = Series{}
		for scope, windows := range series {
			if !slices.Contains(scopes, scope) {
				problems = append(problems, fmt.Sprintf("values.%s.%s: unknown scope: use %s", name, scope, strings.Join(scopes, ", ")))
				continue
			}
			values[name][scope] = map[string]Value{}
			for w, v := range windows {
				d, err := slo.ParseDuration(w)
				if err != nil {
					problems = append(problems, fmt.Sprintf("values.%s.%s.%s: %v", name, scope, w, err))
					continue
				}
				key := slo.FormatDuration(d)
				if _, dup := values[name][scope][key]; dup {
					problems = append(problems, fmt.Sprintf("values.%s.%s.%s: the window %s is given twice", name, scope, w, key))
				}
				if err := check(v); err != nil {
					problems = append(problems, fmt.Sprintf("values.%s.%s.%s: %v", name, scope, w, err))
				}
				values[name][scope][key] = v
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		errs := make([]error, len(problems))
		for i, pr := range problems {
			errs[i] = fmt.Errorf("provider %q: %s", cfg.Name, pr)
		}
		return nil, errors.Join(errs...)
	}
	return &Provider{name: cfg.Name, values: values}, nil
}

// unwrapPath drops the operation and path that *fs.PathError adds: the
// message names the file already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var scopes = []string{providers.ScopeService, providers.ScopeCanary, providers.ScopeBaseline}

func check(v Value) error {
	set := 0
	for _, b := range []bool{v.Total != nil, v.Value != nil, v.Slices != nil} {
		if b {
			set++
		}
	}
	for _, f := range []*float64{v.Good, v.Bad, v.Total, v.Value} {
		if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
			return fmt.Errorf("values must be finite numbers")
		}
	}
	switch {
	case set != 1:
		return fmt.Errorf("give one of total (with good or bad), value, or slices")
	case v.Total == nil && (v.Good != nil || v.Bad != nil):
		return fmt.Errorf("good and bad go with total, not with value or slices")
	case v.Total != nil && (v.Good == nil) == (v.Bad == nil):
		return fmt.Errorf("give good or bad with total")
	case v.Total != nil && *v.Total < 0:
		return fmt.Errorf("total must not be negative")
	case v.Good != nil && (*v.Good < 0 || *v.Good > *v.Total), v.Bad != nil && (*v.Bad < 0 || *v.Bad > *v.Total):
		return fmt.Errorf("good and bad must be between 0 and total")
	case v.Slices != nil && len(v.Slices) == 0:
		return fmt.Errorf("slices must not be empty")
	}
	return nil
}

func (p *Provider) lookup(q providers.Query, window time.Duration) (Value, string, error) {
	scope := q.Scope.Name
	if scope == "" {
		scope = providers.ScopeService
	}
	key := fmt.Sprintf("values.%s.%s.%s", q.SLO, scope, slo.FormatDuration(window))
	v, ok := p.values[q.SLO][scope][slo.FormatDuration(window)]
	if !ok {
		return v, key, &providers.QueryError{Provider: p.name, Query: key, Err: providers.ErrNotRecorded}
	}
	return v, key, nil
}

// Counts implements providers.Provider.
func (p *Provider) Counts(_ context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	v, key, err := p.lookup(q, q.Window)
	c := providers.Counts{Start: at.Add(-q.Window), End: at, Resolved: []string{key}}
	if q.Scope.Offset != 0 {
		return c, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery(
			"static values are recorded per scope and window, with no time: they cannot be read %s earlier; record the baseline's values under baseline and use a live baseline", slo.FormatDuration(q.Scope.Offset))}
	}
	if err != nil {
		return c, err
	}
	threshold := q.SLI.Kind() == slo.KindThreshold
	switch {
	case v.Value != nil && !threshold:
		return c, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("holds a value, but the SLI counts events: record total with good or bad")}
	case v.Total != nil && threshold:
		return c, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("holds events, but the SLI is a threshold (op, value): record value")}
	case v.Value != nil:
		c.Value, c.Total = *v.Value, 1
	case v.Total != nil:
		c.Total = *v.Total
		if v.Good != nil {
			c.Good = *v.Good
		} else {
			c.Good = *v.Total - *v.Bad
		}
	default:
		return c, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("holds slices, not a reading over the window")}
	}
	return c, nil
}

// Slices implements providers.Provider: the recorded slices of the range's
// length, newest last; true is a good slice.
func (p *Provider) Slices(_ context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if r.Step <= 0 { // before the lookup: a bad step is a bad query, recorded or not
		_, key, _ := p.lookup(q, r.End.Sub(r.Start))
		return nil, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("slice step must be longer than zero, got %s", r.Step)}
	}
	v, key, err := p.lookup(q, r.End.Sub(r.Start))
	if err != nil {
		return nil, err
	}
	if v.Slices == nil {
		return nil, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("holds a reading over the window, not slices")}
	}
	n := int(r.End.Sub(r.Start) / r.Step)
	if len(v.Slices) != n {
		return nil, &providers.QueryError{Provider: p.name, Query: key, Err: providers.BadQuery("holds %d slices, want %d (%s / %s)", len(v.Slices), n, slo.FormatDuration(r.End.Sub(r.Start)), slo.FormatDuration(r.Step))}
	}
	out := r.Grid()
	for i, good := range v.Slices {
		c := out[i]
		c.Total, c.Resolved = 1, []string{key}
		if good {
			c.Good = 1
			if q.SLI.Kind() == slo.KindThreshold {
				c.Value = passing(q.SLI)
			}
		} else if q.SLI.Kind() == slo.KindThreshold {
			c.Value = failing(q.SLI)
		}
		out[i] = c
	}
	return out, nil
}

// passing and failing return a value on either side of a threshold, so
// recorded good/bad slices read back right through SLI.Good.
func passing(s slo.SLI) float64 {
	if strings.HasPrefix(s.Op, "<") {
		return s.Value - 1
	}
	return s.Value + 1
}

func failing(s slo.SLI) float64 {
	if strings.HasPrefix(s.Op, "<") {
		return s.Value + 1
	}
	return s.Value - 1
}

// CheckNames rejects values recorded for a name that none of slos (the
// SLOs this provider answers for) has: a misspelt key would otherwise read
// as "no data" and let a gate through under on_no_data: pass.
func (p *Provider) CheckNames(slos []string) error {
	known := map[string]bool{}
	for _, n := range slos {
		known[n] = true
	}
	var errs []error
	for _, n := range p.Names() {
		if known[n] {
			continue
		}
		msg := fmt.Sprintf("provider %q: values.%s: no SLO of this provider has that name", p.name, n)
		if near := suggest.Closest(n, slos, 3); len(near) > 0 {
			msg += ": did you mean " + suggest.Phrase(near) + "?"
		} else if len(slos) > 0 {
			msg += ": its SLOs are " + strings.Join(slos, ", ")
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// Names lists the SLOs with recorded values, for messages.
func (p *Provider) Names() []string {
	names := make([]string, 0, len(p.values))
	for n := range p.values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
