package httpconf

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

func TestRedactLearnsEverySecretTheKeysName(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := providers.Env{Getenv: func(k string) string {
		return map[string]string{"PROM_PASS": "pa55-from-env", "OAUTH_SECRET": "oauth-s3cret", "AWS_SK": "aws-s3cret-key", "HDR": "header-s3cret"}[k]
	}}
	for name, a := range map[string]*Auth{
		"basic auth, password from a variable": {BasicAuth: &BasicAuth{Username: "sre", PasswordEnv: "PROM_PASS"}, HeadersEnv: map[string]string{"X-Api-Key": "HDR"}},
		"basic auth, password from a file":     {BasicAuth: &BasicAuth{Username: "sre", PasswordFile: write("pass", "pa55-from-file")}},
		"authorization from a file":            {Authorization: &Authorization{CredentialsFile: write("cred", "cred-from-file")}},
		"oauth2 client secret":                 {OAuth2: &OAuth2{ClientID: "c", ClientSecretEnv: "OAUTH_SECRET"}},
		"sigv4 secret key":                     {SigV4: &SigV4{AccessKeyEnv: "AWS_AK", SecretKeyEnv: "AWS_SK"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := redact.New()
			a.Redact(r, env)
			text := "pa55-from-env pa55-from-file cred-from-file oauth-s3cret aws-s3cret-key header-s3cret " +
				base64.StdEncoding.EncodeToString([]byte("sre:pa55-from-env"))
			got := r.String(text)
			for _, secret := range strings.Fields(text) {
				if strings.Contains(got, secret) && knows(a, secret) {
					t.Errorf("%q is not redacted: %s", secret, got)
				}
			}
		})
	}
}

// knows says which secrets of the test text an Auth names.
func knows(a *Auth, secret string) bool {
	switch {
	case a.BasicAuth != nil && a.BasicAuth.PasswordEnv != "":
		return secret == "pa55-from-env" || strings.HasPrefix(secret, "c3J") || secret == "header-s3cret"
	case a.BasicAuth != nil:
		return secret == "pa55-from-file"
	case a.Authorization != nil:
		return secret == "cred-from-file"
	case a.OAuth2 != nil:
		return secret == "oauth-s3cret"
	}
	return secret == "aws-s3cret-key"
}

// The client Prometheus's config builds stays inside sloguard's: bounded
// retries, the size limit, and the headers of every attempt.
func TestTheClientKeepsRetriesAndTheSizeLimit(t *testing.T) {
	var attempts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		if r.Header.Get("Authorization") != "Bearer t0ken" || r.Header.Get("X-Scope-OrgID") != "team-a" {
			t.Errorf("attempt %d: headers %v", attempts, r.Header)
		}
		if attempts == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 4096)))
	}))
	t.Cleanup(srv.Close)
	a := &Auth{BearerTokenEnv: "T", Headers: map[string]string{"X-Scope-OrgID": "team-a"}}
	tr := Transport{Timeout: slo.Duration(10 * time.Second), Retries: 2, MaxConcurrency: 1, MaxResponseBytes: 1024}
	c, err := Client(t.Context(), "prom", providers.Env{Getenv: func(string) string { return "t0ken" }}, a, tr, Extra{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Call(t.Context(), c, tr.Limiter(), func(ctx context.Context) (*retryablehttp.Request, error) {
		return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	})
	var tl *httpclient.TooLargeError
	if !errors.As(err, &tl) || tl.Name != "prom" || tl.Limit != 1024 {
		t.Errorf("err = %v, want the size limit of provider prom", err)
	}
	if attempts != 2 {
		t.Errorf("%d attempts, want 2 (the 502 retried)", attempts)
	}
}

func TestAnEmptyVariableIsAnErrorNamingIt(t *testing.T) {
	for name, tc := range map[string]struct {
		a    *Auth
		want string
	}{
		"bearer token":   {&Auth{BearerTokenEnv: "PROM_TOKEN"}, `provider "prom": environment variable PROM_TOKEN (bearer_token_env) is empty`},
		"basic auth":     {&Auth{BasicAuth: &BasicAuth{UsernameEnv: "U", PasswordEnv: "P"}}, `provider "prom": environment variables U and P (basic_auth) must both be set`},
		"oauth2 secret":  {&Auth{OAuth2: &OAuth2{ClientID: "c", ClientSecretEnv: "S", TokenURL: "http://idp/token"}}, `provider "prom": environment variable S (oauth2.client_secret_env) is empty`},
		"sigv4 key pair": {&Auth{SigV4: &SigV4{Region: "us-east-1", AccessKeyEnv: "AK", SecretKeyEnv: "SK"}}, `provider "prom": environment variable AK (sigv4.access_key_env) is empty`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Client(t.Context(), "prom", providers.Env{Getenv: func(string) string { return "" }}, tc.a, Transport{}, Extra{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

// A gzipped answer is asked for and read decompressed, the size limit
// counting what it decompresses to.
func TestAnswersAreGzippedAndLimitedDecompressed(t *testing.T) {
	body := strings.Repeat("0123456789", 200) // 2000 bytes, far fewer gzipped
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q, want gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
	}))
	t.Cleanup(srv.Close)
	get := func(limit int64) (string, error) {
		tr := Transport{Timeout: slo.Duration(10 * time.Second), MaxConcurrency: 1, MaxResponseBytes: limit}
		c, err := Client(t.Context(), "prom", providers.Env{}, nil, tr, Extra{})
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := Call(t.Context(), c, tr.Limiter(), func(ctx context.Context) (*retryablehttp.Request, error) {
			return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		})
		return string(b), err
	}
	if got, err := get(0); err != nil || got != body {
		t.Errorf("read %d bytes, %v; want the %d decompressed", len(got), err, len(body))
	}
	var tl *httpclient.TooLargeError
	if _, err := get(1024); !errors.As(err, &tl) {
		t.Errorf("err = %v, want the 1024-byte limit on the decompressed answer", err)
	}
}
