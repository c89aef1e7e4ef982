package ghapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/servetest"
)

func TestTheCallbackMustBeTheConfiguredAPIsReviewEndpoint(t *testing.T) {
	key, _, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		api, callback string
		run           int64
		err           string
	}{
		"github.com":               {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/42/deployment_protection_rule", 42, ""},
		"names in another case":    {"https://api.github.com", "https://API.github.com/repos/Acme/Shop/actions/runs/42/deployment_protection_rule", 42, ""},
		"enterprise server":        {"https://ghe.example/api/v3", "https://ghe.example/api/v3/repos/acme/shop/actions/runs/7/deployment_protection_rule", 7, ""},
		"another host":             {"https://api.github.com", "https://api.github.com.evil.example/repos/acme/shop/actions/runs/42/deployment_protection_rule", 0, "not at the configured GitHub API"},
		"plain http":               {"https://api.github.com", "http://api.github.com/repos/acme/shop/actions/runs/42/deployment_protection_rule", 0, "not at the configured GitHub API"},
		"a user in the URL":        {"https://api.github.com", "https://x@api.github.com/repos/acme/shop/actions/runs/42/deployment_protection_rule", 0, "carries a user name or password"},
		"enterprise path left out": {"https://ghe.example/api/v3", "https://ghe.example/repos/acme/shop/actions/runs/7/deployment_protection_rule", 0, "is not /api/v3/repos/"},
		"another repository":       {"https://api.github.com", "https://api.github.com/repos/acme/payroll/actions/runs/42/deployment_protection_rule", 0, "names acme/payroll"},
		"another endpoint":         {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/42/approve", 0, "is not /repos/"},
		"a path that climbs":       {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/../../../../user/deployment_protection_rule", 0, "is not /repos/"},
		"a run id that is not one": {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/x/deployment_protection_rule", 0, "is not a number"},
		// The review goes to the endpoint built from the run id: a query
		// string or fragment cannot redirect it, so it is no reason to
		// leave a deployment waiting.
		"a query string":      {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/42/deployment_protection_rule?x=1", 42, ""},
		"a fragment":          {"https://api.github.com", "https://api.github.com/repos/acme/shop/actions/runs/42/deployment_protection_rule#x", 42, ""},
		"a query on the host": {"https://api.github.com", "https://api.github.com.evil.example/repos/acme/shop/actions/runs/42/deployment_protection_rule?x=1", 0, "points at https://api.github.com.evil.example, not at the configured GitHub API https://api.github.com (serve.github.api_url): refused"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			app, err := New(tc.api, 1, key, http.DefaultTransport)
			if err != nil {
				t.Fatal(err)
			}
			run, err := app.RunID(tc.callback, "acme", "shop")
			if run != tc.run || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("RunID = %d, %v; want %d, %q", run, err, tc.run, tc.err)
			}
		})
	}
}

func TestTheAppKeyIsReadAsGitHubGivesIt(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	cases := map[string]struct {
		pem []byte
		err string
	}{
		"PKCS#1 (GitHub's .pem)": {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), ""},
		"PKCS#8":                 {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), ""},
		"not PEM":                {[]byte("MIIEowIBAAKCAQEA"), "not PEM"},
		"garbage in a block":     {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("x")}), "cannot be read"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New("https://api.github.com", 1, tc.pem, http.DefaultTransport)
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("New: %v, want %q", err, tc.err)
			}
		})
	}
}

func TestAnAppNotInstalledIsAPermanentErrorThatSaysSo(t *testing.T) {
	key, pub, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	gh := servetest.NewGitHub(99, pub) // another App: our JWT is refused
	defer gh.Close()
	app, err := New(gh.APIURL(), 1, key, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	err = app.Review(context.Background(), 5, "acme", "shop", 42, Review{EnvironmentName: "production", State: "approved"})
	var pe *PermanentError
	if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "check the App ID and private key") {
		t.Fatalf("Review: %v, want a permanent 401 that names the App ID and key", err)
	}
	if len(gh.Reviews()) != 0 || len(gh.Problems()) != 1 {
		t.Errorf("reviews %v problems %v: want the token exchange refused and no review", gh.Reviews(), gh.Problems())
	}
}

// The App's JWT and installation tokens go to the configured API only:
// an API that redirects to another origin (another loopback port) gets
// the redirect refused, and nothing reaches the other origin.
func TestTheAppsTokensStayWithTheAPIsOrigin(t *testing.T) {
	key, _, err := servetest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	hc, err := httpclient.New(httpclient.Options{Name: "GitHub API"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(api.URL, 1, key, httpclient.Standard(hc).Transport) // as serve builds it
	if err != nil {
		t.Fatal(err)
	}
	err = app.Review(t.Context(), 5, "acme", "shop", 42, Review{EnvironmentName: "production", State: "approved"})
	if err == nil || !strings.Contains(err.Error(), "refused a redirect to another origin") {
		t.Errorf("Review: %v, want the redirect refused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 0 {
		t.Errorf("the other origin got %d request(s), Authorization %q", len(elsewhere), elsewhere[0])
	}
}
