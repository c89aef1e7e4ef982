package prometheus

import (
	"testing"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
)

func TestPrometheusTokenFillsOnlyProvidersWithoutCredentials(t *testing.T) {
	tests := map[string]struct {
		auth httpconf.Auth
		env  map[string]string
		want string // BearerTokenEnv after
	}{
		"a prometheus provider without credentials takes it": {httpconf.Auth{}, map[string]string{TokenEnv: "t"}, TokenEnv},
		"its own bearer token wins":                          {httpconf.Auth{BearerTokenEnv: "PROM_TOKEN"}, map[string]string{TokenEnv: "t"}, "PROM_TOKEN"},
		"basic auth wins":                                    {httpconf.Auth{BasicAuth: &httpconf.BasicAuth{UsernameEnv: "U", PasswordEnv: "P"}}, map[string]string{TokenEnv: "t"}, ""},
		"an Authorization header wins":                       {httpconf.Auth{Headers: map[string]string{"Authorization": "Basic x"}}, map[string]string{TokenEnv: "t"}, ""},
		"oauth2 wins":                                        {httpconf.Auth{OAuth2: &httpconf.OAuth2{ClientID: "c"}}, map[string]string{TokenEnv: "t"}, ""},
		"nothing without the variable":                       {httpconf.Auth{}, map[string]string{}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := Config{HTTP: httpconf.HTTP{Auth: tc.auth}}
			env := providers.Env{Getenv: func(k string) string { return tc.env[k] }}
			if got := c.withToken(env).BearerTokenEnv; got != tc.want {
				t.Errorf("BearerTokenEnv %q, want %q", got, tc.want)
			}
		})
	}
}
