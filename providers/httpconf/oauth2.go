package httpconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sloguard/sloguard/internal/httpclient"
)

// oauth2Transport is the client credentials grant, built here rather
// than by prometheus/common, whose token client follows redirects as Go
// does: a token endpoint that redirected got the client secret sent on,
// in the body (x/oauth2's auth-style probe retries with it there, and a
// 307 resends the body) or in an Authorization header Go keeps for the
// same host name on another port or scheme. Ours follows no redirect of
// the token request at all (a token endpoint has no reason to redirect),
// reaches token_url with the block's CA and proxy as prometheus/common
// did, and reads the secret again on each request, so that a rotated
// one gets a new token.
type oauth2Transport struct {
	next   http.RoundTripper
	conf   clientcredentials.Config // without the secret
	ref    string                   // the secret's reference, read through secrets
	sm     secrets
	client *http.Client // the token requests'

	mu     sync.Mutex
	secret string
	source oauth2.TokenSource
}

// newOAuth2Transport wraps next, the backend's transport, in the grant of
// o. hc is the backend's client config: its proxy and CA reach the token
// endpoint too.
func newOAuth2Transport(ctx context.Context, name string, o *OAuth2, hc config.HTTPClientConfig, t Transport, sm secrets, next http.RoundTripper) (http.RoundTripper, error) {
	tc := config.HTTPClientConfig{ProxyConfig: hc.ProxyConfig}
	if t.TLS != nil {
		tc.TLSConfig = config.TLSConfig{CARef: ref(keyCAFile, t.TLS.CAFile), InsecureSkipVerify: t.TLS.InsecureSkipVerify} //nolint:gosec // an explicit, documented switch
	}
	rt, err := config.NewRoundTripperFromConfigWithContext(ctx, tc, name+"-oauth2", config.WithSecretManager(sm))
	if err != nil {
		return nil, fmt.Errorf("oauth2: %w", err)
	}
	timeout := time.Duration(t.Timeout)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	values := url.Values{}
	for k, v := range o.EndpointParams {
		values.Set(k, v)
	}
	return &oauth2Transport{
		next: next,
		conf: clientcredentials.Config{ClientID: o.ClientID, TokenURL: o.TokenURL, Scopes: o.Scopes, EndpointParams: values},
		ref:  or(o.ClientSecretEnv, ref(keyClientSecretFile, o.ClientSecretFile)),
		sm:   sm,
		// The token source fetches with a context of its own, deaf to the
		// query's deadline: the client's timeout bounds it.
		client: &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: httpclient.RefuseRedirects(name, "oauth2.token_url")},
	}, nil
}

func (o *oauth2Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	secret, err := o.sm.Fetch(r.Context(), o.ref)
	if err != nil {
		closeBody(r)
		return nil, fmt.Errorf("oauth2 client secret: %w", err)
	}
	o.mu.Lock()
	if o.source == nil || secret != o.secret {
		c := o.conf
		c.ClientSecret = secret
		o.source = c.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, o.client))
		o.secret = secret
	}
	source := o.source
	o.mu.Unlock()
	resp, err := (&oauth2.Transport{Source: source, Base: o.next}).RoundTrip(r)
	var re *httpclient.RedirectError
	if errors.As(err, &re) && re.Key != "" {
		return nil, re // not `Post "<where it pointed>": …`: the error names both ends
	}
	return resp, err
}

// CloseIdleConnections closes the token client's idle connections and
// the backend's.
func (o *oauth2Transport) CloseIdleConnections() {
	o.client.CloseIdleConnections()
	if c, ok := o.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// closeBody closes a request's body, as a RoundTripper must even when it
// fails.
func closeBody(r *http.Request) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
}
