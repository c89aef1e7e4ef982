package httpclient

import (
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/hashicorp/go-retryablehttp"
)

// maxRedirects is net/http's own bound.
const maxRedirects = 10

// RedirectError says a server redirected a request to another origin
// (scheme, host or port): the client refuses to follow, since every
// attempt carries the credentials and headers the config gives for the
// configured URL's origin, and a redirect elsewhere (a moved server, a
// login page, a hostile answer) must not receive them.
type RedirectError struct {
	Name     string // the provider or action
	From, To *url.URL
	// Key is the config key of a URL whose requests follow no redirect
	// at all (RefuseRedirects), "" for one followed within its origin.
	Key string
	// Status is a 301, 302 or 303 answering a POST: net/http would
	// follow it with a GET and no body, and the server's answer to that
	// (a 400, a 405) would read as a bad query.
	Status int
}

func (e *RedirectError) Error() string {
	who := ""
	if e.Name != "" {
		who = fmt.Sprintf(" of %q", e.Name)
	}
	if e.Status != 0 {
		return fmt.Sprintf("the server%s at %s answered the POST with %d %s to %s, which would be followed as a GET without the query: not followed: set the URL to the final address (a 307 or 308 redirect keeps the POST and is followed within the origin)",
			who, pathOnly(e.From), e.Status, http.StatusText(e.Status), pathOnly(e.To))
	}
	if e.Key != "" {
		return fmt.Sprintf("refused a redirect (%s) of the %s request%s: %s redirected to %s: the request carries credentials, sent to %s itself only, and follows no redirect: set %s to the final address",
			redirectKind(e.From, e.To), e.Key, who, pathOnly(e.From), pathOnly(e.To), e.Key, e.Key)
	}
	what := "to another origin"
	if e.From.Scheme == "https" && e.To.Scheme == "http" {
		what = "from https down to http"
	}
	return fmt.Sprintf("refused a redirect %s: the server%s at %s redirected to %s: credentials and headers are sent only to the configured origin (scheme, host and port): set the URL to where the server redirects (a login page means the credentials were not accepted)",
		what, who, origin(e.From), origin(e.To))
}

// origin is scheme://host:port, the port spelled out: no user info, path
// or query, so that it never carries a credential.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
}

// pathOnly is u without user info or query: a location to name in a
// message, never a credential.
func pathOnly(u *url.URL) string {
	return origin(u) + u.EscapedPath()
}

func redirectKind(from, to *url.URL) string {
	switch {
	case from.Scheme == "https" && to.Scheme == "http":
		return "from https down to http"
	case origin(from) != origin(to):
		return "to another origin"
	}
	return "within its origin"
}

// RefuseRedirects is the redirect policy of a request that has no reason
// to be redirected and carries a secret in its body or headers (an OAuth2
// token request): net/http would resend both to a 307's target, and keep
// an Authorization header for the same host name on another port or
// scheme. key names the URL in the config.
func RefuseRedirects(name, key string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		return &RedirectError{Name: name, From: via[0].URL, To: req.URL, Key: key}
	}
}

// sameOrigin follows a redirect within the origin of the first request
// only, at most maxRedirects times, and never one that turns a POST into
// a GET (301, 302, 303).
func sameOrigin(name string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects) // go-retryablehttp does not retry this
		}
		first := via[0].URL
		if origin(req.URL) != origin(first) {
			return &RedirectError{Name: name, From: first, To: req.URL}
		}
		if r := req.Response; r != nil && via[len(via)-1].Method == http.MethodPost && req.Method == http.MethodGet {
			// A 301, 302 or 303 turned the POST into a GET without a body.
			return &RedirectError{Name: name, From: via[len(via)-1].URL, To: req.URL, Status: r.StatusCode}
		}
		return nil
	}
}

// Standard is c as an *http.Client for libraries that want one (the
// Prometheus API client, go-github), which follows no redirect of its own:
// c's client follows the ones it allows, and a 3xx it returns (with
// NoRedirects) is the answer. retryablehttp's own StandardClient would
// follow it, to any origin, with the credentials c adds to every request.
func Standard(c *retryablehttp.Client) *http.Client {
	return &http.Client{
		Transport:     &retryablehttp.RoundTripper{Client: c},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
