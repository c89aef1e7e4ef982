package httpconf

import (
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/sloguard/sloguard/internal/safefile"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// Check reports what is wrong with the transport keys of b and applies
// their defaults.
func (t *Transport) Check(b *slo.Block) {
	if !b.Has("timeout") {
		t.Timeout = slo.Duration(DefaultTimeout)
	}
	if !b.Has("retries") {
		t.Retries = DefaultRetries
	} else if t.Retries < 0 || t.Retries > 10 {
		b.Problem("retries", "must be between 0 and 10, got %d", t.Retries)
	}
	if b.Has("max_response_bytes") && t.MaxResponseBytes < 1024 {
		b.Problem("max_response_bytes", "must be at least 1024 (bytes), got %d; the default is 52428800 (50 MiB)", t.MaxResponseBytes)
	}
	if !b.Has("max_concurrency") {
		t.MaxConcurrency = DefaultMaxConcurrency
	} else if t.MaxConcurrency < 1 || t.MaxConcurrency > 100 {
		b.Problem("max_concurrency", "must be between 1 and 100, got %d", t.MaxConcurrency)
	}
	t.TLS.check(b)
	if t.ProxyURL != "" {
		if u, err := url.Parse(t.ProxyURL); err != nil || u.Host == "" || !slo.Contains([]string{"http", "https", "socks5"}, u.Scheme) {
			b.Problem("proxy_url", "%q is not an http(s) or socks5 URL", slo.RedactURL(t.ProxyURL))
		}
		if t.ProxyFromEnvironment != nil && *t.ProxyFromEnvironment {
			b.Problem("proxy_from_environment", "use proxy_url or proxy_from_environment, not both")
		}
	} else if t.NoProxy != "" {
		b.Problem("no_proxy", "only used with proxy_url")
	}
}

var tlsVersions = []string{"TLS10", "TLS11", "TLS12", "TLS13"}

func (t *TLS) check(b *slo.Block) {
	if t == nil {
		return
	}
	inPlace(b, "tls.key", t.Key, "key_file")
	providers.CheckFile(b, "tls.ca_file", &t.CAFile, safefile.MaxCredential)
	providers.CheckFile(b, "tls.cert_file", &t.CertFile, safefile.MaxCredential)
	providers.CheckFile(b, "tls.key_file", &t.KeyFile, safefile.MaxCredential)
	if (t.CertFile == "") != (t.KeyFile == "") {
		b.Problem("tls", "a client certificate needs both cert_file and key_file")
	}
	if t.MinVersion != "" && !slo.Contains(tlsVersions, t.MinVersion) {
		b.Problem("tls.min_version", "%q: use one of %s", t.MinVersion, strings.Join(tlsVersions, ", "))
	}
}

// credentialHeaders are the headers that carry a credential (lower case):
// headers: may not write one (it would be in the repository, and an
// Authorization there silently overrode bearer_token_env).
var credentialHeaders = []string{"authorization", "proxy-authorization", "cookie", "x-api-key", "dd-api-key", "dd-application-key"}

// checkHeaders reports a credential written in headers:, a header set by
// both headers: and headers_env:, and an Authorization in headers_env
// (one of the authentication keys sets it). The problems sit at the
// headers key and name the header in the message: a header's name
// followed by a colon reads as a credential to the redaction layer.
func (a *Auth) checkHeaders(b *slo.Block) {
	for _, k := range sortedKeys(a.Headers) {
		switch {
		case strings.EqualFold(k, "authorization"):
			b.Problem("headers", "the %s header holds a credential written in the config (it would show in the repository, and it overrode the authentication keys): use bearer_token_env, or authorization with credentials_env or credentials_file (type for another scheme)", k)
		case slo.Contains(credentialHeaders, strings.ToLower(k)):
			b.Problem("headers", "the %s header holds a credential written in the config (it would show in the repository): name the variable that holds it under headers_env instead (the header, then the variable)", k)
		}
	}
	for _, k := range sortedKeys(a.HeadersEnv) {
		if v := a.HeadersEnv[k]; !envName.MatchString(v) {
			b.Problem("headers_env", "the value given for the %s header must name an environment variable (letters, digits and _), not hold the secret itself", k)
		}
		if strings.EqualFold(k, "authorization") {
			b.Problem("headers_env", "the %s header is set by bearer_token_env, or authorization with credentials_env or credentials_file, not here", k)
		}
		for h := range a.Headers {
			if strings.EqualFold(h, k) {
				b.Problem("headers_env", "the %s header is set in headers too: use one of them", k)
			}
		}
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Check reports what is wrong with the authentication keys of b.
func (a *Auth) Check(b *slo.Block) {
	a.checkHeaders(b)
	slo.CheckEnvName(b, "bearer_token_env", a.BearerTokenEnv)
	inPlace(b, "bearer_token", a.BearerToken, "bearer_token_env or authorization.credentials_file")
	a.BasicAuth.check(b)
	a.Authorization.check(b)
	a.OAuth2.check(b)
	a.SigV4.check(b)
	var set []string
	for _, m := range []struct {
		key string
		on  bool
	}{
		{"bearer_token_env", a.BearerTokenEnv != ""}, {"basic_auth", a.BasicAuth != nil}, {"authorization", a.Authorization != nil},
		{"oauth2", a.OAuth2 != nil}, {"sigv4", a.SigV4 != nil},
	} {
		if m.on {
			set = append(set, m.key)
		}
	}
	switch {
	case len(set) == 2 && set[0] == "bearer_token_env" && set[1] == "basic_auth":
		b.Problem("bearer_token_env", "use either bearer_token_env or basic_auth, not both")
	case len(set) > 1:
		b.Problem(set[1], "use one of bearer_token_env, basic_auth, authorization, oauth2 or sigv4, not several (%s is set too)", set[0])
	}
}

func (a *BasicAuth) check(b *slo.Block) {
	if a == nil {
		return
	}
	slo.CheckEnvName(b, "basic_auth.username_env", a.UsernameEnv)
	slo.CheckEnvName(b, "basic_auth.password_env", a.PasswordEnv)
	providers.CheckFile(b, "basic_auth.username_file", &a.UsernameFile, safefile.MaxCredential)
	providers.CheckFile(b, "basic_auth.password_file", &a.PasswordFile, safefile.MaxCredential)
	users := count(a.Username, a.UsernameEnv, a.UsernameFile)
	passwords := count(a.PasswordEnv, a.PasswordFile)
	switch {
	case inPlace(b, "basic_auth.password", a.Password, "password_env or password_file"):
	case users == 0 || passwords == 0:
		b.Problem("basic_auth", "needs both username_env and password_env")
	case users > 1:
		b.Problem("basic_auth", "use one of username, username_env or username_file")
	case passwords > 1:
		b.Problem("basic_auth", "use password_env or password_file, not both")
	}
}

func (a *Authorization) check(b *slo.Block) {
	if a == nil {
		return
	}
	slo.CheckEnvName(b, "authorization.credentials_env", a.CredentialsEnv)
	providers.CheckFile(b, "authorization.credentials_file", &a.CredentialsFile, safefile.MaxCredential)
	if strings.EqualFold(strings.TrimSpace(a.Type), "basic") {
		b.Problem("authorization.type", "use basic_auth for Basic authentication")
	}
	if !inPlace(b, "authorization.credentials", a.Credentials, "credentials_env or credentials_file") && count(a.CredentialsEnv, a.CredentialsFile) != 1 {
		b.Problem("authorization", "needs credentials_env or credentials_file (one of them): where the credentials are")
	}
}

func (o *OAuth2) check(b *slo.Block) {
	if o == nil {
		return
	}
	slo.CheckEnvName(b, "oauth2.client_secret_env", o.ClientSecretEnv)
	providers.CheckFile(b, "oauth2.client_secret_file", &o.ClientSecretFile, safefile.MaxCredential)
	if o.ClientID == "" {
		b.Problem("oauth2.client_id", "required: the OAuth2 client's ID")
	}
	if o.TokenURL == "" {
		b.Problem("oauth2.token_url", "required: the token endpoint, e.g. https://login.example/oauth2/token")
	} else {
		slo.CheckURL(b, "oauth2.token_url", o.TokenURL)
	}
	if !inPlace(b, "oauth2.client_secret", o.ClientSecret, "client_secret_env or client_secret_file") && count(o.ClientSecretEnv, o.ClientSecretFile) != 1 {
		b.Problem("oauth2", "needs client_secret_env or client_secret_file (one of them): where the client secret is")
	}
}

func (s *SigV4) check(b *slo.Block) {
	if s == nil {
		return
	}
	slo.CheckEnvName(b, "sigv4.access_key_env", s.AccessKeyEnv)
	slo.CheckEnvName(b, "sigv4.secret_key_env", s.SecretKeyEnv)
	if !inPlace(b, "sigv4.secret_key", s.SecretKey, "secret_key_env") && (s.AccessKeyEnv == "") != (s.SecretKeyEnv == "") {
		b.Problem("sigv4", "needs both access_key_env and secret_key_env, or neither (the AWS default credential chain)")
	}
	if s.ExternalID != "" && s.RoleARN == "" {
		b.Problem("sigv4.external_id", "only used with role_arn")
	}
}

// inPlace reports a secret written in the config itself, saying where it
// goes instead, and tells whether there was one.
func inPlace(b *slo.Block, key string, set InPlace, instead string) bool {
	if set {
		b.Problem(key, "must not hold the secret itself (it would show in the repository): use %s", instead)
	}
	return bool(set)
}

func count(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}
