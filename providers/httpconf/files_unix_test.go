//go:build unix

package httpconf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// The client reads a secret file again on each request, as Prometheus's
// client config does (a rotated secret is picked up): a FIFO swapped in
// after the config was checked fails that request, naming the key, instead
// of blocking it for good.
func TestASecretFileSwappedForAFIFOFailsTheRequest(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	cred := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(cred, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Auth{Authorization: &Authorization{CredentialsFile: cred}}
	tr := Transport{Timeout: slo.Duration(10 * time.Second), MaxConcurrency: 1}
	c, err := Client(t.Context(), "prom", providers.Env{}, a, tr, Extra{})
	if err != nil {
		t.Fatal(err)
	}
	get := func() error {
		done := make(chan error, 1)
		go func() {
			_, _, err := Call(t.Context(), c, tr.Limiter(), func(ctx context.Context) (*retryablehttp.Request, error) {
				return retryablehttp.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			})
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute): // a hang guard, not a timing assertion
			if f, err := os.OpenFile(cred, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
			t.Fatal("the request blocked on the FIFO")
			return nil
		}
	}
	if err := get(); err != nil || len(got) != 1 || got[0] != "Bearer s3cret" {
		t.Fatalf("err %v, Authorization %q; want Bearer s3cret", err, got)
	}
	if err := os.Remove(cred); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cred, 0o600); err != nil {
		t.Fatal(err)
	}
	err = get()
	if err == nil || !strings.Contains(err.Error(), "authorization.credentials_file "+cred+": not a regular file: it is a named pipe (FIFO)") {
		t.Errorf("err = %v, want the FIFO refused, naming authorization.credentials_file", err)
	}
	if len(got) != 1 {
		t.Errorf("%d requests reached the server, want none after the swap", len(got)-1)
	}
}

// Building the client reads every file it names as the requests will: a
// missing or empty one is an error naming the key, before any query.
func TestTheClientChecksItsFilesWhenBuilt(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		a    *Auth
		t    Transport
		want string
	}{
		"a missing CA file": {nil, Transport{TLS: &TLS{CAFile: filepath.Join(dir, "ca.pem")}}, `provider "prom": tls.ca_file ` + filepath.Join(dir, "ca.pem") + `: no such file or directory`},
		"/dev/zero as CA":   {nil, Transport{TLS: &TLS{CAFile: "/dev/zero"}}, `provider "prom": tls.ca_file /dev/zero: not a regular file: it is a character device`},
		"an empty password": {&Auth{BasicAuth: &BasicAuth{Username: "u", PasswordFile: empty}}, Transport{}, `provider "prom": basic_auth.password_file ` + empty + ` is empty`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Client(t.Context(), "prom", providers.Env{}, tc.a, tc.t, Extra{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}
