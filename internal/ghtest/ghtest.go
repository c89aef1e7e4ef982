// Package ghtest is a fake GitHub REST API for tests: it answers each
// route from a list of canned replies, as GitHub documents them, records
// every request exactly (method, path, query, JSON body, headers), and
// fails the test when a route it was given is never called.
package ghtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Reply is one canned answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string // JSON
}

// Call is one request the server received.
type Call struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// JSON decodes the request body; nil when empty.
func (c Call) JSON(t testing.TB) map[string]any {
	t.Helper()
	if len(c.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(c.Body, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", c.Method, c.Path, err, c.Body)
	}
	return m
}

// Server is the fake API. Its URL is that of a GitHub Enterprise Server,
// URL + "/api/v3", which is what GITHUB_API_URL holds there.
type Server struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	routes map[string][]Reply // "METHOD /path" -> replies; the last repeats
	used   map[string]bool
	calls  []Call
}

// New starts a server that checks at cleanup that every route was called.
func New(t testing.TB) *Server {
	s := &Server{t: t, routes: map[string][]Reply{}, used: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		var unused []string
		for r := range s.routes {
			if !s.used[r] {
				unused = append(unused, r)
			}
		}
		sort.Strings(unused)
		if len(unused) > 0 {
			t.Errorf("ghtest: routes never called: %s", strings.Join(unused, ", "))
		}
	})
	return s
}

// APIURL is the value for GITHUB_API_URL.
func (s *Server) APIURL() string { return s.URL + "/api/v3" }

// Handle answers route ("POST /api/v3/repos/o/r/dispatches") with replies
// in turn, the last one for every call after.
func (s *Server) Handle(route string, replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[route] = replies
}

// Calls returns the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	route := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	replies := s.routes[route]
	var rep Reply
	if len(replies) > 0 {
		rep = replies[0]
		if len(replies) > 1 {
			s.routes[route] = replies[1:]
		}
		s.used[route] = true
	}
	s.mu.Unlock()
	if len(replies) == 0 {
		s.t.Errorf("ghtest: unexpected request %s?%s", route, r.URL.RawQuery)
		rep = Reply{Status: http.StatusNotFound, Body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}
