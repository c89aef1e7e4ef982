package all

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Every backend's credentials go to the configured origin only: a server
// that answers 307 to another origin (here another loopback port) gets its
// redirect refused, and the other origin sees no request at all, so none
// of the credentials. Before, the wrapper that adds them did so on every
// request, the redirected one too.
func TestNoBackendSendsCredentialsToAnotherOrigin(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Clone())
		mu.Unlock()
	}))
	t.Cleanup(other.Close)
	var seen []http.Header // what the configured origin got: the credentials, to prove they were sent
	configured := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" { // the OAuth2 token endpoint
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"oauth-t0ken","token_type":"Bearer","expires_in":3600}`)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(configured.Close)
	env := map[string]string{"TOKEN": "bearer-t0ken", "PASS": "pa55", "CRED": "cred-t0ken", "OAUTH": "oauth-s3cret",
		"HEADER_KEY": "header-s3cret", "AK": "AKIAEXAMPLE", "SK": "aws-s3cret", "DD_API_KEY": "dd-api-key", "DD_APP_KEY": "dd-app-key", "AI_KEY": "ai-api-key"}
	const q = "\nheaders: {X-Scope-OrgID: team-a}\nheaders_env: {X-Api-Key: HEADER_KEY}"
	for name, tc := range map[string]struct {
		block  string
		header string // the header that carries the credential
	}{
		"prometheus bearer_token_env": {"name: p\ntype: prometheus\nurl: " + configured.URL + "\nbearer_token_env: TOKEN" + q, "Authorization"},
		"prometheus basic_auth":       {"name: p\ntype: prometheus\nurl: " + configured.URL + "\nbasic_auth: {username: sre, password_env: PASS}", "Authorization"},
		"prometheus authorization":    {"name: p\ntype: prometheus\nurl: " + configured.URL + "\nauthorization: {type: Token, credentials_env: CRED}", "Authorization"},
		"prometheus oauth2":           {"name: p\ntype: prometheus\nurl: " + configured.URL + "\noauth2: {client_id: c, client_secret_env: OAUTH, token_url: '" + configured.URL + "/token'}", "Authorization"},
		"prometheus sigv4":            {"name: p\ntype: prometheus\nurl: " + configured.URL + "\nsigv4: {region: eu-west-1, access_key_env: AK, secret_key_env: SK}", "Authorization"},
		"prometheus headers":          {"name: p\ntype: prometheus\nurl: " + configured.URL + q, "X-Api-Key"},
		"scrape headers":              {"name: p\ntype: scrape\ntargets: {canary: ['" + configured.URL + "/metrics']}" + q, "X-Api-Key"},
		"datadog keys":                {"name: p\ntype: datadog\nurl: " + configured.URL, "DD-API-KEY"},
		"appinsights api_key":         {"name: p\ntype: appinsights\nurl: " + configured.URL + "\napp_id: app\nauth: api_key\napi_key_env: AI_KEY", "X-Api-Key"},
	} {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			elsewhere, seen = nil, nil
			mu.Unlock()
			cfg, err := slo.Parse("sloguard.yaml", []byte(oneProvider(tc.block+"\nretries: 0")), slo.Options{Types: Backends().Types()})
			if err != nil {
				t.Fatal(err)
			}
			p, err := Backends().New(t.Context(), cfg.Providers[0], providers.Env{Getenv: func(k string) string { return env[k] }, ConfigDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			scope := providers.ScopeService
			if strings.Contains(tc.block, "scrape") {
				scope = providers.ScopeCanary
			}
			sli := cfg.SLOs[0].SLI
			if strings.Contains(tc.block, "datadog") {
				sli = slo.SLI{ErrorQuery: "sum:trace.http.request.errors{service:checkout}.as_count()", TotalQuery: "sum:trace.http.request.hits{service:checkout}.as_count()"}
			}
			_, err = p.Counts(t.Context(), providers.Query{SLO: "checkout-availability", SLI: sli, Scope: providers.Scope{Name: scope}, Window: time.Hour}, time.Now())
			if err == nil || !strings.Contains(err.Error(), "refused a redirect to another origin") {
				t.Errorf("err = %v, want the redirect refused", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 || seen[0].Get(tc.header) == "" {
				t.Fatalf("the configured origin got no %s: %v", tc.header, seen)
			}
			if len(elsewhere) != 0 {
				t.Errorf("the other origin got %d request(s), the first with %s %q", len(elsewhere), tc.header, elsewhere[0].Get(tc.header))
			}
		})
	}
}
