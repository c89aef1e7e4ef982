// Package ghapp is sloguard's GitHub App: it checks that a deployment
// protection rule's callback points at the configured GitHub API, trades
// the App's JWT for installation tokens (ghinstallation), and posts the
// review with go-github.
package ghapp

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/sloguard/sloguard/internal/gherr"
)

// App holds the App's identity and one client per installation (each with
// its own token cache).
type App struct {
	api   *url.URL
	appID int64
	key   *rsa.PrivateKey
	base  http.RoundTripper

	mu      sync.Mutex
	clients map[int64]*github.Client
}

// New parses the App's private key (the .pem GitHub gives, PKCS#1 or
// PKCS#8) and returns an App that talks to apiURL through base.
func New(apiURL string, appID int64, privateKeyPEM []byte, base http.RoundTripper) (*App, error) {
	api, err := url.Parse(strings.TrimRight(apiURL, "/"))
	if err != nil || api.Host == "" {
		return nil, fmt.Errorf("api_url %q is not a URL", apiURL)
	}
	if appID <= 0 {
		return nil, errors.New("the App ID must be a positive number: the App's settings page shows it (App ID)")
	}
	key, err := parseKey(privateKeyPEM)
	if err != nil {
		return nil, err
	}
	return &App{api: api, appID: appID, key: key, base: base, clients: map[int64]*github.Client{}}, nil
}

func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("the App's private key is not PEM: give the whole text of the .pem file GitHub generated, from -----BEGIN to -----END")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the App's private key cannot be read (%s block): %w", block.Type, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the App's private key is a %T, GitHub Apps use RSA keys", k)
	}
	return rk, nil
}

// RunID checks that a deployment_callback_url is GitHub's own review
// endpoint for the event's repository, on the configured API (a signed
// payload with another host is refused, so that nobody can make sloguard
// send an installation token elsewhere), and returns the run id in it.
// A query string or fragment is ignored: GitHub documents none, and the
// review goes to the endpoint Review builds from the run id, never to the
// callback URL itself, so nothing in them can redirect it.
func (a *App) RunID(callback, owner, repo string) (int64, error) {
	u, err := url.Parse(callback)
	if err != nil {
		return 0, fmt.Errorf("deployment_callback_url is not a URL: %w", err)
	}
	if u.User != nil {
		return 0, errors.New("deployment_callback_url carries a user name or password (user:password@host), which GitHub never sends: refused")
	}
	if !strings.EqualFold(u.Scheme, a.api.Scheme) || !strings.EqualFold(u.Host, a.api.Host) {
		return 0, fmt.Errorf("deployment_callback_url points at %s://%s, not at the configured GitHub API %s://%s (serve.github.api_url): refused", u.Scheme, u.Host, a.api.Scheme, a.api.Host)
	}
	rest, ok := strings.CutPrefix(u.Path, a.api.Path+"/repos/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 6 || parts[2] != "actions" || parts[3] != "runs" || parts[5] != "deployment_protection_rule" {
		return 0, fmt.Errorf("deployment_callback_url path %q is not %s/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", u.Path, a.api.Path)
	}
	if !strings.EqualFold(parts[0], owner) || !strings.EqualFold(parts[1], repo) {
		return 0, fmt.Errorf("deployment_callback_url names %s/%s, but the event is about %s/%s: refused", parts[0], parts[1], owner, repo)
	}
	id, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("deployment_callback_url run id %q is not a number", parts[4])
	}
	return id, nil
}

// Review is the answer to a deployment protection rule.
type Review struct {
	EnvironmentName string `json:"environment_name"`
	State           string `json:"state"` // approved | rejected
	Comment         string `json:"comment,omitempty"`
}

// PermanentError is a failure that repeating will not fix (GitHub answered
// 4xx other than 429: the App lacks a permission, is not installed, or the
// run no longer waits for this rule).
type PermanentError struct {
	Status int
	Err    error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Review approves or rejects the deployments of a run to an environment:
// POST repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule,
// with a token of the installation the event came from.
func (a *App) Review(ctx context.Context, installation int64, owner, repo string, runID int64, r Review) error {
	c := a.client(installation)
	path := fmt.Sprintf("repos/%s/%s/actions/runs/%d/deployment_protection_rule", url.PathEscape(owner), url.PathEscape(repo), runID)
	req, err := c.NewRequest(http.MethodPost, path, r)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, req, nil)
	if err == nil {
		return nil
	}
	err = gherr.Readable(err)
	status := 0
	var he *ghinstallation.HTTPError
	switch {
	case resp != nil:
		status = resp.StatusCode
	case errors.As(err, &he) && he.Response != nil:
		status = he.Response.StatusCode
		he.Response.Body.Close()
		err = fmt.Errorf("installation token for installation %d: GitHub answered %s: check the App ID and private key, and that the App is installed on %s/%s", installation, he.Response.Status, owner, repo)
	}
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return &PermanentError{Status: status, Err: explain(status, owner, repo, err)}
	}
	return fmt.Errorf("review %s/%s run %d: %w", owner, repo, runID, err)
}

func explain(status int, owner, repo string, err error) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return fmt.Errorf("%w: the App needs deployments: read & write and actions: read on %s/%s, and must be installed there", err, owner, repo)
	case http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: the run no longer waits for this rule (reviewed already, cancelled, or the rule was removed)", err)
	}
	return err
}

// client returns the go-github client of an installation; its transport
// keeps the installation token until a minute before it expires.
func (a *App) client(installation int64) *github.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[installation]; ok {
		return c
	}
	// One AppsTransport per installation: ghinstallation writes its
	// BaseURL on every refresh, which must not be shared.
	atr := ghinstallation.NewAppsTransportFromPrivateKey(a.base, a.appID, a.key)
	atr.BaseURL = a.api.String()
	tr := ghinstallation.NewFromAppsTransport(atr, installation)
	tr.BaseURL = a.api.String()
	// No redirect of its own: the token is added to every request, so a
	// redirect elsewhere would carry it; the client beneath follows those
	// within GitHub's origin.
	c := github.NewClient(&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	c.BaseURL = &url.URL{Scheme: a.api.Scheme, Host: a.api.Host, Path: a.api.Path + "/"}
	a.clients[installation] = c
	return c
}
