// Package appinsights reads SLIs with KQL from Azure Monitor: the
// Application Insights query API (POST /v1/apps/{appId}/query) or the Log
// Analytics workspace API (POST /v1/workspaces/{id}/query), authenticated
// through Microsoft Entra ID or an Application Insights API key.
package appinsights

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// Public cloud endpoints.
const (
	AppInsightsURL  = "https://api.applicationinsights.io"
	LogAnalyticsURL = "https://api.loganalytics.azure.com"
)

// maxSlices bounds the queries of one Slices call: each slice is a query.
const maxSlices = 200

// Provider queries one Application Insights app or Log Analytics workspace.
type Provider struct {
	name     string
	endpoint string // the full query URL
	what     string // "app_id abc" or "workspace_id def", for messages
	authDesc string
	apiKey   string
	apiEnv   string
	tokens   *tokenCache
	client   *retryablehttp.Client
	lim      *providers.Limiter
	log      *slog.Logger
}

// Option adjusts a provider; tests use them to stay off Azure.
type Option func(*options)

type options struct {
	cred      azcore.TokenCredential
	azOptions azcore.ClientOptions
	now       func() time.Time
}

// WithCredential replaces the Entra ID credential auth would build: any
// token source with GetToken (tests use a fake).
func WithCredential(c azcore.TokenCredential) Option { return func(o *options) { o.cred = c } }

// WithAzureClientOptions sets the azidentity client options (authority
// host, transport) of the credential auth builds.
func WithAzureClientOptions(co azcore.ClientOptions) Option {
	return func(o *options) { o.azOptions = co }
}

// New builds a provider from its config; getenv reads the variables it
// names.
func New(ctx context.Context, cfg Config, env providers.Env, opts ...Option) (*Provider, error) {
	log, getenv := env.Logger(), env.Env
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	p := &Provider{name: cfg.Name, log: log}
	scope := appInsightsScope
	switch {
	case cfg.AppID != "" && cfg.WorkspaceID != "":
		return nil, fmt.Errorf("provider %q: set app_id (Application Insights) or workspace_id (Log Analytics), not both", cfg.Name)
	case cfg.AppID != "":
		p.endpoint = or(strings.TrimRight(cfg.URL, "/"), AppInsightsURL) + "/v1/apps/" + url.PathEscape(cfg.AppID) + "/query"
		p.what = "app_id " + cfg.AppID
	case cfg.WorkspaceID != "":
		p.endpoint = or(strings.TrimRight(cfg.URL, "/"), LogAnalyticsURL) + "/v1/workspaces/" + url.PathEscape(cfg.WorkspaceID) + "/query"
		p.what = "workspace_id " + cfg.WorkspaceID
		scope = logAnalyticsScope
	default:
		return nil, fmt.Errorf("provider %q: set app_id (Application Insights) or workspace_id (Log Analytics)", cfg.Name)
	}
	rc, err := httpconf.Client(ctx, cfg.Name, env, nil, cfg.Transport, httpconf.Extra{})
	if err != nil {
		return nil, err
	}
	p.client = rc
	switch {
	case cfg.Auth == "api_key":
		if cfg.WorkspaceID != "" {
			return nil, fmt.Errorf("provider %q: auth: api_key works with Application Insights (app_id) only: Log Analytics needs Microsoft Entra ID (auth: default)", cfg.Name)
		}
		if cfg.APIKeyEnv == "" {
			return nil, fmt.Errorf("provider %q: auth: api_key needs api_key_env, the environment variable holding the key", cfg.Name)
		}
		if p.apiKey = getenv(cfg.APIKeyEnv); p.apiKey == "" {
			return nil, fmt.Errorf("provider %q: environment variable %s (api_key_env) is empty", cfg.Name, cfg.APIKeyEnv)
		}
		p.apiEnv, p.authDesc = cfg.APIKeyEnv, "API key in $"+cfg.APIKeyEnv+" (api_key_env)"
	default:
		cred, desc := o.cred, "injected credential"
		if cred == nil {
			cred, desc, err = credential(cfg.Auth, cfg.ClientID, getenv, o.azOptions, rc)
			if err != nil {
				return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
			}
		}
		p.tokens, p.authDesc = &tokenCache{cred: cred, scope: scope, now: o.now}, desc
	}
	p.lim = cfg.Limiter()
	return p, nil
}

// MaxInFlight implements providers.InFlight.
func (p *Provider) MaxInFlight() int { return p.lim.MaxInFlight() }

// Counts implements providers.Provider: each query runs over the timespan
// (at-window, at] and must return one row with one number. A scope's offset
// moves the timespan back: the same KQL over the same length, earlier.
func (p *Provider) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	at = q.Scope.Shift(at)
	c := providers.Counts{Start: at.Add(-q.Window), End: at}
	if err := p.checkKind(q.SLI); err != nil {
		return c, err
	}
	return providers.ReadSLI(ctx, q, c, providers.Reader{
		Provider: p.name,
		Resolve:  func(query string) (string, error) { return p.resolve(query, q.Window, q.Scope) },
		// NaN is "no observations" for a threshold and 0/0 (no traffic) for
		// an error ratio: no data, as for Prometheus.
		Value: func(ctx context.Context, rq string) (float64, error) { return p.scalar(ctx, rq, c.Start, at, true) },
		Count: func(ctx context.Context, rq string) (float64, error) { return p.count(ctx, rq, c.Start, at) },
	})
}

func (p *Provider) checkKind(s slo.SLI) error {
	switch {
	case s.DatadogSLOID != "":
		return p.queryErr(s.DatadogSLOID, providers.BadQuery("datadog_slo_id needs a datadog provider"))
	case s.Counter:
		return p.queryErr(s.TotalQuery, providers.BadQuery("counter: true is a Prometheus notion: write KQL that counts the window's events, e.g. requests | summarize count()"))
	}
	return nil
}

// count runs an event query; counts must be finite and not negative.
func (p *Provider) count(ctx context.Context, rq string, from, to time.Time) (float64, error) {
	v, err := p.scalar(ctx, rq, from, to, false)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, p.queryErr(rq, providers.BadQuery("returned %v: event counts cannot be negative", v))
	}
	return v, nil
}

func (p *Provider) resolve(query string, window time.Duration, scope providers.Scope) (string, error) {
	rq, err := resolve(query, window, scope)
	if err != nil {
		return rq, p.queryErr(rq, err)
	}
	return rq, nil
}

func (p *Provider) queryErr(rq string, err error) error {
	return &providers.QueryError{Provider: p.name, Query: rq, Err: err}
}

// Slices implements providers.Provider with one query per slice (KQL
// returns one number per query), at most maxSlices of them, run within the
// provider's concurrency bound.
func (p *Provider) Slices(ctx context.Context, q providers.Query, r providers.Range) ([]providers.Counts, error) {
	if r.Step <= 0 {
		return nil, p.queryErr(or(q.SLI.TotalQuery, q.SLI.Query), providers.BadQuery("slice step must be longer than zero, got %s", r.Step))
	}
	out := r.Grid()
	n := len(out)
	if n == 0 {
		return nil, nil
	}
	if n > maxSlices {
		return nil, p.queryErr(or(q.SLI.TotalQuery, q.SLI.Query), providers.BadQuery("%d slices of %s: Application Insights answers one query per slice, at most %d per reading: use a longer timeslice window", n, slo.FormatDuration(r.Step), maxSlices))
	}
	errs := make([]error, n)
	sq := q
	sq.Window = r.Step
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := out[i].End
			c, err := p.Counts(ctx, sq, end)
			if errors.Is(err, providers.ErrNoData) {
				c, err = providers.Counts{Start: out[i].Start, End: end, Resolved: c.Resolved}, nil
			}
			out[i], errs[i] = c, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, providers.ErrBadQuery) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err // the first: the others are most likely the same
		}
	}
	return out, nil
}
