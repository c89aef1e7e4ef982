// Package aitest is a fake Azure Monitor query API (Application Insights
// POST /v1/apps/{id}/query and Log Analytics POST
// /v1/workspaces/{id}/query) for tests: it checks each request as
// Microsoft documents it (a JSON body with query and an ISO 8601 timespan,
// a bearer token or an x-api-key), answers with the documented tables, and
// records what it was asked.
package aitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one query the server received.
type Request struct {
	Method, Path string
	Header       http.Header
	Query        string
	Timespan     string
	From, To     time.Time // the timespan's interval
}

// Answer gives the number a query returns over (From, To]; ok false
// answers with no rows, as a query over no data does.
type Answer func(r Request) (v float64, ok bool)

// Server is the fake query API.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// New starts a server that answers every query with answer, and fails t
// on a request the real API would refuse.
func New(t testing.TB, answer Answer) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, problem := parse(r)
		if problem != "" {
			t.Errorf("aitest: %s %s: %s", r.Method, r.URL.Path, problem)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, Error("BadArgumentError", problem))
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		v, ok := answer(req)
		if !ok {
			fmt.Fprint(w, Table("long", "[]"))
			return
		}
		fmt.Fprint(w, Table("long", fmt.Sprintf("[[%.0f]]", v)))
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the queries received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func parse(r *http.Request) (Request, string) {
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
	switch {
	case r.Method != http.MethodPost:
		return req, "the query API takes POST"
	case !strings.HasPrefix(r.URL.Path, "/v1/apps/") && !strings.HasPrefix(r.URL.Path, "/v1/workspaces/") || !strings.HasSuffix(r.URL.Path, "/query"):
		return req, "not /v1/apps/{appId}/query or /v1/workspaces/{workspaceId}/query"
	case r.Header.Get("Authorization") == "" && r.Header.Get("x-api-key") == "":
		return req, "neither Authorization nor x-api-key"
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		return req, "Content-Type is not application/json"
	}
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Query == "" {
		return req, fmt.Sprintf("body is not {\"query\": ..., \"timespan\": ...}: %s", raw)
	}
	req.Query, req.Timespan = body.Query, body.Timespan
	from, to, ok := strings.Cut(body.Timespan, "/")
	var err1, err2 error
	req.From, err1 = time.Parse(time.RFC3339Nano, from)
	req.To, err2 = time.Parse(time.RFC3339Nano, to)
	if !ok || err1 != nil || err2 != nil || !req.To.After(req.From) {
		return req, fmt.Sprintf("timespan %q is not an ISO 8601 interval start/end", body.Timespan)
	}
	return req, ""
}

// Table is the API's answer: one table with one column.
func Table(typ, rows string) string {
	return fmt.Sprintf(`{"tables":[{"name":"PrimaryResult","columns":[{"name":"sum_itemCount","type":%q}],"rows":%s}]}`, typ, rows)
}

// Error is Azure Monitor's error object.
func Error(code, msg string) string {
	return fmt.Sprintf(`{"error":{"message":%q,"code":%q,"correlationId":"7d2a1c44-5a5e-4f4b-9d5e-1d2c3b4a5f6e"}}`, msg, code)
}
