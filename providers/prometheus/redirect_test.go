package prometheus

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/providers"
)

// A Prometheus behind a proxy that answers the POST query with a 302 (a
// path moved, a trailing slash) is not asked again with a GET without the
// query: before, the 400 to that GET made it a bad query (exit 2, blaming
// the query). Now the error says the server redirected, and where to.
func TestAQueryRedirectedAsAGetIsNotABadQuery(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		methods = append(methods, r.Method+" "+r.URL.Path)
		if !strings.HasPrefix(r.URL.Path, "/prom/") {
			http.Redirect(w, r, "/prom"+r.URL.Path, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": unknown position"}`)
	}))
	t.Cleanup(srv.Close)
	_, err := read(t, load(t, "url: "+srv.URL+"\nretries: 1"), nil)
	if err == nil || errors.Is(err, providers.ErrBadQuery) || !strings.Contains(err.Error(), "answered the POST with 302 Found to "+srv.URL+"/prom/api/v1/query") ||
		!strings.Contains(err.Error(), "set the URL to the final address") {
		t.Errorf("err = %v, want the redirect named, not a bad query", err)
	}
	if len(methods) != 1 || methods[0] != "POST /api/v1/query" {
		t.Errorf("requests %q, want the one POST", methods)
	}
}
