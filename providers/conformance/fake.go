package conformance

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Handler adapts the scripted fake server to one vendor's API.
type Handler struct {
	// Queue names the queue a request reads its replies from ("bad",
	// "total", a scrape target), or "" for a request the API does not
	// expect, which fails the test.
	Queue func(r *http.Request, body []byte) string
	// Authorized reports whether the request carries the setup's
	// credential; a request without it fails the test.
	Authorized func(r *http.Request) bool
	// Render writes one reply in the vendor's shape (body, status,
	// headers). It is never called for Hang.
	Render func(w http.ResponseWriter, r *http.Request, queue string, rep Reply)
}

// Request is what the fake server saw.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
	Queue  string
}

// Fake is an httptest server that answers every queue with the setup's
// replies in order, records the requests, and fails the test when a
// request has no reply left or lacks the credential, and (unless the
// setup repeats its last reply) when a reply is never requested.
type Fake struct {
	URL string

	t       testing.TB
	h       Handler
	srv     *httptest.Server
	repeat  bool
	release chan struct{}

	mu     sync.Mutex
	queues map[string][]Reply
	reqs   []Request
}

// NewFake starts a fake serving s.Replies to each of the named queues.
func NewFake(t testing.TB, s Setup, queues []string, h Handler) *Fake {
	t.Helper()
	f := &Fake{t: t, h: h, repeat: s.Repeat, release: make(chan struct{}), queues: map[string][]Reply{}}
	for _, q := range queues {
		f.queues[q] = append([]Reply(nil), s.Replies...)
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.Start()
	f.URL = f.srv.URL
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
		if f.repeat {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for q, rs := range f.queues {
			if len(rs) > 0 {
				t.Errorf("fake server: %d reply(s) for %s never requested", len(rs), q)
			}
		}
	})
	return f
}

// Push appends replies to a queue.
func (f *Fake) Push(queue string, rs ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[queue] = append(f.queues[queue], rs...)
}

// Requests returns the requests so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	queue := f.h.Queue(r, body)
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone(), Body: body, Queue: queue})
	rs, known := f.queues[queue]
	var rep Reply
	ok := known && len(rs) > 0
	switch {
	case ok && len(rs) == 1 && f.repeat:
		rep = rs[0]
	case ok:
		rep, f.queues[queue] = rs[0], rs[1:]
	}
	f.mu.Unlock()
	if f.h.Authorized != nil && !f.h.Authorized(r) {
		f.t.Errorf("fake server: %s %s lacks the credential", r.Method, r.URL.Path)
		http.Error(w, "no credential", http.StatusTeapot)
		return
	}
	if !ok {
		f.t.Errorf("fake server: unexpected %s %s (queue %q): no reply left", r.Method, r.URL, queue)
		http.Error(w, "unexpected request", http.StatusTeapot)
		return
	}
	if rep.Kind == Hang {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // Render may read the form again
	f.h.Render(w, r, queue, rep)
}
