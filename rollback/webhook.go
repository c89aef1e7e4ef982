package rollback

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/httpclient"
	"github.com/sloguard/sloguard/internal/redact"
	"github.com/sloguard/sloguard/report"
	"github.com/sloguard/sloguard/slo"
)

// Webhook headers. The Standard Webhooks trio (webhook-id, constant across
// retries; webhook-timestamp; webhook-signature) lets any receiver library
// verify a delivery, reject a replay and drop a duplicate;
// X-Sloguard-Signature-256 (GitHub's scheme) stays for existing receivers.
const (
	SignatureHeader          = "X-Sloguard-Signature-256"
	WebhookIDHeader          = "webhook-id"
	WebhookTimestampHeader   = "webhook-timestamp"
	WebhookSignatureHeader   = "webhook-signature"
	standardWebhookKeyPrefix = "whsec_"
)

// Sign returns the X-Sloguard-Signature-256 value for body:
// sha256=<hex HMAC-SHA256>, keyed by the secret exactly as configured.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookKey is the Standard Webhooks signing key of a secret: a secret in
// the spec's form, whsec_<base64>, is the base64-decoded bytes; any other
// secret is used as its bytes, as is.
func WebhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, standardWebhookKeyPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the secret starts with %s but the rest is not base64: give the secret as the receiver shows it", standardWebhookKeyPrefix)
	}
	return key, nil
}

// SignStandard returns the webhook-signature value: v1,<base64 HMAC-SHA256
// of "id.timestamp.body">.
func SignStandard(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// webhookKind registers the webhook action: the record posted, signed.
func webhookKind() Kind {
	return Kind{Key: "webhook", Decode: func(b *slo.Block) Action {
		var w Webhook
		b.Decode(&w)
		if w.URL == "" {
			b.Problem("url", "required: the http(s) URL the decision record is posted to")
		} else if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			b.Problem("url", "%q is not an http(s) URL", slo.RedactURL(w.URL))
		}
		if w.SecretEnv == "" {
			b.Problem("secret_env", "required: the name of the environment variable holding the HMAC-SHA256 secret the webhook is signed with, e.g. HOOK_SECRET")
		} else {
			slo.CheckEnvName(b, "secret_env", w.SecretEnv)
		}
		return &w
	}}
}

// Webhook is the webhook action: the decision record posted to URL,
// signed with HMAC-SHA256 keyed by the secret in SecretEnv.
type Webhook struct {
	URL       string            `yaml:"url"`
	SecretEnv string            `yaml:"secret_env"`
	Headers   map[string]string `yaml:"headers"`
}

// Run implements Action. go-retryablehttp retries the POST itself, within
// one deadline.
func (w *Webhook) Run(ctx context.Context, r *Run) []report.Action {
	var tries int
	act := r.once(ctx, "webhook", redact.URL(w.URL), func(ctx context.Context) error {
		return w.post(ctx, r, &tries)
	})
	act.Attempts = tries
	return []report.Action{act}
}

// Redact implements Action: the secret, the URL's credentials, and
// credential headers.
func (w *Webhook) Redact(rd *redact.Redactor, getenv func(string) string) {
	rd.Add(getenv(w.SecretEnv))
	rd.AddURL(w.URL)
	for k, v := range w.Headers {
		if redact.SensitiveHeader(k) {
			rd.Add(v)
		}
	}
}

// Ready implements Action: the secret is set, and in a form that signs.
func (w *Webhook) Ready(getenv func(string) string) error {
	if _, _, err := w.key(getenv); err != nil {
		return &NotReady{Key: "rollback.webhook", Err: err}
	}
	return nil
}

// MinWebhookKey is the least key material a webhook secret holds, in
// bytes: the raw secret's, or the decoded key of a whsec_ one (Standard
// Webhooks' keys are 24 to 64 bytes). A shorter key signs nothing a
// receiver can trust: an empty one (whsec_ alone) signs with the empty
// HMAC key, which anyone can forge, and a few characters are guessed
// offline from one signed delivery.
const MinWebhookKey = 16

// key reads the secret and the Standard Webhooks key it gives, refusing
// one too short to be a secret.
func (w *Webhook) key(getenv func(string) string) (secret string, key []byte, err error) {
	secret = getenv(w.SecretEnv)
	if secret == "" {
		return "", nil, fmt.Errorf("environment variable %s (secret_env) is empty: cannot sign the webhook", w.SecretEnv)
	}
	if strings.TrimSpace(secret) == "" {
		return "", nil, fmt.Errorf("environment variable %s (secret_env) is blank: cannot sign the webhook: set it to a random secret of at least %d bytes (e.g. openssl rand -hex 32)", w.SecretEnv, MinWebhookKey)
	}
	if key, err = WebhookKey(secret); err != nil {
		return "", nil, fmt.Errorf("environment variable %s (secret_env): %w", w.SecretEnv, err)
	}
	if n := len(bytes.TrimSpace(key)); n < MinWebhookKey {
		what := "the secret"
		if strings.HasPrefix(secret, standardWebhookKeyPrefix) {
			what = "the key (base64 after the prefix)"
		}
		return "", nil, fmt.Errorf("environment variable %s (secret_env): %s is %d bytes, too short to sign with: anyone could forge the signature: use at least %d bytes (e.g. openssl rand -hex 32, or the secret the receiver shows)", w.SecretEnv, what, n, MinWebhookKey)
	}
	return secret, key, nil
}

// post posts the record, signed; 2xx is success. Retried through the
// shared client on connection errors, 429 and 5xx: a receiver that acted on
// a delivery whose answer was lost sees the same webhook-id again and drops
// it. Each attempt carries its own timestamp and signature.
func (w *Webhook) post(ctx context.Context, r *Run, tries *int) error {
	id, record := r.Decision.RollbackID, r.Record
	secret, key, err := w.key(r.Getenv)
	if err != nil {
		return err
	}
	c, err := httpclient.New(httpclient.Options{Name: "rollback.webhook", Retries: r.Retries, Headers: w.Headers, Logger: r.Log})
	if err != nil {
		return err
	}
	c.RequestLogHook = func(retryablehttp.Logger, *http.Request, int) { *tries++ }
	sign := func(r *http.Request) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r.Header = r.Header.Clone() // the client's retry copy shares the map
		r.Header.Set(WebhookTimestampHeader, ts)
		r.Header.Set(WebhookSignatureHeader, SignStandard(key, id, ts, record))
	}
	c.PrepareRetry = func(r *http.Request) error { sign(r); return nil }
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, w.URL, record)
	if err != nil {
		return fmt.Errorf("POST %s: %w", redact.URL(w.URL), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sloguard")
	req.Header.Set(WebhookIDHeader, id)
	req.Header.Set(SignatureHeader, Sign([]byte(secret), record))
	sign(req.Request)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", redact.URL(w.URL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("POST %s: %s: %s", redact.URL(w.URL), resp.Status, redact.Excerpt(body))
	}
	return nil
}
