package datadog

import (
	"net/http"
	"testing"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/slo"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Name:    "datadog",
		SLI:     eventsSLI(),
		Network: true,
		Start: func(t *testing.T, s conformance.Setup) (providers.Provider, error) {
			f := conformance.NewFake(t, s, []string{"bad", "total"}, conformance.Handler{
				Queue: ddQueue,
				Authorized: func(r *http.Request) bool {
					return r.Header.Get("DD-API-KEY") == s.Secret && r.Header.Get("DD-APPLICATION-KEY") == "app-"+s.Secret
				},
				Render: ddRender,
			})
			env := map[string]string{"DD_API_KEY": s.Secret, "DD_APP_KEY": "app-" + s.Secret}
			p, _ := newTestProvider(t, f.URL, func(c *Config) { c.Timeout, c.Retries = slo.Duration(s.Timeout), s.Retries }, env)
			return p, nil
		},
	})
}
