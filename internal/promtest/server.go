package promtest

import (
	"context"
	"encoding/json"
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

	"github.com/sloguard/sloguard/internal/proctest"
)

// ErrNotInstalled means prometheus or promtool is not on PATH. Tests fail
// on it rather than skip: the integration tests are the point.
var ErrNotInstalled = errors.New("install it: apt-get install -y prometheus")

// errPortTaken means another process took the port between our probe and
// Prometheus binding it; Run retries with a new one.
var errPortTaken = errors.New("address already in use")

// Server is a Prometheus serving generated history from backfilled blocks.
type Server struct {
	URL     string   // http://127.0.0.1:PORT
	History *History // when it serves a History
	Dir     string   // the TSDB and Prometheus's log live here

	proc *proctest.Process
	args []string // what start was given, for Restart
}

// Backfill is generated history that promtool can load, and the check
// that Prometheus serves all of it once it is loaded.
type Backfill interface {
	WriteOpenMetrics(w io.Writer) error
	// Loaded is a query that must return want at the time at once every
	// sample is served.
	Loaded() (query string, at time.Time, want float64)
}

// Start runs a Prometheus for a test and stops it when the test ends. It
// fails the test, never skips it, when Prometheus cannot run.
func Start(t testing.TB, h *History) *Server {
	t.Helper()
	if err := h.Validate(); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	s := StartBackfill(t, h)
	s.History = h
	return s
}

// StartBackfill is Start for any generated history.
func StartBackfill(t testing.TB, b Backfill) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	s, err := RunBackfill(ctx, b, t.TempDir())
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("promtest: stop prometheus: %v", err)
		}
	})
	return s
}

// Run backfills h into a new TSDB under dir and starts Prometheus on a
// free loopback port. It returns once Prometheus is ready and answers for
// every backfilled sample; the caller must Stop it.
func Run(ctx context.Context, h *History, dir string) (*Server, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	s, err := RunBackfill(ctx, h, dir)
	if err != nil {
		return nil, err
	}
	s.History = h
	return s, nil
}

// RunBackfill is Run for any generated history.
func RunBackfill(ctx context.Context, b Backfill, dir string) (*Server, error) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		return nil, fmt.Errorf("prometheus is not on PATH: %w", ErrNotInstalled)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		return nil, fmt.Errorf("promtool is not on PATH: %w", ErrNotInstalled)
	}
	data := filepath.Join(dir, "data")
	if err := backfill(ctx, b, promtool, dir, data); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, prom, cfg, data, dir, "")
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := s.verify(ctx, b); err != nil {
			return nil, errors.Join(err, s.Stop())
		}
		return s, nil
	}
}

// backfill writes the history as OpenMetrics and turns it into blocks.
// Blocks of up to 31 days keep their number small, so that a 30-day query
// reads a handful of blocks, not 360 two-hour ones.
func backfill(ctx context.Context, h Backfill, promtool, dir, data string) error {
	om := filepath.Join(dir, "history.om")
	f, err := os.Create(om)
	if err != nil {
		return err
	}
	if err := h.WriteOpenMetrics(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", om, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	defer os.Remove(om)
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics",
		"--quiet", "--max-block-duration=744h", om, data).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %w: %s", err, proctest.Tail(out))
	}
	return nil
}

// start runs Prometheus once. Retention is 90 days because the default,
// 15, would delete the older half of the backfilled month on startup, and
// compaction is off (both block durations 2h) so that no background work
// competes with the queries being measured.
func start(ctx context.Context, prom, cfg, data, dir, addr string) (*Server, error) {
	if addr == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	proc, err := proctest.Start("prometheus", filepath.Join(dir, "prometheus.log"), prom,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=90d",
		"--storage.tsdb.min-block-duration=2h",
		"--storage.tsdb.max-block-duration=2h",
		"--web.listen-address="+addr,
		"--web.enable-lifecycle",
		"--log.level=warn",
	)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, Dir: dir, proc: proc, args: []string{prom, cfg, data, dir, addr}}
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// waitReady polls /-/ready, which answers 200 once the TSDB is open.
func (s *Server) waitReady(ctx context.Context) error {
	err := s.proc.WaitFor(ctx, "ready", func(ctx context.Context) (bool, error) {
		_, code, err := proctest.Get(ctx, s.URL+"/-/ready")
		return err == nil && code == http.StatusOK, nil
	})
	var exit *proctest.ExitError
	if errors.As(err, &exit) && strings.Contains(exit.Log, "address already in use") {
		return errPortTaken
	}
	return err
}

// verify checks that Prometheus serves every backfilled sample, which
// fails when blocks did not load or retention dropped some.
func (s *Server) verify(ctx context.Context, b Backfill) error {
	q, at, want := b.Loaded()
	got, err := s.Query(ctx, q, at)
	if err != nil {
		return fmt.Errorf("check the backfilled data: %w", err)
	}
	if got != want {
		return fmt.Errorf("prometheus answers %v to %s at %s, want %v: blocks missing or dropped by retention; its log: %s",
			got, q, at.Format(time.RFC3339), want, s.Log())
	}
	return nil
}

// Query runs an instant query and returns its single value.
func (s *Server) Query(ctx context.Context, expr string, at time.Time) (float64, error) {
	v := url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	data, _, err := proctest.Get(ctx, s.URL+"/api/v1/query?"+v.Encode())
	if err != nil {
		return 0, err
	}
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(data), &body); err != nil {
		return 0, fmt.Errorf("query %s: %w", expr, err)
	}
	if body.Status != "success" || len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: status %q, %d series, error %q", expr, body.Status, len(body.Data.Result), body.Error)
	}
	str, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(str, 64)
}

// Stop ends Prometheus: SIGTERM, then SIGKILL after 10 s.
func (s *Server) Stop() error { return s.proc.Stop() }

// Log returns the end of Prometheus's log, for error messages.
func (s *Server) Log() string { return s.proc.Log() }

// LogTail returns the end of a server's log file, for error messages.
func LogTail(path string) string { return proctest.LogTail(path) }

// FreePort asks the kernel for a free loopback port. Someone may take it
// before the server binds it; callers retry when that happens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
