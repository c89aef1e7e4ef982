package prometheus

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/slo"
)

// promQueue routes an instant query to the error or the total queue.
func promQueue(r *http.Request, body []byte) string {
	form, _ := url.ParseQuery(string(body))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	if r.URL.Path != "/api/v1/query" {
		return ""
	}
	if strings.Contains(form.Get("query"), `code=~"5.."`) {
		return "bad"
	}
	return "total"
}

// promRender answers as the Prometheus HTTP API does (and, for 401, 403
// and 429, as the proxies and gateways in front of it do).
func promRender(w http.ResponseWriter, r *http.Request, queue string, rep conformance.Reply) {
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Kind == conformance.Status {
		switch rep.Status {
		case 401, 403, 429:
			http.Error(w, http.StatusText(rep.Status), rep.Status)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rep.Status)
			fmt.Fprint(w, `{"status":"error","errorType":"internal","error":"store gateway unavailable"}`)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	v := fmt.Sprint(rep.Total)
	switch {
	case rep.Kind == conformance.NaN:
		v = "NaN"
	case rep.Kind == conformance.Empty || queue == "bad" && rep.NoBad:
		v = ""
	case queue == "bad":
		v = fmt.Sprint(rep.Bad)
	}
	result := ""
	if v != "" {
		result = fmt.Sprintf(`{"metric":{},"value":[%s,%q]}`, atParamOf(r), v)
	}
	fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, result)
}

func atParamOf(r *http.Request) string {
	_ = r.ParseForm()
	return r.Form.Get("time")
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Name: "prometheus",
		SLI: slo.SLI{
			ErrorQuery: `sum(increase(http_requests_total{code=~"5.."}[{{.window}}]))`,
			TotalQuery: `sum(increase(http_requests_total[{{.window}}]))`,
		},
		Network: true,
		Start: func(t *testing.T, s conformance.Setup) (providers.Provider, error) {
			f := conformance.NewFake(t, s, []string{"bad", "total"}, conformance.Handler{
				Queue:      promQueue,
				Authorized: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+s.Secret },
				Render:     promRender,
			})
			if len(s.Replies) == 1 && s.Replies[0].Status == http.StatusForbidden {
				// client_golang sends a query that was forbidden as a POST
				// once more as a GET, for proxies that allow only GET.
				f.Push("bad", s.Replies[0])
				f.Push("total", s.Replies[0])
			}
			cfg := withFields(testConfig("prom", f.URL, s.Timeout, s.Retries, 10), func(c *Config) { c.BearerTokenEnv = "PROM_TOKEN" })
			return New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return map[string]string{"PROM_TOKEN": s.Secret}[k] }, Log: nil})
		},
	})
}
