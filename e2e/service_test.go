package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// A fake service: one process exposing http_requests_total{track, code}
// for a stable and a canary track, whose counters follow a schedule of
// request rates and error ratios exactly (no randomness, so the tests are
// stable). Tests start it as a child process: this test binary, re-run
// with FAKE_SERVICE set to the spec's JSON.

// trackSpec is one track's traffic; after FaultAfter its error ratio
// becomes FaultRatio.
type trackSpec struct {
	RPS        float64       `json:"rps"`
	ErrorRatio float64       `json:"error_ratio"`
	FaultAfter time.Duration `json:"fault_after,omitempty"`
	FaultRatio float64       `json:"fault_ratio,omitempty"`
}

type serviceSpec struct {
	AddrFile string               `json:"addr_file"`
	Tracks   map[string]trackSpec `json:"tracks"`
}

// counts returns the cumulative total and bad requests t after start.
func (s trackSpec) counts(t time.Duration) (total, bad float64) {
	sec := t.Seconds()
	total = s.RPS * sec
	if s.FaultAfter == 0 || t <= s.FaultAfter {
		return total, total * s.ErrorRatio
	}
	before := s.RPS * s.FaultAfter.Seconds()
	return total, before*s.ErrorRatio + (total-before)*s.FaultRatio
}

// runFakeService serves /metrics until killed.
func runFakeService(specJSON string) {
	var spec serviceSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "fake service:", err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake service:", err)
		os.Exit(2)
	}
	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		elapsed := time.Since(start)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# TYPE http_requests_total counter")
		for name, tr := range spec.Tracks {
			total, bad := tr.counts(elapsed)
			fmt.Fprintf(w, "http_requests_total{track=%q,code=\"200\"} %g\n", name, total-bad)
			fmt.Fprintf(w, "http_requests_total{track=%q,code=\"500\"} %g\n", name, bad)
		}
	})
	tmp := spec.AddrFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(l.Addr().String()), 0o644); err == nil {
		err = os.Rename(tmp, spec.AddrFile)
	}
	_ = http.Serve(l, mux)
}
