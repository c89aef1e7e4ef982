package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
)

// scrapeAll scrapes, concurrently, every target whose newest snapshot is
// older than at, and stamps the snapshots with at. A target that fails
// fails the reading: a canary counted without one of its instances would
// look healthier than it is.
func (p *Provider) scrapeAll(ctx context.Context, targets []string, at time.Time) error {
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.scrapeIfOlder(ctx, t, at)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Provider) scrapeIfOlder(ctx context.Context, target string, at time.Time) error {
	h := p.hist[target]
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.newest().Before(at) {
		return nil // scraped for this time already, or asked about the past
	}
	series, err := p.fetch(ctx, target)
	if err != nil {
		return &providers.QueryError{Provider: p.name, Query: "scrape " + redact.URL(target), Err: err}
	}
	h.add(snapshot{at: at, series: series}, p.keep())
	p.log.Debug("scraped", "provider", p.name, "target", redact.URL(target), "series", len(series), "at", at)
	return nil
}

// fetch GETs one target and parses the text exposition format.
func (p *Provider) fetch(ctx context.Context, target string) (map[string]sample, error) {
	qctx, done, err := p.lim.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	req, err := retryablehttp.NewRequestWithContext(qctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, providers.TransportError(ctx, qctx, p.lim.Timeout, scrubURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, providers.Mark(providers.ErrAuth, fmt.Errorf("authentication failed (%d %s): check %s", resp.StatusCode, http.StatusText(resp.StatusCode), p.authFor))
	case resp.StatusCode != http.StatusOK:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, providers.Mark(providers.StatusKind(resp.StatusCode), fmt.Errorf("server error: %d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), redact.Excerpt(body)))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "text/plain" {
		return nil, fmt.Errorf("the target answered %s, not the Prometheus text format (text/plain): is this its /metrics URL?", mt)
	}
	series, err := parse(resp.Body) // bounded by max_response_bytes
	if err != nil {
		var tl *httpclient.TooLargeError
		if errors.As(err, &tl) {
			return nil, tl
		}
		if ctx.Err() == nil && qctx.Err() != nil {
			return nil, providers.TransportError(ctx, qctx, p.lim.Timeout, qctx.Err())
		}
		return nil, fmt.Errorf("not the Prometheus text format: %v", err)
	}
	return series, nil
}

func redactAll(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = redact.URL(u)
	}
	return out
}

// scrubURL keeps a *url.Error's cause and operation but drops its URL,
// which may carry a token in its query; the reading names the target.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
