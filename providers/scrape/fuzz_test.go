package scrape

import (
	"bytes"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// FuzzParse feeds the text exposition reader arbitrary bytes: it never
// panics, and every series it keeps is named and keyed by its labels, as
// the counting reads them. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1000\nhttp_requests_total{code=\"500\"} 3\n"))
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n"))
	f.Add([]byte("# TYPE s summary\ns{quantile=\"0.99\"} 0.2\ns_sum 1\ns_count 4\n"))
	f.Add([]byte("untyped_metric NaN\nx{a=\"b\\\"c\"} +Inf 1714564800000\n"))
	f.Add([]byte("# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n"))
	f.Add([]byte("# TYPE x counter\nx -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		series, err := parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		for key, s := range series {
			if s.labels.Get(labels.MetricName) == "" {
				t.Fatalf("series %q has no name", key)
			}
			if key != s.labels.String() {
				t.Fatalf("series keyed %q holds labels %s", key, s.labels)
			}
		}
	})
}
