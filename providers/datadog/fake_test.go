package datadog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/conformance"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// The SLI the tests read, as Datadog APM names its trace metrics.
const (
	errorsQ = `sum:trace.http.request.errors{service:checkout}.as_count()`
	hitsQ   = `sum:trace.http.request.hits{service:checkout}.as_count()`
)

func eventsSLI() slo.SLI { return slo.SLI{ErrorQuery: errorsQ, TotalQuery: hitsQ} }

// ddQueue routes a metrics query to the error or the total queue.
func ddQueue(r *http.Request, _ []byte) string {
	if r.URL.Path != "/api/v1/query" {
		return ""
	}
	q := r.URL.Query().Get("query")
	switch {
	case strings.Contains(q, ".errors{"):
		return "bad"
	case strings.Contains(q, ".hits{"):
		return "total"
	}
	return ""
}

var rollupArg = regexp.MustCompile(`\.rollup\(\w+, (\d+)\)`)

// ddRender answers as the v1 metrics query API does: one series whose
// as_count() points, one per rollup bucket, add up to the reply's count.
func ddRender(w http.ResponseWriter, r *http.Request, queue string, rep conformance.Reply) {
	w.Header().Set("Content-Type", "application/json")
	switch rep.Kind {
	case conformance.Status:
		for k, v := range rep.Header {
			if k == "Retry-After" { // Datadog says it in X-RateLimit-Reset
				k = "X-RateLimit-Reset"
				w.Header().Set("X-RateLimit-Limit", "100")
				w.Header().Set("X-RateLimit-Period", "60")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Name", "metrics_query")
			}
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.Status)
		msg := map[int]string{401: "Unauthorized", 403: "Forbidden", 429: "Rate limit of 100 requests in 60 seconds reached. Please try again later."}[rep.Status]
		if msg == "" {
			msg = "Internal Server Error"
		}
		fmt.Fprintf(w, `{"errors":[%q]}`, msg)
		return
	}
	form := r.URL.Query()
	from, _ := strconv.ParseInt(form.Get("from"), 10, 64)
	to, _ := strconv.ParseInt(form.Get("to"), 10, 64)
	interval := int64(60)
	if m := rollupArg.FindStringSubmatch(form.Get("query")); m != nil {
		interval, _ = strconv.ParseInt(m[1], 10, 64)
	}
	value := rep.Total
	if queue == "bad" {
		value = rep.Bad
	}
	var pts []string
	if rep.Kind == conformance.Values && !(queue == "bad" && rep.NoBad) || rep.Kind == conformance.NaN {
		start := from - from%interval
		n := (to - start) / interval
		for i := range n {
			v := "null"
			if rep.Kind == conformance.Values {
				v = strconv.FormatFloat(value/float64(n), 'g', -1, 64)
			}
			pts = append(pts, fmt.Sprintf("[%d.0,%s]", (start+i*interval)*1000, v))
		}
	}
	writeSeries(w, form.Get("query"), from, to, interval, pts)
}

// writeSeries writes a v1 query answer with one series of points, or no
// series when pts is nil.
func writeSeries(w io.Writer, query string, from, to, interval int64, pts []string) {
	series := ""
	if pts != nil {
		metric := strings.SplitN(strings.SplitN(query, ":", 2)[1], "{", 2)[0]
		series = fmt.Sprintf(`{"aggr":"sum","display_name":%q,"end":%d,"expression":%q,"interval":%d,"length":%d,"metric":%q,"pointlist":[%s],"query_index":0,"scope":"service:checkout","start":%d,"tag_set":[],"unit":[{"family":"network","name":"request","plural":"requests","scale_factor":1.0,"short_name":"req"},null]}`,
			metric, to*1000-1, query, interval, len(pts), metric, strings.Join(pts, ","), from*1000)
	}
	fmt.Fprintf(w, `{"status":"ok","res_type":"time_series","resp_version":1,"query":%q,"message":"","from_date":%d,"to_date":%d,"group_by":[],"series":[%s],"values":[],"times":[]}`,
		query, from*1000, to*1000, series)
}

// newTestProvider builds a provider against a fake server, with keys in
// its environment and a captured log.
func newTestProvider(t testing.TB, url string, mutate func(*Config), env map[string]string) (*Provider, *bytes.Buffer) {
	t.Helper()
	cfg := Config{Name: "dd", URL: url, Site: "datadoghq.com", Transport: httpconf.Transport{Timeout: slo.Duration(5 * time.Second), Retries: 2, MaxConcurrency: 10}}
	if mutate != nil {
		mutate(&cfg)
	}
	if env == nil {
		env = map[string]string{"DD_API_KEY": "api-secret", "DD_APP_KEY": "app-secret"}
	}
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

// historyJSON answers GET /api/v1/slo/{id}/history for a metric SLO with
// 30d and 7d targets.
func historyJSON(sli float64, budget map[string]float64) string {
	b, _ := json.Marshal(budget)
	s := "null"
	if !math.IsNaN(sli) {
		s = strconv.FormatFloat(sli, 'g', -1, 64)
	}
	return fmt.Sprintf(`{"data":{"from_ts":1763913600,"to_ts":1763917200,"type":"metric","type_id":1,
"thresholds":{"7d":{"target":99.9,"target_display":"99.900","timeframe":"7d","warning":99.95,"warning_display":"99.950"},
"30d":{"target":99.9,"target_display":"99.900","timeframe":"30d"}},
"overall":{"name":"checkout availability","preview":false,"sli_value":%s,"span_precision":2,"precision":{"7d":2,"30d":2},"error_budget_remaining":%s,"errors":null},
"series":{"numerator":{"count":1,"sum":9990,"values":[9990],"times":[1763913600000]},"denominator":{"count":1,"sum":10000,"values":[10000],"times":[1763913600000]},"interval":3600,"res_type":"time_series","resp_version":2,"query":"sum:good{*}.as_count(), sum:total{*}.as_count()"}},"errors":null}`, s, b)
}

func nan() float64 { return math.NaN() }
