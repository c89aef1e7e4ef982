package prometheus

import (
	"context"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
)

const token = "s3cr3t-t0ken-value"

func thresholdQuery() providers.Query {
	return providers.Query{SLO: "checkout-latency", SLI: thresholdSLI(), Window: 5 * time.Minute}
}

func TestRequestsCarryCredentialsHeadersAndParameters(t *testing.T) {
	yes := false
	tests := map[string]struct {
		cfg   func(*Config)
		env   map[string]string
		check func(t *testing.T, r request)
	}{
		"a bearer token from the environment is sent as Authorization: Bearer": {
			cfg: func(c *Config) { c.BearerTokenEnv = "PROM_TOKEN" },
			env: map[string]string{"PROM_TOKEN": token},
			check: func(t *testing.T, r request) {
				if got := r.Header.Get("Authorization"); got != "Bearer "+token {
					t.Errorf("Authorization = %q", got)
				}
			},
		},
		"basic auth from the environment is sent": {
			cfg: func(c *Config) { c.BasicAuth = &httpconf.BasicAuth{UsernameEnv: "PROM_USER", PasswordEnv: "PROM_PASS"} },
			env: map[string]string{"PROM_USER": "sre", "PROM_PASS": token},
			check: func(t *testing.T, r request) {
				// "sre:s3cr3t-t0ken-value" in base64.
				if got := r.Header.Get("Authorization"); got != "Basic c3JlOnMzY3IzdC10MGtlbi12YWx1ZQ==" {
					t.Errorf("Authorization = %q", got)
				}
			},
		},
		"tenant headers are sent as configured": {
			cfg: func(c *Config) {
				c.Headers = map[string]string{"X-Scope-OrgID": "team-a", "THANOS-TENANT": "team-b"}
			},
			check: func(t *testing.T, r request) {
				if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Thanos-Tenant") != "team-b" {
					t.Errorf("headers = %v", r.Header)
				}
				if r.Header.Get("Authorization") != "" {
					t.Errorf("Authorization sent without credentials: %q", r.Header.Get("Authorization"))
				}
			},
		},
		"partial_response=false is added when configured": {
			cfg: func(c *Config) { c.PartialResponse = &yes },
			check: func(t *testing.T, r request) {
				if got := r.URLQuery.Get("partial_response"); got != "false" {
					t.Errorf("partial_response = %q, want false (url %v)", got, r.URLQuery)
				}
			},
		},
		"partial_response is left out by default": {
			check: func(t *testing.T, r request) {
				if _, ok := r.URLQuery["partial_response"]; ok {
					t.Errorf("partial_response sent: %v", r.URLQuery)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFakeProm(t, false)
			f.on(latencyQ, reply{status: 500}, vector("0.1"))
			cfg := f.providerConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			p, _ := newProvider(t, cfg, tc.env)
			if _, err := p.Counts(context.Background(), thresholdQuery(), at); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for _, r := range reqs { // every attempt, retries included
				checkInstantRequest(t, r)
				tc.check(t, r)
			}
		})
	}
}

func TestMissingSecretsAreConfigErrors(t *testing.T) {
	tests := map[string]struct {
		cfg  func(*Config)
		want string
	}{
		"an empty bearer token variable": {
			cfg:  func(c *Config) { c.BearerTokenEnv = "PROM_TOKEN" },
			want: `provider "prom": environment variable PROM_TOKEN (bearer_token_env) is empty`,
		},
		"a basic auth password missing": {
			cfg:  func(c *Config) { c.BasicAuth = &httpconf.BasicAuth{UsernameEnv: "PROM_USER", PasswordEnv: "PROM_PASS"} },
			want: `provider "prom": environment variables PROM_USER and PROM_PASS (basic_auth) must both be set`,
		},
		"a CA file that does not exist": {
			cfg:  func(c *Config) { c.TLS = &httpconf.TLS{CAFile: "/nonexistent/ca.pem"} },
			want: `provider "prom": tls.ca_file /nonexistent/ca.pem: no such file or directory`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("prom", "http://127.0.0.1:1", 0, 0, 0)
			tc.cfg(&cfg)
			_, err := New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return map[string]string{"PROM_USER": "u"}[k] }, Log: nil})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	f := newFakeProm(t, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		cfg     func(*Config)
		wantErr []string
	}{
		"the server's CA in ca_file is trusted":    {cfg: func(c *Config) { c.TLS = &httpconf.TLS{CAFile: caFile} }},
		"insecure_skip_verify skips the check":     {cfg: func(c *Config) { c.TLS = &httpconf.TLS{InsecureSkipVerify: true} }},
		"an unknown CA fails with a hint, at once": {cfg: func(*Config) {}, wantErr: []string{"certificate", "tls.ca_file"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.wantErr == nil {
				f.on(latencyQ, vector("0.1"))
			}
			cfg := f.providerConfig()
			tc.cfg(&cfg)
			p, _ := newProvider(t, cfg, nil)
			c, err := p.Counts(context.Background(), thresholdQuery(), at)
			if tc.wantErr == nil {
				if err != nil || c.Value != 0.1 {
					t.Fatalf("Counts = %v, %v", c.Value, err)
				}
				return
			}
			checkErr(t, err, errNeither, tc.wantErr, latencyQ)
		})
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("server handled %d requests, want 2 (the untrusted one never gets through)", n)
	}
}

func TestAuthenticationFailureNamesTheKeysAndNeverTheToken(t *testing.T) {
	for _, status := range []int{401, 403} {
		f := newFakeProm(t, false)
		// A 403 to the POST makes client_golang try again with GET.
		f.on(latencyQ, reply{status: status, body: "invalid token " + token})
		if status == 403 {
			f.on(latencyQ, reply{status: status, body: "invalid token " + token})
		}
		cfg := f.providerConfig()
		cfg.BearerTokenEnv = "PROM_TOKEN"
		p, logs := newProvider(t, cfg, map[string]string{"PROM_TOKEN": token})
		_, err := p.Counts(context.Background(), thresholdQuery(), at)
		checkErr(t, err, errNeither, []string{"authentication failed", "bearer_token_env", "basic_auth"}, latencyQ)
		if strings.Contains(err.Error(), token) {
			t.Errorf("%d: error carries the token: %v", status, err)
		}
		if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "Bearer") {
			t.Errorf("%d: logs carry the credentials:\n%s", status, logs)
		}
	}
}

func TestRetriesAreLoggedWithoutCredentials(t *testing.T) {
	f := newFakeProm(t, false)
	f.on(latencyQ, reply{status: 502, body: "bad gateway"}, vector("0.1"))
	cfg := f.providerConfig()
	cfg.BearerTokenEnv = "PROM_TOKEN"
	p, logs := newProvider(t, cfg, map[string]string{"PROM_TOKEN": token})
	if _, err := p.Counts(context.Background(), thresholdQuery(), at); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "retrying request") || !strings.Contains(out, "provider=prom") {
		t.Errorf("no retry logged with the provider's name:\n%s", out)
	}
	if strings.Contains(out, token) || strings.Contains(out, "Authorization") {
		t.Errorf("logs carry the credentials:\n%s", out)
	}
}

// TestConcurrencyIsBounded holds every request in the server until the
// test releases it, one at a time, and only once max_concurrency requests
// are waiting: a provider that sent more would be seen with more in flight.
func TestConcurrencyIsBounded(t *testing.T) {
	const limit, calls, perCall = 2, 10, 2 // Counts of an event SLI makes two queries
	f := newFakeProm(t, false)
	for range calls {
		f.on(totalQ, vector("1"))
		f.on(errQ, vector("0"))
	}
	var inFlight, peak atomic.Int32
	arrived, release := make(chan struct{}), make(chan struct{})
	f.setHook(func() {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
	})
	cfg := f.providerConfig()
	cfg.MaxConcurrency = limit
	p, _ := newProvider(t, cfg, nil)

	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := providers.Query{SLO: "checkout", SLI: eventsSLI(), Window: 5 * time.Minute}
			if _, err := p.Counts(context.Background(), q, at); err != nil {
				errs <- err
			}
		}()
	}
	timeout := time.After(20 * time.Second)
	waiting, done := 0, 0
	for done < calls*perCall {
		if waiting < limit && done+waiting < calls*perCall {
			select {
			case <-arrived:
				waiting++
			case <-timeout:
				t.Fatalf("stuck with %d requests waiting and %d done", waiting, done)
			}
			continue
		}
		release <- struct{}{}
		waiting--
		done++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := peak.Load(); got != limit {
		t.Errorf("at most %d requests in flight, want exactly max_concurrency = %d", got, limit)
	}
}

func TestCanceledContextStopsWaitingForASlot(t *testing.T) {
	f := newFakeProm(t, false)
	f.on(latencyQ, reply{hang: true})
	cfg := f.providerConfig()
	cfg.MaxConcurrency = 1
	p, _ := newProvider(t, cfg, nil)
	arrived := make(chan struct{}, 1)
	f.setHook(func() { arrived <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() { _, err := p.Counts(ctx, thresholdQuery(), at); first <- err }()
	<-arrived // the first call holds the only slot
	second := make(chan error)
	go func() { _, err := p.Counts(ctx, thresholdQuery(), at); second <- err }()
	cancel()
	for _, ch := range []chan error{first, second} {
		if err := <-ch; !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	}
}
