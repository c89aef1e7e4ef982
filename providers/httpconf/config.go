// Package httpconf is the HTTP part of a provider's block, shared by
// every HTTP backend: how its requests travel (TLS, proxy, redirects,
// timeout, retries, bounds) and, for the backends whose requests carry
// the user's own credentials (Prometheus, scrape), how they authenticate
// (headers, bearer token, basic auth, authorization, OAuth2, SigV4). It
// builds the client from Prometheus's own HTTP client config
// (prometheus/common/config), the block Prometheus, Alertmanager and
// Grafana Agent users already write, and wraps it in sloguard's retrying,
// size-limited, redacted client. Secrets come from environment variables
// (the *_env keys) or files (*_file), never from the config itself.
package httpconf

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/slo"
)

// Defaults of the config reference.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultRetries        = 3
	DefaultMaxConcurrency = 10
)

// Transport is how a backend's requests travel: the keys every HTTP
// backend takes.
type Transport struct {
	TLS                  *TLS         `yaml:"tls"`
	ProxyURL             string       `yaml:"proxy_url"`
	NoProxy              string       `yaml:"no_proxy"`
	ProxyFromEnvironment *bool        `yaml:"proxy_from_environment"` // default: true without proxy_url
	FollowRedirects      *bool        `yaml:"follow_redirects"`       // default: true
	Timeout              slo.Duration `yaml:"timeout"`                // per query, retries included
	Retries              int          `yaml:"retries"`
	MaxConcurrency       int          `yaml:"max_concurrency"`
	MaxResponseBytes     int64        `yaml:"max_response_bytes"` // 0: the client's default (50 MiB)
}

// TLS is the tls: block, with Prometheus's tls_config keys.
type TLS struct {
	CAFile             string  `yaml:"ca_file"`
	CertFile           string  `yaml:"cert_file"` // a client certificate (mTLS), with key_file
	KeyFile            string  `yaml:"key_file"`
	Key                InPlace `yaml:"key"`
	ServerName         string  `yaml:"server_name"`
	InsecureSkipVerify bool    `yaml:"insecure_skip_verify"`
	MinVersion         string  `yaml:"min_version"` // TLS10 … TLS13
}

// Auth is how a backend's requests authenticate with the user's own
// credentials. At most one of BearerTokenEnv, BasicAuth, Authorization,
// OAuth2 and SigV4 is set.
type Auth struct {
	Headers        map[string]string `yaml:"headers"`     // no credential: see credentialHeaders
	HeadersEnv     map[string]string `yaml:"headers_env"` // header → the variable holding its value
	BearerTokenEnv string            `yaml:"bearer_token_env"`
	BearerToken    InPlace           `yaml:"bearer_token"`
	BasicAuth      *BasicAuth        `yaml:"basic_auth"`
	Authorization  *Authorization    `yaml:"authorization"`
	OAuth2         *OAuth2           `yaml:"oauth2"`
	SigV4          *SigV4            `yaml:"sigv4"`
}

// BasicAuth is HTTP basic authentication: the user name written, or
// read from a variable or a file; the password from a variable or a file.
type BasicAuth struct {
	Username     string  `yaml:"username"`
	UsernameEnv  string  `yaml:"username_env"`
	UsernameFile string  `yaml:"username_file"`
	PasswordEnv  string  `yaml:"password_env"`
	PasswordFile string  `yaml:"password_file"`
	Password     InPlace `yaml:"password"`
}

// Authorization is an Authorization header of any scheme (Bearer by
// default), its credentials from a variable or a file.
type Authorization struct {
	Type            string  `yaml:"type"`
	CredentialsEnv  string  `yaml:"credentials_env"`
	CredentialsFile string  `yaml:"credentials_file"`
	Credentials     InPlace `yaml:"credentials"`
}

// OAuth2 is the client credentials grant: a token fetched from TokenURL
// with the client's ID and secret, sent as a bearer token, renewed when
// it expires.
type OAuth2 struct {
	ClientID         string            `yaml:"client_id"`
	ClientSecretEnv  string            `yaml:"client_secret_env"`
	ClientSecretFile string            `yaml:"client_secret_file"`
	ClientSecret     InPlace           `yaml:"client_secret"`
	TokenURL         string            `yaml:"token_url"`
	Scopes           []string          `yaml:"scopes"`
	EndpointParams   map[string]string `yaml:"endpoint_params"`
}

// SigV4 signs requests with AWS Signature Version 4 (Amazon Managed
// Service for Prometheus). Without keys, the AWS default credential chain
// applies (environment, shared config, instance or pod role).
type SigV4 struct {
	Region       string  `yaml:"region"`
	AccessKeyEnv string  `yaml:"access_key_env"`
	SecretKeyEnv string  `yaml:"secret_key_env"`
	SecretKey    InPlace `yaml:"secret_key"`
	Profile      string  `yaml:"profile"`
	RoleARN      string  `yaml:"role_arn"`
	ExternalID   string  `yaml:"external_id"`
	ServiceName  string  `yaml:"service_name"` // default aps
}

// HTTP is both: the block of a backend whose requests carry the user's
// credentials.
type HTTP struct {
	Auth      `yaml:",inline"`
	Transport `yaml:",inline"`
}

// InPlace is a key that would hold a secret in the config itself, as
// Prometheus allows: sloguard refuses it, and keeps nothing of the value.
type InPlace bool

// UnmarshalYAML notes that the key is written.
func (p *InPlace) UnmarshalYAML(*yaml.Node) error {
	*p = true
	return nil
}
