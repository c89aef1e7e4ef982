package prometheus

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/slo"
)

// answer is a transport that answers every request with one status and
// body, as a fuzzed server would.
type answer struct {
	status int
	body   []byte
}

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: a.status, Status: http.StatusText(a.status), Request: r,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(bytes.NewReader(a.body)),
	}, nil
}

// fuzzProvider reads through rt instead of the network, without retries.
func fuzzProvider(t *testing.T, rt http.RoundTripper) *Provider {
	c, err := api.NewClient(api.Config{Address: "http://prometheus.fuzz", RoundTripper: rt})
	if err != nil {
		t.Fatal(err)
	}
	return &Provider{name: "fuzz", api: v1.NewAPI(c), lim: providers.NewLimiter(2, 5*time.Second),
		log: slog.New(slog.DiscardHandler), known: map[knownKey]bool{}}
}

// FuzzDecodeResponse feeds the provider arbitrary answers to its instant
// and range queries, and to the label values calls of a diagnosis: it
// never panics, and whatever it reads is a reading sloguard can use
// (finite, not negative counts, good within total). Seeds are in
// testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1714564800.5,"10"]}]}}`))
	f.Add(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":[1714564800.5,"NaN"]}}`))
	f.Add(200, []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1714564500,"1"],[1714564800,"+Inf"]]}]}}`))
	f.Add(200, []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1714564800,{"count":"2","sum":"1","buckets":[[0,"0","1","2"]]}]}]}}`))
	f.Add(200, []byte(`{"status":"success","data":["http_requests_total","up"]}`))
	f.Add(200, []byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	f.Add(400, []byte(`{"status":"error","errorType":"bad_data","error":"1:5: parse error"}`))
	f.Add(503, []byte(`{"status":"error","errorType":"timeout","error":"query timed out"}`))
	f.Add(200, []byte(`<html>login</html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		p := fuzzProvider(t, answer{status, body})
		ctx := context.Background()
		at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		events := providers.Query{SLO: "s", SLI: eventsSLI(), Window: 5 * time.Minute}
		c, err := p.Counts(ctx, events, at)
		if err == nil && (!finite(c.Good, c.Total) || c.Total < 0 || c.Good < 0 || c.Good > c.Total) {
			t.Fatalf("events read as %+v", c)
		}
		_ = providers.Explain(ctx, p, events, at, c, err)
		if c, err := p.Counts(ctx, providers.Query{SLO: "s", SLI: thresholdSLI(), Window: 5 * time.Minute}, at); err == nil && (!finite(c.Value) || c.Total != 1) {
			t.Fatalf("threshold read as %+v", c)
		}
		slices, err := p.Slices(ctx, events, providers.Range{Start: at.Add(-time.Hour), End: at, Step: 5 * time.Minute})
		for _, s := range slices {
			if err == nil && (!finite(s.Good, s.Total) || s.Total < 0 || s.Good < 0 || s.Good > s.Total) {
				t.Fatalf("a slice read as %+v", s)
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

// FuzzScope: a query that resolves for a scope parses again, and every
// selector in it holds exactly one matcher per scope label, an equality
// with the scope's value; the window is filled in. Seeds are in
// testdata/fuzz/FuzzScope.
func FuzzScope(f *testing.F) {
	f.Add(`sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`, "track", "canary", "", "")
	f.Add(`sum(rate({__name__="http_requests_total"}[{{.window}}])) / sum(rate(x[{{.window}}] offset 1h))`, "track", "stable", "version", "v2")
	f.Add(`histogram_quantile(0.99, sum by (le) (rate(h_bucket{a="b"}[{{.window}}])))`, "track", `can"ary\`, "", "")
	f.Add(`sum(rate(m[{{.window}}])) and on(track) vector(1)`, "track", "canary", "zone", "eu-west-1")
	f.Add(`up{track="stable"}`, "track", "canary", "", "")
	f.Add(`sum_over_time(m[{{.window}}:1m])`, "track", "x\ny", "", "")
	f.Fuzz(func(t *testing.T, query, k1, v1, k2, v2 string) {
		lbls := map[string]string{k1: v1}
		if k2 != "" && k2 != k1 {
			lbls[k2] = v2
		}
		scope := providers.Scope{Name: providers.ScopeCanary, Labels: lbls}
		rq, err := (&Config{}).ResolveQuery(query, providers.Query{Scope: scope, Window: 5 * time.Minute})
		if err != nil {
			return
		}
		e, err := parser.NewParser(parser.Options{}).ParseExpr(rq)
		if err != nil {
			t.Fatalf("%q scoped to %v resolved to %q, which does not parse: %v", query, lbls, rq, err)
		}
		if slo.WindowVar().MatchString(rq) {
			t.Fatalf("%q still holds {{.window}}", rq)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			for k, v := range lbls {
				var ms []*labels.Matcher
				for _, m := range vs.LabelMatchers {
					if m.Name == k {
						ms = append(ms, m)
					}
				}
				if len(ms) != 1 || ms[0].Type != labels.MatchEqual || ms[0].Value != v {
					t.Fatalf("selector %s of %q: matchers for %q are %v, want exactly %s=%q", vs, rq, k, ms, k, v)
				}
			}
			return nil
		})
	})
}
