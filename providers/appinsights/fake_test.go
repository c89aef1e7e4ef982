package appinsights

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/sloguard/sloguard/internal/aitest"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// The SLI the tests read: Application Insights request telemetry, counted
// with itemCount so that sampling is undone.
const (
	failedQ = `requests | where success == false | summarize sum(itemCount)`
	allQ    = `requests | summarize sum(itemCount)`
)

func eventsSLI() slo.SLI { return slo.SLI{ErrorQuery: failedQ, TotalQuery: allQ} }

// fakeCredential hands out a fixed token and records what it was asked.
type fakeCredential struct {
	token string
	err   error

	mu     sync.Mutex
	scopes []string
}

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = append(f.scopes, strings.Join(o.Scopes, " "))
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (f *fakeCredential) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.scopes...)
}

// queryBody is the JSON body sloguard posts.
type queryBody struct {
	Query    string `json:"query"`
	Timespan string `json:"timespan"`
}

func aiQueue(r *http.Request, body []byte) string {
	var b queryBody
	if r.Method != http.MethodPost || json.Unmarshal(body, &b) != nil {
		return ""
	}
	if strings.Contains(b.Query, "success == false") {
		return "bad"
	}
	return "total"
}

// table answers with one table of one column, as the query API does.
func table(typ, rows string) string { return aitest.Table(typ, rows) }

// azureError answers with Azure Monitor's error object.
func azureError(code, msg string) string { return aitest.Error(code, msg) }

// aiRender answers as the Application Insights and Log Analytics query
// APIs do.
func aiRender(w http.ResponseWriter, _ *http.Request, queue string, rep conformance.Reply) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch rep.Kind {
	case conformance.Status:
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.Status)
		switch rep.Status {
		case 401:
			fmt.Fprint(w, azureError("AuthorizationRequiredError", "Valid authentication was not provided"))
		case 403:
			fmt.Fprint(w, azureError("InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation"))
		case 429:
			fmt.Fprint(w, azureError("ThrottledError", "Your request was throttled, please retry later"))
		default:
			fmt.Fprint(w, azureError("ServiceError", "Something went wrong processing your query on the server."))
		}
	case conformance.Empty:
		fmt.Fprint(w, table("long", "[]"))
	case conformance.NaN:
		fmt.Fprint(w, table("real", `[["NaN"]]`))
	default:
		v := rep.Total
		if queue == "bad" {
			if rep.NoBad {
				fmt.Fprint(w, table("long", "[[null]]"))
				return
			}
			v = rep.Bad
		}
		fmt.Fprint(w, table("long", fmt.Sprintf("[[%v]]", v)))
	}
}

// newTestProvider builds a provider with a fake credential.
func newTestProvider(t testing.TB, cfg Config, cred *fakeCredential) *Provider {
	t.Helper()
	p, err := New(t.Context(), cfg, providers.Env{}, WithCredential(cred))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func appConfig(url string) Config {
	return Config{Name: "ai", URL: url, AppID: "6f1b2c3d-aaaa-bbbb-cccc-0123456789ab",
		Transport: httpconf.Transport{Timeout: slo.Duration(5 * time.Second), Retries: 2, MaxConcurrency: 10}}
}
