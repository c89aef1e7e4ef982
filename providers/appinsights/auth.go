package appinsights

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/hashicorp/go-retryablehttp"
)

// Token scopes of the two APIs.
const (
	appInsightsScope  = "https://api.applicationinsights.io/.default"
	logAnalyticsScope = "https://api.loganalytics.io/.default"
)

// githubAudience is the audience Microsoft Entra ID expects in a federated
// GitHub Actions token.
const githubAudience = "api://AzureADTokenExchange"

// credential builds the Microsoft Entra ID credential that auth names.
// getenv reads the variables sloguard itself interprets (which CI it runs
// in, the client and tenant of a federated identity); azidentity reads its
// own (AZURE_CLIENT_SECRET and the like) from the process environment.
// It returns a description for messages, which never holds a secret.
//
// opts are azidentity's client options; a custom authority host (a
// sovereign or private cloud, or a test) turns instance discovery off, as
// azidentity asks for such hosts.
func credential(auth, clientID string, getenv func(string) string, opts azcore.ClientOptions, gh *retryablehttp.Client) (azcore.TokenCredential, string, error) {
	switch auth {
	case "environment":
		c, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts})
		if err != nil {
			return nil, "", fmt.Errorf("auth: environment: %w: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)", err)
		}
		return c, "environment credential (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)", nil
	case "workload_identity":
		c, desc, err := federated(clientID, getenv, opts, gh)
		if err != nil {
			return nil, "", err
		}
		if c == nil {
			return nil, "", fmt.Errorf("auth: workload_identity: no federated token found: in GitHub Actions give the job `permissions: id-token: write` and set AZURE_TENANT_ID and AZURE_CLIENT_ID (or client_id); in Azure Pipelines run under an AzureCLI@2 task with a workload identity service connection and map SYSTEM_ACCESSTOKEN; in Kubernetes use Azure workload identity (AZURE_FEDERATED_TOKEN_FILE)")
		}
		return c, desc, nil
	case "managed_identity":
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		desc := "system-assigned managed identity"
		if clientID != "" {
			o.ID = azidentity.ClientID(clientID)
			desc = "managed identity with client_id " + clientID
		}
		c, err := azidentity.NewManagedIdentityCredential(o)
		if err != nil {
			return nil, "", fmt.Errorf("auth: managed_identity: %w", err)
		}
		return c, desc, nil
	case "azure_cli":
		c, err := azidentity.NewAzureCLICredential(nil)
		if err != nil {
			return nil, "", fmt.Errorf("auth: azure_cli: %w", err)
		}
		return c, "Azure CLI login (az login)", nil
	case "", "default":
		var chain []azcore.TokenCredential
		descs := []string{}
		fc, fdesc, err := federated(clientID, getenv, opts, gh)
		if err != nil {
			return nil, "", err
		}
		if fc != nil {
			chain = append(chain, fc)
			descs = append(descs, fdesc)
		}
		if clientID == "" {
			d, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts})
			if err != nil {
				return nil, "", fmt.Errorf("auth: default: %w", err)
			}
			chain = append(chain, d)
			descs = append(descs, "environment, workload identity, managed identity, Azure CLI")
		} else {
			// DefaultAzureCredential takes a user-assigned identity from
			// AZURE_CLIENT_ID only: build its chain with client_id.
			if e, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts}); err == nil {
				chain = append(chain, e)
				descs = append(descs, "environment")
			}
			mi, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ClientID(clientID)})
			if err != nil {
				return nil, "", fmt.Errorf("auth: default: %w", err)
			}
			cli, err := azidentity.NewAzureCLICredential(nil)
			if err != nil {
				return nil, "", fmt.Errorf("auth: default: %w", err)
			}
			chain = append(chain, mi, cli)
			descs = append(descs, "managed identity with client_id "+clientID, "Azure CLI")
		}
		c, err := azidentity.NewChainedTokenCredential(chain, nil)
		if err != nil {
			return nil, "", fmt.Errorf("auth: default: %w", err)
		}
		return c, "default chain (" + strings.Join(descs, ", ") + ")", nil
	}
	return nil, "", fmt.Errorf("auth %q is not a Microsoft Entra ID credential: use default, environment, workload_identity, managed_identity, azure_cli or api_key", auth)
}

// federated returns the workload identity federation credential of the CI
// system sloguard runs in, or nil when there is none: GitHub Actions (an
// OIDC token from ACTIONS_ID_TOKEN_REQUEST_URL), Azure Pipelines
// (SYSTEM_OIDCREQUESTURI with a service connection), or Kubernetes
// (AZURE_FEDERATED_TOKEN_FILE).
func federated(clientID string, getenv func(string) string, opts azcore.ClientOptions, gh *retryablehttp.Client) (azcore.TokenCredential, string, error) {
	noDiscovery := opts.Cloud.ActiveDirectoryAuthorityHost != ""
	switch {
	case getenv("ACTIONS_ID_TOKEN_REQUEST_URL") != "" && getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") != "":
		tenant, client := getenv("AZURE_TENANT_ID"), or(clientID, getenv("AZURE_CLIENT_ID"))
		if tenant == "" || client == "" {
			return nil, "", fmt.Errorf("auth: GitHub Actions workload identity needs AZURE_TENANT_ID and AZURE_CLIENT_ID (or client_id) of the app registration that trusts this repository")
		}
		reqURL, reqToken := getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
		assert := func(ctx context.Context) (string, error) { return githubToken(ctx, gh, reqURL, reqToken) }
		c, err := azidentity.NewClientAssertionCredential(tenant, client, assert, &azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
		if err != nil {
			return nil, "", fmt.Errorf("auth: GitHub Actions workload identity: %w", err)
		}
		return c, "GitHub Actions workload identity federation (client " + client + ")", nil
	case getenv("SYSTEM_OIDCREQUESTURI") != "" && getenv("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID") != "":
		tenant, client := getenv("AZURESUBSCRIPTION_TENANT_ID"), or(clientID, getenv("AZURESUBSCRIPTION_CLIENT_ID"))
		token := getenv("SYSTEM_ACCESSTOKEN")
		if tenant == "" || client == "" || token == "" {
			return nil, "", fmt.Errorf("auth: Azure Pipelines workload identity needs AZURESUBSCRIPTION_TENANT_ID, AZURESUBSCRIPTION_CLIENT_ID (set by the AzureCLI@2 task) and SYSTEM_ACCESSTOKEN (map it: env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)})")
		}
		c, err := azidentity.NewAzurePipelinesCredential(tenant, client, getenv("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"), token, &azidentity.AzurePipelinesCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
		if err != nil {
			return nil, "", fmt.Errorf("auth: Azure Pipelines workload identity: %w", err)
		}
		return c, "Azure Pipelines workload identity federation (client " + client + ")", nil
	case getenv("AZURE_FEDERATED_TOKEN_FILE") != "":
		o := &azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, ClientID: clientID, TenantID: getenv("AZURE_TENANT_ID"),
			TokenFilePath: getenv("AZURE_FEDERATED_TOKEN_FILE"), DisableInstanceDiscovery: noDiscovery,
		}
		c, err := azidentity.NewWorkloadIdentityCredential(o)
		if err != nil {
			return nil, "", fmt.Errorf("auth: Kubernetes workload identity: %w", err)
		}
		return c, "Kubernetes workload identity (AZURE_FEDERATED_TOKEN_FILE)", nil
	}
	return nil, "", nil
}

// githubToken fetches a GitHub Actions OIDC token for Entra ID's audience.
func githubToken(ctx context.Context, c *retryablehttp.Client, reqURL, reqToken string) (string, error) {
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")
	}
	q := u.Query()
	q.Set("audience", githubAudience)
	u.RawQuery = q.Encode()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("get a GitHub Actions OIDC token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get a GitHub Actions OIDC token: %s (does the job have permissions: id-token: write?)", resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("get a GitHub Actions OIDC token: the answer holds no token")
	}
	return v.Value, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tokenCache keeps a token until five minutes before it expires, so that a
// watch does not ask Entra ID on every tick.
type tokenCache struct {
	cred  azcore.TokenCredential
	scope string
	now   func() time.Time

	mu  sync.Mutex
	tok azcore.AccessToken
}

func (c *tokenCache) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Token != "" && c.now().Before(c.tok.ExpiresOn.Add(-5*time.Minute)) {
		return c.tok.Token, nil
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return "", err
	}
	c.tok = tok
	return tok.Token, nil
}
