package httpconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/common/config"
	"github.com/prometheus/sigv4"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/providers"
)

// Extra is what a backend adds to every request besides the config's
// keys: its own headers (API keys, Accept) and query parameters.
type Extra struct {
	Headers map[string]string
	Query   map[string]string
}

// Client builds a backend's client: Prometheus's HTTP client config for
// TLS, proxy, redirects and authentication (the *_env secrets and the
// *_file files read through its secret references, so that a rotated
// value is read again, and a file only as internal/safefile reads it),
// SigV4 signing, sloguard's size limit, headers and parameters on every
// attempt, and go-retryablehttp's bounded retries around it all. It
// reads no secret yet, but checks that every variable it names is set
// and that every file it names reads.
func Client(ctx context.Context, name string, env providers.Env, a *Auth, t Transport, x Extra) (*retryablehttp.Client, error) {
	if a == nil {
		a = &Auth{}
	}
	if err := a.checkEnv(name, env); err != nil {
		return nil, err
	}
	sm := secrets{env: env, files: append(t.TLS.files(), a.files()...)}
	if err := sm.checkFiles(); err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	hc := t.clientConfig()
	a.apply(&hc)
	if err := hc.Validate(); err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	rt, err := config.NewRoundTripperFromConfigWithContext(ctx, hc, name, config.WithSecretManager(sm))
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", name, err)
	}
	if o := a.OAuth2; o != nil {
		rt, err = newOAuth2Transport(ctx, name, o, hc, t, sm, rt)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", name, err)
		}
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
	for k, v := range a.HeadersEnv {
		headers[k] = env.Env(v)
	}
	o := httpclient.Options{
		Name: name, MaxResponseBytes: t.MaxResponseBytes, Retries: t.Retries,
		Headers: headers, Query: x.Query, Logger: env.Logger().With("provider", name),
		Base: rt, NoRedirects: t.FollowRedirects != nil && !*t.FollowRedirects, Large: env.Large,
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
			CARef: ref(keyCAFile, t.TLS.CAFile), CertRef: ref(keyCertFile, t.TLS.CertFile), KeyRef: ref(keyKeyFile, t.TLS.KeyFile),
			ServerName: t.TLS.ServerName, InsecureSkipVerify: t.TLS.InsecureSkipVerify, //nolint:gosec // an explicit, documented switch
			MinVersion: config.TLSVersions[t.TLS.MinVersion],
		}
	}
	return hc
}

// apply sets the authentication of hc: every secret by reference, to an
// environment variable or a file, both read through secrets.
func (a *Auth) apply(hc *config.HTTPClientConfig) {
	switch {
	case a.BearerTokenEnv != "":
		hc.Authorization = &config.Authorization{Type: "Bearer", CredentialsRef: a.BearerTokenEnv}
	case a.BasicAuth != nil:
		b := a.BasicAuth
		hc.BasicAuth = &config.BasicAuth{Username: b.Username, UsernameRef: or(b.UsernameEnv, ref(keyUsernameFile, b.UsernameFile)),
			PasswordRef: or(b.PasswordEnv, ref(keyPasswordFile, b.PasswordFile))}
	case a.Authorization != nil:
		c := a.Authorization
		hc.Authorization = &config.Authorization{Type: strings.TrimSpace(c.Type),
			CredentialsRef: or(c.CredentialsEnv, ref(keyCredentialsFile, c.CredentialsFile))}
	}
	// OAuth2 is not prometheus/common's: see oauth2Transport.
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
	for _, k := range sortedKeys(a.HeadersEnv) {
		add("headers_env."+k, a.HeadersEnv[k])
	}
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

// secrets reads the secret references of Prometheus's client config: a
// *_env key names a variable; a *_file key is a reference named after the
// key (tls.ca_file), read as internal/safefile reads (a regular file of
// at most safefile.MaxCredential bytes, opened without blocking), on each
// request as the client config re-reads its files, so that a FIFO or a
// device swapped in later fails that request instead of hanging it.
type secrets struct {
	env   providers.Env
	files []file
}

// file is a file a key names.
type file struct{ key, path string }

// Keys of the files, which name their references too.
const (
	keyCAFile           = "tls.ca_file"
	keyCertFile         = "tls.cert_file"
	keyKeyFile          = "tls.key_file"
	keyUsernameFile     = "basic_auth.username_file"
	keyPasswordFile     = "basic_auth.password_file"
	keyCredentialsFile  = "authorization.credentials_file"
	keyClientSecretFile = "oauth2.client_secret_file"
)

// ref is the reference of the file a key names ("" without one). Keys
// hold a dot, which no variable name does.
func ref(key, path string) string {
	if path == "" {
		return ""
	}
	return key
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s secrets) Fetch(_ context.Context, name string) (string, error) {
	for _, f := range s.files {
		if f.key == name {
			return f.read()
		}
	}
	if v := s.env.Env(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("environment variable %s is empty", name)
}

// read reads the file, trimmed as Prometheus trims it.
func (f file) read() (string, error) {
	data, err := safefile.Read(f.path, safefile.MaxCredential)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", f.key, f.path, unwrapPath(err))
	}
	return strings.TrimSpace(string(data)), nil
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkFiles reads every file as the client will, to say what is wrong
// with one now rather than on the first query: missing, no regular file,
// too large, empty, a CA file without a certificate, a key that does not
// match its certificate.
func (s secrets) checkFiles() error {
	data := map[string]string{}
	for _, f := range s.files {
		v, err := f.read()
		if err != nil {
			return err
		}
		if v == "" {
			return fmt.Errorf("%s %s is empty", f.key, f.path)
		}
		data[f.key] = v
	}
	if ca, ok := data[keyCAFile]; ok && !x509.NewCertPool().AppendCertsFromPEM([]byte(ca)) {
		return fmt.Errorf("%s %s holds no PEM certificate", keyCAFile, s.path(keyCAFile))
	}
	if cert, ok := data[keyCertFile]; ok {
		if _, err := tls.X509KeyPair([]byte(cert), []byte(data[keyKeyFile])); err != nil {
			return fmt.Errorf("client certificate (%s %s, %s %s): %w", keyCertFile, s.path(keyCertFile), keyKeyFile, s.path(keyKeyFile), err)
		}
	}
	return nil
}

func (s secrets) path(key string) string {
	for _, f := range s.files {
		if f.key == key {
			return f.path
		}
	}
	return ""
}

// files lists the files the tls: block names.
func (t *TLS) files() []file {
	if t == nil {
		return nil
	}
	return files(keyCAFile, t.CAFile, keyCertFile, t.CertFile, keyKeyFile, t.KeyFile)
}

// files lists the secret files the keys name.
func (a *Auth) files() []file {
	var kv []string
	if b := a.BasicAuth; b != nil {
		kv = append(kv, keyUsernameFile, b.UsernameFile, keyPasswordFile, b.PasswordFile)
	}
	if c := a.Authorization; c != nil {
		kv = append(kv, keyCredentialsFile, c.CredentialsFile)
	}
	if o := a.OAuth2; o != nil {
		kv = append(kv, keyClientSecretFile, o.ClientSecretFile)
	}
	return files(kv...)
}

// files pairs keys with the paths they hold, leaving out the empty ones.
func files(kv ...string) []file {
	var out []file
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out = append(out, file{key: kv[i], path: kv[i+1]})
		}
	}
	return out
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
		if v := readQuiet(keyUsernameFile, b.UsernameFile); v != "" {
			user = v
		}
		if v := readQuiet(keyPasswordFile, b.PasswordFile); v != "" {
			pass = v
		}
		r.AddBasicAuth(user, pass)
	}
	for _, f := range a.files() {
		r.Add(readQuiet(f.key, f.path))
	}
	for k, v := range a.Headers {
		if redact.SensitiveHeader(k) {
			r.Add(v)
		}
	}
}

// readQuiet reads a secret file for the redaction layer: one that does
// not read is no secret to know (building the client says what is wrong).
func readQuiet(key, path string) string {
	if path == "" {
		return ""
	}
	v, _ := file{key: key, path: path}.read()
	return v
}
