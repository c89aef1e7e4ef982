package datadog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
)

// metricsResponse is the metrics query API's answer (v1).
type metricsResponse struct {
	Status  string   `json:"status"`
	ResType string   `json:"res_type"`
	Series  []series `json:"series"`
	Error   string   `json:"error"`
	Errors  []string `json:"errors"`
}

type series struct {
	Metric    string        `json:"metric"`
	Scope     string        `json:"scope"`
	TagSet    []string      `json:"tag_set"`
	Interval  int           `json:"interval"` // seconds per point
	Pointlist [][2]*float64 `json:"pointlist"`
}

func (s series) name() string {
	if len(s.TagSet) > 0 {
		return s.Metric + "{" + strings.Join(s.TagSet, ",") + "}"
	}
	return s.Metric + "{" + s.Scope + "}"
}

// points runs one metrics query over [from, to] and returns the buckets of
// its single series, null points left out. No series is ErrNoData; more
// than one is a bad query.
func (p *Provider) points(ctx context.Context, rq string, from, to time.Time) ([]point, error) {
	var resp metricsResponse
	if err := p.get(ctx, rq, p.queryURL(rq, from, to), &resp); err != nil {
		return nil, err
	}
	if resp.Status != "" && resp.Status != "ok" {
		msg := resp.Error
		if msg == "" {
			msg = strings.Join(resp.Errors, "; ")
		}
		if msg == "" {
			msg = "without a message"
		}
		return nil, p.queryErr(rq, fmt.Errorf("Datadog answered status %q: %s", resp.Status, msg))
	}
	switch len(resp.Series) {
	case 0:
		return nil, p.queryErr(rq, errNoSeries)
	case 1:
	default:
		names := make([]string, 0, 3)
		for _, s := range resp.Series[:min(3, len(resp.Series))] {
			names = append(names, s.name())
		}
		return nil, p.queryErr(rq, providers.BadQuery("returned %d series (%s): remove by {…} so that the query sums into one", len(resp.Series), strings.Join(names, ", ")))
	}
	s := resp.Series[0]
	width := time.Duration(s.Interval) * time.Second
	var pts []point
	for _, pt := range s.Pointlist {
		if pt[0] == nil || pt[1] == nil {
			continue // no data in that bucket
		}
		pts = append(pts, point{t: time.UnixMilli(int64(*pt[0])).UTC(), width: width, v: *pt[1]})
	}
	return pts, nil
}

// get runs one GET within the provider's concurrency bound and deadline,
// decodes a 200's JSON into out, and classifies every failure.
func (p *Provider) get(ctx context.Context, rq, u string, out any) error {
	code, body, err := p.getStatus(ctx, u)
	if err != nil {
		return p.queryErr(rq, err)
	}
	if code != http.StatusOK {
		return p.queryErr(rq, p.statusErr(code, body))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return p.queryErr(rq, fmt.Errorf("the answer is not Datadog API JSON (%v): is url the API root, e.g. https://api.datadoghq.com?", err))
	}
	return nil
}

// getStatus runs one GET within the provider's bound and deadline and
// returns the status and body, whatever the status.
func (p *Provider) getStatus(ctx context.Context, u string) (int, []byte, error) {
	return httpconf.Call(ctx, p.client, p.lim, func(ctx context.Context) (*retryablehttp.Request, error) {
		return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
}

// statusErr turns an error status into one a human can act on. Datadog
// answers errors as {"errors": ["…"]}.
func (p *Provider) statusErr(code int, body []byte) error {
	var env struct {
		Errors []string `json:"errors"`
	}
	msg := redact.Excerpt(body)
	if json.Unmarshal(body, &env) == nil && len(env.Errors) > 0 {
		msg = redact.Excerpt([]byte(strings.Join(env.Errors, "; ")))
	}
	switch {
	case code == http.StatusBadRequest:
		return providers.BadQuery("Datadog rejected the query: %s", msg)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// The body is left out: it says only "Forbidden", and proxies
		// may echo headers.
		return providers.Mark(providers.ErrAuth, fmt.Errorf("authentication failed (%d %s): check the API key in $%s (api_key_env) and the application key in $%s (app_key_env), their timeseries_query and slos_read permissions, and that site %s is where they were made",
			code, http.StatusText(code), p.apiKeyEnv, p.appEnv, p.site))
	case code == http.StatusNotFound:
		return fmt.Errorf("not found (404): %s", msg)
	}
	return providers.Mark(providers.StatusKind(code), fmt.Errorf("server error: %d %s: %s", code, http.StatusText(code), msg))
}

// rateLimitReset copies Datadog's X-RateLimit-Reset (seconds until the
// limit resets) into Retry-After on a 429 without one, so that the shared
// client waits as long as Datadog asks, within the deadline.
type rateLimitReset struct{ next http.RoundTripper }

func (r rateLimitReset) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		if reset := resp.Header.Get("X-RateLimit-Reset"); reset != "" {
			resp.Header.Set("Retry-After", reset)
		}
	}
	return resp, err
}
