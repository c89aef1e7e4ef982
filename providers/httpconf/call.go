package httpconf

import (
	"context"
	"fmt"
	"io"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/providers"
)

// Call sends one request within lim's bound and deadline and returns the
// answer's status and body (read within max_response_bytes), whatever the
// status: the backend says what a status means in its vendor's terms. A
// request that got no answer is classified (providers.TransportError).
// build makes the request with the query's context, so that whatever it
// needs first (a token) counts against the same deadline.
func Call(ctx context.Context, c *retryablehttp.Client, lim *providers.Limiter, build func(ctx context.Context) (*retryablehttp.Request, error)) (int, []byte, error) {
	qctx, done, err := lim.Start(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer done()
	req, err := build(qctx)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, providers.TransportError(ctx, qctx, lim.Timeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // bounded by max_response_bytes
	if err != nil {
		return 0, nil, providers.TransportError(ctx, qctx, lim.Timeout, fmt.Errorf("read the answer: %w", err))
	}
	return resp.StatusCode, body, nil
}
