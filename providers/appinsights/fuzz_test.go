package appinsights

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
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Request: r, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(a.body))}, nil
}

// FuzzDecodeResponse feeds the query API's decoder arbitrary answers: it
// never panics, and whatever it reads is usable (finite, not negative
// counts, good within total; a finite threshold value). Seeds are in
// testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(table("long", "[[3000]]")))
	f.Add(200, []byte(table("decimal", `[["212.5"]]`)))
	f.Add(200, []byte(table("real", `[["NaN"]]`)))
	f.Add(200, []byte(table("real", `[["-Infinity"]]`)))
	f.Add(200, []byte(table("long", `[]`)))
	f.Add(200, []byte(table("long", `[[null]]`)))
	f.Add(200, []byte(`{"tables":[],"error":{"code":"PartialError","message":"m","details":[{"code":"c","message":"d","innererror":{"code":"x","message":"y"}}]}}`))
	f.Add(400, []byte(`{"error":{"message":"The request had some invalid properties","code":"BadArgumentError","innererror":{"code":"SemanticError","message":"A semantic error occurred.","innererror":{"code":"SEM0100","message":"Failed to resolve table or column expression named 'requestz'"}}}}`))
	f.Add(403, []byte(`{"error":{"code":"InsufficientAccessError","message":"no"}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 {
			return
		}
		cfg := appConfig("http://appinsights.fuzz")
		cfg.Retries = 0
		p := newTestProvider(t, cfg, &fakeCredential{token: "tok"})
		p.client.HTTPClient.Transport = answer{status, body}
		ctx := context.Background()
		at := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
		c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: eventsSLI(), Window: time.Hour}, at)
		if err == nil && (!finite(c.Good, c.Total) || c.Total < 0 || c.Good < 0 || c.Good > c.Total) {
			t.Fatalf("events read as %+v", c)
		}
		threshold := slo.SLI{Query: `requests | summarize percentile(duration, 99)`, Op: "<", Value: 300}
		if c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: threshold, Window: time.Hour}, at); err == nil && (!finite(c.Value) || c.Total != 1) {
			t.Fatalf("threshold read as %+v", c)
		}
		ratio := slo.SLI{ErrorRatioQuery: `requests | summarize countif(success == false) * 1.0 / count()`}
		if c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: ratio, Window: time.Hour}, at); err == nil && (!finite(c.Good) || c.Good < 0 || c.Good > 1 || c.Total != 1) {
			t.Fatalf("error ratio read as %+v", c)
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
