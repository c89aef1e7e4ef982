// Package vmtest runs a real VictoriaMetrics on a loopback port, filled with
// the same generated history that promtest backfills into Prometheus, so
// that tests can prove the Prometheus provider reads both alike.
package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/internal/proctest"
	"github.com/sloguard/sloguard/internal/promtest"
)

// Install is what to run when the binary is missing. Tests fail on it
// rather than skip: the compatibility test is the point.
const Install = "apt-get install -y victoria-metrics"

// EnvBinary names the variable that may point at the binary.
const EnvBinary = "SLOGUARD_VICTORIA_METRICS"

// Server is a VictoriaMetrics serving a History.
type Server struct {
	URL     string
	History *promtest.History

	proc *proctest.Process
}

// Binary finds VictoriaMetrics: $SLOGUARD_VICTORIA_METRICS, else
// victoria-metrics (the Debian package's name) or victoria-metrics-prod
// (the upstream release's) on PATH.
func Binary() (string, error) {
	if b := os.Getenv(EnvBinary); b != "" {
		p, err := exec.LookPath(b)
		if err != nil {
			return "", fmt.Errorf("$%s=%s: %w: install it: %s", EnvBinary, b, err, Install)
		}
		return p, nil
	}
	for _, name := range []string{"victoria-metrics", "victoria-metrics-prod"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("victoria-metrics is not on PATH (nor in $%s): install it: %s", EnvBinary, Install)
}

// Start runs VictoriaMetrics for a test, imports h, and stops it when the
// test ends. It fails the test, never skips it, when it cannot run.
func Start(t testing.TB, h *promtest.History) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	s, err := Run(ctx, h, t.TempDir())
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("vmtest: stop victoria-metrics: %v", err)
		}
	})
	return s
}

// Run starts VictoriaMetrics with its storage under dir, imports h through
// /api/v1/import/prometheus and returns once every sample is searchable.
// Retention is 100 years so that nothing generated is dropped, the last
// 30 s are not hidden (-search.latencyOffset=0s) and responses are not
// cached, since the data arrives after the first queries could run.
func Run(ctx context.Context, h *promtest.History, dir string) (*Server, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := promtest.FreePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	proc, err := proctest.Start("victoria-metrics", filepath.Join(dir, "victoria-metrics.log"), bin,
		"-storageDataPath="+filepath.Join(dir, "data"),
		"-httpListenAddr="+addr,
		"-retentionPeriod=100y",
		"-search.latencyOffset=0s",
		"-search.disableCache",
		"-loggerLevel=ERROR",
	)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, History: h, proc: proc}
	fail := func(err error) (*Server, error) { return nil, errors.Join(err, s.Stop()) }
	if err := s.proc.WaitFor(ctx, "ready", func(ctx context.Context) (bool, error) {
		body, code, err := s.get(ctx, "/health")
		return err == nil && code == http.StatusOK && strings.TrimSpace(body) == "OK", nil
	}); err != nil {
		return fail(err)
	}
	if err := s.importHistory(ctx); err != nil {
		return fail(err)
	}
	if _, _, err := s.get(ctx, "/internal/force_flush"); err != nil {
		return fail(err)
	}
	want := h.SampleCount()
	q := fmt.Sprintf("sum(count_over_time(%s[%s]))", promtest.Metric, model.Duration(h.Span))
	var seen string
	if err := s.proc.WaitFor(ctx, fmt.Sprintf("all %d samples searchable", want), func(ctx context.Context) (bool, error) {
		v := url.Values{"query": {q}, "time": {strconv.FormatInt(h.End.Unix(), 10)}}
		body, code, err := s.get(ctx, "/api/v1/query?"+v.Encode())
		seen = body
		if err != nil || code != http.StatusOK {
			return false, err
		}
		return strings.Contains(body, fmt.Sprintf(`"%d"`, want)), nil
	}); err != nil {
		return fail(fmt.Errorf("%w; the last answer: %s", err, seen))
	}
	return s, nil
}

// importHistory streams h's samples in the Prometheus text format, with
// timestamps in milliseconds, to /api/v1/import/prometheus. promtest
// writes OpenMetrics (seconds) for promtool: the lines are converted.
func (s *Server) importHistory(ctx context.Context) error {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		err := toPrometheusText(bw, s.History)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/import/prometheus", pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("import the history: %w; its log: %s", err, s.Log())
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return fmt.Errorf("import the history: %s: %s", resp.Status, b)
	}
	return nil
}

// toPrometheusText rewrites h's OpenMetrics into the Prometheus text
// format: comments and # EOF dropped, seconds become milliseconds.
func toPrometheusText(w io.Writer, h *promtest.History) error {
	var om bytes.Buffer
	if err := h.WriteOpenMetrics(&om); err != nil {
		return err
	}
	sc := bufio.NewScanner(&om)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		i := bytes.LastIndexByte(line, ' ')
		if i < 0 {
			return fmt.Errorf("openmetrics line without a timestamp: %s", line)
		}
		if _, err := fmt.Fprintf(w, "%s %s000\n", line[:i], line[i+1:]); err != nil {
			return err
		}
	}
	return sc.Err()
}

func (s *Server) get(ctx context.Context, path string) (string, int, error) {
	return proctest.Get(ctx, s.URL+path)
}

// Stop ends VictoriaMetrics: SIGTERM, then SIGKILL after 10 s.
func (s *Server) Stop() error { return s.proc.Stop() }

// Log returns the end of VictoriaMetrics's log, for messages.
func (s *Server) Log() string { return s.proc.Log() }
