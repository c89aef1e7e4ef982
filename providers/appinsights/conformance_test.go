package appinsights

import (
	"net/http"
	"testing"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/slo"
)

func TestConformance(t *testing.T) {
	for name, workspace := range map[string]bool{"application insights": false, "log analytics": true} {
		t.Run(name, func(t *testing.T) {
			conformance.Run(t, conformance.Backend{
				Name:    name,
				SLI:     eventsSLI(),
				Network: true,
				Start: func(t *testing.T, s conformance.Setup) (providers.Provider, error) {
					f := conformance.NewFake(t, s, []string{"bad", "total"}, conformance.Handler{
						Queue:      aiQueue,
						Authorized: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+s.Secret },
						Render:     aiRender,
					})
					cfg := appConfig(f.URL)
					if workspace {
						cfg.AppID, cfg.WorkspaceID = "", "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
					}
					cfg.Timeout, cfg.Retries = slo.Duration(s.Timeout), s.Retries
					return newTestProvider(t, cfg, &fakeCredential{token: s.Secret}), nil
				},
			})
		})
	}
}
