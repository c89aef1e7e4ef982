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
}

func (e *RedirectError) Error() string {
	who := ""
	if e.Name != "" {
		who = fmt.Sprintf(" of %q", e.Name)
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

// sameOrigin follows a redirect within the origin of the first request
// only, at most maxRedirects times.
func sameOrigin(name string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects) // go-retryablehttp does not retry this
		}
		if first := via[0].URL; origin(req.URL) != origin(first) {
			return &RedirectError{Name: name, From: first, To: req.URL}
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
