package prometheus

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// The loopback servers below each demand one way of authenticating, as
// the real endpoints behind them do (mTLS-only Prometheus, Thanos behind
// an OAuth2 proxy, Amazon Managed Prometheus), and answer a query with 42
// only when it authenticates.

// load decodes a provider block the way config loading does, with the
// prometheus backend alone, and fails the test on any problem.
func load(t *testing.T, block string) *Config {
	t.Helper()
	data := "version: 1\nproviders:\n  - name: prom\n    type: prometheus\n    " + strings.ReplaceAll(strings.TrimSpace(block), "\n", "\n    ") +
		"\nslos:\n  - {name: a, objective: 99, sli: {query: 'q[{{.window}}]', op: '<', value: 1}}\n"
	cfg, err := slo.Parse("sloguard.yaml", []byte(data), slo.Options{Types: providers.Backends{Backend()}.Types()})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg.Providers[0].Settings.(*Config)
}

// read builds the provider of c and reads one threshold value.
func read(t *testing.T, c *Config, env map[string]string) (float64, error) {
	t.Helper()
	p, err := c.New(t.Context(), "prom", providers.Env{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		return 0, err
	}
	cn, err := p.Counts(t.Context(), providers.Query{SLO: "a", SLI: thresholdSLI(), Window: 5 * time.Minute}, time.Now())
	return cn.Value, err
}

// promAPI answers every instant query with 42 when authorized says yes,
// and 401 otherwise.
func promAPI(t *testing.T, authorized func(r *http.Request, body []byte) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !authorized(r, body) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"42"]}]}}`)
	})
}

// testPKI is a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA, written as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	server                    tls.Certificate
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sloguard test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "sloguard test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	cliKeyDER, _ := x509.MarshalECPrivateKey(cliKey)
	pki := testPKI{
		caFile: write("ca.pem", "CERTIFICATE", caDER), certFile: write("client.pem", "CERTIFICATE", cliDER),
		keyFile: write("client-key.pem", "EC PRIVATE KEY", cliKeyDER), pool: x509.NewCertPool(),
		server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey},
	}
	pki.pool.AddCert(ca)
	return pki
}

func TestMutualTLSWithAClientCertificate(t *testing.T) {
	pki := newPKI(t)
	var clients atomic.Int32
	srv := httptest.NewUnstartedServer(promAPI(t, func(r *http.Request, _ []byte) bool {
		clients.Add(1)
		return r.TLS != nil && len(r.TLS.PeerCertificates) == 1 && r.TLS.PeerCertificates[0].Subject.CommonName == "sloguard test"
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake without a certificate fails, as it must
	srv.StartTLS()
	t.Cleanup(srv.Close)

	c := load(t, "url: "+srv.URL+"\nretries: 0\ntls: {ca_file: "+pki.caFile+", cert_file: "+pki.certFile+", key_file: "+pki.keyFile+", min_version: TLS12}")
	if v, err := read(t, c, nil); err != nil || v != 42 {
		t.Fatalf("with the client certificate: %v, %v; want 42", v, err)
	}
	c = load(t, "url: "+srv.URL+"\nretries: 0\ntls: {ca_file: "+pki.caFile+"}")
	if _, err := read(t, c, nil); err == nil || errors.Is(err, providers.ErrBadQuery) {
		t.Fatalf("without a client certificate: err = %v, want the handshake refused as an outage", err)
	}
	if clients.Load() != 1 {
		t.Errorf("the server saw %d requests, want 1 (the handshake without a certificate never reaches it)", clients.Load())
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	const secret = "cl1ent-s3cret"
	var tokens atomic.Int32
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, pw, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("scope") != "metrics:read" ||
			!ok || id != "sloguard" || pw != secret || r.Form.Get("audience") != "thanos" {
			t.Errorf("token request %s %v (basic auth %q %v)", r.Method, r.Form, id, ok)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"tok-`+string(rune('0'+n))+`","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(issuer.Close)
	api := httptest.NewServer(promAPI(t, func(r *http.Request, _ []byte) bool { return r.Header.Get("Authorization") == "Bearer tok-1" }))
	t.Cleanup(api.Close)

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]string{
		"secret from a variable": "client_secret_env: OAUTH_SECRET",
		"secret from a file":     "client_secret_file: " + secretFile,
	} {
		t.Run(name, func(t *testing.T) {
			tokens.Store(0)
			c := load(t, "url: "+api.URL+"\noauth2:\n  client_id: sloguard\n  "+block+"\n  token_url: "+issuer.URL+"/oauth2/token\n  scopes: [metrics:read]\n  endpoint_params: {audience: thanos}")
			p, err := c.New(t.Context(), "prom", providers.Env{Getenv: func(k string) string { return map[string]string{"OAUTH_SECRET": secret}[k] }})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				cn, err := p.Counts(t.Context(), providers.Query{SLO: "a", SLI: thresholdSLI(), Window: 5 * time.Minute}, time.Now())
				if err != nil || cn.Value != 42 {
					t.Fatalf("Counts: %v, %v; want 42", cn.Value, err)
				}
			}
			if tokens.Load() != 1 {
				t.Errorf("%d tokens fetched for two queries, want 1 (reused until it expires)", tokens.Load())
			}
		})
	}
}

// verifySigV4 checks a request's AWS Signature Version 4 as AWS does:
// the canonical request rebuilt from the headers it says it signed, the
// body's hash, and the secret key.
func verifySigV4(t *testing.T, r *http.Request, body []byte, accessKey, secretKey string) bool {
	auth := r.Header.Get("Authorization")
	var signed []string
	var sig string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			if !strings.HasPrefix(v, accessKey+"/") || !strings.HasSuffix(v, "/us-east-1/aps/aws4_request") {
				t.Logf("credential scope %q", v)
				return false
			}
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Signature":
			sig = v
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || sig == "" || len(signed) == 0 {
		t.Logf("Authorization %q, X-Amz-Date %q", auth, r.Header.Get("X-Amz-Date"))
		return false
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range signed {
		if h != "host" && h != "x-amz-date" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	hash := sha256.Sum256(body)
	err = signer.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, again, hex.EncodeToString(hash[:]), "aps", "us-east-1", at)
	return err == nil && strings.HasSuffix(again.Header.Get("Authorization"), "Signature="+sig)
}

func TestSigV4ForAmazonManagedPrometheus(t *testing.T) {
	const ak, sk = "AKIDSLOGUARDTEST", "s3cr3t/aws/key+for/the/test"
	var signedOK atomic.Int32
	srv := httptest.NewServer(promAPI(t, func(r *http.Request, body []byte) bool {
		ok := verifySigV4(t, r, body, ak, sk)
		if ok {
			signedOK.Add(1)
		}
		return ok
	}))
	t.Cleanup(srv.Close)
	c := load(t, "url: "+srv.URL+"/workspaces/ws-1\nretries: 0\nsigv4: {region: us-east-1, access_key_env: AWS_AK, secret_key_env: AWS_SK}")
	if v, err := read(t, c, map[string]string{"AWS_AK": ak, "AWS_SK": sk}); err != nil || v != 42 {
		t.Fatalf("signed with the right key: %v, %v; want 42", v, err)
	}
	if signedOK.Load() != 1 {
		t.Errorf("%d requests verified, want 1", signedOK.Load())
	}
	_, err := read(t, c, map[string]string{"AWS_AK": ak, "AWS_SK": "not-the-key"})
	if !errors.Is(err, providers.ErrAuth) {
		t.Errorf("signed with another key: err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "not-the-key") {
		t.Errorf("the error carries the secret key: %v", err)
	}
}

func TestAuthorizationCredentialsFileIsReadAgainWhenRotated(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(promAPI(t, func(r *http.Request, _ []byte) bool {
		seen = append(seen, r.Header.Get("Authorization"))
		return strings.HasPrefix(r.Header.Get("Authorization"), "Token ")
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := load(t, "url: "+srv.URL+"\nauthorization: {type: Token, credentials_file: "+file+"}")
	p, err := c.New(t.Context(), "prom", providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	q := providers.Query{SLO: "a", SLI: thresholdSLI(), Window: 5 * time.Minute}
	if _, err := p.Counts(t.Context(), q, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Counts(t.Context(), q, time.Now()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "Token first,Token second" {
		t.Errorf("Authorization headers %q, want the file's content each time", seen)
	}
}

func TestAuthenticationProblemsAreConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct{ block, want string }{
		"two ways at once": {"url: http://p:9090\nbearer_token_env: T\noauth2: {client_id: c, client_secret_env: S, token_url: http://idp/token}",
			"providers[0].oauth2: use one of bearer_token_env, basic_auth, authorization, oauth2 or sigv4, not several (bearer_token_env is set too)"},
		"an inline client secret": {"url: http://p:9090\noauth2: {client_id: c, client_secret: hunter2, token_url: http://idp/token}",
			"providers[0].oauth2.client_secret: must not hold the secret itself (it would show in the repository): use client_secret_env or client_secret_file"},
		"an oauth2 client without a token url": {"url: http://p:9090\noauth2: {client_id: c, client_secret_env: S}",
			"providers[0].oauth2.token_url: required: the token endpoint, e.g. https://login.example/oauth2/token"},
		"sigv4 with half a key": {"url: http://p:9090\nsigv4: {region: us-east-1, access_key_env: AK}",
			"providers[0].sigv4: needs both access_key_env and secret_key_env, or neither (the AWS default credential chain)"},
		"authorization without credentials": {"url: http://p:9090\nauthorization: {type: Bearer}",
			"providers[0].authorization: needs credentials_env or credentials_file (one of them): where the credentials are"},
		"a client certificate without its key": {"url: http://p:9090\ntls: {cert_file: c.pem}",
			"providers[0].tls: a client certificate needs both cert_file and key_file"},
		"a proxy that is not a URL": {"url: http://p:9090\nproxy_url: proxy.example:3128",
			`providers[0].proxy_url: "proxy.example:3128" is not an http(s) or socks5 URL`},
		// Before, these were accepted: the literal Authorization silently
		// overrode bearer_token_env.
		"a literal Authorization header": {"url: http://p:9090\nbearer_token_env: T\nheaders: {X-Scope-OrgID: team-a, authorization: Bearer hunter2}",
			"sloguard.yaml:7: providers[0].headers: the authorization header holds a credential written in the config (it would show in the repository, and it overrode the authentication keys): use bearer_token_env, or authorization with credentials_env or credentials_file (type for another scheme)"},
		"a literal API key header": {"url: http://p:9090\nheaders:\n  X-Scope-OrgID: a\n  X-API-KEY: hunter2",
			"sloguard.yaml:6: providers[0].headers: the X-API-KEY header holds a credential written in the config (it would show in the repository): name the variable that holds it under headers_env instead (the header, then the variable)"},
		"a literal cookie":           {"url: http://p:9090\nheaders: {Cookie: session=hunter2}", "providers[0].headers: the Cookie header holds a credential"},
		"a literal proxy credential": {"url: http://p:9090\nheaders: {Proxy-Authorization: Basic hunter2}", "providers[0].headers: the Proxy-Authorization header holds a credential"},
		"a literal Datadog key":      {"url: http://p:9090\nheaders: {dd-api-key: hunter2, DD-APPLICATION-KEY: hunter2}", "providers[0].headers: the dd-api-key header holds a credential"},
		"authorization from headers_env": {"url: http://p:9090\nheaders_env: {Authorization: TOKEN}",
			"providers[0].headers_env: the Authorization header is set by bearer_token_env, or authorization with credentials_env or credentials_file, not here"},
		"a header in both": {"url: http://p:9090\nheaders: {X-Tenant: a}\nheaders_env: {x-tenant: TENANT}", "providers[0].headers_env: the x-tenant header is set in headers too: use one of them"},
		"headers_env holding a value": {"url: http://p:9090\nheaders_env: {X-Api-Key: hunter2-value}",
			"providers[0].headers_env: the value given for the X-Api-Key header must name an environment variable"},
	} {
		t.Run(name, func(t *testing.T) {
			data := "version: 1\nproviders:\n  - name: prom\n    type: prometheus\n    " + strings.ReplaceAll(tc.block, "\n", "\n    ") +
				"\nslos:\n  - {name: a, objective: 99, sli: {query: 'q[{{.window}}]', op: '<', value: 1}}\n"
			_, err := slo.Parse("sloguard.yaml", []byte(data), slo.Options{Types: providers.Backends{Backend()}.Types()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") && !strings.Contains(tc.want, "hunter2") {
				t.Errorf("a problem echoes the secret: %v", err)
			}
		})
	}
}

// A credential header other than Authorization (an API gateway's
// X-Api-Key) comes from a variable through headers_env, beside the bearer
// token, and is redacted as every secret variable is.
func TestHeadersEnvSendsAHeaderFromTheEnvironment(t *testing.T) {
	api := httptest.NewServer(promAPI(t, func(r *http.Request, _ []byte) bool {
		return r.Header.Get("Authorization") == "Bearer t0ken-from-env" && r.Header.Get("X-Api-Key") == "gateway-key-from-env" && r.Header.Get("X-Scope-OrgID") == "team-a"
	}))
	t.Cleanup(api.Close)
	c := load(t, "url: "+api.URL+"\nbearer_token_env: T\nheaders: {X-Scope-OrgID: team-a}\nheaders_env: {X-Api-Key: GATEWAY_KEY}")
	env := map[string]string{"T": "t0ken-from-env", "GATEWAY_KEY": "gateway-key-from-env"}
	if v, err := read(t, c, env); err != nil || v != 42 {
		t.Fatalf("read: %v, %v; want 42", v, err)
	}
	if _, err := read(t, c, map[string]string{"T": "t0ken-from-env"}); err == nil || !strings.Contains(err.Error(), "environment variable GATEWAY_KEY (headers_env.X-Api-Key) is empty") {
		t.Errorf("err = %v, want the empty variable named", err)
	}
}
