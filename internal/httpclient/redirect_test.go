package httpclient

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a server that records the headers of every request and
// answers with handle (200 "ok" when nil).
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newRecorder(t *testing.T, tls bool, handle http.HandlerFunc) *recorder {
	r := &recorder{}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Clone(req.Context()))
		r.mu.Unlock()
		if handle != nil {
			handle(w, req)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	r.Server = httptest.NewUnstartedServer(h)
	r.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		r.StartTLS()
	} else {
		r.Start()
	}
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.seen...)
}

func redirectTo(url string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, url, http.StatusTemporaryRedirect)
	}
}

var creds = Options{Name: "prom", BearerToken: secret, Headers: map[string]string{"X-Scope-OrgID": "team-a"}, Query: map[string]string{"tenant": "a"}}

// A redirect within the configured origin is followed, credentials and
// all: a path moved on the same server is no risk.
func TestARedirectWithinTheOriginIsFollowed(t *testing.T) {
	var srv *recorder
	srv = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	code, body, err := get(t, creds, t.Context(), srv.URL+"/old")
	if err != nil || code != 200 || body != "ok" {
		t.Fatalf("got %d %q %v, want 200 ok", code, body, err)
	}
	seen := srv.requests()
	if len(seen) != 2 || seen[1].URL.Path != "/new" || seen[1].Header.Get("Authorization") != "Bearer "+secret || seen[1].Header.Get("X-Scope-OrgID") != "team-a" {
		t.Errorf("the redirected request: %d requests, last %v", len(seen), seen[len(seen)-1].Header)
	}
}

// A redirect to another origin is refused, so that nothing (no bearer
// token, no configured header, no parameter) reaches it, with an error
// that names both origins and what to do, once (no retry), and one
// warning naming the URL.
func TestARedirectElsewhereIsRefused(t *testing.T) {
	other := newRecorder(t, false, nil)
	otherTLS := newRecorder(t, true, nil)
	for name, tc := range map[string]struct {
		from *recorder
		to   string
		want string
	}{
		"another port":           {newRecorder(t, false, redirectTo(other.URL+"/api?x=1")), other.URL, "refused a redirect to another origin: the server of \"prom\" at http://127.0.0.1:"},
		"https down to http":     {newRecorder(t, true, redirectTo(other.URL+"/api")), other.URL, "refused a redirect from https down to http"},
		"https to another https": {newRecorder(t, true, redirectTo(otherTLS.URL+"/api")), otherTLS.URL, "refused a redirect to another origin"},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(other.requests()) + len(otherTLS.requests())
			lg, logs := captureLog(slog.LevelWarn)
			o := creds
			o.Retries, o.Logger, o.InsecureSkipVerify = 3, lg, true
			_, _, err := get(t, fast(o), t.Context(), tc.from.URL+"/api/v1/query")
			var re *RedirectError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "redirected to "+tc.to) {
				t.Fatalf("err = %v, want a RedirectError: %s … redirected to %s", err, tc.want, tc.to)
			}
			if strings.Contains(err.Error(), "x=1") {
				t.Errorf("the error carries the redirect's query: %v", err)
			}
			if n := len(tc.from.requests()); n != 1 {
				t.Errorf("%d requests to the configured origin, want 1 (no retry)", n)
			}
			if n := len(other.requests()) + len(otherTLS.requests()) - before; n != 0 {
				t.Errorf("the other origin got %d request(s)", n)
			}
			if l := logs(); strings.Count(l, "\n") != 1 || !strings.Contains(l, "url="+tc.from.URL+"/api/v1/query") {
				t.Errorf("want one warning naming the configured URL, got:\n%s", l)
			}
		})
	}
}

// follow_redirects: false hands the 3xx to the caller as it is; Standard
// adds no redirects of its own (retryablehttp's StandardClient would
// follow one anywhere, the credentials added again on the way).
func TestNoRedirectsReturnsThe3xx(t *testing.T) {
	other := newRecorder(t, false, nil)
	from := newRecorder(t, false, redirectTo(other.URL))
	o := creds
	o.NoRedirects = true
	code, _, err := get(t, o, t.Context(), from.URL)
	if err != nil || code != http.StatusTemporaryRedirect {
		t.Errorf("got %d, %v; want the 307 itself", code, err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other origin got %d request(s)", n)
	}
}

func TestALoopOfRedirectsStops(t *testing.T) {
	var srv *recorder
	srv = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusTemporaryRedirect)
	})
	o := creds
	o.Retries = 3
	_, _, err := get(t, fast(o), t.Context(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("err = %v, want stopped after 10 redirects", err)
	}
	if n := len(srv.requests()); n != 10 {
		t.Errorf("%d requests, want 10 (net/http's bound, no retry)", n)
	}
}

// A 301, 302 or 303 answering a POST query is not followed: net/http
// would follow it as a GET without the query, and the server's 400 to
// that read as a bad query (exit 2, blaming the query). The error says
// the server redirected, where, and what to do. A 307 or 308 keeps the
// POST and its body, and is followed.
func TestAPostRedirectedAsAGetIsNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			srv := newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path+" "+string(body))
				mu.Unlock()
				switch {
				case r.URL.Path == "/api/v1/query":
					http.Redirect(w, r, "/prom/api/v1/query?token=planted", status)
				case r.Method != http.MethodPost || string(body) != "query=up":
					http.Error(w, "bad_data: no query", http.StatusBadRequest)
				default:
					_, _ = io.WriteString(w, "ok")
				}
			})
			o := creds
			o.Retries = 2
			code, body, err := get(t, fast(o), t.Context(), srv.URL+"/api/v1/query")
			mu.Lock()
			defer mu.Unlock()
			if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
				if err != nil || code != 200 || body != "ok" || len(seen) != 2 || seen[1] != "POST /prom/api/v1/query query=up" {
					t.Errorf("got %d %q %v after %q, want the POST followed with its body", code, body, err, seen)
				}
				return
			}
			var re *RedirectError
			if !errors.As(err, &re) || re.Status != status {
				t.Fatalf("got %d %q %v, want a RedirectError for the %d", code, body, err, status)
			}
			want := fmt.Sprintf(`the server of "prom" at %s/api/v1/query answered the POST with %d %s to %s/prom/api/v1/query, which would be followed as a GET without the query: not followed: set the URL to the final address`,
				origin(re.From), status, http.StatusText(status), origin(re.From))
			if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "planted") {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			if len(seen) != 1 {
				t.Errorf("requests %q, want the POST alone (no GET, no retry)", seen)
			}
		})
	}
}
