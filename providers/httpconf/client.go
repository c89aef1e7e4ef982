package httpconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/common/config"
	"github.com/prometheus/sigv4"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/providers"
)

// Extra is what a backend adds to every request besides the config's
// keys: its own headers (API keys, Accept) and query parameters.
type Extra struct {
	Headers map[string]string
	Query   map[string]string
}

// Client builds a backend's client: Prometheus's HTTP client config for
// TLS, proxy, redirects and authentication (the *_env secrets read
// through its secret references, so that a rotated value is read again),
// SigV4 signing, sloguard's size limit, headers and parameters on every
// attempt, and go-retryablehttp's bounded retries around it all. It
// reads no secret yet, but checks that every variable it names is set.
func Client(ctx context.Context, name string, env providers.Env, a *Auth, t Transport, x Extra) (*retryablehttp.Client, error) {
	if a == nil {
		a = &Auth{}
	}
	if err := a.checkEnv(name, env); err != nil {
		return nil, err
	}
	if err := t.TLS.checkFiles(); err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	hc := t.clientConfig()
	a.apply(&hc, t)
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	rt, err := config.NewRoundTripperFromConfigWithContext(ctx, hc, name, config.WithSecretManager(envSecrets{env}))
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	if s := a.SigV4; s != nil {
		rt, err = s.roundTripper(ctx, env, rt)
		if err != nil {
			return nil, fmt.Errorf("provider %q: sigv4: %w", name, err)
		}
	}
	headers := map[string]string{}
	for k, v := range x.Headers {
		headers[k] = v
	}
	for k, v := range a.Headers {
		headers[k] = v
	}
	o := httpclient.Options{
		Name: name, MaxResponseBytes: t.MaxResponseBytes, Retries: t.Retries,
		Headers: headers, Query: x.Query, Logger: env.Logger().With("provider", name),
		Base: rt, NoRedirects: t.FollowRedirects != nil && !*t.FollowRedirects,
	}
	return httpclient.New(o)
}

// Limiter bounds the backend's queries in flight and gives each its
// deadline.
func (t Transport) Limiter() *providers.Limiter {
	return providers.NewLimiter(t.MaxConcurrency, time.Duration(t.Timeout))
}

func (t Transport) clientConfig() config.HTTPClientConfig {
	hc := config.HTTPClientConfig{FollowRedirects: true, EnableHTTP2: true}
	if t.FollowRedirects != nil {
		hc.FollowRedirects = *t.FollowRedirects
	}
	if t.ProxyURL != "" {
		u, _ := url.Parse(t.ProxyURL)
		hc.ProxyURL = config.URL{URL: u}
		hc.NoProxy = t.NoProxy
	} else {
		// Without proxy_url, HTTPS_PROXY and NO_PROXY apply unless
		// switched off, as they always did.
		hc.ProxyFromEnvironment = t.ProxyFromEnvironment == nil || *t.ProxyFromEnvironment
	}
	if t.TLS != nil {
		hc.TLSConfig = config.TLSConfig{
			CAFile: t.TLS.CAFile, CertFile: t.TLS.CertFile, KeyFile: t.TLS.KeyFile,
			ServerName: t.TLS.ServerName, InsecureSkipVerify: t.TLS.InsecureSkipVerify, //nolint:gosec // an explicit, documented switch
			MinVersion: config.TLSVersions[t.TLS.MinVersion],
		}
	}
	return hc
}

// apply sets the authentication of hc: every secret by reference (an
// environment variable, read through envSecrets) or by file.
func (a *Auth) apply(hc *config.HTTPClientConfig, t Transport) {
	switch {
	case a.BearerTokenEnv != "":
		hc.Authorization = &config.Authorization{Type: "Bearer", CredentialsRef: a.BearerTokenEnv}
	case a.BasicAuth != nil:
		b := a.BasicAuth
		hc.BasicAuth = &config.BasicAuth{Username: b.Username, UsernameRef: b.UsernameEnv, UsernameFile: b.UsernameFile,
			PasswordRef: b.PasswordEnv, PasswordFile: b.PasswordFile}
	case a.Authorization != nil:
		hc.Authorization = &config.Authorization{Type: strings.TrimSpace(a.Authorization.Type),
			CredentialsRef: a.Authorization.CredentialsEnv, CredentialsFile: a.Authorization.CredentialsFile}
	case a.OAuth2 != nil:
		o := a.OAuth2
		hc.OAuth2 = &config.OAuth2{ClientID: o.ClientID, ClientSecretRef: o.ClientSecretEnv, ClientSecretFile: o.ClientSecretFile,
			TokenURL: o.TokenURL, Scopes: o.Scopes, EndpointParams: o.EndpointParams}
		// The token endpoint is reached like the backend: the same CA and
		// proxy settings.
		hc.OAuth2.ProxyConfig = hc.ProxyConfig
		if t.TLS != nil {
			hc.OAuth2.TLSConfig = config.TLSConfig{CAFile: t.TLS.CAFile, InsecureSkipVerify: t.TLS.InsecureSkipVerify} //nolint:gosec // as above
		}
	}
}

// envVars lists the variables the keys name, with their keys.
func (a *Auth) envVars() [][2]string {
	var out [][2]string
	add := func(key, name string) {
		if name != "" {
			out = append(out, [2]string{key, name})
		}
	}
	add("bearer_token_env", a.BearerTokenEnv)
	if b := a.BasicAuth; b != nil {
		add("basic_auth", b.UsernameEnv)
		add("basic_auth", b.PasswordEnv)
	}
	if c := a.Authorization; c != nil {
		add("authorization.credentials_env", c.CredentialsEnv)
	}
	if o := a.OAuth2; o != nil {
		add("oauth2.client_secret_env", o.ClientSecretEnv)
	}
	if s := a.SigV4; s != nil {
		add("sigv4.access_key_env", s.AccessKeyEnv)
		add("sigv4.secret_key_env", s.SecretKeyEnv)
	}
	return out
}

// checkEnv fails when a variable the config names for a secret is empty,
// naming the variable and its key.
func (a *Auth) checkEnv(name string, env providers.Env) error {
	if b := a.BasicAuth; b != nil && b.UsernameEnv != "" && b.PasswordEnv != "" && (env.Env(b.UsernameEnv) == "" || env.Env(b.PasswordEnv) == "") {
		return fmt.Errorf("provider %q: environment variables %s and %s (basic_auth) must both be set", name, b.UsernameEnv, b.PasswordEnv)
	}
	for _, kv := range a.envVars() {
		if env.Env(kv[1]) == "" {
			return fmt.Errorf("provider %q: environment variable %s (%s) is empty", name, kv[1], kv[0])
		}
	}
	return nil
}

// checkFiles reads the CA file as the client will, to say what is wrong
// with it now rather than on the first query.
func (t *TLS) checkFiles() error {
	if t == nil || t.CAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return fmt.Errorf("read CA file: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
	}
	if t.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			return fmt.Errorf("client certificate (tls.cert_file, tls.key_file): %w", err)
		}
	}
	return nil
}

// envSecrets reads the secret references of Prometheus's client config
// from the environment: a *_env key names the variable.
type envSecrets struct{ env providers.Env }

func (s envSecrets) Fetch(_ context.Context, name string) (string, error) {
	if v := s.env.Env(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("environment variable %s is empty", name)
}

func (s *SigV4) roundTripper(ctx context.Context, env providers.Env, next http.RoundTripper) (http.RoundTripper, error) {
	c := &sigv4.SigV4Config{Region: s.Region, Profile: s.Profile, RoleARN: s.RoleARN, ExternalID: s.ExternalID, ServiceName: s.ServiceName}
	if s.AccessKeyEnv != "" {
		c.AccessKey, c.SecretKey = env.Env(s.AccessKeyEnv), config.Secret(env.Env(s.SecretKeyEnv))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return sigv4.NewSigV4RoundTripper(c, next, sigv4.WithContext(ctx))
}

// Redact tells r every secret the keys make the client read: the
// variables' values, the files' contents, the basic auth pair and its
// encoded form, and credential headers written in the config.
func (a *Auth) Redact(r *redact.Redactor, env providers.Env) {
	if a == nil {
		return
	}
	for _, kv := range a.envVars() {
		r.Add(env.Env(kv[1]))
	}
	if b := a.BasicAuth; b != nil {
		user, pass := b.Username, env.Env(b.PasswordEnv)
		if b.UsernameEnv != "" {
			user = env.Env(b.UsernameEnv)
		}
		if v, err := readSecretFile(b.UsernameFile); err == nil && v != "" {
			user = v
		}
		if v, err := readSecretFile(b.PasswordFile); err == nil && v != "" {
			pass = v
		}
		r.AddBasicAuth(user, pass)
	}
	for _, f := range a.files() {
		if v, err := readSecretFile(f); err == nil {
			r.Add(v)
		}
	}
	for k, v := range a.Headers {
		if redact.SensitiveHeader(k) {
			r.Add(v)
		}
	}
}

func (a *Auth) files() []string {
	var out []string
	if b := a.BasicAuth; b != nil {
		out = append(out, b.UsernameFile, b.PasswordFile)
	}
	if c := a.Authorization; c != nil {
		out = append(out, c.CredentialsFile)
	}
	if o := a.OAuth2; o != nil {
		out = append(out, o.ClientSecretFile)
	}
	return out
}

// readSecretFile reads a small secret file, trimmed as Prometheus trims
// it; a large or missing one is not a secret to know.
func readSecretFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("no file")
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
		return "", errors.New("not a secret file")
	}
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}
