package httpclient

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/safefile"
)

const secret = "t0p-s3cret-token"

// attempt is what the server saw of one attempt.
type attempt struct {
	header http.Header
	query  string
	body   string
}

// server answers the i-th attempt with answers[i] (status, headers and a
// body naming the attempt) and records every attempt.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	attempts []attempt
}

type answer struct {
	status int
	header map[string]string
}

func newServer(t *testing.T, answers ...answer) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.attempts = append(s.attempts, attempt{header: r.Header.Clone(), query: r.URL.RawQuery, body: string(body)})
		n := len(s.attempts)
		s.mu.Unlock()
		if n > len(answers) {
			t.Errorf("attempt %d, but only %d answers scripted", n, len(answers))
			w.WriteHeader(http.StatusTeapot)
			return
		}
		for k, v := range answers[n-1].header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(answers[n-1].status)
		fmt.Fprintf(w, "attempt %d", n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) seen() []attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]attempt(nil), s.attempts...)
}

// fast waits a millisecond between attempts.
func fast(o Options) Options {
	o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 2*time.Millisecond
	return o
}

func get(t *testing.T, o Options, ctx context.Context, url string) (int, string, error) {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("query=up"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Standard(c).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestRetriesAreBoundedAndTheLastResponseIsPassedOn(t *testing.T) {
	tests := map[string]struct {
		retries  int
		answers  []answer
		status   int
		attempts int
	}{
		"a 5xx is retried and the retry's answer returned": {retries: 3, answers: []answer{{status: 502}, {status: 200}}, status: 200, attempts: 2},
		"a 5xx on every attempt stops after Retries and returns the last response": {
			retries: 2, answers: []answer{{status: 500}, {status: 503}, {status: 500}}, status: 500, attempts: 3,
		},
		"no retries is one attempt":  {retries: 0, answers: []answer{{status: 500}}, status: 500, attempts: 1},
		"a 429 is retried":           {retries: 1, answers: []answer{{status: 429}, {status: 200}}, status: 200, attempts: 2},
		"a 501 is not retried":       {retries: 3, answers: []answer{{status: 501}}, status: 501, attempts: 1},
		"a 401 is not retried":       {retries: 3, answers: []answer{{status: 401}}, status: 401, attempts: 1},
		"a 403 is not retried":       {retries: 3, answers: []answer{{status: 403}}, status: 403, attempts: 1},
		"a 400 is returned as it is": {retries: 3, answers: []answer{{status: 400}}, status: 400, attempts: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, tc.answers...)
			status, body, err := get(t, fast(Options{Retries: tc.retries}), context.Background(), s.URL)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || body != fmt.Sprintf("attempt %d", tc.attempts) {
				t.Errorf("got %d %q, want %d from attempt %d", status, body, tc.status, tc.attempts)
			}
			seen := s.seen()
			if len(seen) != tc.attempts {
				t.Errorf("%d attempts, want %d", len(seen), tc.attempts)
			}
			for i, a := range seen {
				if a.body != "query=up" {
					t.Errorf("attempt %d sent body %q: the body must be sent again on every retry", i+1, a.body)
				}
			}
		})
	}
}

func TestConnectionErrorsNameTheAttempts(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close()
	_, _, err := get(t, fast(Options{Retries: 2}), context.Background(), url)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "(after 3 attempts)") {
		t.Fatalf("error %v, want connection refused after 3 attempts", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		header string
		want   time.Duration
		ok     bool
	}{
		"seconds":                     {header: "120", want: 2 * time.Minute, ok: true},
		"zero seconds":                {header: "0", want: 0, ok: true},
		"an HTTP date":                {header: "Wed, 01 May 2024 12:01:30 GMT", want: 90 * time.Second, ok: true},
		"an obsolete RFC 850 date":    {header: "Wednesday, 01-May-24 12:00:10 GMT", want: 10 * time.Second, ok: true},
		"a date in the past is now":   {header: "Wed, 01 May 2024 11:00:00 GMT", want: 0, ok: true},
		"no header":                   {header: "", ok: false},
		"negative seconds are wrong":  {header: "-1", ok: false},
		"fractions are not allowed":   {header: "1.5", ok: false},
		"words are not a retry-after": {header: "soon", ok: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Retry-After", tc.header)
			}
			got, ok := RetryAfter(h, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("RetryAfter(%q) = %v, %v, want %v, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestRetryAfterWithinTheDeadlineIsHonoured(t *testing.T) {
	for _, status := range []int{429, 503} {
		s := newServer(t, answer{status: status, header: map[string]string{"Retry-After": "1"}}, answer{status: 200})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		code, _, err := get(t, fast(Options{Retries: 2}), ctx, s.URL)
		cancel()
		if err != nil || code != 200 {
			t.Fatalf("%d: got %d, %v", status, code, err)
		}
		if took := time.Since(start); took < 900*time.Millisecond {
			t.Errorf("%d: retried after %v, want the second Retry-After asked for", status, took)
		}
	}
}

func TestRetryAfterBeyondTheDeadlineFailsFast(t *testing.T) {
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for name, header := range map[string]string{"seconds": "30", "an HTTP date": inAnHour} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, answer{status: 429, header: map[string]string{"Retry-After": header}})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			_, _, err := get(t, fast(Options{Retries: 3}), ctx, s.URL)
			if took := time.Since(start); took > time.Second {
				t.Errorf("gave up after %v, want at once", took)
			}
			var ra *RetryAfterError
			if !errors.As(err, &ra) || ra.Status != 429 || ra.Wait < 30*time.Second {
				t.Fatalf("error %v, want a RetryAfterError", err)
			}
			if !strings.Contains(err.Error(), "server answered 429 and asked to retry after") || !strings.Contains(err.Error(), "more than the 2s left of the deadline") {
				t.Errorf("error %q", err)
			}
			if len(s.seen()) != 1 {
				t.Errorf("%d attempts, want 1", len(s.seen()))
			}
		})
	}
}

func TestRetryAfterErrorMessageKeepsShortWaits(t *testing.T) {
	err := &RetryAfterError{Status: 503, Wait: 30 * time.Second, Left: 300 * time.Millisecond}
	if want := "server answered 503 and asked to retry after 30s, more than the 300ms left of the deadline"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestCredentialsHeadersAndParametersOnEveryAttempt(t *testing.T) {
	tests := map[string]struct {
		o     Options
		check func(t *testing.T, a attempt)
	}{
		"bearer token, headers and query parameters": {
			o: Options{BearerToken: secret, Headers: map[string]string{"X-Scope-OrgID": "team-a"}, Query: map[string]string{"partial_response": "false"}},
			check: func(t *testing.T, a attempt) {
				if a.header.Get("Authorization") != "Bearer "+secret || a.header.Get("X-Scope-OrgID") != "team-a" || a.query != "partial_response=false" {
					t.Errorf("attempt carried %v ?%s", a.header, a.query)
				}
			},
		},
		"basic auth": {
			o: Options{BasicUser: "sre", BasicPassword: secret},
			check: func(t *testing.T, a attempt) {
				if a.header.Get("Authorization") != "Basic c3JlOnQwcC1zM2NyZXQtdG9rZW4=" {
					t.Errorf("Authorization = %q", a.header.Get("Authorization"))
				}
			},
		},
		"the bearer token wins over an Authorization header": {
			o: Options{BearerToken: secret, Headers: map[string]string{"Authorization": "Basic x"}},
			check: func(t *testing.T, a attempt) {
				if a.header.Get("Authorization") != "Bearer "+secret {
					t.Errorf("Authorization = %q", a.header.Get("Authorization"))
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, answer{status: 500}, answer{status: 502}, answer{status: 200})
			tc.o.Retries = 3
			if _, _, err := get(t, fast(tc.o), context.Background(), s.URL); err != nil {
				t.Fatal(err)
			}
			seen := s.seen()
			if len(seen) != 3 {
				t.Fatalf("%d attempts, want 3", len(seen))
			}
			for _, a := range seen {
				tc.check(t, a)
			}
		})
	}
}

// captureLog is a logger at level whose lines logs returns.
func captureLog(level slog.Level) (log *slog.Logger, logs func() string) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log = slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(b)
	}), &slog.HandlerOptions{Level: level}))
	return log, func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

func TestLogsGoThroughSlogWithoutCredentials(t *testing.T) {
	log, logs := captureLog(slog.LevelDebug)
	o := fast(Options{Retries: 1, BearerToken: secret, Headers: map[string]string{"X-Api-Key": secret}, Logger: log})

	s := newServer(t, answer{status: 503}, answer{status: 200})
	if _, _, err := get(t, o, context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, _, err := get(t, o, context.Background(), closed.URL); err == nil {
		t.Fatal("no error from a closed server")
	}
	out := logs()
	for _, want := range []string{"level=DEBUG msg=\"retrying request\"", "level=WARN msg=\"request failed\""} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	for _, never := range []string{secret, "Authorization", "Bearer", "level=ERROR"} {
		if strings.Contains(out, never) {
			t.Errorf("logs carry %q:\n%s", never, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func TestTLS(t *testing.T) {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are expected
	s.StartTLS()
	t.Cleanup(s.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		o       Options
		newErr  string
		callErr string
	}{
		"the CA file is trusted":            {o: Options{CAFile: ca}},
		"insecure_skip_verify skips checks": {o: Options{InsecureSkipVerify: true}},
		"an unknown CA is refused at once":  {o: Options{Retries: 3}, callErr: "certificate signed by unknown authority"},
		"a missing CA file":                 {o: Options{CAFile: filepath.Join(dir, "nope.pem")}, newErr: "read CA file: stat " + filepath.Join(dir, "nope.pem") + ": no such file or directory"},
		"a CA file without a certificate":   {o: Options{CAFile: notPEM}, newErr: "CA file " + notPEM + " holds no PEM certificate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.newErr != "" {
				if _, err := New(tc.o); err == nil || err.Error() != tc.newErr {
					t.Fatalf("New: %v, want %s", err, tc.newErr)
				}
				return
			}
			code, body, err := get(t, tc.o, context.Background(), s.URL)
			if tc.callErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.callErr) {
					t.Fatalf("error %v, want %s", err, tc.callErr)
				}
				if strings.Contains(err.Error(), "attempts") {
					t.Errorf("a certificate error was retried: %v", err)
				}
				return
			}
			if err != nil || code != 200 || body != "ok" {
				t.Fatalf("got %d %q %v", code, body, err)
			}
		})
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestALocalFileErrorIsNotRetried: a request that fails before it is sent,
// on a secret file the transport reads on each request (swapped for a
// FIFO, removed, unreadable, too large), is one attempt: reading the same
// file again would fail the same way, and it is no network fault. A
// connection error beside it is still retried.
func TestALocalFileErrorIsNotRetried(t *testing.T) {
	for name, tc := range map[string]struct {
		err      error
		attempts int
	}{
		"a FIFO":               {fmt.Errorf("unable to read basic auth password: basic_auth.password_file /run/pw: %w: it is a named pipe (FIFO)", safefile.ErrNotRegular), 1},
		"a file too large":     {fmt.Errorf("unable to read authorization credentials: %w: more than 64 KiB", safefile.ErrTooLarge), 1},
		"a file removed":       {fmt.Errorf("unable to read CA cert: tls.ca_file /run/ca.pem: %w", syscall.ENOENT), 1},
		"a file unreadable":    {fmt.Errorf("unable to read oauth2 client secret: %w", fs.ErrPermission), 1},
		"a connection refused": {syscall.ECONNREFUSED, 4},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			base := roundTripFunc(func(*http.Request) (*http.Response, error) {
				calls.Add(1)
				return nil, tc.err
			})
			_, _, err := get(t, fast(Options{Retries: 3, Base: base}), context.Background(), "http://127.0.0.1:9/api")
			if err == nil || !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if got := calls.Load(); got != int64(tc.attempts) {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}
