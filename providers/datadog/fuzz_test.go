package datadog

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// answer answers every request with one status and body, as a fuzzed
// server would.
type answer struct {
	status int
	body   []byte
}

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Request: r, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

// FuzzDecodeResponse feeds the metrics query, SLO history and metadata
// decoders arbitrary answers: they never panic, and whatever they read is
// usable (finite, not negative counts, good within total). Seeds are in
// testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	var b bytes.Buffer
	writeSeries(&b, hitsQ, 1763913600, 1763917200, 60, []string{"[1763913600000.0,10]", "[1763913660000.0,null]"})
	f.Add(200, b.Bytes())
	b.Reset()
	writeSeries(&b, hitsQ, 1763913600, 1763917200, 60, nil)
	f.Add(200, b.Bytes())
	f.Add(200, []byte(`{"status":"error","error":"Error parsing query"}`))
	f.Add(200, []byte(`{"status":"ok","series":[{"metric":"a","interval":60,"pointlist":[[1,-5]]},{"metric":"b"}]}`))
	f.Add(200, []byte(historyJSON(99.95, map[string]float64{"30d": 50, "7d": 80})))
	f.Add(200, []byte(`{"from":"1","metrics":["a.b","c"]}`))
	f.Add(400, []byte(`{"errors":["Bad Request"]}`))
	f.Add(404, []byte(`{"errors":["Not Found"]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 {
			return
		}
		p, _ := newTestProvider(t, "http://datadog.fuzz", func(c *Config) { c.Retries = 0 }, nil)
		p.client.HTTPClient.Transport = rateLimitReset{next: answer{status, body}}
		ctx := context.Background()
		at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
		q := providers.Query{SLO: "s", SLI: eventsSLI(), Window: time.Hour}
		c, err := p.Counts(ctx, q, at)
		if err == nil && (!finite(c.Good, c.Total) || c.Total < 0 || c.Good < 0 || c.Good > c.Total) {
			t.Fatalf("events read as %+v", c)
		}
		_ = providers.Explain(ctx, p, q, at, c, err)
		threshold := slo.SLI{Query: `avg:trace.http.request.duration{service:checkout}`, Op: "<", Value: 0.3}
		if c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: threshold, Window: time.Hour}, at); err == nil && (!finite(c.Value) || c.Total != 1) {
			t.Fatalf("threshold read as %+v", c)
		}
		for _, w := range []time.Duration{30 * 24 * time.Hour, time.Hour} {
			c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: slo.SLI{DatadogSLOID: "e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6"}, Window: w}, at)
			if err == nil && (!finite(c.Good) || c.Good < 0 || c.Good > 1 || c.Total != 1) {
				t.Fatalf("SLO object over %s read as %+v", w, c)
			}
		}
	})
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
