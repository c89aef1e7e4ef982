// Package prometheus reads SLIs through the Prometheus HTTP API, which
// Thanos, Mimir, Cortex and VictoriaMetrics serve too.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// maxPoints keeps range queries under Prometheus's 11,000 points per series.
const maxPoints = 10000

// Provider queries one Prometheus-compatible server.
type Provider struct {
	name    string
	api     v1.API
	timeout time.Duration
	sem     chan struct{} // bounds the queries in flight
	log     *slog.Logger
}

// New builds a provider from its config; getenv reads the secrets it names.
func New(cfg slo.Provider, getenv func(string) string, log *slog.Logger) (*Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := httpclient.Options{
		Retries: cfg.Retries, Headers: cfg.Headers, CAFile: cfg.CAFile,
		InsecureSkipVerify: cfg.InsecureSkipVerify, Logger: log.With("provider", cfg.Name),
	}
	if cfg.BearerTokenEnv != "" {
		if o.BearerToken = getenv(cfg.BearerTokenEnv); o.BearerToken == "" {
			return nil, fmt.Errorf("provider %q: environment variable %s (bearer_token_env) is empty", cfg.Name, cfg.BearerTokenEnv)
		}
	}
	if cfg.BasicAuthUserEnv != "" {
		o.BasicUser, o.BasicPassword = getenv(cfg.BasicAuthUserEnv), getenv(cfg.BasicAuthPasswordEnv)
		if o.BasicUser == "" || o.BasicPassword == "" {
			return nil, fmt.Errorf("provider %q: environment variables %s and %s (basic_auth) must both be set", cfg.Name, cfg.BasicAuthUserEnv, cfg.BasicAuthPasswordEnv)
		}
	}
	if cfg.PartialResponse != nil {
		o.Query = map[string]string{"partial_response": strconv.FormatBool(*cfg.PartialResponse)}
	}
	rc, err := httpclient.New(o)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
	}
	c, err := api.NewClient(api.Config{Address: cfg.URL, Client: rc.StandardClient()})
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.Name, err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	conc := cfg.MaxConcurrency
	if conc <= 0 {
		conc = 10
	}
	return &Provider{name: cfg.Name, api: v1.NewAPI(c), timeout: timeout, sem: make(chan struct{}, conc), log: log}, nil
}

// Counts implements providers.Provider.
func (p *Provider) Counts(ctx context.Context, q providers.Query, at time.Time) (providers.Counts, error) {
	c := providers.Counts{Start: at.Add(-q.Window), End: at}
	switch q.SLI.Kind() {
	case slo.KindThreshold:
		v, rq, err := p.instantOne(ctx, q, q.SLI.Query, at)
		c.Resolved = []string{rq}
		if err != nil {
			return c, err
		}
		c.Value, c.Total = v, 1
		return c, nil
	case slo.KindRatio:
		r, rq, err := p.instantOne(ctx, q, q.SLI.ErrorRatioQuery, at)
		c.Resolved = []string{rq}
		if err != nil {
			return c, err
		}
		if r < 0 || r > 1 {
			return c, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("error ratio %v is outside [0, 1]", r)}
		}
		c.Good, c.Total = 1-r, 1
		return c, nil
	}
	partQuery, good := q.SLI.ErrorQuery, false
	if q.SLI.GoodQuery != "" {
		partQuery, good = q.SLI.GoodQuery, true
	}
	var (
		wg           sync.WaitGroup
		total, part  float64
		rqT, rqP     string
		errT, errP   error
		scaleWindowS = q.Window.Seconds()
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		total, rqT, errT = p.instantScaled(ctx, q, q.SLI.TotalQuery, at, scaleWindowS, true)
	}()
	go func() { defer wg.Done(); part, rqP, errP = p.instantScaled(ctx, q, partQuery, at, scaleWindowS, false) }()
	wg.Wait()
	c.Resolved = []string{rqP, rqT}
	if err := errors.Join(errT, errP); err != nil {
		return c, err
	}
	c.Total = total
	if good {
		c.Good = math.Min(part, total)
	} else {
		c.Good = math.Max(total-part, 0)
	}
	return c, nil
}

// instantScaled runs an event query and converts a per-second rate to a
// count over the window. An empty result is no data for the total and zero
// for the part (no 5xx series at all means no errors).
func (p *Provider) instantScaled(ctx context.Context, q providers.Query, query string, at time.Time, windowS float64, isTotal bool) (float64, string, error) {
	rq, perSecond, err := resolve(query, q.Window, q.SLI.Counter, q.Scope)
	if err != nil {
		return 0, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: err}
	}
	v, err := p.instant(ctx, rq, at)
	if errors.Is(err, providers.ErrNoData) && !isTotal {
		return 0, rq, nil
	}
	if err != nil {
		return 0, rq, err
	}
	if perSecond {
		v *= windowS
	}
	return v, rq, nil
}

func (p *Provider) instantOne(ctx context.Context, q providers.Query, query string, at time.Time) (float64, string, error) {
	rq, _, err := resolve(query, q.Window, q.SLI.Counter, q.Scope)
	if err != nil {
		return 0, rq, &providers.QueryError{Provider: p.name, Query: rq, Err: err}
	}
	v, err := p.instant(ctx, rq, at)
	return v, rq, err
}

// instant runs one instant query and insists on one finite sample.
func (p *Provider) instant(ctx context.Context, rq string, at time.Time) (float64, error) {
	val, err := p.do(ctx, rq, func(ctx context.Context) (model.Value, v1.Warnings, error) {
		v, w, _, err := p.api.Query(ctx, rq, at)
		return v, w, err
	})
	if err != nil {
		return 0, err
	}
	var v float64
	switch r := val.(type) {
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.ErrNoData}
		case 1:
			v = float64(r[0].Value)
		default:
			return 0, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("returned %d series (%s): aggregate them into one, e.g. sum(...)", len(r), seriesList(r))}
		}
	case *model.Scalar:
		v = float64(r.Value)
	case model.Matrix:
		return 0, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("returned a range vector (matrix): wrap the [range] selector in a function such as rate() or increase()")}
	default:
		return 0, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("returned a %s, want one number", val.Type())}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &providers.QueryError{Provider: p.name, Query: rq, Err: providers.BadQuery("returned %v: a ratio of 0/0 or a division by zero? query error and total events separately (error_query, total_query) so that no traffic reads as no data", v)}
	}
	return v, nil
}

// do runs one API call within the provider's concurrency bound and
// deadline, and classifies its error.
func (p *Provider) do(ctx context.Context, rq string, call func(context.Context) (model.Value, v1.Warnings, error)) (model.Value, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &providers.QueryError{Provider: p.name, Query: rq, Err: ctx.Err()}
	}
	defer func() { <-p.sem }()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	val, warnings, err := call(ctx)
	for _, w := range warnings {
		p.log.Warn("prometheus warning", "provider", p.name, "query", rq, "warning", w)
	}
	if err != nil {
		return nil, &providers.QueryError{Provider: p.name, Query: rq, Err: p.classify(ctx, err)}
	}
	return val, nil
}

func (p *Provider) classify(ctx context.Context, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		detail := strings.TrimSpace(apiErr.Detail)
		if len(detail) > 200 {
			detail = detail[:200] + "…"
		}
		switch apiErr.Type {
		case v1.ErrBadData, v1.ErrExec:
			return providers.BadQuery("%s", apiErr.Msg)
		case v1.ErrClient:
			if strings.Contains(apiErr.Msg, "401") || strings.Contains(apiErr.Msg, "403") {
				return fmt.Errorf("authentication failed (%s): check the credentials in bearer_token_env or basic_auth", apiErr.Msg)
			}
		case v1.ErrBadResponse:
			return fmt.Errorf("the server's answer is not a Prometheus API response (%s): is url the Prometheus API root?", apiErr.Msg)
		}
		if detail != "" {
			return fmt.Errorf("%s: %s", apiErr.Msg, detail)
		}
		return errors.New(apiErr.Msg)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return fmt.Errorf("no answer within the %s timeout (retries included): %w", p.timeout, err)
	}
	return err
}

func seriesList(v model.Vector) string {
	parts := make([]string, 0, 3)
	for i, s := range v {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, s.Metric.String())
	}
	return strings.Join(parts, ", ")
}
