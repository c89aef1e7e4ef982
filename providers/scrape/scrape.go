// Package scrape reads SLIs with no metrics server at all: sloguard
// scrapes the canary's and the baseline's /metrics endpoints itself, keeps
// every counter between scrapes, and counts events from their increases.
//
// Scrapes happen on demand: the first reading for an evaluation time `at`
// scrapes the scope's targets and stamps the snapshot with `at`; readings
// for the same or an earlier time read the history. A watch therefore
// scrapes once per tick, and its readings are exact increases between its
// own ticks, with no scrape interval or rate() extrapolation in the way.
package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// minKeep is the least history kept, whatever the windows asked so far.
const minKeep = time.Hour

// Provider scrapes the targets of each scope.
type Provider struct {
	name    string
	targets map[string][]string // scope -> URLs
	client  *retryablehttp.Client
	lim     *providers.Limiter
	log     *slog.Logger
	authFor string // the config keys holding the credentials, for messages

	mu      sync.Mutex
	hist    map[string]*history // by target URL
	maxSeen time.Duration       // the longest window asked so far
}

// New builds a provider from its config; env reads the secrets it names.
func New(ctx context.Context, cfg Config, env providers.Env) (*Provider, error) {
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("provider %q: targets is empty: list the /metrics URLs per scope, e.g. {canary: [http://10.0.0.5:8080/metrics]}", cfg.Name)
	}
	p := &Provider{name: cfg.Name, targets: map[string][]string{}, log: env.Logger(), hist: map[string]*history{}, authFor: authFor(cfg.Auth)}
	for scope, urls := range cfg.Targets {
		switch scope {
		case providers.ScopeService, providers.ScopeCanary, providers.ScopeBaseline:
		default:
			return nil, fmt.Errorf("provider %q: targets.%s: unknown scope: use service, canary or baseline", cfg.Name, scope)
		}
		for _, u := range urls {
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return nil, fmt.Errorf("provider %q: targets.%s: %q is not an http(s) URL", cfg.Name, scope, redact.URL(u))
			}
			p.hist[u] = &history{}
		}
		p.targets[scope] = append([]string(nil), urls...)
	}
	rc, err := httpconf.Client(ctx, cfg.Name, env, &cfg.Auth, cfg.Transport, httpconf.Extra{Headers: map[string]string{"Accept": "text/plain;version=0.0.4"}})
	if err != nil {
		return nil, err
	}
	p.client = rc
	p.lim = cfg.Limiter()
	return p, nil
}

// authFor names the config keys holding the credentials, for messages.
func authFor(a httpconf.Auth) string {
	switch {
	case a.BearerTokenEnv != "":
		return "the token in $" + a.BearerTokenEnv + " (bearer_token_env)"
	case a.BasicAuth != nil && a.BasicAuth.UsernameEnv != "" && a.BasicAuth.PasswordEnv != "":
		return "$" + a.BasicAuth.UsernameEnv + " and $" + a.BasicAuth.PasswordEnv + " (basic_auth)"
	case a.BasicAuth != nil:
		return "basic_auth"
	case a.Authorization != nil:
		return "the credentials of authorization"
	case a.OAuth2 != nil:
		return "the OAuth2 client " + a.OAuth2.ClientID + " (oauth2)"
	case a.SigV4 != nil:
		return "the AWS credentials (sigv4)"
	}
	return "headers"
}

// MaxInFlight implements providers.InFlight.
func (p *Provider) MaxInFlight() int { return p.lim.MaxInFlight() }

// scopeTargets lists a scope's targets; the service is its own list, or
// else every target there is.
func (p *Provider) scopeTargets(scope string) ([]string, error) {
	if scope == "" {
		scope = providers.ScopeService
	}
	if t, ok := p.targets[scope]; ok {
		return t, nil
	}
	if scope == providers.ScopeService {
		seen := map[string]bool{}
		var all []string
		for _, ts := range p.targets {
			for _, t := range ts {
				if !seen[t] {
					seen[t] = true
					all = append(all, t)
				}
			}
		}
		sort.Strings(all)
		return all, nil
	}
	return nil, providers.BadQuery("no targets for the %s: add targets.%s to provider %q", scope, scope, p.name)
}

// Prime scrapes every target for at, so that counting starts there: a
// watch calls it when the canary is deployed, and its first tick then
// reads the events since the deploy instead of starting the count.
func (p *Provider) Prime(ctx context.Context, at time.Time) error {
	targets := make([]string, 0, len(p.hist))
	for t := range p.hist {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	return p.scrapeAll(ctx, targets, at)
}

// Counts implements providers.Provider.
func (p *Provider) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	c := providers.Counts{Start: at.Add(-q.Window), End: at}
	if q.Scope.Offset != 0 {
		return c, &providers.QueryError{Provider: p.name, Query: q.SLI.TotalQuery, Err: providers.BadQuery(
			"the scrape backend reads its targets now and keeps no history: it cannot read the %s %s earlier; use a live baseline (targets.baseline) or a backend with history", q.Scope.Name, slo.FormatDuration(q.Scope.Offset))}
	}
	r, err := p.read(ctx, q, at, q.Window, []*providers.Counts{&c})
	c.Resolved = r
	return c, err
}

// Slices implements providers.Provider from the history: one scrape at
// r.End when it is newer than the last, then each slice's increase.
func (p *Provider) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if r.Step <= 0 {
		return nil, &providers.QueryError{Provider: p.name, Query: q.SLI.TotalQuery, Err: providers.BadQuery("slice step must be longer than zero, got %s", r.Step)}
	}
	out := r.Grid()
	if out == nil {
		return nil, nil
	}
	ptrs := make([]*providers.Counts, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	p.remember(r.End.Sub(r.Start))
	resolved, err := p.read(ctx, q, r.End, r.Step, ptrs)
	for i := range out {
		out[i].Resolved = resolved
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// read scrapes the scope's targets for at and fills each reading from the
// history over its own (Start, End], window long.
func (p *Provider) read(ctx context.Context, q providers.Query, at time.Time, window time.Duration, readings []*providers.Counts) ([]string, error) {
	if err := checkKind(q.SLI); err != nil {
		return nil, &providers.QueryError{Provider: p.name, Query: q.SLI.Query, Err: err}
	}
	targets, err := p.scopeTargets(q.Scope.Name)
	if err != nil {
		return nil, &providers.QueryError{Provider: p.name, Query: q.SLI.TotalQuery, Err: err}
	}
	on := fmt.Sprintf(" on %s targets %s", or(q.Scope.Name, providers.ScopeService), strings.Join(redactAll(targets), ", "))
	type part struct {
		query     string
		expr      parser.Expr
		perSecond bool
		noDataOK  bool // the error or good query: no series is zero
	}
	var parts []part
	switch {
	case q.SLI.Kind() == slo.KindRatio:
		parts = []part{{query: q.SLI.ErrorRatioQuery}}
	case q.SLI.GoodQuery != "":
		parts = []part{{query: q.SLI.GoodQuery, noDataOK: true}, {query: q.SLI.TotalQuery}}
	default:
		parts = []part{{query: q.SLI.ErrorQuery, noDataOK: true}, {query: q.SLI.TotalQuery}}
	}
	resolved := make([]string, len(parts))
	for i := range parts {
		e, rq, perSec, err := compile(parts[i].query, window, q.SLI.Counter)
		resolved[i] = rq + on
		if err != nil {
			return resolved, &providers.QueryError{Provider: p.name, Query: rq, Err: err}
		}
		parts[i].expr, parts[i].query, parts[i].perSecond = e, rq, perSec
	}
	p.remember(window)
	if err := p.scrapeAll(ctx, targets, at); err != nil {
		return resolved, err
	}
	for _, c := range readings {
		vals := make([]float64, len(parts))
		for i := len(parts) - 1; i >= 0; i-- { // the total first: its failure is the one to name
			pt := parts[i]
			v, err := p.evaluate(pt.expr, targets, c.End, window)
			if errors.Is(err, errNoSeries) {
				c.Unmatched = append(c.Unmatched, pt.query)
			}
			switch {
			case errors.Is(err, providers.ErrNoData) && pt.noDataOK && errors.Is(err, errNoSeries):
				v = 0
			case errors.Is(err, providers.ErrNoData) && len(readings) > 1:
				v = math.NaN() // a slice without data
			case err != nil:
				return resolved, &providers.QueryError{Provider: p.name, Query: pt.query, Err: err}
			}
			if math.IsNaN(v) && len(readings) == 1 && q.SLI.Kind() == slo.KindRatio {
				return resolved, &providers.QueryError{Provider: p.name, Query: pt.query, Err: fmt.Errorf("%w: the error ratio is 0/0 (no traffic in the window)", providers.ErrNoData)}
			}
			if math.IsInf(v, 0) || (math.IsNaN(v) && len(readings) == 1) {
				return resolved, &providers.QueryError{Provider: p.name, Query: pt.query, Err: providers.BadQuery("returned %v: a counter that is not a number, or a division by zero?", v)}
			}
			if pt.perSecond {
				v *= window.Seconds()
			}
			vals[i] = v
		}
		if err := fill(c, q.SLI, vals, parts[len(parts)-1].query); err != nil {
			return resolved, &providers.QueryError{Provider: p.name, Query: parts[0].query, Err: err}
		}
	}
	return resolved, nil
}

// checkKind rejects the SLI shapes scrape cannot evaluate.
func checkKind(s slo.SLI) error {
	if s.Kind() != slo.KindEvents && s.Kind() != slo.KindRatio || s.DatadogSLOID != "" {
		return providers.BadQuery("the scrape provider reads event SLIs (error_query or good_query, with total_query) and error ratios: thresholds such as latency quantiles need a Prometheus")
	}
	return nil
}

// fill turns the evaluated parts into a reading; totalQuery names the
// total in the error of a part that counts more.
func fill(c *providers.Counts, s slo.SLI, vals []float64, totalQuery string) error {
	if s.Kind() == slo.KindRatio {
		v := vals[0]
		if math.IsNaN(v) {
			return nil // a slice without traffic
		}
		if v < 0 || v > 1 {
			return providers.BadQuery("error ratio %v is outside [0, 1]", v)
		}
		c.Good, c.Total = 1-v, 1
		return nil
	}
	part, total := vals[0], vals[1]
	if math.IsNaN(total) {
		return nil
	}
	if math.IsNaN(part) {
		part = 0
	}
	if part < 0 || total < 0 {
		return providers.BadQuery("event counts cannot be negative (%v, %v)", part, total)
	}
	good, err := providers.GoodEvents(part, total, s.GoodQuery != "", totalQuery)
	if err != nil {
		return err
	}
	c.Total, c.Good = total, good
	return nil
}

var (
	errNoSeries   = fmt.Errorf("%w: no series matched in the scraped targets (no traffic yet, or a selector that matches nothing)", providers.ErrNoData)
	errNoCoverage = fmt.Errorf("%w: fewer than two scrapes bound the window: the scrape provider counts increases between its own scrapes, so the first reading only starts the count", providers.ErrNoData)
)

// evaluate evaluates a compiled expression over (end-window, end].
func (p *Provider) evaluate(e parser.Expr, targets []string, end time.Time, window time.Duration) (float64, error) {
	return eval(e, window, func(ms []*labels.Matcher, rng time.Duration) (float64, error) {
		match := matcher(ms)
		total, matched, seen, covered := 0.0, 0, 0, false
		for _, t := range targets {
			h := p.hist[t]
			h.mu.Lock()
			inc, n, ok := h.increase(match, end.Add(-rng), end)
			h.mu.Unlock()
			seen += n
			if ok {
				covered = true
				total += inc
				matched += n
			}
		}
		switch {
		case !covered && seen > 0:
			return 0, errNoCoverage
		case !covered:
			return 0, errNoSeries // not even in the one scrape there is
		case matched == 0:
			return 0, errNoSeries
		}
		return total, nil
	})
}

// remember widens the history kept to cover window.
func (p *Provider) remember(window time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxSeen = max(p.maxSeen, window)
}

func (p *Provider) keep() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.maxSeen, minKeep)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
