package prometheus

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// reply is one scripted answer of the fake server. hang makes the server
// never answer: the handler waits until the client gives up.
type reply struct {
	status int
	header map[string]string
	body   string // used as is when set
	// build writes the body from the request's form (for timestamps).
	build func(form url.Values) string
	hang  bool
}

// request is what the fake server saw.
type request struct {
	Method, Path string
	Form         url.Values // the POST body, as client_golang sends it
	URLQuery     url.Values
	Header       http.Header
}

// fakeProm answers like the Prometheus HTTP API from a script of replies
// per resolved query, records every request, and fails the test when a
// request has no reply left or a reply goes unused.
type fakeProm struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	script  map[string][]reply // by the query form value
	reqs    []request
	release chan struct{}
	hook    func() // runs inside the handler before the reply; set with setHook
}

// setHook makes every request run fn before its reply.
func (f *fakeProm) setHook(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = fn
}

func newFakeProm(t testing.TB, tls bool) *fakeProm {
	t.Helper()
	f := &fakeProm{t: t, script: map[string][]reply{}, release: make(chan struct{})}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake errors are expected
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for q, rs := range f.script {
			if len(rs) > 0 {
				t.Errorf("fake Prometheus: %d reply(s) for %q never requested", len(rs), q)
			}
		}
	})
	return f
}

// on scripts the replies to a resolved query, in order.
func (f *fakeProm) on(query string, rs ...reply) *fakeProm {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[query] = append(f.script[query], rs...)
	return f
}

func (f *fakeProm) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeProm) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		f.t.Errorf("fake Prometheus: body is not form-encoded: %v", err)
	}
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	q := form.Get("query")
	f.mu.Lock()
	f.reqs = append(f.reqs, request{Method: r.Method, Path: r.URL.Path, Form: form, URLQuery: r.URL.Query(), Header: r.Header.Clone()})
	rs := f.script[q]
	var rep reply
	ok := len(rs) > 0
	if ok {
		rep, f.script[q] = rs[0], rs[1:]
	}
	hook := f.hook
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("fake Prometheus: unexpected %s %s query=%q", r.Method, r.URL.Path, q)
		http.Error(w, "unexpected request", http.StatusTeapot)
		return
	}
	if hook != nil {
		hook()
	}
	if rep.hang {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	b := rep.body
	if rep.build != nil {
		b = rep.build(form)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, b)
}

// vector answers an instant query with one series per value, stamped with
// the request's time.
func vector(values ...string) reply {
	return reply{build: func(form url.Values) string {
		ts := form.Get("time")
		if ts == "" { // a range query
			ts = form.Get("end")
		}
		parts := make([]string, len(values))
		for i, v := range values {
			parts[i] = fmt.Sprintf(`{"metric":{"instance":"i%d"},"value":[%s,%q]}`, i, ts, v)
		}
		return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(parts, ",") + `]}}`
	}}
}

// scalar answers with a scalar result.
func scalar(v string) reply {
	return reply{build: func(form url.Values) string {
		return fmt.Sprintf(`{"status":"success","data":{"resultType":"scalar","result":[%s,%q]}}`, form.Get("time"), v)
	}}
}

// matrix answers a range query with one series whose value at each step is
// value(t) ("" leaves the point out).
func matrix(value func(t time.Time) string) reply {
	return reply{build: func(form url.Values) string {
		start, end := parseUnix(form.Get("start")), parseUnix(form.Get("end"))
		step, _ := strconv.ParseFloat(form.Get("step"), 64)
		if step <= 0 { // an instant query: one point at its time
			start, end, step = parseUnix(form.Get("time")), parseUnix(form.Get("time")), 1
		}
		var pts []string
		for t := start; !t.After(end); t = t.Add(time.Duration(step * float64(time.Second))) {
			if v := value(t); v != "" {
				pts = append(pts, fmt.Sprintf("[%s,%q]", strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64), v))
			}
		}
		return `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[` + strings.Join(pts, ",") + `]}]}}`
	}}
}

func emptyMatrix() reply {
	return reply{body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`}
}

// apiError answers as Prometheus does when a query fails.
func apiError(status int, errType, msg string) reply {
	return reply{status: status, body: fmt.Sprintf(`{"status":"error","errorType":%q,"error":%q}`, errType, msg)}
}

func parseUnix(s string) time.Time {
	f, _ := strconv.ParseFloat(s, 64)
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9+0.5)).Round(time.Millisecond).UTC()
}

// providerConfig is a good config for the fake server; tests mutate it.
func (f *fakeProm) providerConfig() Config {
	return testConfig("prom", f.srv.URL, 5*time.Second, 2, 10)
}

// newProvider builds a provider with a captured debug log.
func newProvider(t testing.TB, cfg Config, env map[string]string) (*Provider, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(t.Context(), cfg, providers.Env{Getenv: func(k string) string { return env[k] }, Log: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// testConfig is a provider's config as a test builds it by hand.
func testConfig(name, url string, timeout time.Duration, retries, conc int) Config {
	return Config{Name: name, URL: url, HTTP: httpconf.HTTP{Transport: httpconf.Transport{
		Timeout: slo.Duration(timeout), Retries: retries, MaxConcurrency: conc}}}
}

func withFields(c Config, f func(*Config)) Config {
	f(&c)
	return c
}
