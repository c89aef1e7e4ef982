package rollback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/report"
)

// receiver verifies deliveries as the Standard Webhooks specification
// tells a receiver to, written from the spec and not from sloguard's
// signer: the key is the base64 after "whsec_" (a plain secret's bytes
// otherwise), the signed content is "id.timestamp.body", webhook-signature
// holds space-separated "v1,<base64>" entries, and a timestamp more than
// five minutes away is a replay.
type receiver struct {
	key []byte
	now func() time.Time
}

var errReplay = errors.New("timestamp outside the tolerance")

func (r receiver) verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return err
	}
	if d := r.now().Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errReplay
	}
	mac := hmac.New(sha256.New, r.key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

type delivery struct {
	header http.Header
	body   []byte
}

// hookServer answers 500 to the first fails deliveries, then 204.
func hookServer(t *testing.T, fails int) (*httptest.Server, func() []delivery) {
	var (
		mu   sync.Mutex
		seen []delivery
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, delivery{r.Header.Clone(), b})
		n := len(seen)
		mu.Unlock()
		if n <= fails {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []delivery {
		mu.Lock()
		defer mu.Unlock()
		return append([]delivery(nil), seen...)
	}
}

// hookSecret is a webhook secret long enough to sign with.
const hookSecret = "hook-s3cret-0123456789"

func TestWebhookFollowsStandardWebhooks(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tests := map[string]struct {
		secret string
		key    []byte
	}{
		"a whsec_ secret signs with its decoded key": {"whsec_" + base64.StdEncoding.EncodeToString(key), key},
		"a plain secret signs with its bytes":        {"plain-hook-secret", []byte("plain-hook-secret")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv, deliveries := hookServer(t, 2)
			record := []byte(`{"decision":"fail","rollback_id":"msg_x"}`)
			d := failing()
			a := &Actions{Config: rollbackConfig(10*time.Second, 3, &Webhook{URL: srv.URL, SecretEnv: "HOOK"}),
				Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": tc.secret})}
			acts := a.Run(t.Context(), d, "", record)
			got := deliveries()
			if acts[0].Status != Succeeded || acts[0].Attempts != 3 || len(got) != 3 {
				t.Fatalf("got %+v after %d deliveries, want success on the 3rd", acts[0], len(got))
			}
			rcv := receiver{key: tc.key, now: time.Now}
			for i, dl := range got {
				if err := rcv.verify(dl.header, dl.body); err != nil {
					t.Errorf("delivery %d does not verify: %v (%v)", i+1, err, dl.header)
				}
				if id := dl.header.Get("webhook-id"); id != d.RollbackID || !strings.HasPrefix(id, "msg_") {
					t.Errorf("delivery %d: webhook-id %q, want the rollback's id %q on every retry", i+1, id, d.RollbackID)
				}
				if sig := dl.header.Get(SignatureHeader); sig != Sign([]byte(tc.secret), record) {
					t.Errorf("delivery %d: %s %q, want the GitHub-style signature kept", i+1, SignatureHeader, sig)
				}
			}
		})
	}
}

// A captured delivery cannot be replayed: an old timestamp is refused,
// and a fresh timestamp breaks the signature. A duplicate keeps its id,
// which the receiver deduplicates on; the next rollback gets a new one.
func TestWebhookDeliveriesCannotBeReplayedAndDuplicatesShareTheirID(t *testing.T) {
	srv, deliveries := hookServer(t, 1)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("replay-key-0123456789"))
	a := &Actions{Config: rollbackConfig(10*time.Second, 2, &Webhook{URL: srv.URL, SecretEnv: "HOOK"}),
		Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": secret})}
	first, second := failing(), failing()
	a.Run(t.Context(), first, "", []byte(`{"n":1}`))
	a.Run(t.Context(), second, "", []byte(`{"n":2}`))
	got := deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3 (one retried)", len(got))
	}
	seen := map[string]int{}
	for _, dl := range got {
		seen[dl.header.Get("webhook-id")]++
	}
	if seen[first.RollbackID] != 2 || seen[second.RollbackID] != 1 || first.RollbackID == second.RollbackID {
		t.Errorf("ids %v: want the retried delivery to repeat its id and the next rollback to get a new one", seen)
	}
	key, _ := WebhookKey(secret)
	captured := got[2]
	later := receiver{key: key, now: func() time.Time { return time.Now().Add(10 * time.Minute) }}
	if err := later.verify(captured.header, captured.body); !errors.Is(err, errReplay) {
		t.Errorf("a replay 10 minutes later: %v, want it refused for its timestamp", err)
	}
	forged := captured.header.Clone()
	forged.Set("webhook-timestamp", strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10))
	if err := later.verify(forged, captured.body); err == nil || errors.Is(err, errReplay) {
		t.Errorf("a replay with a fresh timestamp: %v, want the signature to fail", err)
	}
}

func TestWebhookKeyRejectsABadWhsecSecret(t *testing.T) {
	srv, deliveries := hookServer(t, 0)
	a := &Actions{Config: rollbackConfig(time.Second, 0, &Webhook{URL: srv.URL, SecretEnv: "HOOK"}),
		Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": "whsec_not base64!"})}
	acts := a.Run(t.Context(), &report.Decision{}, "", []byte("{}"))
	if acts[0].Status != Failed || !strings.Contains(acts[0].Error, "HOOK (secret_env): the secret starts with whsec_ but the rest is not base64") {
		t.Errorf("got %+v", acts[0])
	}
	if n := len(deliveries()); n != 0 {
		t.Errorf("%d deliveries sent with a broken key", n)
	}
}

// A hostile receiver's error page is quoted as one capped line, and the
// webhook URL's credentials are not shown.
func TestWebhookErrorsQuoteOneLineAndNoCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad request from %s\n::error title=pwned::fake\n%s", r.Header.Get("Authorization"), strings.Repeat("z", 5000))
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://alice:pa55w0rd@", 1) + "/hook?token=t0k3n"
	a := &Actions{Config: rollbackConfig(time.Second, 0, &Webhook{URL: url, SecretEnv: "HOOK"}),
		Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": hookSecret})}
	acts := a.Run(t.Context(), failing(), "", []byte("{}"))
	e := acts[0].Error
	for _, leak := range []string{"pa55w0rd", "t0k3n", "::error", "zzzz", base64.StdEncoding.EncodeToString([]byte("alice:pa55w0rd"))} {
		if strings.Contains(e+acts[0].Target, leak) {
			t.Errorf("error %q / target %q shows %q", e, acts[0].Target, leak)
		}
	}
	if !strings.Contains(e, "400 Bad Request: bad request from Basic *** …") {
		t.Errorf("error %q, want the first line, capped", e)
	}
}

// A receiver that redirects to another origin gets its redirect refused:
// the configured headers (a credential among them) and the signatures go
// to the configured origin only. The action fails, saying why.
func TestWebhookRedirectElsewhereIsRefused(t *testing.T) {
	other, elsewhere := hookServer(t, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/hook", http.StatusPermanentRedirect)
	}))
	defer srv.Close()
	a := &Actions{Config: rollbackConfig(time.Second, 2, &Webhook{URL: srv.URL, SecretEnv: "HOOK", Headers: map[string]string{"Authorization": "Bearer hook-t0ken"}}),
		Out: io.Discard, Getenv: getenv(map[string]string{"HOOK": hookSecret})}
	acts := a.Run(t.Context(), failing(), "", []byte("{}"))
	if acts[0].Status != Failed || !strings.Contains(acts[0].Error, "refused a redirect to another origin") || acts[0].Attempts != 1 {
		t.Errorf("got %+v, want one attempt, failed: refused a redirect", acts[0])
	}
	if n := len(elsewhere()); n != 0 {
		t.Errorf("the other origin got %d deliveries", n)
	}
}
