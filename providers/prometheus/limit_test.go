package prometheus

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A server that streams 100 MB where a query result belongs fails the
// query at max_response_bytes, with an error that names the provider and
// the limit, and is not retried.
func TestAnAnswerOverMaxResponseBytesNamesTheProviderAndTheLimit(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[`))
		row := bytes.Repeat([]byte(`{"metric":{"a":"b"},"value":[1,"1"]},`), 1000)
		for sent := 0; sent < 100<<20; sent += len(row) {
			if _, err := w.Write(row); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	for name, limit := range map[string]int64{"the default, 50 MiB": 0, "a configured 2 MiB": 2 << 20} {
		t.Run(name, func(t *testing.T) {
			calls.Store(0)
			cfg := withFields(testConfig("big", srv.URL, time.Minute, 3, 1), func(c *Config) { c.MaxResponseBytes = limit })
			p, _ := newProvider(t, cfg, nil)
			_, err := p.Counts(t.Context(), thresholdQuery(), time.Now())
			want := `the answer is larger than max_response_bytes of "big" (52428800 bytes, 50 MiB)`
			if limit != 0 {
				want = `the answer is larger than max_response_bytes of "big" (2097152 bytes, 2 MiB)`
			}
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `provider "big"`) {
				t.Fatalf("got %v, want %q", err, want)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests: an oversized answer is not asked for again", n)
			}
		})
	}
}
