package appinsights

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

var at = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)

type seen struct {
	method, path string
	header       http.Header
	body         queryBody
}

// server answers each query with answer(query) and records the requests.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, answer func(w http.ResponseWriter, q queryBody)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b queryBody
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Errorf("body is not JSON: %s", raw)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{r.Method, r.URL.Path, r.Header.Clone(), b})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		answer(w, b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

func counts(total, failed string) func(w http.ResponseWriter, q queryBody) {
	return func(w http.ResponseWriter, q queryBody) {
		v := total
		if strings.Contains(q.Query, "success == false") {
			v = failed
		}
		fmt.Fprint(w, table("long", "[["+v+"]]"))
	}
}

func TestApplicationInsightsRequests(t *testing.T) {
	srv := newServer(t, counts("3000", "30"))
	cred := &fakeCredential{token: "eyJ0eXAiOiJKV1Qi.token"}
	p := newTestProvider(t, appConfig(srv.URL), cred)
	q := providers.Query{SLO: "checkout", SLI: eventsSLI(), Window: time.Hour,
		Scope: providers.Scope{Name: providers.ScopeCanary, Labels: map[string]string{"cloud_RoleName": "checkout-canary"}}}
	c, err := p.Counts(t.Context(), q, at)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if c.Good != 2970 || c.Total != 3000 {
		t.Errorf("counts = %v of %v, want 2970 of 3000", c.Good, c.Total)
	}
	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	queries := map[string]bool{}
	for _, r := range reqs {
		queries[r.body.Query] = true
		if r.method != http.MethodPost || r.path != "/v1/apps/6f1b2c3d-aaaa-bbbb-cccc-0123456789ab/query" {
			t.Errorf("%s %s, want POST /v1/apps/{appId}/query", r.method, r.path)
		}
		if r.body.Timespan != "2026-11-23T16:00:00Z/2026-11-23T17:00:00Z" {
			t.Errorf("timespan %q, want the window ending at at", r.body.Timespan)
		}
		if got := r.header.Get("Authorization"); got != "Bearer eyJ0eXAiOiJKV1Qi.token" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
	}
	for _, want := range []string{
		`requests | where cloud_RoleName == "checkout-canary" | where success == false | summarize sum(itemCount)`,
		`requests | where cloud_RoleName == "checkout-canary" | summarize sum(itemCount)`,
	} {
		if !queries[want] {
			t.Errorf("query never sent: %s", want)
		}
	}
	// Two queries, one token: the cache holds it.
	if got := cred.calls(); len(got) != 1 || got[0] != "https://api.applicationinsights.io/.default" {
		t.Errorf("token requests %q, want one for https://api.applicationinsights.io/.default", got)
	}
}

func TestLogAnalyticsRequests(t *testing.T) {
	srv := newServer(t, counts("10", "0"))
	cred := &fakeCredential{token: "tok"}
	cfg := appConfig(srv.URL)
	cfg.AppID, cfg.WorkspaceID = "", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	p := newTestProvider(t, cfg, cred)
	if _, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI(), Window: 5 * time.Minute}, at); err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if r := srv.requests()[0]; r.path != "/v1/workspaces/0a1b2c3d-4e5f-6789-abcd-ef0123456789/query" || r.body.Timespan != "2026-11-23T16:55:00Z/2026-11-23T17:00:00Z" {
		t.Errorf("request %s timespan %s", r.path, r.body.Timespan)
	}
	if got := cred.calls(); len(got) != 1 || got[0] != "https://api.loganalytics.io/.default" {
		t.Errorf("token requests %q, want one for https://api.loganalytics.io/.default", got)
	}
}

func TestAPIKey(t *testing.T) {
	srv := newServer(t, counts("1", "0"))
	cfg := appConfig(srv.URL)
	cfg.Auth, cfg.APIKeyEnv = "api_key", "AI_API_KEY"
	p, err := New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return map[string]string{"AI_API_KEY": "k3y"}[k] }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI(), Window: time.Minute}, at); err != nil {
		t.Fatalf("Counts: %v", err)
	}
	r := srv.requests()[0]
	if r.header.Get("x-api-key") != "k3y" || r.header.Get("Authorization") != "" {
		t.Errorf("x-api-key = %q, Authorization = %q; want the key and no bearer token", r.header.Get("x-api-key"), r.header.Get("Authorization"))
	}
	cfg.AppID, cfg.WorkspaceID = "", "ws"
	if _, err := New(t.Context(), cfg, providers.Env{Getenv: func(string) string { return "k3y" }}); err == nil || !strings.Contains(err.Error(), "api_key works with Application Insights (app_id) only") {
		t.Errorf("api_key with a workspace: err = %v", err)
	}
	cfg.AppID, cfg.WorkspaceID = "app", ""
	if _, err := New(t.Context(), cfg, providers.Env{Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "AI_API_KEY (api_key_env) is empty") {
		t.Errorf("empty key: err = %v", err)
	}
}

func TestAnswers(t *testing.T) {
	tests := map[string]struct {
		sli     slo.SLI
		status  int
		body    string
		want    providers.Counts
		wantErr error // nil with msg: an outage
		msg     string
	}{
		"a decimal column arrives as a string": {
			sli: slo.SLI{Query: `requests | summarize percentile(duration, 99)`, Op: "<", Value: 300}, body: table("decimal", `[["212.5"]]`),
			want: providers.Counts{Value: 212.5, Total: 1},
		},
		"an error ratio reads as good out of one": {
			sli: slo.SLI{ErrorRatioQuery: `requests | summarize countif(success == false) * 1.0 / count()`}, body: table("real", `[[0.25]]`),
			want: providers.Counts{Good: 0.75, Total: 1},
		},
		"NaN for an error ratio (0/0) is no data": {
			sli: slo.SLI{ErrorRatioQuery: `requests | summarize countif(success == false) * 1.0 / count()`}, body: table("real", `[["NaN"]]`),
			wantErr: providers.ErrNoData, msg: "returned NaN",
		},
		"NaN for a threshold is no data": {
			sli: slo.SLI{Query: `requests | summarize percentile(duration, 99)`, Op: "<", Value: 300}, body: table("real", `[["NaN"]]`),
			wantErr: providers.ErrNoData, msg: "returned NaN",
		},
		"a 200 with an error object is an error": {
			sli: eventsSLI(),
			body: `{"tables":[{"name":"PrimaryResult","columns":[{"name":"sum_itemCount","type":"long"}],"rows":[[12]]}],
"error":{"message":"There were some errors when processing your query.","code":"PartialError","details":[{"code":"EngineError","message":"Something went wrong processing your query on the server.","innererror":{"code":"-2133196797","message":"Query execution has exceeded the allowed limits (80DA0003): The results of this query exceed the set limit of 64 MB."}}]}}`,
			msg: "may be partial: PartialError: There were some errors when processing your query. / EngineError: Something went wrong processing your query on the server. / -2133196797: Query execution has exceeded the allowed limits",
		},
		"a 400 is a bad query carrying the inner errors": {
			sli: eventsSLI(), status: 400,
			body:    `{"error":{"message":"The request had some invalid properties","code":"BadArgumentError","correlationId":"x","innererror":{"code":"SyntaxError","message":"A recognition error occurred in the query.","innererror":{"code":"SYN0002","message":"Query could not be parsed at '|' on line [1,9]","line":1,"pos":9,"token":"|"}}}}`,
			wantErr: providers.ErrBadQuery, msg: "BadArgumentError: The request had some invalid properties / SyntaxError: A recognition error occurred in the query. / SYN0002: Query could not be parsed at '|' on line [1,9]",
		},
		"an unknown table is a bad query, not no data": {
			sli: slo.SLI{ErrorQuery: `requestz | where success == false | summarize sum(itemCount)`, TotalQuery: `requestz | summarize sum(itemCount)`}, status: 400,
			body:    `{"error":{"message":"The request had some invalid properties","code":"BadArgumentError","correlationId":"x","innererror":{"code":"SemanticError","message":"A semantic error occurred.","innererror":{"code":"SEM0100","message":"'summarize' operator: Failed to resolve table or column expression named 'requestz'"}}}}`,
			wantErr: providers.ErrBadQuery, msg: "Failed to resolve table or column expression named 'requestz'",
		},
		"an unknown column is a bad query, not no data": {
			sli: slo.SLI{ErrorQuery: `requests | where sucess == false | summarize sum(itemCount)`, TotalQuery: `requests | summarize sum(itemCount)`}, status: 400,
			body:    `{"error":{"message":"The request had some invalid properties","code":"BadArgumentError","correlationId":"x","innererror":{"code":"SemanticError","message":"A semantic error occurred.","innererror":{"code":"SEM0100","message":"'where' operator: Failed to resolve column or scalar expression named 'sucess'"}}}}`,
			wantErr: providers.ErrBadQuery, msg: "Failed to resolve column or scalar expression named 'sucess'",
		},
		"a 404 names the app": {
			sli: eventsSLI(), status: 404, body: azureError("PathNotFoundError", "The requested path does not exist"),
			msg: "not found (404): PathNotFoundError: The requested path does not exist: check app_id 6f1b2c3d-aaaa-bbbb-cccc-0123456789ab",
		},
		"a 403 says which identity and what role": {
			sli: eventsSLI(), status: 403, body: azureError("InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation"),
			msg: "authentication failed (403 Forbidden) with the injected credential: check that the identity has the Reader",
		},
		"several rows are a bad query": {
			sli: eventsSLI(), body: table("long", `[[1],[2]]`), wantErr: providers.ErrBadQuery, msg: "returned 2 rows of 1 columns, want one number: end the query with summarize",
		},
		"a string column is a bad query": {
			sli: eventsSLI(), body: table("string", `[["checkout"]]`), wantErr: providers.ErrBadQuery, msg: `returned "checkout" (column sum_itemCount of type string), want a number`,
		},
		"no rows at all is no data": {
			sli: eventsSLI(), body: table("long", `[]`), wantErr: providers.ErrNoData, msg: "no rows",
		},
		"negative counts are a bad query": {
			sli: eventsSLI(), body: table("long", `[[-3]]`), wantErr: providers.ErrBadQuery, msg: "cannot be negative",
		},
		"an answer without tables is not the query API": {
			sli: eventsSLI(), body: `{"value":[]}`, msg: "holds no tables",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, _ queryBody) {
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, tc.body)
			})
			cfg := appConfig(srv.URL)
			cfg.Retries = 0
			p := newTestProvider(t, cfg, &fakeCredential{token: "tok"})
			c, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: tc.sli, Window: time.Hour}, at)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Counts: %v", err)
				}
				if c.Good != tc.want.Good || c.Total != tc.want.Total || c.Value != tc.want.Value {
					t.Errorf("counts %+v, want %+v", c, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v\nwant it to say %q", err, tc.msg)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && (errors.Is(err, providers.ErrBadQuery) || errors.Is(err, providers.ErrNoData)) {
				t.Errorf("err = %v, want an outage", err)
			}
		})
	}
}

func TestTokenFailureIsAnAuthenticationFailure(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, queryBody) { t.Errorf("a query was sent without a token") })
	p := newTestProvider(t, appConfig(srv.URL), &fakeCredential{err: errors.New("AADSTS700016: application not found in the directory")})
	_, err := p.Counts(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI(), Window: time.Hour}, at)
	if err == nil || !strings.Contains(err.Error(), "authentication failed: no Microsoft Entra ID token from the injected credential: AADSTS700016") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, providers.ErrBadQuery) || errors.Is(err, providers.ErrNoData) {
		t.Errorf("err = %v, want an outage", err)
	}
}

func TestSlicesRunOneQueryPerSlice(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, q queryBody) {
		v := map[string]string{
			"2026-11-23T16:57:00Z/2026-11-23T16:58:00Z": "100",
			"2026-11-23T16:58:00Z/2026-11-23T16:59:00Z": "",
			"2026-11-23T16:59:00Z/2026-11-23T17:00:00Z": "50",
		}[q.Timespan]
		if strings.Contains(q.Query, "success == false") && v != "" {
			v = "5"
		}
		if v == "" {
			fmt.Fprint(w, table("long", "[]"))
			return
		}
		fmt.Fprint(w, table("long", "[["+v+"]]"))
	})
	p := newTestProvider(t, appConfig(srv.URL), &fakeCredential{token: "tok"})
	got, err := p.Slices(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI()}, providers.Range{Start: at.Add(-3 * time.Minute), End: at, Step: time.Minute})
	if err != nil {
		t.Fatalf("Slices: %v", err)
	}
	want := [][2]float64{{95, 100}, {0, 0}, {45, 50}}
	for i, c := range got {
		if c.Good != want[i][0] || c.Total != want[i][1] {
			t.Errorf("slice %d = %v of %v, want %v", i, c.Good, c.Total, want[i])
		}
	}
	_, err = p.Slices(t.Context(), providers.Query{SLO: "s", SLI: eventsSLI()}, providers.Range{Start: at.Add(-30 * 24 * time.Hour), End: at, Step: time.Hour})
	if !errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), "720 slices of 1h") {
		t.Errorf("720 slices: err = %v", err)
	}
}
