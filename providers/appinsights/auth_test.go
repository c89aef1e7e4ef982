package appinsights

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/providers"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID = "00000000-1111-2222-3333-444444444444"
)

func TestCredentialChoice(t *testing.T) {
	gh := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.example/token?x=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-token"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := map[string]struct {
		auth, clientID string
		env            map[string]string
		desc           string // the credential chosen
		err            string // or the error
	}{
		"workload identity in GitHub Actions federates the job's OIDC token": {
			auth: "workload_identity", env: with(gh, "AZURE_TENANT_ID", tenant, "AZURE_CLIENT_ID", clientID),
			desc: "GitHub Actions workload identity federation (client " + clientID + ")",
		},
		"client_id wins over AZURE_CLIENT_ID": {
			auth: "workload_identity", clientID: "my-client", env: with(gh, "AZURE_TENANT_ID", tenant, "AZURE_CLIENT_ID", clientID),
			desc: "GitHub Actions workload identity federation (client my-client)",
		},
		"GitHub Actions without a tenant says what to set": {
			auth: "workload_identity", env: gh, err: "needs AZURE_TENANT_ID and AZURE_CLIENT_ID",
		},
		"workload identity in Azure Pipelines uses the service connection": {
			auth: "workload_identity",
			env: map[string]string{"SYSTEM_OIDCREQUESTURI": "https://dev.azure.example/oidc", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "sc",
				"AZURESUBSCRIPTION_TENANT_ID": tenant, "AZURESUBSCRIPTION_CLIENT_ID": clientID, "SYSTEM_ACCESSTOKEN": "tok"},
			desc: "Azure Pipelines workload identity federation (client " + clientID + ")",
		},
		"Azure Pipelines without the access token says how to map it": {
			auth: "workload_identity",
			env: map[string]string{"SYSTEM_OIDCREQUESTURI": "https://dev.azure.example/oidc", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "sc",
				"AZURESUBSCRIPTION_TENANT_ID": tenant, "AZURESUBSCRIPTION_CLIENT_ID": clientID},
			err: "SYSTEM_ACCESSTOKEN (map it: env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)})",
		},
		"workload identity in Kubernetes reads the projected token": {
			auth: "workload_identity", clientID: clientID, env: map[string]string{"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token", "AZURE_TENANT_ID": tenant},
			desc: "Kubernetes workload identity (AZURE_FEDERATED_TOKEN_FILE)",
		},
		"workload identity with no federated token says where one comes from": {
			auth: "workload_identity", env: map[string]string{}, err: "permissions: id-token: write",
		},
		"a user-assigned managed identity is named by client_id": {
			auth: "managed_identity", clientID: clientID, desc: "managed identity with client_id " + clientID,
		},
		"the Azure CLI login": {
			auth: "azure_cli", desc: "Azure CLI login (az login)",
		},
		"the default chain tries federation first in GitHub Actions": {
			auth: "default", env: with(gh, "AZURE_TENANT_ID", tenant, "AZURE_CLIENT_ID", clientID),
			desc: "default chain (GitHub Actions workload identity federation (client " + clientID + "), environment, workload identity, managed identity, Azure CLI)",
		},
		"an unknown auth is refused": {
			auth: "password", err: `auth "password" is not a Microsoft Entra ID credential`,
		},
	}
	gh2, _ := httpclient.New(httpclient.Options{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if v := tc.env["SYSTEM_OIDCREQUESTURI"]; v != "" {
				t.Setenv("SYSTEM_OIDCREQUESTURI", v) // azidentity reads it itself
			}
			_, desc, err := credential(tc.auth, tc.clientID, func(k string) string { return tc.env[k] }, azcore.ClientOptions{}, gh2)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to say %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("credential: %v", err)
			}
			if desc != tc.desc {
				t.Errorf("chose %q, want %q", desc, tc.desc)
			}
		})
	}
}

// TestGitHubActionsFederation runs the whole GitHub Actions flow against
// fakes: sloguard asks GitHub's OIDC endpoint for a token with Entra ID's
// audience, trades it at a fake Entra ID token endpoint as a client
// assertion, and sends the access token it gets to the query API.
func TestGitHubActionsFederation(t *testing.T) {
	github := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "bearer gh-request-token" {
			t.Errorf("GitHub OIDC request Authorization = %q", got)
		}
		if got := r.URL.Query().Get("audience"); got != githubAudience {
			t.Errorf("audience = %q, want %q", got, githubAudience)
		}
		if got := r.URL.Query().Get("api-version"); got != "2.0" {
			t.Errorf("the request URL's own parameters were dropped: %s", r.URL.RawQuery)
		}
		io.WriteString(w, `{"count":1780,"value":"eyJhbGciOiJSUzI1NiJ9.github-oidc.sig"}`)
	}))
	t.Cleanup(github.Close)

	var mu sync.Mutex
	var tokenForm url.Values
	var entra *httptest.Server
	entra = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/discovery/instance"):
			fmt.Fprintf(w, `{"tenant_discovery_endpoint":"%s/%s/v2.0/.well-known/openid-configuration","api-version":"1.1","metadata":[]}`, entra.URL, tenant)
		case strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration"):
			fmt.Fprintf(w, `{"token_endpoint":"%[1]s/%[2]s/oauth2/v2.0/token","authorization_endpoint":"%[1]s/%[2]s/oauth2/v2.0/authorize","issuer":"%[1]s/%[2]s/v2.0"}`, entra.URL, tenant)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			r.ParseForm()
			mu.Lock()
			tokenForm = r.PostForm
			mu.Unlock()
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"entra-access-token"}`)
		default:
			t.Errorf("fake Entra ID: unexpected %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(entra.Close)

	query := newServer(t, counts("10", "1"))
	cfg := appConfig(query.URL)
	cfg.Auth = "workload_identity"
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL": github.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token",
		"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": clientID,
	}
	p, err := New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return env[k] }}, WithAzureClientOptions(azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL},
		Transport: entra.Client(),
	}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI(), Window: time.Hour}, at)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if c.Good != 9 || c.Total != 10 {
		t.Errorf("counts %v of %v", c.Good, c.Total)
	}
	for _, r := range query.requests() {
		if got := r.header.Get("Authorization"); got != "Bearer entra-access-token" {
			t.Errorf("query Authorization = %q, want the Entra ID access token", got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k, want := range map[string]string{
		"client_assertion": "eyJhbGciOiJSUzI1NiJ9.github-oidc.sig", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
		"client_id": clientID, "grant_type": "client_credentials",
	} {
		if got := tokenForm.Get(k); got != want {
			t.Errorf("token request %s = %q, want %q", k, got, want)
		}
	}
	if got := tokenForm.Get("scope"); !strings.Contains(got, appInsightsScope) {
		t.Errorf("token request scope = %q, want %s", got, appInsightsScope)
	}
}
