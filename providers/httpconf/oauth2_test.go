package httpconf

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// bodies is a server that records every request's Authorization header
// and body.
type bodies struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newBodies(t *testing.T, tls bool, handle http.HandlerFunc) *bodies {
	b := &bodies{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		b.mu.Lock()
		b.seen = append(b.seen, r.Header.Get("Authorization")+" "+string(body))
		b.mu.Unlock()
		if handle != nil {
			handle(w, r)
		}
	}))
	b.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		b.StartTLS()
	} else {
		b.Start()
	}
	t.Cleanup(b.Close)
	return b
}

func (b *bodies) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.seen...)
}

// issue answers a token request with a token.
func issue(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access_token":"tok","token_type":"Bearer","expires_in":3600}`)
}

// caFile writes the certificate of a TLS test server as a CA file.
func caFile(t *testing.T, srv *httptest.Server) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// query sends one query through the client of an oauth2 block.
func query(t *testing.T, o *OAuth2, tr Transport, url, secret string) error {
	t.Helper()
	env := providers.Env{Getenv: func(k string) string { return map[string]string{"OSEC": secret}[k] }}
	c, err := Client(t.Context(), "prom", env, &Auth{OAuth2: o}, tr, Extra{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := Call(t.Context(), c, tr.Limiter(), func(ctx context.Context) (*retryablehttp.Request, error) {
		return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	})
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status %d", code)
	}
	return err
}

// A token endpoint that redirects gets its redirect refused: the client
// secret never reaches the other end, neither in the body (x/oauth2's
// auth-style probe retries with it there, and a 307 resends the body) nor
// in an Authorization header (which Go keeps for the same host name on
// another port or scheme), on the first attempt or any retry. Before,
// prometheus/common's token client followed: 127.0.0.1 → localhost got
// client_secret in the body, https → http on the same host the Basic
// header.
func TestTheOAuth2TokenRequestFollowsNoRedirect(t *testing.T) {
	const secret = "topsecretclientsecret"
	for name, tc := range map[string]struct {
		tls  bool
		host func(*httptest.Server) string // the other end's URL, from the server
		kind string
	}{
		"another host (127.0.0.1 to localhost)": {false, func(s *httptest.Server) string { return strings.Replace(s.URL, "127.0.0.1", "localhost", 1) }, "to another origin"},
		"https down to http on the same host":   {true, func(s *httptest.Server) string { return s.URL }, "from https down to http"},
	} {
		t.Run(name, func(t *testing.T) {
			elsewhere := newBodies(t, false, issue)
			token := newBodies(t, tc.tls, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.host(elsewhere.Server)+"/token", http.StatusTemporaryRedirect)
			})
			api := newBodies(t, false, nil)
			tr := Transport{Timeout: slo.Duration(10 * time.Second), Retries: 2, MaxConcurrency: 1}
			if tc.tls {
				tr.TLS = &TLS{CAFile: caFile(t, token.Server)}
			}
			o := &OAuth2{ClientID: "myclient", ClientSecretEnv: "OSEC", TokenURL: token.URL + "/token", Scopes: []string{"read"}}
			err := query(t, o, tr, api.URL, secret)
			var re *httpclient.RedirectError
			if !errors.As(err, &re) || re.Key != "oauth2.token_url" {
				t.Fatalf("err = %v, want the token endpoint's redirect refused", err)
			}
			for _, want := range []string{"refused a redirect (" + tc.kind + ") of the oauth2.token_url request of \"prom\"", "set oauth2.token_url to the final address"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want %q", err, want)
				}
			}
			if strings.HasPrefix(err.Error(), "Post ") || strings.Contains(err.Error(), secret) {
				t.Errorf("the error does not start with what happened, or holds the secret: %v", err)
			}
			if got := elsewhere.requests(); len(got) != 0 {
				t.Errorf("the other end got %d request(s): %q", len(got), got)
			}
			if got := api.requests(); len(got) != 0 {
				t.Errorf("the backend got %d request(s) without a token", len(got))
			}
			// The configured endpoint got the secret (header, then body, as
			// x/oauth2 probes), once: a refused redirect is not retried.
			if got := token.requests(); len(got) != 2 || !strings.HasPrefix(got[0], "Basic ") || !strings.Contains(got[1], "client_secret="+secret) {
				t.Errorf("the token endpoint got %q, want the header then the body attempt", got)
			}
		})
	}
}

// The grant built here keeps what prometheus/common's did: scopes and
// endpoint parameters, the tls block's CA for the token endpoint, one
// token for many queries, and a new one when the secret rotates.
func TestTheOAuth2GrantKeepsItsFeatures(t *testing.T) {
	var mu sync.Mutex
	var secrets []string
	token := newBodies(t, true, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, pw, _ := r.BasicAuth()
		if id != "myclient" || r.Form.Get("scope") != "a b" || r.Form.Get("audience") != "thanos" {
			t.Errorf("token request: %s %v", id, r.Form)
		}
		mu.Lock()
		secrets = append(secrets, pw)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%s","token_type":"Bearer","expires_in":3600}`, pw)
	})
	api := newBodies(t, false, nil)
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("first-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := Transport{Timeout: slo.Duration(10 * time.Second), MaxConcurrency: 1, TLS: &TLS{CAFile: caFile(t, token.Server)}}
	o := &OAuth2{ClientID: "myclient", ClientSecretFile: file, TokenURL: token.URL + "/token", Scopes: []string{"a", "b"}, EndpointParams: map[string]string{"audience": "thanos"}}
	c, err := Client(t.Context(), "prom", providers.Env{}, &Auth{OAuth2: o}, tr, Extra{})
	if err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		_, _, err := Call(t.Context(), c, tr.Limiter(), func(ctx context.Context) (*retryablehttp.Request, error) {
			return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	send()
	send()
	if err := os.WriteFile(file, []byte("second-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	send()
	want := []string{" ", " ", " "}
	for i, s := range []string{"first-secret", "first-secret", "second-secret"} {
		want[i] = "Bearer tok-" + s + " "
	}
	if got := api.requests(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the backend got %q, want %q", got, want)
	}
	if strings.Join(secrets, ",") != "first-secret,second-secret" {
		t.Errorf("tokens fetched with %q, want one per secret", secrets)
	}
}
