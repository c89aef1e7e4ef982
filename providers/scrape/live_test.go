package scrape

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sloguard/sloguard/providers"
	"github.com/sloguard/sloguard/providers/httpconf"
	"github.com/sloguard/sloguard/slo"
)

// The test binary doubles as the service under watch: run with
// SLOGUARD_SCRAPE_HELPER=1 it serves a real client_golang registry on
// SLOGUARD_SCRAPE_ADDR, counting requests that /serve?code=500&n=10 adds.
func TestMain(m *testing.M) {
	if os.Getenv("SLOGUARD_SCRAPE_HELPER") == "1" {
		os.Exit(serveHelper(os.Getenv("SLOGUARD_SCRAPE_ADDR")))
	}
	os.Exit(m.Run())
}

func serveHelper(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests served."}, []string{"code"})
	reg.MustRegister(reqs)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/serve", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseFloat(r.URL.Query().Get("n"), 64)
		reqs.WithLabelValues(r.URL.Query().Get("code")).Add(n)
	})
	fmt.Printf("listening %s\n", ln.Addr())
	return map[bool]int{true: 1}[http.Serve(ln, mux) != nil]
}

// service is a helper process serving /metrics.
type service struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
}

// startService starts a helper on addr ("127.0.0.1:0" for a free port)
// and returns once it listens.
func startService(t *testing.T, addr string) *service {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SLOGUARD_SCRAPE_HELPER=1", "SLOGUARD_SCRAPE_ADDR="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the helper service: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the helper service did not start: %q, %v", line, err)
	}
	s := &service{t: t, addr: strings.TrimSpace(strings.TrimPrefix(line, "listening ")), cmd: cmd}
	t.Cleanup(s.stop)
	return s
}

func (s *service) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// restart kills the process and starts a new one on the same address: its
// counters start again from zero.
func (s *service) restart() *service {
	s.stop()
	return startService(s.t, s.addr)
}

// serve makes the service count n requests with a status code.
func (s *service) serve(code string, n int) {
	s.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/serve?code=%s&n=%d", s.addr, code, n))
	if err != nil {
		s.t.Fatalf("drive the service: %v", err)
	}
	resp.Body.Close()
}

func (s *service) url() string { return "http://" + s.addr + "/metrics" }

// TestLiveProcessesWithCounterResets scrapes two real processes, a canary
// and a baseline, and restarts the canary mid-test: the counts must carry
// on across the reset.
func TestLiveProcessesWithCounterResets(t *testing.T) {
	canary := startService(t, "127.0.0.1:0")
	baseline := startService(t, "127.0.0.1:0")
	baseline.serve("200", 200) // traffic before sloguard looks is not counted
	p, err := New(t.Context(), Config{Name: "scrape", HTTP: httpconf.HTTP{Transport: httpconf.Transport{Timeout: slo.Duration(10 * time.Second), Retries: 3}},
		Targets: map[string][]string{"canary": {canary.url()}, "baseline": {baseline.url()}}}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	sli := slo.SLI{ErrorQuery: `sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))`, TotalQuery: `sum(rate(http_requests_total[{{.window}}]))`}
	t0 := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	read := func(scope string, at time.Time, window time.Duration) providers.Counts {
		t.Helper()
		c, err := p.Counts(t.Context(), providers.Query{SLO: "checkout", SLI: sli, Scope: providers.Scope{Name: scope}, Window: window}, at)
		if err != nil {
			t.Fatalf("%s at %s over %s: %v", scope, at.Format(time.TimeOnly), window, err)
		}
		return c
	}
	want := func(c providers.Counts, bad, total float64) {
		t.Helper()
		if c.Bad() != bad || c.Total != total {
			t.Errorf("read %v errors of %v, want %v of %v", c.Bad(), c.Total, bad, total)
		}
	}

	// Priming at the deploy starts the count: before it, there is none.
	if _, err := p.Counts(t.Context(), providers.Query{SLO: "checkout", SLI: sli, Scope: providers.Scope{Name: "canary"}, Window: time.Minute}, t0.Add(-time.Second)); err == nil {
		t.Errorf("the first scrape read counts")
	}
	if err := p.Prime(t.Context(), t0); err != nil {
		t.Fatalf("Prime: %v", err)
	}

	canary.serve("200", 90)
	canary.serve("500", 10)
	baseline.serve("200", 198)
	baseline.serve("500", 2)
	t30 := t0.Add(30 * time.Second)
	want(read("canary", t30, 30*time.Second), 10, 100)
	want(read("baseline", t30, 30*time.Second), 2, 200)

	// The canary restarts: its counters begin again at zero, and its
	// error series does not exist until its first error.
	canary = canary.restart()
	canary.serve("200", 30)
	canary.serve("500", 5)
	t60 := t0.Add(time.Minute)
	want(read("canary", t60, 30*time.Second), 5, 35)
	want(read("canary", t60, time.Minute), 15, 135) // across the reset
	want(read("baseline", t60, time.Minute), 2, 200)
	// The service is every target there is.
	want(read("service", t60, time.Minute), 17, 335)

	// A second restart whose counters stay below the old ones, with a
	// reading in between that saw no new requests.
	canary = canary.restart()
	want(read("canary", t0.Add(90*time.Second), 30*time.Second), 0, 0)
	canary.serve("500", 1)
	want(read("canary", t0.Add(2*time.Minute), 2*time.Minute), 16, 136)

	// Readings for an earlier time come from the history, with no scrape.
	want(read("canary", t30, 30*time.Second), 10, 100)
}
