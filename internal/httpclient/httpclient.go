// Package httpclient builds the one HTTP client every backend and action
// uses: go-retryablehttp with bounded retries, Retry-After honoured within
// the caller's deadline, credentials from the environment, and logs through
// slog that never carry a header.
package httpclient

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sloguard/sloguard/internal/safefile"

	"github.com/sloguard/sloguard/internal/redact"
)

// DefaultMaxResponseBytes bounds an answer when the config sets no
// max_response_bytes: far above any sane query result, far below what
// would exhaust a CI runner's memory.
const DefaultMaxResponseBytes = 50 << 20

// Options configure a client. Secrets are values already read from the
// environment by the caller.
type Options struct {
	// Name is who the client talks for in errors and logs: the provider's
	// name, or the action's.
	Name string
	// MaxResponseBytes bounds a response body (0: the default): a larger
	// one fails with a *TooLargeError, read no further.
	MaxResponseBytes   int64
	Retries            int
	RetryWaitMin       time.Duration // default 250ms
	RetryWaitMax       time.Duration // default 5s
	Headers            map[string]string
	BearerToken        string
	BasicUser          string
	BasicPassword      string
	CAFile             string
	InsecureSkipVerify bool
	Query              map[string]string // parameters added to every request URL (e.g. partial_response)
	Logger             *slog.Logger
	// Base is the transport beneath, when the caller builds its own (TLS,
	// proxy and authentication from Prometheus's HTTP client config):
	// CAFile and InsecureSkipVerify are then its to apply.
	Base http.RoundTripper
	// NoRedirects returns a 3xx as it is instead of following it. A
	// redirect is otherwise followed within the first request's origin
	// only (see RedirectError).
	NoRedirects bool
	// Large is shared by the clients whose large answers it bounds
	// together (every backend of a run); nil: the client's own.
	Large *Large
}

// New returns a retrying client. Standard(c) suits libraries that want an
// *http.Client (the Prometheus API client, go-github); its own
// StandardClient() would follow redirects anywhere.
func New(o Options) (*retryablehttp.Client, error) {
	base, err := transport(o)
	if err != nil {
		return nil, err
	}
	limit := o.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	large := o.Large
	if large == nil {
		large = NewLarge()
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{
		Transport:     &decorate{next: &limitBody{next: base, name: o.Name, limit: limit, large: large}, o: o},
		CheckRedirect: sameOrigin(o.Name),
	}
	if o.NoRedirects {
		c.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c.RetryMax = o.Retries
	c.RetryWaitMin = orDefault(o.RetryWaitMin, 250*time.Millisecond)
	c.RetryWaitMax = orDefault(o.RetryWaitMax, 5*time.Second)
	c.CheckRetry = checkRetry
	c.Backoff = backoff
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.ErrorHandler = passLastResponse(log)
	// Each attempt is a debug line; the request's final failure is one
	// warning (passLastResponse), not one per attempt.
	c.Logger = leveled{log}
	return c, nil
}

// transport is o.Base (asking for gzip, which Prometheus's client config
// switches off), or a transport of our own with o's CA.
func transport(o Options) (http.RoundTripper, error) {
	if o.Base != nil {
		return gunzip{next: o.Base}, nil
	}
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	if o.CAFile != "" || o.InsecureSkipVerify {
		tc := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // an explicit, documented switch
		if o.CAFile != "" {
			pem, err := safefile.Read(o.CAFile, safefile.MaxCredential) // a FIFO never blocks, /dev/zero never fills memory
			if err != nil {
				return nil, fmt.Errorf("read CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
			}
			tc.RootCAs = pool
		}
		base.TLSClientConfig = tc
	}
	return base, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// decorate adds headers, credentials and query parameters to each attempt:
// to the origin of the first request only, since sameOrigin refuses a
// redirect elsewhere.
type decorate struct {
	next http.RoundTripper
	o    Options
}

func (d *decorate) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range d.o.Headers {
		r.Header.Set(k, v)
	}
	switch {
	case d.o.BearerToken != "":
		r.Header.Set("Authorization", "Bearer "+d.o.BearerToken)
	case d.o.BasicUser != "" || d.o.BasicPassword != "":
		r.SetBasicAuth(d.o.BasicUser, d.o.BasicPassword)
	}
	if len(d.o.Query) > 0 {
		q := r.URL.Query()
		for k, v := range d.o.Query {
			q.Set(k, v)
		}
		r.URL.RawQuery = q.Encode()
	}
	return d.next.RoundTrip(r)
}

// Kinds of failure callers tell apart with errors.Is, whatever the
// message (package providers names them for the backends).
var (
	ErrRateLimited = errors.New("rate limited")
	ErrUnavailable = errors.New("unavailable")
)

// RetryAfterError says the server asked for a wait longer than the time
// left: waiting would only end in a timeout, so we stop now and say why.
type RetryAfterError struct {
	Status int
	Wait   time.Duration
	Left   time.Duration
}

// Is makes a 429 ErrRateLimited and a 503 ErrUnavailable.
func (e *RetryAfterError) Is(target error) bool {
	return (target == ErrRateLimited && e.Status == http.StatusTooManyRequests) ||
		(target == ErrUnavailable && e.Status == http.StatusServiceUnavailable)
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("server answered %d and asked to retry after %s, more than the %s left of the deadline", e.Status, roundWait(e.Wait), roundWait(e.Left))
}

// roundWait rounds a wait for a message: whole seconds, or tenths below
// ten seconds, so that 300ms does not read as 0s.
func roundWait(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var tl *TooLargeError
	var re *RedirectError
	if errors.As(err, &tl) || errors.As(err, &re) {
		return false, err // the next answer would be the same; err names the URL
	}
	if localFile(err) {
		return false, err // a secret file that cannot be read: no network fault
	}
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if wait, ok := RetryAfter(resp.Header, time.Now()); ok {
			if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
				return false, &RetryAfterError{Status: resp.StatusCode, Wait: wait, Left: time.Until(dl)}
			}
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// localFile reports whether a request failed before it was sent, on a
// file the client reads on each request (a *_file secret, a CA): missing,
// unreadable, not a regular file or too large. Retrying reads the same
// file again, so it is not retried.
func localFile(err error) bool {
	return errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge) ||
		errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)
}

// backoff waits as long as a 429 or 503 asks with Retry-After (parsed as
// checkRetry parses it, so that both agree), exponentially otherwise.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if wait, ok := RetryAfter(resp.Header, time.Now()); ok {
			return wait
		}
	}
	return retryablehttp.DefaultBackoff(lo, hi, attempt, nil)
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date).
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// passLastResponse hands the last response to the caller after the final
// retry, so that it can read the server's own error message, and returns
// the error instead when there is one: its cause without the URL (which
// may hold a token, and which the caller's own client or message names
// once), with the number of attempts. It logs the failure once, as a
// warning naming the redacted URL; each attempt was a debug line.
func passLastResponse(log *slog.Logger) retryablehttp.ErrorHandler {
	return func(resp *http.Response, err error, attempts int) (*http.Response, error) {
		if err == nil {
			if resp != nil && resp.Request != nil && resp.StatusCode >= 500 {
				log.Warn("request failed", "url", redact.URL(resp.Request.URL.String()), "status", resp.StatusCode, "attempts", attempts)
			}
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		var ra *RetryAfterError
		if errors.As(err, &ra) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		target := ""
		var ue *url.Error
		if errors.As(err, &ue) {
			target, err = redact.URL(ue.URL), ue.Err
		}
		var re *RedirectError
		if errors.As(err, &re) {
			target = redact.URL(re.From.String()) // the configured URL, not where it pointed
		}
		log.Warn("request failed", "url", target, "attempts", attempts, "error", err)
		if attempts > 1 {
			return nil, fmt.Errorf("%w (after %d attempts)", err, attempts)
		}
		return nil, err
	}
}

// TooLargeError says an answer exceeded the response size limit.
type TooLargeError struct {
	Name  string // the provider or action
	Limit int64
}

func (e *TooLargeError) Error() string {
	who := ""
	if e.Name != "" {
		who = fmt.Sprintf(" of %q", e.Name)
	}
	return fmt.Sprintf("the answer is larger than max_response_bytes%s (%d bytes, %s): narrow the query, or raise max_response_bytes", who, e.Limit, mib(e.Limit))
}

func mib(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<10), 'f', -1, 64) + " KiB"
}

// limitBody fails an answer larger than limit: at once when its
// Content-Length says so, else as soon as the reader passes the limit, so
// that memory stays bounded whatever the server streams. Past SmallAnswer
// bytes, the reader waits for a slot of large (see Large).
type limitBody struct {
	next  http.RoundTripper
	name  string
	limit int64
	large *Large
}

func (l *limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if resp.ContentLength > l.limit {
		resp.Body.Close()
		return nil, &TooLargeError{Name: l.name, Limit: l.limit}
	}
	resp.Body = &limitedReader{rc: resp.Body, left: l.limit, err: &TooLargeError{Name: l.name, Limit: l.limit}, ctx: r.Context(), large: l.large}
	return resp, nil
}

type limitedReader struct {
	rc   io.ReadCloser
	left int64
	err  *TooLargeError

	ctx   context.Context // the request's: bounds the wait for the slot
	large *Large
	read  int64
	hold  atomic.Pointer[hold] // Close may come from another goroutine
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	if l.hold.Load() == nil {
		if l.read >= SmallAnswer {
			h, err := l.large.take(l.ctx)
			if err != nil {
				return 0, err
			}
			l.hold.Store(h)
		} else if int64(len(p)) > SmallAnswer-l.read {
			p = p[:SmallAnswer-l.read]
		}
	}
	n, err := l.rc.Read(p)
	l.read += int64(n)
	l.left -= int64(n)
	if l.left < 0 {
		// The slot stays held until Close (or the request's end): the
		// caller still holds what it read, garbage only once it gives up.
		return n + int(l.left), l.err // the byte past the limit is not passed on
	}
	if err != nil {
		l.hold.Load().end() // the whole answer is read: it is the caller's data now
	}
	return n, err
}

func (l *limitedReader) Close() error {
	l.hold.Load().end()
	return l.rc.Close()
}

// leveled adapts slog to retryablehttp: every attempt is a debug line.
type leveled struct{ l *slog.Logger }

func (l leveled) Error(msg string, kv ...any) { l.l.Debug(msg, redactKV(kv)...) }
func (l leveled) Warn(msg string, kv ...any)  { l.l.Debug(msg, redactKV(kv)...) }
func (l leveled) Info(msg string, kv ...any)  { l.l.Debug(msg, redactKV(kv)...) }
func (l leveled) Debug(msg string, kv ...any) { l.l.Debug(msg, redactKV(kv)...) }

// redactKV shows the client's URLs without credentials.
func redactKV(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		if s, ok := v.(string); ok && i%2 == 1 && strings.Contains(s, "://") {
			v = redact.Patterns(s)
		}
		out[i] = v
	}
	return out
}

// gunzip asks for a gzipped answer and decompresses it, as net/http's own
// transport does unless compression is off (Prometheus's client config
// turns it off): a query result is mostly text and shrinks tenfold. The
// size limit applies to the decompressed body.
type gunzip struct{ next http.RoundTripper }

func (g gunzip) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept-Encoding") != "" || r.Header.Get("Range") != "" || r.Method == http.MethodHead {
		return g.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Encoding", "gzip")
	resp, err := g.next.RoundTrip(r)
	if err != nil || !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp, err
	}
	resp.Body = &gzipBody{rc: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return resp, nil
}

// gzipBody decompresses lazily, on the first read.
type gzipBody struct {
	rc io.ReadCloser
	zr *gzip.Reader
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.zr == nil {
		zr, err := gzip.NewReader(b.rc)
		if err != nil {
			return 0, err
		}
		b.zr = zr
	}
	return b.zr.Read(p)
}

func (b *gzipBody) Close() error { return b.rc.Close() }
