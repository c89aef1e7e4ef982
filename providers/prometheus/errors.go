package prometheus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
)

const apiRootHint = "is url the Prometheus API root? sloguard appends /api/v1/query to it"

var errNoSeries = fmt.Errorf("%w: no series matched (no traffic, or a selector that matches nothing)", providers.ErrNoData)

var errNativeHistogram = providers.BadQuery("returned a native histogram, want one number: use histogram_count(), histogram_sum() or histogram_quantile()")

// classify turns an API client error into one a human can act on: a bad
// query (the server's own message), an authentication failure naming the
// config keys to check, a timeout naming the timeout, or the server's
// error with its body. parent is the caller's context, ctx the one bounded
// by the provider's timeout.
func (p *Provider) classify(parent, ctx context.Context, err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		// The server's own words: one capped line, as for any body.
		msg, detail := redact.Excerpt([]byte(apiErr.Msg)), serverMessage(apiErr.Detail)
		if msg == "" {
			msg = "the server answered status error without a message"
		}
		switch apiErr.Type {
		case v1.ErrBadData, v1.ErrExec:
			return providers.BadQuery("%s", msg)
		case v1.ErrClient:
			switch {
			case strings.HasSuffix(msg, " 401"), strings.HasSuffix(msg, " 403"):
				// The body is left out: some proxies echo the credentials.
				return providers.Mark(providers.ErrAuth, fmt.Errorf("authentication failed (%s): check the credentials that bearer_token_env or basic_auth (username_env, password_env) name, and tenant headers", msg))
			case strings.HasSuffix(msg, " 404"):
				return fmt.Errorf("%s: %s: %s", msg, detail, apiRootHint)
			case strings.HasSuffix(msg, " 429"):
				return providers.Mark(providers.ErrRateLimited, withDetail(msg, detail))
			}
		case v1.ErrBadResponse:
			return fmt.Errorf("the server's answer is not a Prometheus API response (%s): %s", msg, apiRootHint)
		case v1.ErrServer, v1.ErrTimeout, v1.ErrCanceled, "unavailable", "internal":
			return providers.Mark(providers.ErrUnavailable, withDetail(msg, detail))
		}
		return withDetail(msg, detail)
	}
	if parent.Err() != nil {
		return err // the caller gave up: its deadline, not ours
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Once, without what the URL may carry: the client names it, and
		// the retrying client's error beneath does not repeat it.
		err = fmt.Errorf("%s %s: %w", strings.ToUpper(ue.Op), redact.URL(ue.URL), ue.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return providers.TransportError(parent, ctx, p.lim.Timeout, err)
	}
	var (
		unknownCA   x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		tlsVerifErr *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &tlsVerifErr) {
		return fmt.Errorf("%w: trust the server's CA with tls.ca_file, or set tls.insecure_skip_verify", err)
	}
	return providers.TransportError(parent, ctx, p.lim.Timeout, err)
}

// withDetail is the client's message with the server's words, if any.
func withDetail(msg, detail string) error {
	if detail != "" {
		return fmt.Errorf("%s: %s", msg, detail)
	}
	return errors.New(msg)
}

// serverMessage shortens an error body for a message; a Prometheus error
// envelope (503 timeout, say) is reduced to its type and text.
func serverMessage(body string) string {
	var env struct{ Status, ErrorType, Error string }
	if json.Unmarshal([]byte(body), &env) == nil && env.Status == "error" && env.Error != "" {
		body = env.ErrorType + ": " + env.Error
	}
	return redact.Excerpt([]byte(body))
}
